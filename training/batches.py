"""Random resized crops and flips from the photo cache, turned into (L, ab) training tensors."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from colorize_app.core.colour import normalize_l


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
