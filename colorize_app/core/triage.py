"""Is a photo already in colour? Asked before colouring, so a mixed album is sorted first.

Monochrome prints of any tone count as black and white: gray, sepia, selenium, gold, cyanotype,
split-toned, yellowed paper, a gray scan with colour noise. What they share is that their colour
is a function of their lightness: every pixel of one lightness has about the same tint. A colour
photograph, faded or not, has different colours at the same lightness (a red coat and a green
hedge of one brightness). So the measure is how far each pixel's chroma strays from the mean
chroma of the pixels of its lightness, on a small copy of the photo, smoothed so that grain and
scanner noise do not count. A colour photo can also have one colour per lightness (a dark
purple shirt on a light green lawn); then its tints are strong and of opposed hues, which no
toner gives.

Measured on labelled sets of 360 photos (benchmarks/triage_eval.py prints the figures).
"""

from __future__ import annotations

import cv2
import numpy as np

SAMPLE_SIDE = 96  # long side of the copy measured, in pixels
SMOOTHING = 9  # box blur of the copy, pixels: grain and colour noise are finer than anything coloured
LIGHTNESS_BINS = 25  # 4 L units each
# Edges are left out: there JPEG's half-size chroma and a scanner's misregistered channels bleed
# one tone's colour into another lightness. Sobel magnitude of L on the smoothed copy.
EDGE = 40.0
# A pixel strays when its chroma is this far (Lab units) from its lightness's mean; a photo is in
# colour when more than this share of its flat pixels stray. Chosen (with the copy's size, the
# smoothing and EDGE) on the labelled sets of seeds 20-22, checked on 23 and 24: docs/provenance.md.
STRAY_CHROMA = 5.5
STRAY_SHARE = 0.036
MIN_FLAT = 64
# Or, a photo is in colour when two lightnesses (each at least 2 % of it) have tints of chroma 15
# or more whose hues are 90 degrees or more apart (a purple shirt on a green lawn, in seed 21's set).
TINT_SHARE, TINT_CHROMA, TINT_HUES_APART = 0.02, 15.0, 90.0


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


def _flat_lab(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Lightness and (a, b) of the flat pixels of the smoothed small copy; None when too few."""
    lab = cv2.blur(cv2.cvtColor(sample(pixels), cv2.COLOR_RGB2Lab), (SMOOTHING, SMOOTHING))
    edges = np.hypot(cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0), cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1))
    flat = edges < EDGE
    if np.count_nonzero(flat) < MIN_FLAT:
        return None  # all edges (a fine pattern): nothing to tell colour by
    return lab[..., 0][flat], lab[..., 1:][flat]


def _tints(light: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per lightness bin: its pixels' bin index, and the bins' mean a and b."""
    bins = np.minimum((light * (LIGHTNESS_BINS / 100.0)).astype(np.int64), LIGHTNESS_BINS - 1)
    counts = np.bincount(bins, minlength=LIGHTNESS_BINS)
    mean_a = np.bincount(bins, ab[:, 0], minlength=LIGHTNESS_BINS) / np.maximum(counts, 1)
    mean_b = np.bincount(bins, ab[:, 1], minlength=LIGHTNESS_BINS) / np.maximum(counts, 1)
    return bins, mean_a, mean_b


def colour_share(pixels: np.ndarray) -> float:
    """The share (0..1) of the photo whose colour strays from the tint of its lightness."""
    found = None if pixels.ndim == 2 else _flat_lab(pixels)  # 2-D: stored as gray
    return 0.0 if found is None else _stray_share(*found)


def is_colour(pixels: np.ndarray) -> bool:
    """True when the photo (uint8/uint16, RGB(A) or gray) is a colour photograph, faded or not;
    False for black and white of any tone. About a millisecond at any photo size."""
    found = None if pixels.ndim == 2 else _flat_lab(pixels)
    return found is not None and (_stray_share(*found) > STRAY_SHARE or _opposed(*found))


def _stray_share(light: np.ndarray, ab: np.ndarray) -> float:
    bins, mean_a, mean_b = _tints(light, ab)
    stray = np.hypot(ab[:, 0] - mean_a[bins], ab[:, 1] - mean_b[bins])
    return float(np.mean(stray > STRAY_CHROMA))


def _opposed(light: np.ndarray, ab: np.ndarray) -> bool:
    """True when two lightnesses have strong tints of different hues: a dark purple shirt on a
    yellow-green lawn has one colour per lightness, yet no toner makes it (split toning is faint)."""
    bins, mean_a, mean_b = _tints(light, ab)
    common = np.bincount(bins, minlength=LIGHTNESS_BINS) >= TINT_SHARE * len(light)
    strong = common & (np.hypot(mean_a, mean_b) >= TINT_CHROMA)
    hues = np.degrees(np.arctan2(mean_b[strong], mean_a[strong]))
    apart = np.abs((hues[:, None] - hues[None, :] + 180) % 360 - 180)
    return bool(apart.size) and float(apart.max()) >= TINT_HUES_APART
