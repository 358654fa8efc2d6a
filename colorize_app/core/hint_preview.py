"""Re-running the network for one photo as its hints change, fast enough to follow clicks.

The photo is decoded once and kept as the small copy the network sees (``render_size`` on the
long side); each change then costs one network run on that copy, not a 12 MP decode and resize.
Torch-free: the network is passed in as ``predict(pixels, options)`` as in ``job.run_job``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .chroma import network_copy
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
            self._small = network_copy(read_image(source, max_pixels=options.max_pixels).pixels,
                                       options.render_size)
            self._key = key
        return self._predict(self._small, replace(options, hints=tuple(hints) or None))

    def forget(self) -> None:
        self._key, self._small = None, None

