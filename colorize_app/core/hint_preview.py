"""Re-running the network for one photo as its hints change, fast enough to follow clicks.

The photo is decoded once and kept as the small copy the network sees (``render_size`` on the
long side); each change then costs one network run on that copy, not a 12 MP decode and resize.
Torch-free: the network is passed in as ``predict(pixels, options)`` as in ``job.run_job``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from .hints import Hint
from .imageio import read_image
from .job import JobOptions, Predict


class HintPreview:
    """Keeps the network's copy of the photo last asked about; ``chroma`` predicts with hints."""

    def __init__(self, predict: Predict) -> None:
        self._predict = predict
        self._key: tuple | None = None
        self._small: np.ndarray | None = None

    def chroma(self, source: str | Path, hints: tuple[Hint, ...], options: JobOptions) -> np.ndarray:
        """The network's (a, b) for ``source`` with ``hints`` (float32, render size, h x w x 2).

        Raises what ``read_image`` raises (ImageReadError) and what ``predict`` raises.
        """
        key = (str(source), options.render_size, options.max_pixels)
        if key != self._key:
            self._small = None  # let the old copy go before the next photo is decoded
            self._small = small_copy(read_image(source, max_pixels=options.max_pixels).pixels,
                                     options.render_size)
            self._key = key
        return self._predict(self._small, replace(options, hints=tuple(hints) or None))

    def forget(self) -> None:
        self._key, self._small = None, None


def small_copy(pixels: np.ndarray, render_size: int) -> np.ndarray:
    """``pixels`` reduced to ``render_size`` on the long side as the pipeline would reduce them,
    so the network sees exactly what it sees for the whole photo (alpha dropped)."""
    base = pixels if pixels.ndim == 2 else np.ascontiguousarray(pixels[:, :, :3])
    height, width = base.shape[:2]
    scale = render_size / max(height, width)
    small_h, small_w = max(1, round(height * scale)), max(1, round(width * scale))
    if (small_h, small_w) == (height, width):
        return base
    interpolation = cv2.INTER_AREA if small_h < height else cv2.INTER_CUBIC
    return cv2.resize(base, (small_w, small_h), interpolation=interpolation)
