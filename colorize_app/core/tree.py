"""Walking a folder tree of any depth: Python 3.11's ``os.walk`` recurses once per level, so an
archive's tree a thousand folders deep (legal on Linux) ended the plan in a RecursionError."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator


def walk(top: str | os.PathLike, onerror: Callable[[OSError], None] | None = None,
         ) -> Iterator[tuple[str, list[str], list[str]]]:  # fmt: skip
    """``os.walk(top, onerror=onerror)``, top-down, without recursion: yields (folder, its
    sub-folders, its files); the caller may prune the sub-folders list in place, as with os.walk.
    Symbolic links to folders are listed as sub-folders and not followed."""
    stack = [os.fspath(top)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as error:
            if onerror is not None:
                onerror(error)
            continue
        dirs, files = [], []
        for entry in listed:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
        yield folder, dirs, files
        for name in reversed(dirs):  # os.walk's order: the first sub-folder first
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                stack.append(path)
