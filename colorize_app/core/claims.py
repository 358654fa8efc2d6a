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
        self._spelled: dict[Path, str] = {}  # on_disk asks the disk: once per path
        self._originals = {self.spelled(path): Path(path) for path in originals}
        self._results: dict[str, tuple[str, Path]] = {}  # result -> its photo (spelled, as given)

    def spelled(self, path) -> str:
        """``path`` as this batch spells it (see on_disk and as_written)."""
        path = Path(path)
        if path not in self._spelled:
            self._spelled[path] = self._spelling(path)
        return self._spelled[path]

    def claim(self, source, output) -> str:
        """Claim ``output`` for ``source``'s result: "" when it may be written, otherwise the
        sentence why not (it would replace an original, or another photo's result)."""
        key, mine = self.spelled(output), self.spelled(source)
        if key == mine:
            return "its result would replace the original"
        if key in self._originals:
            return f"its result would replace the original {self._originals[key].name}"
        owner, owner_path = self._results.setdefault(key, (mine, Path(source)))
        if owner != mine:
            return f"its result would have the same name as {owner_path}'s"
        return ""
