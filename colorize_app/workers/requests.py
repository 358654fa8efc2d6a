"""What the window asks of the lanes and what they answer: plain, immutable data.

No Qt, no torch: the window builds these without importing the module that imports torch.
The network's and the tracks' lanes take `core.job.Job` records as they are (a hint's new
prediction, where a film's hints are on its frames: a photo's or a film's hints are its job's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorize_app.core.job import JobResult


@dataclass(frozen=True)
class RecomposeRequest:
    """The photo shown, at another saturation; `quick` composes a smaller copy."""

    source: str
    chroma: np.ndarray
    saturation: float
    quick: bool = True


@dataclass(frozen=True)
class FilmFrameRequest:
    """Frame ``index`` of the film ``source``, and the same moment of its colorized ``result``
    (None: none saved)."""

    source: str
    result: str | None
    index: int


@dataclass(frozen=True, eq=False)
class FilmFrame:
    """The preview lane's answer to a FilmFrameRequest: display levels (as the ``show`` kind's)."""

    source: str
    index: int
    frames: int  # how many frames the slider spans
    original: list[np.ndarray]
    result: list[np.ndarray] | None  # None: no colorized film to show, or it cannot be read


@dataclass(frozen=True, eq=False)
class Finished:
    """A job that ended DONE or SKIPPED, or FAILED after colorizing (it could not be saved).

    `result` is core's JobResult without its full-size pixels; its chroma is float16 (plenty
    for a colour, and half what the list keeps per photo).
    """

    result: JobResult
    thumbnail: np.ndarray | None = None  # HxWx3 or HxWx4 uint8, list-sized
    predicted: bool = False  # the network ran (False: re-composed from an earlier chroma)
    device: str = ""  # "CPU", "GPU (...)": where the network ran


@dataclass(frozen=True)
class FindRequest:
    """What a person opened, for the opening lane: core.finder.find's paths and keywords, and
    how many photos and films one folder may hold (batch.Walk's max_photos)."""

    paths: tuple[str, ...]
    recursive: bool
    export: dict  # plan_batch's suffix, output_dir and format (the Preferences)
    max_photos: int | None = None
