"""Write a file so that it either appears whole or not at all, and say clearly why it could not.

The bytes go to a hidden temporary file in the destination folder (same file system, so the
rename is atomic), are flushed to disk, then renamed over the target. A crash or a kill leaves at
most a hidden ``.<name>.<random>.colorize-tmp``; the next write of the same target removes it.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
from pathlib import Path

from colorize_app.core.errors import ImageWriteError

logger = logging.getLogger(__name__)

TEMP_SUFFIX = ".colorize-tmp"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_bytes_atomic(path, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; raise ImageWriteError with a reason a user can act on."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ImageWriteError(f"Cannot write {path.name}: {folder} {what}.")
    if not overwrite and path.exists():
        raise ImageWriteError(f"{path} already exists; choose overwrite to replace it.")
    remove_stale_temps(path)
    temp = folder / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        # os.open rather than mkstemp: the file then gets the usual umask-based permissions.
        fd = os.open(temp, _FLAGS, 0o666)
    except OSError as e:
        raise write_error(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # without it a power cut can leave an empty file after rename
        os.replace(temp, path)
    except BaseException as e:
        _unlink_quietly(temp)
        if isinstance(e, OSError):
            raise write_error(path, e) from None
        raise
    return path


def probe_writable(folder) -> None:
    """Raise ImageWriteError unless a new file can be created in ``folder`` (or, if it does not
    exist yet, in its nearest existing parent, where it would be created)."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ImageWriteError(f"Cannot write to {folder}: {existing} is a file, not a folder.")
    probe = existing / f".colorize-probe.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        os.close(os.open(probe, _FLAGS, 0o666))
    except OSError as e:
        raise write_error(folder / "probe", e) from None
    _unlink_quietly(probe)


def remove_stale_temps(path: Path) -> None:
    """Delete temporary files that an interrupted earlier write of ``path`` left behind."""
    prefix = f".{path.name}."
    try:
        with os.scandir(path.parent) as entries:
            stale = [
                e.path
                for e in entries
                if e.name.startswith(prefix) and e.name.endswith(TEMP_SUFFIX)
            ]
    except OSError:
        return
    for name in stale:
        logger.info("Removing %s left by an interrupted save", name)
        _unlink_quietly(Path(name))


def write_error(path: Path, error: OSError) -> ImageWriteError:
    """Turn an OSError from writing ``path`` into an ImageWriteError that says what to do."""
    folder = path.parent
    code = error.errno
    if isinstance(error, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return ImageWriteError(f"Cannot write to the folder {folder}: permission denied.")
    if code == errno.EROFS:
        return ImageWriteError(f"Cannot write to the folder {folder}: it is on a read-only drive.")
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return ImageWriteError(f"Not enough disk space to save {path}.")
    return ImageWriteError(f"Cannot write {path}: {error.strerror or error}.")


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("Could not remove the temporary file %s", path, exc_info=True)
