"""Colour hints: points a person places to say "this is red", and the planes the network reads.

A hint is a position relative to the photo as displayed (after EXIF orientation; x and y from 0
to 1, from the top-left) and an sRGB colour. Only the colour's chroma (a, b) is used: the photo
keeps its own lightness. A hint-capable network (``ModelConfig.in_channels`` 4) reads the hints as
three planes at its input size: a / 128 and b / 128 over a small patch around each point, and a
mask that is 1 there and 0 elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .colour import AB_SCALE, rgb_to_lab

HINT_RADIUS = 1  # the patch a hint covers at the network's input size: (2r + 1) pixels square
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Hint:
    """One colour point: ``x``, ``y`` in 0..1 of the displayed photo, ``color`` as ``#rrggbb``."""

    x: float
    y: float
    color: str

    def __post_init__(self) -> None:
        if not (0.0 <= self.x <= 1.0 and 0.0 <= self.y <= 1.0):
            raise ValueError(f"hint position ({self.x}, {self.y}) is outside the photo (0..1)")
        if not _HEX.fullmatch(self.color):
            raise ValueError(f"hint colour {self.color!r} is not an sRGB hex colour like #b03a2e")

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


def hint_planes(hints: list[Hint], height: int, width: int, radius: int = HINT_RADIUS) -> np.ndarray:
    """The network's hint input (3 x height x width, float32): a / 128, b / 128 and the mask.

    Where two patches overlap, the later hint wins.
    """
    planes = np.zeros((3, height, width), np.float32)
    for hint in hints:
        col = min(width - 1, int(hint.x * width))
        row = min(height - 1, int(hint.y * height))
        rows = slice(max(0, row - radius), row + radius + 1)
        cols = slice(max(0, col - radius), col + radius + 1)
        a, b = hint.ab
        planes[0, rows, cols] = a / AB_SCALE
        planes[1, rows, cols] = b / AB_SCALE
        planes[2, rows, cols] = 1.0
    return planes
