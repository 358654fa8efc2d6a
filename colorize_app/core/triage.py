"""Is a photo already in colour? Asked before colouring, so a mixed album is sorted first.

Monochrome prints of any tone count as black and white: gray, sepia, selenium, gold, cyanotype,
split-toned, yellowed paper, a gray scan with colour noise. What they share is that their colour
is a function of their lightness: every pixel of one lightness has about the same tint. A colour
photograph, faded or not, has different colours at the same lightness (a red coat and a green
hedge of one brightness). So the measure is how far each pixel's chroma strays from the mean
chroma of the pixels of its lightness, on a small copy of the photo, smoothed so that grain and
scanner noise do not count, with its edges, clipped highlights and border left out. What a
scanner's misregistered channel or JPEG's offset chroma adds is a fixed multiple of the lightness
gradient, the same all over the photo; that part is fitted and taken away before the stray is
measured, so that faint colour (a faded print) counts. A colour photo can also have one colour
per lightness (a dark purple shirt on a light green lawn); then its tints are strong and of
opposed hues, which no toner gives.

Measured on labelled sets of 360 photos (benchmarks/triage_eval.py prints the figures).
"""

from __future__ import annotations

import cv2
import numpy as np

SAMPLE_SIDE = 96  # long side of the copy measured, in pixels
# ... but never a short side under this (a 10:1 panorama's would be left inside the border alone)
MIN_SHORT_SIDE = 32
SMOOTHING = 9  # box blur of the copy, pixels: grain and colour noise are finer than anything coloured
LIGHTNESS_BINS = 25  # 4 L units each
# Edges are left out: there JPEG's half-size chroma and a scanner's misregistered channels bleed
# one tone's colour into another lightness. Sobel magnitude of L on the smoothed copy.
EDGE = 40.0
# Clipped highlights are left out too (any channel above this, and the smoothing window around it):
# where a toned print's red channel saturates, its tint turns abruptly with lightness, and JPEG's
# chroma errors there stray like colour. A colour photo's clipped highlights carry no colour either.
CLIPPED = 0.97
# And the border, as far as the smoothing window reaches it: a scan's edge holds the scanner's bed,
# the print's frame and, where a colour channel is misregistered, that channel's missing end.
MARGIN = SMOOTHING // 2 + 1
# A pixel strays when its chroma is this far (Lab units) from its lightness's mean, less the part
# that follows the lightness gradient; a photo is in colour when more than this share of its flat
# pixels stray. Chosen (with CLIPPED, MARGIN and the gradient fit) on the labelled sets of seeds
# 20-22, checked on 23-34: docs/provenance.md.
STRAY_CHROMA = 3.5
STRAY_SHARE = 0.035
MIN_FLAT = 64
# Or, a photo is in colour when two lightnesses (each at least 2 % of it) have tints of chroma 15
# or more whose hues are 90 degrees or more apart (a purple shirt on a green lawn, in seed 21's set).
TINT_SHARE, TINT_CHROMA, TINT_HUES_APART = 0.02, 15.0, 90.0


def sample(pixels: np.ndarray, side: int = SAMPLE_SIDE) -> np.ndarray:
    """A small float32 RGB copy (0..1, long side about ``side``, short side at least
    MIN_SHORT_SIDE where the photo has it: a panorama's copy is longer) of an RGB(A) or gray photo.

    Every n-th pixel of every n-th row is taken first (no work proportional to the photo's size),
    then halved by averaging, which also halves the grain.
    """
    rgb = pixels if pixels.ndim == 2 else pixels[..., :3]
    step = max(1, min(max(rgb.shape[:2]) // (2 * side), min(rgb.shape[:2]) // (2 * MIN_SHORT_SIDE)))
    small = np.ascontiguousarray(rgb[::step, ::step])
    scale = 65535.0 if small.dtype == np.uint16 else 255.0
    small = small.astype(np.float32) / scale
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
    if max(small.shape[:2]) > side:
        height, width = small.shape[:2]
        small = cv2.resize(small, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    return small


Flat = tuple[np.ndarray, np.ndarray, np.ndarray]  # lightness (n,), (a, b) (n, 2), lightness gradient (n, 2)


def _flat_lab(pixels: np.ndarray) -> Flat | None:
    """Lightness, (a, b) and the lightness gradient of the flat, unclipped pixels of the smoothed
    small copy away from its border; None when too few."""
    rgb = sample(pixels)
    lab = cv2.blur(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab), (SMOOTHING, SMOOTHING))
    gradient = np.dstack([cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0), cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1)])
    flat = (np.hypot(gradient[..., 0], gradient[..., 1]) < EDGE) & ~_near_clipped(rgb) & _inside(rgb.shape[:2])
    if np.count_nonzero(flat) < MIN_FLAT:
        return None  # all edges (a fine pattern): nothing to tell colour by
    return lab[..., 0][flat], lab[..., 1:][flat], gradient[flat]


def _near_clipped(rgb: np.ndarray) -> np.ndarray:
    """Where the smoothed copy mixes in a pixel with a clipped channel (see CLIPPED)."""
    clipped = (rgb.max(axis=2) > CLIPPED).astype(np.float32)
    return cv2.blur(clipped, (SMOOTHING, SMOOTHING)) > 0


def _inside(shape: tuple[int, ...]) -> np.ndarray:
    """True but within MARGIN of the border (see MARGIN)."""
    inside = np.zeros(shape, bool)
    inside[MARGIN:-MARGIN, MARGIN:-MARGIN] = True
    return inside


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
    return found is not None and (_stray_share(*found) > STRAY_SHARE or _opposed(*found[:2]))


def _stray_share(light: np.ndarray, ab: np.ndarray, gradient: np.ndarray) -> float:
    """The share of the flat pixels whose chroma strays from their lightness's tint by more than
    STRAY_CHROMA, once the part that follows the lightness gradient is taken away."""
    bins, mean_a, mean_b = _tints(light, ab)
    stray = _off_gradient(ab - np.stack([mean_a[bins], mean_b[bins]], axis=1), gradient)
    return float(np.mean(np.hypot(stray[:, 0], stray[:, 1]) > STRAY_CHROMA))


def _off_gradient(stray: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """``stray`` less its least-squares fit by one 2x2 matrix times the lightness gradient.

    A colour channel shifted by a fraction of a pixel (a scanner's misregistration, JPEG's
    half-size chroma sited off its pixels) adds to every pixel a colour proportional to the
    lightness gradient there, in one direction for the whole photo: that fits, and goes. A colour
    photo's objects do not line up with its gradients that way, so their colour stays."""
    fit, *_ = np.linalg.lstsq(gradient.astype(np.float64), stray.astype(np.float64), rcond=None)
    return stray - gradient @ fit


def _opposed(light: np.ndarray, ab: np.ndarray) -> bool:
    """True when two lightnesses have strong tints of different hues: a dark purple shirt on a
    yellow-green lawn has one colour per lightness, yet no toner makes it (split toning is faint)."""
    bins, mean_a, mean_b = _tints(light, ab)
    common = np.bincount(bins, minlength=LIGHTNESS_BINS) >= TINT_SHARE * len(light)
    strong = common & (np.hypot(mean_a, mean_b) >= TINT_CHROMA)
    hues = np.degrees(np.arctan2(mean_b[strong], mean_a[strong]))
    apart = np.abs((hues[:, None] - hues[None, :] + 180) % 360 - 180)
    return bool(apart.size) and float(apart.max()) >= TINT_HUES_APART
