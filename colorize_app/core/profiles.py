"""A photo's embedded ICC profile applied as it is read: its pixels turned into sRGB, the one
space the colour maths (core.colour) knows.

A gray scan tagged with a gray profile (Mac-era scanners wrote Gray Gamma 1.8; others Gray Gamma
2.2 or a dot gain curve) does not mean its levels as sRGB gray: read as such, the result came
out up to 7.5 L* darker in the mid-tones (gamma 1.8) or 3 L* lighter in the shadows (gamma 2.2)
than the original in any colour-managed viewer. Its levels are mapped to the sRGB gray of the
same lightness, so the result (RGB: a gray profile cannot go on it) shows the original's tones.

LittleCMS (Pillow's ImageCms) evaluates the profile once, for every 16-bit level, into a table:
the photo then takes a lookup (OpenCV's for 8 bits, numpy's for 16), which keeps a 16-bit scan's
precision (ImageCms converts gray to RGB in 8 bits only) and costs a fraction of converting the
whole image through LittleCMS (benchmarks/profile_bench.py).
"""

from __future__ import annotations

import io
import logging
import struct
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageCms

logger = logging.getLogger(__name__)

_STRIP = 1 << 20  # pixels per 16-bit lookup


def to_srgb(pixels: np.ndarray, icc: bytes | None, source=None) -> tuple[np.ndarray, bytes | None]:
    """``pixels`` as sRGB, and the profile that still describes them (None once converted).

    ``pixels`` are as read_image decodes them (HxW, HxWx3 or HxWx4; uint8 or uint16). A gray
    photo with a gray profile is converted, in place where its buffer allows; gray with alpha
    comes as RGBA with equal R, G and B (Pillow calls a 16-bit one RGBA too), so gray is told
    by the pixels, not the file's mode. Anything else, and a profile that LittleCMS cannot use
    (logged, naming ``source``), is left as it is.
    """
    if not icc or icc[16:20] != b"GRAY" or not _is_gray(pixels):
        return pixels, icc
    try:
        table = _gray_table(icc)
    except Exception:  # a damaged profile must not cost the photo: read as sRGB gray, as before
        logger.warning("Ignoring the unusable gray profile of %s; its levels are read as sRGB.",
                       source or "this photo", exc_info=True)  # fmt: skip
        return pixels, icc
    return _apply(pixels, table), None


def _is_gray(pixels: np.ndarray) -> bool:
    if pixels.ndim == 2:
        return True
    red, green, blue = (pixels[..., c] for c in range(3))
    return np.array_equal(red, green) and np.array_equal(green, blue)


def _apply(pixels: np.ndarray, table16: np.ndarray) -> np.ndarray:
    """The gray levels of ``pixels`` through the 16-bit table (alpha untouched)."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if pixels.dtype == np.uint8:
        table = _eight_bit(table16)
        if channels > 1:
            table = np.dstack([table] * 3 + [np.arange(256, dtype=np.uint8)][: channels - 3])
        # in place where the buffer is ours alone: a 50 MP scan would otherwise need a second copy
        own = pixels.flags.writeable and pixels.flags.c_contiguous
        return cv2.LUT(pixels, table.reshape(1, 256, channels), dst=pixels if own else None)
    if not (pixels.flags.writeable and pixels.flags.c_contiguous):
        pixels = np.array(pixels)
    planes = pixels.reshape(*pixels.shape[:2], channels)  # a view: written in place
    rows = max(1, _STRIP // max(1, pixels.shape[1]))
    buffer = np.empty((rows, pixels.shape[1]), np.uint16)
    for top in range(0, pixels.shape[0], rows):
        # strip by strip through a small buffer: a 50 MP scan is never copied whole
        part = planes[top : top + rows]
        looked_up = buffer[: len(part)]
        np.take(table16, part[..., 0], out=looked_up)
        for c in range(min(channels, 3)):
            part[..., c] = looked_up
    return pixels


def _eight_bit(table16: np.ndarray) -> np.ndarray:
    """The 8-bit levels' entries of a 16-bit table, rounded to 8 bits (v * 257 is level v)."""
    return ((table16[::257].astype(np.uint32) * 2 + 257) // 514).astype(np.uint8)


@lru_cache(maxsize=8)
def _gray_table(icc: bytes) -> np.ndarray:
    """sRGB gray (uint16) of every 16-bit level of a gray profile: LittleCMS, relative
    colorimetric, unoptimised (its optimised transform samples the curves at 4,096 points:
    up to 356 levels off in the shadows; unoptimised, within 1 of the exact curve)."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    transform = ImageCms.buildTransform(
        source, _srgb_gray(), "I;16", "I;16",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, flags=ImageCms.Flags.NOOPTIMIZE,
    )  # fmt: skip
    ramp = Image.fromarray(np.arange(65536, dtype=np.uint16).reshape(256, 256))
    table = np.asarray(ImageCms.applyTransform(ramp, transform), dtype=np.uint16).ravel().copy()
    table.flags.writeable = False
    return table


@lru_cache(maxsize=1)
def _srgb_gray() -> ImageCms.ImageCmsProfile:
    """A gray profile whose tone curve is sRGB's (ICC v4 parametric curve, D50 white): the gray
    of the sRGB colours the rest of the maths assumes."""
    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    d50 = s15(0.9642) + s15(1.0) + s15(0.8249)
    curve = b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(
        s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    )  # fmt: skip
    tags = [(b"wtpt", b"XYZ \0\0\0\0" + d50), (b"kTRC", curve)]
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", 128 + 4 + 12 * len(tags) + len(body), len(data))
        body += data
    header = (b"\0" * 4 + b"\0" * 4 + bytes([4, 0x30, 0, 0]) + b"mntrGRAYXYZ " + b"\0" * 12
              + b"acsp" + b"\0" * 24 + b"\0" * 4 + d50)  # fmt: skip
    header = header.ljust(128, b"\0")
    data = struct.pack(">I", 128 + len(table) + len(body)) + header[4:] + table + body
    return ImageCms.ImageCmsProfile(io.BytesIO(data))
