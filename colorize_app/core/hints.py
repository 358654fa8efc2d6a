"""Colour hints: points a person places to say "this is red", and the planes the network reads.

A hint is a position relative to the photo as displayed (after EXIF orientation; x and y from 0
to 1, from the top-left) and an sRGB colour. Only the colour's chroma (a, b) is used: the photo
keeps its own lightness. A hint-capable network (``ModelConfig.in_channels`` 4) reads the hints as
three planes at its input size: a / 128 and b / 128 over a small patch around each point, and a
mask that is 1 there and 0 elsewhere.

The network treats hints as advice, and uses them mostly near where they are. ``follow_hints``
then does two things with them. It leans the photo toward the hints' own colours, spread as the
inverse-distance baseline spreads them but only over things of about the hinted lightness, and the
less the farther they are (a hint says more about the rest of a photo than the network takes from
it). Then it makes each hinted point exact: it measures how far the colour there is from the hinted
one and spreads that correction around the point, fading with distance and across changes of
lightness (object edges). A hinted point gets its colour; a region far from every hint, or much
lighter or darker than every hint, keeps the network's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from .colour import AB_SCALE, rgb_to_lab

HINT_RADIUS = 1  # the patch a hint covers at the network's input size: (2r + 1) pixels square
# follow_hints: a correction fades to 61 % at a quarter of the photo's long side from the nearest hint,
# and to 61 % where the lightness differs by 20 (of 100). Chosen on 40 training photos with the metrics'
# simulated hints for an earlier, averaging form (0.25 against 0.15 and 0.35; lightness 20 against 30
# or none), then kept for this exact-at-the-point form (training/MODEL_CARD.md has the figures).
SPREAD = 0.25
LIGHTNESS_SPREAD = 20.0
# The lean toward the hints' own colours: at most 80 % of the way, fading to 61 % of that at 0.3 of
# the photo's long side from the nearest hint and where the lightness differs by 8. Chosen on 60
# training photos for the second model (lightness 12 then); the lightness chosen again for the
# network with the hint attention block, on 200 photos of the validation split with 3 and 10
# simulated hints (training/MODEL_CARD.md has the figures): that network carries a hint's colour to
# what it resembles itself, so the lean pays most where it keeps to the hinted lightness. A longer
# reach (0.4, or half the long side) measured better at 3 hints and was left out: one hint would
# then tint things of its lightness across the whole photo (and a flatter-topped fall-off that
# stops sooner gave that gain back).
LEAN = 0.8
LEAN_REACH = 0.3
LEAN_LIGHTNESS = 8.0
TEXTURE_BLUR = 2.0  # pixels at the network's size: lightness is compared after this blur
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Hint:
    """One colour point: ``x``, ``y`` in 0..1 of the displayed photo, ``color`` as ``#rrggbb``;
    on a film, ``frame`` is the index of the frame it was placed on (None: a photo's, or a film's
    first frame)."""

    x: float
    y: float
    color: str
    frame: int | None = None

    def __post_init__(self) -> None:
        if not (0.0 <= self.x <= 1.0 and 0.0 <= self.y <= 1.0):
            raise ValueError(f"hint position ({self.x}, {self.y}) is outside the photo (0..1)")
        if not _HEX.fullmatch(self.color):
            raise ValueError(f"hint colour {self.color!r} is not an sRGB hex colour like #b03a2e")
        if self.frame is not None and (type(self.frame) is not int or self.frame < 0):
            raise ValueError(f"hint frame {self.frame!r} is not a frame number (0, 1, 2...)")

    @property
    def rgb(self) -> tuple[int, int, int]:
        value = _HEX.fullmatch(self.color).group(1)
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    @property
    def ab(self) -> tuple[float, float]:
        """The colour's chroma in CIE Lab, natural units."""
        lab = rgb_to_lab(np.array([[self.rgb]], np.uint8))[0, 0]
        return float(lab[1]), float(lab[2])


