"""Re-running the network for one photo as its hints change, fast enough to follow clicks.

The photo is decoded once and kept as the small copy the network sees (``render_size`` on the
long side); each change then costs one network run on that copy, not a 12 MP decode and resize.
Torch-free: the network is passed in as ``predict(pixels, options, hints)`` as in ``job.run_job``.
"""

from __future__ import annotations

import numpy as np

from .chroma import network_copy
from .imageio import read_image
from .job import Job, Predict


class HintPreview:
    """Keeps the network's copy of the photo last asked about; ``chroma`` predicts with hints."""

    def __init__(self, predict: Predict) -> None:
        self._predict = predict
        self._key: tuple | None = None
        self._small: np.ndarray | None = None

    def chroma(self, job: Job) -> np.ndarray:
        """The network's (a, b) for ``job``'s photo with its hints (none when they are None: the
        window holds a photo's hints; float32, render size, h x w x 2).

        Raises what ``read_image`` raises (ImageReadError) and what ``predict`` raises.
        """
        options = job.options
        key = (str(job.source), options.render_size, options.max_pixels)
        if key != self._key:
            self._small = None  # let the old copy go before the next photo is decoded
            self._small = network_copy(read_image(job.source, max_pixels=options.max_pixels).pixels,
                                       options.render_size)
            self._key = key
        return self._predict(self._small, options, tuple(job.hints or ()))

