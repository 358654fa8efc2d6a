"""The baselines metrics.md asks for beside every model, and the simulated hints it defines.

- lightness prior: every pixel gets the mean (a, b) of the training pixels with the same lightness
  (100 L bins), on the photo's own L; no network.
- inverse distance: the hints' (a, b) spread over the photo with weights 1 / (d² + 1), d the
  distance in pixels to each hint, on the photo's own L; no network.
- protocol hints (metrics.md's simulated hints; the training loader has its own, per crop):
  N points at uniformly random positions (fixed seed per photo), each with the
  truth's mean colour over the 5 x 5 pixels there.
"""

from __future__ import annotations

import hashlib

import numpy as np

from colorize_app.core.chroma import compose
from colorize_app.core.colour import lightness, rgb_to_lab
from colorize_app.core.hints import Hint, hex_color

L_BINS = 100
HINT_PATCH = 5


def lightness_prior(rgb_images: np.ndarray) -> np.ndarray:
    """Mean (a, b) per L bin (100 x 2) over the pixels of training photos (N x H x W x 3 uint8)."""
    sums = np.zeros((L_BINS, 2))
    counts = np.zeros(L_BINS)
    for rgb in rgb_images:
        lab = rgb_to_lab(rgb).reshape(-1, 3)
        bins = np.clip((lab[:, 0] * L_BINS / 100).astype(int), 0, L_BINS - 1)
        counts += np.bincount(bins, minlength=L_BINS)
        for c in (0, 1):
            sums[:, c] += np.bincount(bins, weights=lab[:, 1 + c], minlength=L_BINS)
    return (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)


def prior_prediction(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The lightness-prior baseline's output for an input photo."""
    light = lightness(image)
    bins = np.clip((light * L_BINS / 100).astype(int), 0, L_BINS - 1)
    return compose(image, table[bins])


def protocol_hints(truth: np.ndarray, count: int, name: str) -> list[Hint]:
    """``count`` hints from the truth at random positions, seeded by the photo's name."""
    if count <= 0:
        return []
    seed = int.from_bytes(hashlib.sha1(name.encode("utf-8")).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    height, width = truth.shape[:2]
    hints = []
    for _ in range(count):
        row, col = int(rng.integers(0, height)), int(rng.integers(0, width))
        half = HINT_PATCH // 2
        patch = truth[max(0, row - half): row + half + 1, max(0, col - half): col + half + 1, :3]
        mean = patch.reshape(-1, 3).mean(axis=0)
        hints.append(Hint(x=(col + 0.5) / width, y=(row + 0.5) / height, color=hex_color(mean)))
    return hints


def inverse_distance_prediction(image: np.ndarray, hints: list[Hint]) -> np.ndarray:
    """The inverse-distance baseline's output: hint colours spread by 1 / (d² + 1)."""
    height, width = image.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    total = np.zeros((height, width), np.float32)
    ab = np.zeros((height, width, 2), np.float32)
    for hint in hints:
        d2 = (rows - (hint.y * height - 0.5)) ** 2 + (cols - (hint.x * width - 0.5)) ** 2
        weight = 1.0 / (d2 + 1.0)
        total += weight
        ab += weight[..., None] * np.asarray(hint.ab, np.float32)
    return compose(image, ab / np.maximum(total, 1e-12)[..., None])
