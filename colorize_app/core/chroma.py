"""Lay predicted colour over the full-resolution original lightness (numpy and OpenCV, no torch).

The network's (a, b) comes at a small render size; here it is upsampled bilinearly strip by
strip, scaled by the saturation, fitted into the sRGB gamut without touching L, and merged with
the original's own L. Working in strips keeps memory flat for 50-megapixel scans, and lets the
caller cancel or report progress between strips. Being torch-free, the window's worker can call
it again on a cached prediction when only the saturation changes.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .colour import AB_LIMIT, fit_to_gamut, from_unit_float, lab_to_rgb, lightness
from .errors import Cancelled, ColorizeError

STRIP_PIXELS = 1 << 21  # about 2 MP per strip: cache-friendly and a few dozen MB of temporaries


def compose(
    image: np.ndarray,
    ab_small: np.ndarray,
    *,
    saturation: float = 1.0,
    on_progress: Callable[[float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Colour ``image`` (HxW, HxWx3 or HxWx4; uint8 or uint16) with the low-resolution ``ab_small``.

    Returns HxWx3 (HxWx4 when the input had alpha, which is copied unchanged) of the input's dtype,
    whose Lab lightness equals the input's up to rounding.
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"expected uint8 or uint16 pixels, got {image.dtype}")
    if not (np.isfinite(saturation) and saturation >= 0):
        raise ValueError(f"saturation must be a finite number, 0 or more, not {saturation}")
    if not np.isfinite(ab_small).all():  # NaN would come out white, and be saved as a success
        raise ColorizeError(
            "The model's prediction is invalid (its colours are not finite numbers): the weights "
            "are damaged or the model is broken. Nothing was saved."
        )
    height, width = image.shape[:2]
    has_alpha = image.ndim == 3 and image.shape[2] == 4
    out = np.empty((height, width, 4 if has_alpha else 3), dtype=image.dtype)
    planes = [
        np.clip(ab_small[:, :, i], -AB_LIMIT, AB_LIMIT).astype(np.float32) * np.float32(saturation)
        for i in (0, 1)
    ]
    small_h, small_w = planes[0].shape
    sx, sy = small_w / width, small_h / height
    rows = max(8, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("Cancelled.")
        bottom = min(height, top + rows)
        strip = image[top:bottom]
        l_channel = lightness(strip)
        # dst (x, y) -> src ((x + .5) * sx - .5, (y + top + .5) * sy - .5): exactly cv2.resize's
        # bilinear sampling, restricted to this strip.
        matrix = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, (top + 0.5) * sy - 0.5]], np.float32)
        a, b = (
            cv2.warpAffine(p, matrix, (width, bottom - top), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
            for p in planes
        )
        fit_to_gamut(l_channel, a, b)
        rgb = lab_to_rgb(cv2.merge([l_channel, a, b]))
        if has_alpha:
            out[top:bottom, :, :3] = from_unit_float(rgb, image.dtype)
            out[top:bottom, :, 3] = strip[:, :, 3]
        else:
            out[top:bottom] = from_unit_float(rgb, image.dtype)
        if on_progress is not None:
            on_progress(bottom / height)
    return out