def hex_color(rgb) -> str:
    """``#rrggbb`` of an sRGB triple (0..255)."""
    r, g, b = (int(np.clip(round(float(v)), 0, 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _patch(hint: Hint, height: int, width: int, radius: int) -> tuple[int, int, tuple[slice, slice]]:
    """The hint's pixel (row, col) on an height x width grid and the (2r + 1)-square patch around it."""
    row, col = min(height - 1, int(hint.y * height)), min(width - 1, int(hint.x * width))
    return row, col, (slice(max(0, row - radius), row + radius + 1), slice(max(0, col - radius), col + radius + 1))


def hint_planes(hints: list[Hint], height: int, width: int, radius: int = HINT_RADIUS) -> np.ndarray:
    """The network's hint input (3 x height x width, float32): a / 128, b / 128 and the mask.

    Where two patches overlap, the later hint wins.
    """
    planes = np.zeros((3, height, width), np.float32)
    for hint in hints:
        _, _, (rows, cols) = _patch(hint, height, width, radius)
        a, b = hint.ab
        planes[0, rows, cols] = a / AB_SCALE
        planes[1, rows, cols] = b / AB_SCALE
        planes[2, rows, cols] = 1.0
    return planes


def follow_hints(ab: np.ndarray, hints: list[Hint], light: np.ndarray, radius: int = HINT_RADIUS) -> np.ndarray:
    """The network's (a, b) (h x w x 2) moved toward the hints, and exactly onto them at their points.

    ``light`` is the Lab lightness (0..100) at the same size, compared after a slight blur (edges,
    not texture: grain and fine pattern would otherwise weaken a hint at its own point).
    """
    if not hints:
        return ab
    light = cv2.GaussianBlur(light.astype(np.float32), (0, 0), TEXTURE_BLUR)
    places = [_place(hint, light, radius) for hint in hints]
    return _correct_at_points(_lean_toward_hints(ab, places), places)


class _Place(NamedTuple):
    """Where a hint is, as the two passes of ``follow_hints`` need it."""

    row: int
    col: int
    patch: tuple[slice, slice]
    ab: np.ndarray  # the hinted colour's (a, b)
    inverse: np.ndarray  # 1 / (squared pixel distance + 1)
    dl2: np.ndarray  # squared lightness difference from the hint's patch

    def near(self, sigma: float) -> np.ndarray:
        """A Gaussian of the distance to the hint, ``sigma`` in pixels (separable, so cheap)."""
        height, width = self.inverse.shape
        rows = np.exp(-((np.arange(height, dtype=np.float32) - self.row) ** 2) / (2.0 * sigma ** 2))
        cols = np.exp(-((np.arange(width, dtype=np.float32) - self.col) ** 2) / (2.0 * sigma ** 2))
        return np.outer(rows, cols)

    def alike(self, sigma: float) -> np.ndarray:
        """A Gaussian of the lightness difference from the hint, ``sigma`` in L units."""
        return np.exp(self.dl2 * np.float32(-0.5 / sigma ** 2))


def _place(hint: Hint, light: np.ndarray, radius: int) -> _Place:
    height, width = light.shape
    row, col, patch = _patch(hint, height, width, radius)
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    inverse = 1.0 / ((rows - row) ** 2 + (cols - col) ** 2 + 1.0)
    return _Place(row, col, patch, np.asarray(hint.ab, np.float32), inverse, (light - light[patch].mean()) ** 2)


def _spread(places: list[_Place], values: list[np.ndarray], lightness: float, reach: float):
    """Per-hint (a, b) ``values`` interpolated over the grid, and how far the hints reach each pixel.

    The interpolation is by inverse squared distance times a Gaussian of the lightness difference
    (``lightness`` in L units), exact at each point; the reach is the largest, over the hints, of
    that lightness Gaussian times a Gaussian of the distance (``reach`` of the long side).
    """
    shape = places[0].inverse.shape
    sigma = reach * max(shape)
    total = np.zeros(shape, np.float32)
    nearest = np.zeros(shape, np.float32)
    field = np.zeros((2, *shape), np.float32)  # planes: broadcasting over a last axis of 2 is slow
    for place, value in zip(places, values):
        alike = place.alike(lightness)
        weight = alike * place.inverse
        total += weight
        for plane, component in zip(field, value):
            plane += weight * component
        np.maximum(nearest, alike * place.near(sigma), out=nearest)
    field /= np.maximum(total, 1e-30)
    return np.moveaxis(field, 0, -1), nearest[..., None]


def _lean_toward_hints(ab: np.ndarray, places: list[_Place]) -> np.ndarray:
    """``ab`` moved toward the hint colours, spread by lightness-aware inverse squared distance."""
    colour, reach = _spread(places, [place.ab for place in places], LEAN_LIGHTNESS, LEAN_REACH)
    return ab + LEAN * reach * (colour - ab)


def _correct_at_points(ab: np.ndarray, places: list[_Place]) -> np.ndarray:
    """``ab`` with each hint's patch moved onto its colour and the correction spread around it.

    Each correction is the hint's colour minus the patch's mean, spread as ``_spread`` does and
    faded by its reach, so a correction stops at object edges and far from every hint.
    """
    offsets = [place.ab - ab[place.patch].reshape(-1, 2).mean(axis=0) for place in places]
    correction, reach = _spread(places, offsets, LIGHTNESS_SPREAD, SPREAD)
    return ab + reach * correction
