"""sRGB <-> CIE Lab (D65) and the one definition of how L and ab are scaled for the network.

OpenCV's float conversion is used throughout: sRGB in [0, 1], L in [0, 100], a and b in their
natural units (about -128..127). The one exception is a photo's own lightness (``lightness``),
computed exactly here: OpenCV's L has too few levels for a 16-bit scan. The network sees
``L / 50 - 1`` and predicts ``ab / 128`` through a tanh, the seed report's convention.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

L_CENTER = 50.0
L_RANGE = 50.0
AB_SCALE = 128.0
AB_LIMIT = 127.0  # largest |a| or |b| we ever emit


def to_unit_float(pixels: np.ndarray) -> np.ndarray:
    """Return ``pixels`` (uint8, uint16 or float) as float32 in [0, 1]."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) * np.float32(1 / 255)
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) * np.float32(1 / 65535)
    return pixels.astype(np.float32, copy=False)


def from_unit_float(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round float values in [0, 1] to ``dtype`` (uint8 or uint16), clipping out-of-range values."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        # One saturating, rounding pass in OpenCV: about 4x faster than numpy's clip and cast.
        # It takes absolute values, so negatives are zeroed first unless the input is known
        # non-negative (lab_to_rgb's output is: OpenCV clips it).
        values = np.asarray(values, np.float32)
        if values.size and values.min() < 0:
            values = cv2.max(values, 0.0)
        return cv2.convertScaleAbs(values, alpha=255.0)
    out = np.clip(values * np.float32(65535.0) + np.float32(0.5), 0, 65535.0)
    return out.astype(dtype)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (HxWx3, uint8/uint16 or float in [0, 1]) -> float32 Lab (HxWx3)."""
    return cv2.cvtColor(to_unit_float(rgb), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """float32 Lab (HxWx3) -> sRGB float32 in [0, 1] (OpenCV clips out-of-gamut values)."""
    return cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_Lab2RGB)


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """Drop alpha and expand gray so the result is HxWx3 (a view where possible)."""
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2)
    return pixels[:, :, :3]


def lightness(pixels: np.ndarray) -> np.ndarray:
    """CIE L (float32, HxW, 0..100) of an image of any layout; colour input counts as its gray.

    Exact for every layout. Gray uint8/uint16 images take a lookup table: no RGB copy and no full
    Lab conversion. Colour is not left to OpenCV's float RGB2Lab either: it takes L from tables
    with about 512 levels (steps of 0.195), which turned a 16-bit sky into visible bands; its
    linear-light luminance is taken here instead, then the same L formula (and faster).
    """
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        gray = pixels.reshape(pixels.shape[:2])
        if gray.dtype == np.uint8:
            return cv2.LUT(gray, _gray_lightness_table(8)).reshape(gray.shape)
        if gray.dtype == np.uint16:
            return _gray_lightness_table(16)[gray]
    rgb = np.ascontiguousarray(as_rgb(pixels))
    return _lightness_of_luminance(cv2.transform(_linear(rgb), _LUMINANCE))


# Y of linear sRGB, the row of OpenCV's RGB -> XYZ matrix (it sums to 1: gray keeps its level).
_LUMINANCE = np.array([[0.212671, 0.715160, 0.072169]], dtype=np.float32)
_EPSILON = (6 / 29) ** 3  # below it the L formula is linear


def _linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8, uint16 or float in [0, 1]) -> linear light, float32."""
    if rgb.dtype == np.uint8:
        return cv2.LUT(rgb, _linear_table(8))
    if rgb.dtype == np.uint16:
        return _linear_table(16)[rgb]
    return srgb_to_linear(np.clip(to_unit_float(rgb), 0, 1)).astype(np.float32)


def _lightness_of_luminance(y: np.ndarray) -> np.ndarray:
    """CIE L of relative luminance (float32, in place): OpenCV's pow for the cube root (several
    times numpy's cbrt), the linear part only where there are such dark pixels."""
    f = cv2.pow(y, 1 / 3)
    dark = y <= _EPSILON
    if dark.any():
        f[dark] = y[dark] * np.float32(1 / (3 * (6 / 29) ** 2)) + np.float32(4 / 29)
    np.multiply(f, np.float32(116), out=f)
    np.subtract(f, np.float32(16), out=f)
    return f


def srgb_to_linear(levels: np.ndarray) -> np.ndarray:
    """Linear light of sRGB levels in [0, 1]: sRGB's transfer curve (IEC 61966-2-1), computed in
    the precision ``levels`` come in. The one definition: core.profiles uses it too."""
    return np.where(levels <= 0.04045, levels / 12.92, ((levels + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(light: np.ndarray) -> np.ndarray:
    """sRGB levels in [0, 1] of linear light in [0, 1]: the inverse of ``srgb_to_linear``."""
    return np.where(light <= 0.0031308, light * 12.92, 1.055 * light ** (1 / 2.4) - 0.055)


def _linear_levels(bits: int) -> np.ndarray:
    """Linear light of every level at this bit depth (float64)."""
    return srgb_to_linear(np.arange(2**bits, dtype=np.float64) / (2**bits - 1))


@lru_cache(maxsize=2)
def _linear_table(bits: int) -> np.ndarray:
    """Linear light of every level at this bit depth (float32)."""
    return _linear_levels(bits).astype(np.float32)


@lru_cache(maxsize=2)
def _gray_lightness_table(bits: int) -> np.ndarray:
    """CIE L of every gray level at this bit depth (sRGB transfer curve, then the L formula)."""
    linear = _linear_levels(bits)
    f = np.where(linear > _EPSILON, np.cbrt(linear), linear / (3 * (6 / 29) ** 2) + 4 / 29)
    return (116 * f - 16).astype(np.float32)


def normalize_l(l_channel: np.ndarray) -> np.ndarray:
    """L in [0, 100] -> network input in [-1, 1]."""
    return (l_channel - np.float32(L_CENTER)) / np.float32(L_RANGE)


def grayscale_of(pixels: np.ndarray) -> np.ndarray:
    """The metrics' grayscale version: Lab L with a = b = 0, back to sRGB of the same dtype."""
    lab = rgb_to_lab(as_rgb(pixels))
    lab[:, :, 1:] = 0
    return from_unit_float(lab_to_rgb(lab), pixels.dtype)


# D65 white point and the linear-sRGB matrix, as OpenCV uses them.
_WHITE = np.array([0.950456, 1.0, 1.088754], dtype=np.float64)
_XYZ_TO_RGB = np.array(
    [[3.2404542, -1.5371385, -0.4985314],
     [-0.9692660, 1.8760108, 0.0415560],
     [0.0556434, -0.2040259, 1.0572252]],
    dtype=np.float64,
)


def lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab (..., 3) -> linear sRGB (..., 3) without clipping, so gamut can be tested.

    OpenCV clips its float output to [0, 1], which hides out-of-gamut colours; this small
    numpy version is used only on tables and bins, never on full images.
    """
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    delta = 6.0 / 29.0
    xyz = np.where(f > delta, f**3, 3 * delta**2 * (f - 4.0 / 29.0)) * _WHITE
    return xyz @ _XYZ_TO_RGB.T


def in_gamut(lab: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """True where a Lab colour is representable in sRGB."""
    rgb = lab_to_linear_rgb(lab)
    return np.all((rgb >= -tolerance) & (rgb <= 1 + tolerance), axis=-1)


@lru_cache(maxsize=4)
def ab_gamut_bins(grid: int = 10) -> np.ndarray:
    """Centres (Qx2, float32) of the ab grid cells that hold an sRGB colour at some lightness.

    This is the analytic version of Zhang et al.'s 313 in-gamut bins: deterministic and
    independent of any data set, so a model's bins can be rebuilt from its config.
    """
    edge = np.arange(-110, 111, grid, dtype=np.float32)
    aa, bb = np.meshgrid(edge, edge, indexing="ij")
    centres = np.stack([aa.ravel(), bb.ravel()], axis=1)
    levels = np.linspace(0.5, 99.5, 100)
    keep = np.zeros(len(centres), dtype=bool)
    # A cell counts when any of a few points inside it is a real colour, as with data-derived bins.
    for da in (-grid / 2, 0, grid / 2):
        for db in (-grid / 2, 0, grid / 2):
            lab = np.empty((len(levels), len(centres), 3))
            lab[:, :, 0] = levels[:, None]
            lab[:, :, 1:] = centres[None] + np.array([da, db])
            keep |= in_gamut(lab).any(axis=0)
    return np.ascontiguousarray(centres[keep])


@lru_cache(maxsize=1)
def chroma_limit_table(l_steps: int = 101, hue_steps: int = 360) -> np.ndarray:
    """Largest in-gamut chroma for each (L, hue): float32 table, rows L = 0..100, columns hue in degrees.

    Column ``hue_steps`` repeats column 0 so bilinear lookups wrap around. Each entry is the
    minimum over its neighbours, so interpolating between entries never leaves the gamut.
    """
    levels = np.linspace(0, 100, l_steps)
    hues = np.deg2rad(np.arange(hue_steps) * 360.0 / hue_steps)
    lo = np.zeros((l_steps, hue_steps))
    hi = np.full((l_steps, hue_steps), 200.0)
    for _ in range(30):
        mid = (lo + hi) / 2
        lab = np.stack([np.broadcast_to(levels[:, None], mid.shape),
                        mid * np.cos(hues), mid * np.sin(hues)], axis=-1)
        ok = in_gamut(lab)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    table = np.concatenate([lo, lo[:, :1]], axis=1)
    padded = np.pad(table, 1, mode="edge")
    neighbours = [padded[1 + dy:padded.shape[0] - 1 + dy, 1 + dx:padded.shape[1] - 1 + dx]
                  for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return (np.min(neighbours, axis=0) * 0.995).astype(np.float32)


def fit_to_gamut(l_channel: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Shrink chroma in place (keeping hue) wherever L, a, b would fall outside sRGB.

    Clipping RGB instead would change the lightness, and the original's lightness is what
    keeps every detail of the photo, so chroma gives way, never L. Works on separate
    contiguous float32 planes because OpenCV's per-plane kernels are several times faster
    than numpy on interleaved data.
    """
    table = chroma_limit_table()
    magnitude, angle = cv2.cartToPolar(a, b, angleInDegrees=True)
    # The default table has one column per degree and one row per unit of L, so hue and L are
    # already its coordinates; other sizes are scaled to them.
    if table.shape[1] - 1 != 360:
        np.multiply(angle, np.float32((table.shape[1] - 1) / 360.0), out=angle)
    map_y = l_channel if table.shape[0] - 1 == 100 else l_channel * np.float32((table.shape[0] - 1) / 100.0)
    # Fixed-point maps (1/32 of a cell, OpenCV's documented remap precision): OpenCV 4 rounded
    # float maps to them inside remap, OpenCV 5 interpolates floats exactly; converting here
    # gives the same limits, and so the same colours, under both.
    fixed_xy, fixed_frac = cv2.convertMaps(angle, np.asarray(map_y, np.float32), cv2.CV_16SC2)
    limit = cv2.remap(table, fixed_xy, fixed_frac, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    limit_chroma(a, b, limit, magnitude)


def limit_chroma(a: np.ndarray, b: np.ndarray, limit: np.ndarray, magnitude: np.ndarray) -> None:
    """Multiply (a, b) in place by min(1, limit / magnitude); 1 where the magnitude is 0.

    numpy, not OpenCV: ``cv2.min(x, 1.0)`` reads a 1 x 1 to 4 x 1 array as a scalar, and OpenCV 5
    then writes ``dst`` to a new array instead of in place, so small planes kept their colour.
    """
    scale = np.ones_like(limit)
    np.divide(limit, magnitude, out=scale, where=magnitude > 0)
    np.minimum(scale, np.float32(1.0), out=scale)
    np.multiply(a, scale, out=a)
    np.multiply(b, scale, out=b)
