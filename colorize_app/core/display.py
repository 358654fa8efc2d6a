"""Copies of a photo for the screen: 8-bit levels, Qt-ready byte order, thumbnails. No Qt here.

The window's workers call these off the window's thread, so the window only wraps finished
arrays as QImages (`ui/qimage.py`) and never converts or resamples a large photo itself.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from colorize_app.core.batch import is_film
from colorize_app.core.imageio import read_image

DISPLAY_MAX = 4096  # long side of the copy the window shows as "100%"; bigger scans are shrunk
SMALLEST_LEVEL = 192  # stop halving below this long side
THUMB_SIZE = 128
QUICK_SIDE = 1024  # long side used for live feedback while the saturation slider moves


def levels(pixels: np.ndarray) -> list[np.ndarray]:
    """Display copies of a photo: 8-bit, no larger than DISPLAY_MAX, then successive halvings.

    The window draws from the smallest one that is still sharp at the current zoom, so a zoomed
    out 12 MP photo is never resampled in full on every repaint.
    """
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    height, width = pixels.shape[:2]
    if max(height, width) > DISPLAY_MAX:
        scale = DISPLAY_MAX / max(height, width)
        pixels = cv2.resize(pixels, (max(1, round(width * scale)), max(1, round(height * scale))),
                            interpolation=cv2.INTER_AREA)
    out = [np.ascontiguousarray(pixels)]
    while max(out[-1].shape[:2]) // 2 >= SMALLEST_LEVEL:
        height, width = out[-1].shape[:2]
        out.append(cv2.resize(out[-1], (max(1, width // 2), max(1, height // 2)),
                              interpolation=cv2.INTER_AREA))
    return out


def for_display(pyramid: list[np.ndarray]) -> list[np.ndarray]:
    """The levels in the byte order of Qt's native 32-bit format (B, G, R, 255 on little-endian
    machines), so the window wraps them as QImages without copying or converting anything on its
    thread; converting a 12 MP photo there took a third of a second."""
    codes = {1: cv2.COLOR_GRAY2BGRA, 3: cv2.COLOR_RGB2BGRA, 4: cv2.COLOR_RGBA2BGRA}
    out = []
    for level in pyramid:
        channels = 1 if level.ndim == 2 else level.shape[2]
        bgra = cv2.cvtColor(level, codes[channels])
        if channels == 4:
            bgra[:, :, 3] = 255  # the preview shows colour; transparency would only confuse it
        out.append(bgra if sys.byteorder == "little" else np.ascontiguousarray(bgra[:, :, ::-1]))
    return out


def thumbnail(display_levels: list[np.ndarray]) -> np.ndarray:
    """A list-sized copy (long side THUMB_SIZE at most), made from the smallest level that will do."""
    source = display_levels[-1]
    for level in reversed(display_levels):
        source = level
        if max(level.shape[:2]) >= THUMB_SIZE:
            break
    height, width = source.shape[:2]
    scale = min(1.0, THUMB_SIZE / max(height, width))
    return cv2.resize(source, (max(1, round(width * scale)), max(1, round(height * scale))),
                      interpolation=cv2.INTER_AREA)


def thumbnail_of(pixels: np.ndarray) -> np.ndarray:
    """``thumbnail(levels(pixels))`` without building the levels: for a photo that is not shown.

    Every n-th pixel first (down to a few times the thumbnail's size), then an area average;
    on a 12 MP result this costs a few milliseconds instead of 55.
    """
    step = max(1, max(pixels.shape[:2]) // (THUMB_SIZE * 4))
    return thumbnail(levels(np.ascontiguousarray(pixels[::step, ::step])))


def quick_level(display_levels: list[np.ndarray]) -> np.ndarray:
    """The largest level no bigger than QUICK_SIDE (the smallest one if all are bigger)."""
    for level in display_levels:
        if max(level.shape[:2]) <= QUICK_SIDE:
            return level
    return display_levels[-1]


def read_thumbnail(path) -> np.ndarray:
    """A list-sized, upright copy of the photo at ``path`` (core's one reader, decoding a JPEG at
    a reduced scale), or of the film's poster frame (film_io.poster). Raises ImageReadError as
    ``imageio.read_image`` does (a FilmReadError for a film)."""
    if is_film(path):
        from colorize_app.core import film_io  # PyAV, only once a film is listed

        return thumbnail_of(film_io.poster(path))
    pixels = read_image(path, reduce_to=THUMB_SIZE * 2).pixels
    return thumbnail(levels(pixels))
