"""The run manifest: one SQLite row per photo (path, status, reason, seconds, output, lasting).

The driver writes a row as each result comes back, in WAL mode and committed at once, so a run
killed at any moment leaves every result it heard about on disk and an archivist can read the
file (``sqlite3 colorize-manifest.sqlite``) while the run goes on. A re-run reads it back:
photos recorded as done whose output is there keep their row, and photos that failed for a
lasting reason (the file cannot be read as a photo, or it kills the worker) are not tried again
unless asked (a broken scan stays broken; the archivist reads why); the others (no room on the
disk, no memory, a folder that refused writes) are tried again.
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
import stat
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from colorize_app.core import locks
from colorize_app.core.errors import ColorizeError

MANIFEST_NAME = "colorize-manifest.sqlite"

COLUMNS = ("path", "status", "reason", "seconds", "output", "run", "finished", "lasting")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS photos (
    path     TEXT PRIMARY KEY,
    status   TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    seconds  REAL NOT NULL DEFAULT 0,
    output   TEXT,
    run      INTEGER NOT NULL,
    finished REAL NOT NULL,
    lasting  INTEGER NOT NULL DEFAULT 1
)
"""
# A manifest of Colorize before "lasting" was recorded: its failures count as lasting, as then.
_ADD_LASTING = "ALTER TABLE photos ADD COLUMN lasting INTEGER NOT NULL DEFAULT 1"


class ManifestError(ColorizeError):
    """The manifest cannot be opened or written; the message names the file and says why."""


@dataclass(frozen=True)
class Row:
    """One photo's line of the manifest."""

    path: str
    status: str  # a vocabulary.Status value: done, skipped or failed
    reason: str = ""
    seconds: float = 0.0
    output: str | None = None
    lasting: bool = False  # failed for a reason of the file's own: not tried again unless asked


def text(value: str) -> str:
    """``value`` as SQLite can store it: the bytes of an undecodable file name (os.fsdecode's
    surrogates) as \\xNN, so the row still names the file."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def default_manifest_path(paths, output_dir=None) -> Path:
    """Where a run keeps its manifest: in the output folder, else the first folder given (or the
    folder of the first file given)."""
    if output_dir is not None:
        return Path(output_dir) / MANIFEST_NAME
    first = Path(next(iter(paths)))
    return (first if first.is_dir() else first.parent) / MANIFEST_NAME


def _sentence(path: Path, error: Exception) -> str:
    """What went wrong with the manifest at ``path``, in words."""
    text = str(error)
    if isinstance(error, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        reason = "it is damaged or not a SQLite file"
    elif "readonly" in text or "read-only" in text:
        reason = "it or its folder is read-only"
    elif isinstance(error, OSError) and error.strerror:
        reason = error.strerror
    elif "unable to open" in text or isinstance(error, OSError):
        reason = "it cannot be opened or created there"
    else:
        reason = text
    return (f"The manifest {path} cannot be used ({reason}). Give another file with --manifest, "
            "or move this one away to start a new record.")


def _reported(method):
    """Turn SQLite's and the system's errors in ``method`` into a ManifestError naming the file."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise ManifestError(_sentence(self.path, exc)) from exc

    return wrapper


