"""A photo's embedded ICC profile applied as it is read: its pixels turned into sRGB, the one
space the colour maths (core.colour) knows.

A gray scan tagged with a gray profile (Mac-era scanners wrote Gray Gamma 1.8; others Gray Gamma
2.2 or a dot gain curve) does not mean its levels as sRGB gray: read as such, the result came
out up to 7.5 L* darker in the mid-tones (gamma 1.8) or 3 L* lighter in the shadows (gamma 2.2)
than the original in any colour-managed viewer. Its levels are mapped to the sRGB gray of the
same lightness, so the result (RGB: a gray profile cannot go on it) shows the original's tones.

An RGB photo tagged with another profile (Adobe RGB, ProPhoto, Display P3) kept its tag on a
result whose colour was computed as sRGB numbers: shown through the tag, about 24% more
saturated than meant. It is converted to sRGB as it is read and its result is tagged sRGB
(rather than converting the added colour back into the original's space: that would need the
same conversion at read, for the lightness, and its inverse at write). Colours outside sRGB are
clipped; the network's colours are sRGB's anyway.

LittleCMS (Pillow's ImageCms) evaluates the profile once, for every 16-bit level, into a table:
the photo then takes a lookup (OpenCV's for 8 bits, numpy's for 16), which keeps a 16-bit scan's
precision (ImageCms converts gray to RGB in 8 bits only) and costs a fraction of converting the
whole image through LittleCMS (benchmarks/profile_bench.py). An RGB matrix profile is its
three tone curves (each such a table, to linear light) and a 3x3 matrix, done here in float32
strips, because ImageCms converts RGB in 8 bits only; a table-based RGB profile is left alone.
"""

from __future__ import annotations

import io
import logging
import struct
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageCms

from colorize_app.core.colour import linear_to_srgb, srgb_to_linear

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
    space = icc[16:20] if icc else b""
    if space == b"RGB " and pixels.ndim == 3:
        return _rgb_to_srgb(pixels, icc, source)
    if space != b"GRAY" or not _is_gray(pixels):
        return pixels, icc
    try:
        table = _gray_table(icc)
    except Exception:  # a damaged profile must not cost the photo: read as sRGB gray, as before
        logger.warning("Ignoring the unusable gray profile of %s; its levels are read as sRGB.",
                       source or "this photo", exc_info=True)  # fmt: skip
        return pixels, icc
    return _apply(pixels, table), None


def _rgb_to_srgb(pixels: np.ndarray, icc: bytes, source) -> tuple[np.ndarray, bytes | None]:
    """An RGB photo whose profile is not sRGB (Adobe RGB, ProPhoto, Display P3), as sRGB, tagged
    sRGB; an sRGB one as it is, keeping its own tag."""
    try:
        conversion = _rgb_conversion(icc)
    except Exception:  # a damaged profile must not cost the photo: read as sRGB, as before
        logger.warning("Ignoring the unusable colour profile of %s; its colours are read as sRGB.",
                       source or "this photo", exc_info=True)  # fmt: skip
        return pixels, icc
    if conversion is None:
        return pixels, icc
    if isinstance(conversion, str):
        logger.warning("The colour profile of %s is %s; its colours are read as sRGB.",
                       source or "this photo", conversion)  # fmt: skip
        return pixels, icc
    tables, matrix = conversion
    if all(t is tables[0] for t in tables) and _is_gray(pixels):
        # neutral stays exactly neutral (white maps to white): one table, as for a gray profile
        return _apply(pixels, tables[0]), srgb_profile()
    return _convert(pixels, tables, matrix), srgb_profile()


_CHANNELS = np.arange(3)


