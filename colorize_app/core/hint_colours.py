"""Colours worth offering for a hint at one spot: plausible colours at that spot's lightness.

No torch and no Qt. The colour the model gives the spot now comes first (the person usually
wants "like this, but more so" or something else entirely), then common colours of things in old
photos, each shown at the spot's own lightness (a hint's lightness is never used, so showing
another would mislead), the ones whose natural lightness is nearest first.
"""

from __future__ import annotations

import numpy as np

from .colour import fit_to_gamut, lab_to_rgb, rgb_to_lab
from .hints import hex_color

# Things that fill old photos, as sRGB, with the words a person would use for them.
NAMED_COLOURS = {
    "#e0ac8c": "light skin", "#c68863": "skin", "#8d5a3b": "dark skin",
    "#87a9d0": "sky", "#5b7fae": "deep sky",
    "#6f8f4e": "grass", "#3f5e2c": "foliage", "#a3a65b": "dry grass",
    "#8a6d4b": "earth", "#b5533c": "brick", "#6e4b33": "wood",
    "#b03a2e": "red cloth", "#2c3e74": "navy", "#2e6b57": "green cloth", "#7a4a7e": "plum",
    "#c9a23f": "ochre", "#9c9a93": "stone", "#e8e0cf": "cream",
}
COMMON_COLOURS = tuple(NAMED_COLOURS)
MIN_CHROMA = 6.0  # closer to gray than this is not a colour to offer


def suggest_colours(gray: float, current_rgb=None, count: int = 8) -> list[str]:
    """Up to ``count`` ``#rrggbb`` colours for a hint at a spot of lightness ``gray`` (0..255,
    the original's gray there); ``current_rgb`` (0..255 triple) is the result's colour there.

    Best first: the current colour, then common colours by how natural the lightness is for them.
    Every colour is returned at the spot's lightness, brought into sRGB by shrinking its chroma.
    """
    spot_l = float(rgb_to_lab(np.full((1, 1, 3), np.clip(gray, 0, 255), np.uint8))[0, 0, 0])
    common = rgb_to_lab(np.array([[_rgb(c) for c in COMMON_COLOURS]], np.uint8))[0]
    order = np.argsort(np.abs(common[:, 0] - spot_l), kind="stable")
    candidates = [common[i, 1:] for i in order]
    if current_rgb is not None:
        current = rgb_to_lab(np.array([[current_rgb]], np.uint8))[0, 0, 1:]
        if np.hypot(*current) >= MIN_CHROMA:
            candidates.insert(0, current)
    chosen: list[str] = []
    for a, b in candidates:
        colour = _at_lightness(spot_l, float(a), float(b))
        if colour is not None and colour not in chosen:
            chosen.append(colour)
        if len(chosen) == count:
            break
    return chosen


def colour_name(colour: str) -> str:
    """The name of the common colour nearest ``colour`` in hue and strength (its lightness aside:
    suggestions are shown at the spot's lightness), e.g. "sky" for a pale or a deep blue."""
    ab = rgb_to_lab(np.array([[_rgb(colour)]], np.uint8))[0, 0, 1:]
    common = rgb_to_lab(np.array([[_rgb(c) for c in COMMON_COLOURS]], np.uint8))[0, :, 1:]
    return NAMED_COLOURS[COMMON_COLOURS[int(np.argmin(np.hypot(*(common - ab).T)))]]


def _at_lightness(l_value: float, a: float, b: float) -> str | None:
    planes = [np.full((1, 1), v, np.float32) for v in (l_value, a, b)]
    fit_to_gamut(*planes)
    if np.hypot(planes[1][0, 0], planes[2][0, 0]) < MIN_CHROMA:
        return None  # at this lightness the colour is all but gray (near black or white)
    rgb = lab_to_rgb(np.dstack(planes))[0, 0] * 255
    return hex_color(rgb)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
