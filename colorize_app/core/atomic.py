"""Write a file so that it either appears whole or not at all, and say clearly why it could not.

The bytes go to a hidden temporary file in the destination folder (same file system, so the
rename is atomic), are flushed to disk, then renamed over the target. A crash or a kill leaves at
most a hidden ``.<name>.<pid>-<random>.colorize-tmp``; the next write of the same target removes
it. A name too long to leave room for that (a legal 250-byte name) is cut and given a hash in the
temporary name (``temp_key``), so the temporary file never exceeds the file system's 255 bytes. A writer holds an advisory lock on its temporary file for as long as it lives, so "stale" is
provable: a temporary file is removed only when nobody holds its lock (another run writing into
the same folder keeps its own). Without ``fcntl`` (Windows) the lock is the system's own: a file
open for writing cannot be deleted there.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from colorize_app.core.errors import ImageWriteError

logger = logging.getLogger(__name__)

TEMP_SUFFIX = ".colorize-tmp"
PROBE_PREFIX = ".colorize-probe."
NAME_MAX = 255  # bytes in one file name on the usual file systems
# A temporary name is "." + key + "." + "<pid>-<8 hex>" + TEMP_SUFFIX: 2 + 16 + 13 bytes besides the key
# (a pid has at most 7 digits on Linux, whose pid_max is 4194304).
TEMP_ROOM = 2 + 16 + len(TEMP_SUFFIX)
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
    try:
        temp, fd = _create_locked(folder, temp_prefix(path.name))
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


@contextmanager
def temporary_file(path) -> Iterator[Path]:
    """A new, locked, hidden temporary file beside ``path``, for a writer that needs a file name
    (a media muxer); removed on the way out unless the caller renamed it into place. Its lock
    tells other runs it is alive, as for ``write_bytes_atomic``."""
    path = Path(path)
    try:
        temp, fd = _create_locked(path.parent, f".{path.name}.")
    except OSError as e:
        raise write_error(path, e) from None
    try:
        yield temp
    except OSError as e:
        raise write_error(path, e) from None
    finally:
        if temp.exists():
            _unlink_quietly(temp)
        os.close(fd)


def probe_writable(folder) -> None:
    """Raise ImageWriteError unless a new file can be created in ``folder`` (or, if it does not
    exist yet, in its nearest existing parent, where it would be created)."""
    folder = Path(folder)
    existing = folder
    try:
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
    except OSError as e:  # e.g. a path too long for the file system
        raise write_error(folder / "probe", e) from None
    if not existing.is_dir():
        raise ImageWriteError(f"Cannot write to {folder}: {existing} is a file, not a folder.")
    try:
        probe, fd = _create_locked(existing, PROBE_PREFIX)
    except OSError as e:
        raise write_error(folder / "probe", e) from None
    _unlink_quietly(probe)
    os.close(fd)
    for stale in _stale(existing, PROBE_PREFIX):  # probes of runs killed in the instant above
        _unlink_quietly(stale)


def free_bytes(folder) -> int | None:
    """Free space for a normal user where ``folder`` is (or would be created); None if unknown."""
    existing = Path(folder)
    try:
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        return shutil.disk_usage(existing).free
    except OSError:
        return None


def remove_stale_temps(path: Path) -> None:
    """Delete temporary files that an interrupted earlier write of ``path`` left behind (those
    whose writer is gone; another process's write in progress is left alone)."""
    for stale in _stale(path.parent, temp_prefix(path.name)):
        logger.info("Removing %s left by an interrupted save", stale)
        _unlink_quietly(stale)


def temp_key(name: str) -> str:
    """How the temporary files of a target named ``name`` name it: the name itself, or, when the
    name leaves no room within NAME_MAX, its start and a hash of the whole (still one per name)."""
    raw = os.fsencode(name)
    room = NAME_MAX - TEMP_ROOM
    if len(raw) <= room:
        return name
    digest = hashlib.sha1(raw).hexdigest()[:10]
    return os.fsdecode(_cut(raw, room - len(digest) - 1)) + "~" + digest


def temp_prefix(name: str) -> str:
    """The start of every temporary file's name for a target named ``name``."""
    return f".{temp_key(name)}."


def _cut(raw: bytes, size: int) -> bytes:
    """The first ``size`` bytes of ``raw``, fewer if that would cut a UTF-8 character in two."""
    for end in range(size, max(size - 4, 0), -1):
        try:
            raw[:end].decode("utf-8")
            return raw[:end]
        except UnicodeDecodeError:
            continue
    return raw[:size]  # not UTF-8 anyway: bytes stay bytes


def live_writes(folder) -> set[str]:
    """``temp_key`` of the files in ``folder`` that some process is writing right now (the name
    itself, unless it is very long)."""
    names = set()
    for temp in _temps(Path(folder), "."):
        if temp.name.startswith(PROBE_PREFIX) or not _held(temp):
            continue
        target = temp.name[1 : -len(TEMP_SUFFIX)].rsplit(".", 1)[0]  # .<name>.<pid>-<hex>.colorize-tmp
        names.add(target)
    return names


def _create_locked(folder: Path, prefix: str) -> tuple[Path, int]:
    """Create and lock a new temporary file; return its path and descriptor."""
    for _ in range(8):
        temp = folder / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
        # os.open rather than mkstemp: the file then gets the usual umask-based permissions.
        fd = os.open(temp, _FLAGS, 0o666)
        if fcntl is None:
            return temp, fd
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new and unique: nobody else holds it
        try:
            # Another run may have judged it stale in the instant before the lock, and removed it.
            if os.path.samestat(os.fstat(fd), os.stat(temp)):
                return temp, fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise OSError(errno.EEXIST, "could not create a temporary file", str(folder))


def _temps(folder: Path, prefix: str) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [
                Path(e.path)
                for e in entries
                if e.name.startswith(prefix) and e.name.endswith(TEMP_SUFFIX)
            ]
    except OSError:
        return []


def _stale(folder: Path, prefix: str) -> list[Path]:
    return [temp for temp in _temps(folder, prefix) if not _held(temp)]


def _held(temp: Path) -> bool:
    """True while the process that writes ``temp`` holds its lock (it is alive and writing)."""
    if fcntl is None:
        return False  # Windows refuses to delete a file open for writing: unlinking is safe to try
    try:
        fd = os.open(temp, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False  # gone already, or not ours to judge: removing it will say
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also releases the lock if we got it
    return False


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
