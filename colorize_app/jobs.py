"""What the window asks of the worker threads: plain, immutable data (no Qt, no torch).

Kept apart from worker.py so the window can build requests without importing the module that
imports torch (import-linter checks that `ui` never reaches torch, even lazily).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColorizeJob:
    """One photo to colorize (or, given `chroma`, only to re-compose and save)."""

    id: int
    source: str
    output: str = ""  # where to save the result; "" keeps it in memory only
    render_size: int = 256
    saturation: float = 1.0
    device: str = "auto"  # "auto" | "cpu" | "gpu"
    overwrite: bool = False  # False: an existing output is left alone and the job reports "skipped"
    chroma: np.ndarray | None = None  # a previous prediction: skip the network
    epoch: int = 0  # set by WorkerHost; jobs of an older epoch were stopped


@dataclass(frozen=True)
class ShowRequest:
    """Show a photo: its original, and its result from `chroma` or else from `result_path`."""

    id: int
    source: str
    chroma: np.ndarray | None = None
    saturation: float = 1.0
    result_path: str = ""


@dataclass(frozen=True)
class RecomposeRequest:
    """The photo already shown, at another saturation; `quick` composes a smaller copy."""

    id: int
    source: str
    chroma: np.ndarray
    saturation: float
    quick: bool = True