def _convert(pixels: np.ndarray, tables: tuple[np.ndarray, ...], matrix: np.ndarray) -> np.ndarray:
    """Each channel through its tone curve to linear light (16-bit precise, from LittleCMS's
    tables), the 3x3 matrix to linear sRGB, clipped to sRGB's gamut, back through sRGB's curve;
    strip by strip and in place, alpha untouched."""
    if not (pixels.flags.writeable and pixels.flags.c_contiguous):
        pixels = np.array(pixels)
    linear = np.stack([_srgb_to_linear(t) for t in tables])  # 3 x 65536, float32
    if pixels.dtype == np.uint8:
        linear = np.ascontiguousarray(linear[:, ::257].T).reshape(1, 256, 3)
    encode = _encoding_table(pixels.dtype)
    rows = max(1, _STRIP // max(1, pixels.shape[1]))
    for top in range(0, pixels.shape[0], rows):
        part = pixels[top : top + rows, :, :3]
        if pixels.dtype == np.uint8:
            light = cv2.LUT(np.ascontiguousarray(part), linear)
        else:
            light = linear[_CHANNELS, part]
        light = cv2.transform(light, matrix)
        np.clip(light, 0, 1, out=light)
        # sRGB's curve by a table indexed by sqrt(light): as fine as 16 bits everywhere (1e-10
        # at black, within 0.8 of a 16-bit level at white), for a square root and a lookup
        cv2.sqrt(light, dst=light)
        index = (light * np.float32(65535) + np.float32(0.5)).astype(np.uint16)
        part[...] = encode[index]
    return pixels


def _srgb_to_linear(table16: np.ndarray) -> np.ndarray:
    """Linear light (float32) of a table of 16-bit sRGB levels."""
    return srgb_to_linear(table16.astype(np.float64) / 65535).astype(np.float32)


@lru_cache(maxsize=2)
def _encoding_table(dtype: np.dtype) -> np.ndarray:
    """sRGB's level (of ``dtype``) of the linear light (k / 65535)^2, for every k."""
    encoded = linear_to_srgb((np.arange(65536, dtype=np.float64) / 65535) ** 2)
    top = np.iinfo(dtype).max
    return np.round(encoded * top).astype(dtype)


@lru_cache(maxsize=8)
def _rgb_conversion(icc: bytes):
    """How an RGB profile's colours become sRGB: None for sRGB itself (within a hair); a
    sentence when Colorize cannot convert it (a table-based profile); else the three channels'
    tables (LittleCMS: each tone curve to sRGB's, for every 16-bit level) and the 3x3 matrix
    from their linear light to linear sRGB, white kept white (relative colorimetric, as
    LittleCMS does for a matrix profile)."""
    tags = _tags(icc)
    names = (b"rTRC", b"gTRC", b"bTRC", b"rXYZ", b"gXYZ", b"bXYZ")
    if not all(name in tags for name in names):
        return "a table-based profile, which Colorize does not convert"
    curves = tags[b"rTRC"], tags[b"gTRC"], tags[b"bTRC"]
    tables = tuple(_gray_table(_gray_profile(curve)) for curve in curves)  # one per curve (cached)
    matrix = np.linalg.solve(_srgb_primaries(), _primaries(tags))
    matrix /= matrix.sum(axis=1, keepdims=True)
    identity = np.arange(65536)
    if np.abs(matrix - np.eye(3)).max() < 2e-3 and all(
        np.abs(t.astype(np.int64) - identity).max() <= 64 for t in tables
    ):  # fmt: skip
        return None
    return tables, matrix.astype(np.float32)


def _tags(icc: bytes) -> dict[bytes, bytes]:
    """An ICC profile's tags by signature (their data as stored)."""
    (count,) = struct.unpack_from(">I", icc, 128)
    found = {}
    for i in range(min(count, 1000)):
        signature, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if offset + size > len(icc):
            raise ValueError(f"tag {signature!r} lies outside the profile")
        found[signature] = icc[offset : offset + size]
    return found


def _primaries(tags: dict[bytes, bytes]) -> np.ndarray:
    """The columns of a matrix profile: its red, green and blue in the D50 connection space."""
    return np.array([[_S15.unpack_from(tags[name], 8 + 4 * k)[0] / 65536 for name in
                      (b"rXYZ", b"gXYZ", b"bXYZ")] for k in range(3)])  # fmt: skip


@lru_cache(maxsize=1)
def _srgb_primaries() -> np.ndarray:
    return _primaries(_tags(srgb_profile()))


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB profile a converted result carries (LittleCMS's own; its date zeroed, so the
    same photo gives the same bytes)."""
    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return data[:24] + b"\0" * 12 + data[36:]


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


_S15 = struct.Struct(">i")
_D50 = (0.9642, 1.0, 0.8249)
_SRGB_CURVE = b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(
    _S15.pack(round(v * 65536)) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
)  # sRGB's tone curve (colour.srgb_to_linear) as an ICC parametric curve (function type 3)


@lru_cache(maxsize=1)
def _srgb_gray() -> ImageCms.ImageCmsProfile:
    """A gray profile whose tone curve is sRGB's: the gray of the sRGB colours the rest of the
    maths assumes."""
    return ImageCms.ImageCmsProfile(io.BytesIO(_gray_profile(_SRGB_CURVE)))


def _gray_profile(curve: bytes) -> bytes:
    """An ICC v4 gray display profile with this tone curve (a curv or para tag) and a D50
    white: LittleCMS maps a level to the luminance the curve gives it."""
    d50 = b"".join(_S15.pack(round(v * 65536)) for v in _D50)
    tags = [(b"wtpt", b"XYZ \0\0\0\0" + d50), (b"kTRC", curve)]
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", 128 + 4 + 12 * len(tags) + len(body), len(data))
        body += data
    header = (b"\0" * 4 + bytes([4, 0x30, 0, 0]) + b"mntrGRAYXYZ " + b"\0" * 12 + b"acsp"
              + b"\0" * 28 + d50).ljust(124, b"\0")  # fmt: skip
    return struct.pack(">I", 128 + len(table) + len(body)) + header + table + body