class Manifest:
    """An open manifest file. One writer (the driver); readers may look at any time.

    Every problem with the file (not a SQLite file, damaged, another table of that name, a
    folder, read-only, the disk gone) is a ManifestError that names it; one that stops the file
    from being opened leaves no folder made for it behind.
    """

    def __init__(self, path, *, lock: ManifestLock | None = None) -> None:
        """Open (or create) the manifest at ``path``, holding its lock: ``lock``, taken on it
        earlier (before the run's plan), or taken now; closing the manifest lets it go."""
        self.path = Path(path)
        made = _missing_parents(self.path.parent)
        self._lock, self._db = lock, None
        try:
            if self._lock is None:
                self._lock = ManifestLock(self.path)
            self._db = self._open()
        except ManifestError:
            self.close()
            for folder in made:  # deepest first; each only if still empty
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
        last = self._last_run()
        self.run = last + 1

    @_reported
    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            kind = os.stat(self.path).st_mode
        except FileNotFoundError:
            kind = stat.S_IFREG  # a new manifest
        if stat.S_ISDIR(kind):
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(self.path))
        if not stat.S_ISREG(kind):  # a named pipe or a device: SQLite would wait on it
            raise OSError(errno.EINVAL, "it is not a regular file", str(self.path))
        db = sqlite3.connect(self.path, isolation_level=None)  # autocommit: a row a commit
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a kill
            db.execute(_SCHEMA)
            columns = tuple(row[1] for row in db.execute("PRAGMA table_info(photos)"))
            if columns == COLUMNS[:-1]:
                db.execute(_ADD_LASTING)
                columns = COLUMNS
            if columns != COLUMNS:
                raise sqlite3.DatabaseError("its table of photos is not Colorize's (another "
                                            "program's file?)")  # fmt: skip
            db.execute("SELECT COUNT(*) FROM photos").fetchone()  # reads every page: damage shows
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute("BEGIN IMMEDIATE")  # a write, undone: a read-only file says so now
            try:
                db.execute(f"PRAGMA user_version = {int(version)}")
            finally:
                db.execute("ROLLBACK")
        except BaseException:
            db.close()
            raise
        return db

    @_reported
    def _last_run(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(run), 0) FROM photos").fetchone()[0]

    @_reported
    def record(self, row: Row) -> None:
        """Write (or replace) ``row.path``'s line, committed before this returns."""
        self._db.execute(
            "INSERT OR REPLACE INTO photos VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (text(row.path), str(row.status), text(row.reason), float(row.seconds),
             None if row.output is None else text(row.output), self.run, time.time(),
             int(row.lasting)),
        )  # fmt: skip

    @_reported
    def rows(self) -> dict[str, Row]:
        """Every photo recorded so far, by path."""
        query = "SELECT path, status, reason, seconds, output, lasting FROM photos"
        return {r[0]: Row(*r[:5], bool(r[5])) for r in self._db.execute(query)}

    @_reported
    def done(self) -> set[str]:
        """Paths recorded as colorized (by this run or an earlier one), as ``text`` gives them."""
        return {r[0] for r in self._db.execute("SELECT path FROM photos WHERE status = 'done'")}

    @_reported
    def failed(self) -> dict[str, str]:
        """Paths recorded as failed for a lasting reason (``Row.lasting``), with the reason."""
        query = "SELECT path, reason FROM photos WHERE status = 'failed' AND lasting"
        return dict(self._db.execute(query))

    @_reported
    def counts(self) -> Counter:
        """How many photos the manifest holds per status."""
        return Counter(dict(self._db.execute("SELECT status, COUNT(*) FROM photos GROUP BY status")))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ManifestLock:
    """A run's hold on the manifest at ``path`` (a hidden ``.NAME.lock`` beside it, never
    removed: a lock file removed races with the next run's): a second run on it at once would
    colorize the same photos and write over the first one's rows. Taken on creation (making the
    manifest's folder); a ManifestError when another run holds it. Windows has no such locks."""

    @_reported
    def __init__(self, path) -> None:
        self.path, self._fd = Path(path), None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = locks.hold(self.path.with_name(f".{self.path.name}.lock"))
        except BlockingIOError:
            raise ManifestError(f"The manifest {self.path} is in use by another Colorize run "
                                "right now. Wait for it to finish, or give this run another "
                                "--manifest.") from None  # fmt: skip

    def close(self) -> None:
        """Let the lock go (again: nothing)."""
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with it
            self._fd = None

    def __enter__(self) -> ManifestLock:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _missing_parents(folder: Path) -> list[Path]:
    """The folders of ``folder``'s path that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing
