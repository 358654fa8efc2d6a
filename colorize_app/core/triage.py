"""Is a photo already in colour? Asked before colouring, so a mixed album is sorted first.

Monochrome prints of any tone count as black and white: gray, sepia, selenium, gold, cyanotype,
split-toned, yellowed paper, a gray scan with colour noise. What they share is that their colour
is a function of their lightness: every pixel of one lightness has about the same tint. A colour
photograph, faded or not, has different colours at the same lightness (a red coat and a green
hedge of one brightness). So the measure is how far each pixel's chroma strays from the mean
chroma of the pixels of its lightness, on a small copy of the photo, smoothed so that grain and
scanner noise do not count.

Measured on labelled sets of 360 photos (benchmarks/triage_eval.py prints the figures).
"""

from __future__ import annotations

import cv2
import numpy as np

SAMPLE_SIDE = 64  # long side of the copy measured, in pixels
SMOOTHING = 5  # box blur of the copy, pixels: grain and colour noise are finer than anything coloured
LIGHTNESS_BINS = 25  # 4 L units each
# Edges are left out: there JPEG's half-size chroma and a scanner's misregistered channels bleed
# one tone's colour into another lightness. Sobel magnitude of L on the smoothed copy.
EDGE = 40.0
# A pixel strays when its chroma is this far (Lab units) from its lightness's mean; a photo is in
# colour when more than this share of its flat pixels stray. Chosen on the labelled set (seed 20)
# and checked on a second one (seed 21): see docs/triage.md.
STRAY_CHROMA = 4.5
STRAY_SHARE = 0.065
MIN_FLAT = 64


def sample(pixels: np.ndarray, side: int = SAMPLE_SIDE) -> np.ndarray:
    """A small float32 RGB copy (0..1, long side about ``side``) of an RGB(A) or gray photo.

    Every n-th pixel of every n-th row is taken first (no work proportional to the photo's size),
    then halved by averaging, which also halves the grain.
    """
    rgb = pixels if pixels.ndim == 2 else pixels[..., :3]
    step = max(1, max(rgb.shape[:2]) // (2 * side))
    small = np.ascontiguousarray(rgb[::step, ::step])
    scale = 65535.0 if small.dtype == np.uint16 else 255.0
    small = small.astype(np.float32) / scale
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
    if max(small.shape[:2]) > side:
        height, width = small.shape[:2]
        small = cv2.resize(small, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    return small


def colour_share(pixels: np.ndarray) -> float:
    """The share (0..1) of the photo whose colour strays from the tint of its lightness."""
    if pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 2):
        return 0.0  # stored as gray
    lab = cv2.blur(cv2.cvtColor(sample(pixels), cv2.COLOR_RGB2Lab), (SMOOTHING, SMOOTHING))
    edges = np.hypot(cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0), cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1))
    flat = edges < EDGE
    if np.count_nonzero(flat) < MIN_FLAT:
        return 0.0  # all edges (a fine pattern): nothing to tell colour by
    light = lab[..., 0][flat]
    ab = lab[..., 1:][flat]
    bins = np.minimum((light * (LIGHTNESS_BINS / 100.0)).astype(np.int64), LIGHTNESS_BINS - 1)
    counts = np.maximum(np.bincount(bins, minlength=LIGHTNESS_BINS), 1)
    mean_a = np.bincount(bins, ab[:, 0], minlength=LIGHTNESS_BINS) / counts
    mean_b = np.bincount(bins, ab[:, 1], minlength=LIGHTNESS_BINS) / counts
    stray = np.hypot(ab[:, 0] - mean_a[bins], ab[:, 1] - mean_b[bins])
    return float(np.mean(stray > STRAY_CHROMA))


def is_colour(pixels: np.ndarray) -> bool:
    """True when the photo (uint8/uint16, RGB(A) or gray) is a colour photograph, faded or not;
    False for black and white of any tone. Costs well under a millisecond at any photo size."""
    return colour_share(pixels) > STRAY_SHARE
