"""Random resized crops and flips from the photo cache, turned into (L, hints, ab) training tensors."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from colorize_app.core.colour import AB_SCALE, normalize_l

from .degrade import old_scan


def lab_planes(rgb_batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 RGB (N x S x S x 3) -> normalised L (N x 1 x S x S) and ab (N x 2 x S x S), float32."""
    lab = np.stack([cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab) for img in rgb_batch])
    lab = lab.transpose(0, 3, 1, 2)
    return normalize_l(lab[:, :1]), np.ascontiguousarray(lab[:, 1:])


def random_crops(pixels: np.ndarray, indices: np.ndarray, crop: int, rng: np.random.Generator,
                 min_scale: float = 0.35) -> np.ndarray:
    """Random resized crops (area share in [min_scale, 1], aspect 3/4..4/3) with random flips."""
    size = pixels.shape[1]
    out = np.empty((len(indices), crop, crop, 3), dtype=np.uint8)
    for k, i in enumerate(indices):
        area = rng.uniform(min_scale, 1.0) * size * size
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        w = int(min(size, round(np.sqrt(area * aspect))))
        h = int(min(size, round(np.sqrt(area / aspect))))
        top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
        patch = pixels[i, top : top + h, left : left + w]
        interp = cv2.INTER_AREA if min(h, w) > crop else cv2.INTER_LINEAR
        patch = cv2.resize(np.ascontiguousarray(patch), (crop, crop), interpolation=interp)
        out[k] = patch[:, ::-1] if rng.random() < 0.5 else patch
    return out


def centre_crops(pixels: np.ndarray, indices: np.ndarray, crop: int) -> np.ndarray:
    """Deterministic crops for validation: the whole cached square resized to ``crop``."""
    return np.stack([cv2.resize(np.ascontiguousarray(pixels[i]), (crop, crop), interpolation=cv2.INTER_AREA)
                     for i in indices])


def to_tensors(rgb_batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    light, ab = lab_planes(rgb_batch)
    return torch.from_numpy(light), torch.from_numpy(ab)


def simulated_hints(ab: torch.Tensor, rng: np.random.Generator, *, none_share: float = 0.5,
                    p: float = 1 / 8, max_points: int = 32) -> torch.Tensor:
    """Colour hints as a user might give them, made from the truth (N x 3 x H x W hint planes).

    About ``none_share`` of the crops get none (the automatic colorizer); the rest a geometric
    number of points (mean 1/p), each a 1, 3 or 5 pixel square patch carrying the truth's mean
    colour there (Zhang et al. 2017).
    """
    n, _, height, width = ab.shape
    planes = torch.zeros((n, 3, height, width), dtype=torch.float32)
    for k in range(n):
        if rng.random() < none_share:
            continue
        for _ in range(min(max_points, int(rng.geometric(p)))):
            half = int(rng.integers(0, 3))
            row, col = int(rng.integers(0, height)), int(rng.integers(0, width))
            rows = slice(max(0, row - half), row + half + 1)
            cols = slice(max(0, col - half), col + half + 1)
            planes[k, :2, rows, cols] = ab[k, :, rows, cols].mean(dim=(1, 2), keepdim=True) / AB_SCALE
            planes[k, 2, rows, cols] = 1.0
    return planes


def training_batch(pixels: np.ndarray, indices: np.ndarray, crop: int, rng: np.random.Generator, *,
                   degrade_share: float = 0.0, hints: bool = False,
                   hint_share: float = 0.5, hint_mean: float = 8.0,
                   min_scale: float = 0.35) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(input L, hint planes or None, target ab) for one batch of random crops.

    A ``degrade_share`` of the inputs are made to look like old scans (faded, toned, grainy, soft,
    JPEG); the target is always the clean photo's colour. With ``hints``, about ``hint_share`` of
    the crops carry simulated hints (``hint_mean`` points on average) and the rest none (the
    automatic case).
    """
    rgb = random_crops(pixels, indices, crop, rng, min_scale)
    light, ab = to_tensors(rgb)
    if degrade_share > 0:
        degraded = [old_scan(img, rng, each=0.6) if rng.random() < degrade_share else img for img in rgb]
        light, _ = to_tensors(np.stack(degraded))
    return light, (simulated_hints(ab, rng, none_share=1 - hint_share, p=1 / hint_mean)
                   if hints else None), ab
