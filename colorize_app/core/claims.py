"""Which files a batch may write: never an original, and each result name for one photo only.

Photos from two folders saved into one output folder, or ``a.jpg`` saved as PNG with no suffix
beside ``a.png``, would otherwise write over each other or over a photo. The planner
(core.batch) and the window (before it starts or saves anything) ask the same questions here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path


def on_disk(path) -> str:
    """One spelling per file: links resolved, case folded where the system folds it."""
    return os.path.normcase(os.path.realpath(path))


def as_written(path) -> str:
    """One spelling per path without asking the disk (the window's thread must not wait on it)."""
    return os.path.normcase(os.path.abspath(path))


class Claims:
    """The originals of a batch, and the result names its photos have claimed so far."""

    def __init__(self, originals: Iterable, spelling: Callable[[object], str] = on_disk):
        self._spelling = spelling
        self._originals = {spelling(path): Path(path) for path in originals}
        self._results: dict[str, Path] = {}

    def claim(self, source, output) -> str:
        """Claim ``output`` for ``source``'s result: "" when it may be written, otherwise the
        sentence why not (it would replace an original, or another photo's result)."""
        key = self._spelling(output)
        if key == self._spelling(source):
            return "its result would replace the original"
        if key in self._originals:
            return f"its result would replace the original {self._originals[key].name}"
        owner = self._results.setdefault(key, Path(source))
        if self._spelling(owner) != self._spelling(source):
            return f"its result would have the same name as {owner}'s"
        return ""
