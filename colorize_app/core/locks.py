"""One run at a time: an advisory lock on a lock file, taken without waiting (a second run is
told so at once rather than queued behind the first). The archive's manifest and a film's parts
folder each keep one. Windows has no such locks: there a second run is not stopped."""

from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def hold(path: str | os.PathLike) -> int | None:
    """Open (creating) the lock file at ``path`` and lock it; returns its descriptor, whose
    closing lets the lock go, or None where there are no such locks. Raises BlockingIOError when
    another process holds it, OSError when the file cannot be opened or locked. The file is
    never removed: a lock file removed races with the next run's."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        raise
    return fd
