"""The run manifest: one SQLite row per photo (path, status, reason, seconds, output).

The driver writes a row as each result comes back, in WAL mode and committed at once, so a run
killed at any moment leaves every result it heard about on disk and an archivist can read the
file (``sqlite3 colorize-manifest.sqlite``) while the run goes on. A re-run reads it back:
photos recorded as done whose output is there keep their row, and photos recorded as failed are
not tried again unless asked (a broken scan stays broken; the archivist reads why).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "colorize-manifest.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS photos (
    path     TEXT PRIMARY KEY,
    status   TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    seconds  REAL NOT NULL DEFAULT 0,
    output   TEXT,
    run      INTEGER NOT NULL,
    finished REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Row:
    """One photo's line of the manifest."""

    path: str
    status: str  # a vocabulary.Status value: done, skipped or failed
    reason: str = ""
    seconds: float = 0.0
    output: str | None = None


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


class Manifest:
    """An open manifest file. One writer (the driver); readers may look at any time."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit: a row a commit
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a kill
        self._db.execute(_SCHEMA)
        last = self._db.execute("SELECT COALESCE(MAX(run), 0) FROM photos").fetchone()[0]
        self.run = last + 1

    def record(self, row: Row) -> None:
        """Write (or replace) ``row.path``'s line, committed before this returns."""
        self._db.execute(
            "INSERT OR REPLACE INTO photos VALUES (?, ?, ?, ?, ?, ?, ?)",
            (text(row.path), str(row.status), text(row.reason), float(row.seconds),
             None if row.output is None else text(row.output), self.run, time.time()),
        )  # fmt: skip

    def rows(self) -> dict[str, Row]:
        """Every photo recorded so far, by path."""
        cursor = self._db.execute("SELECT path, status, reason, seconds, output FROM photos")
        return {r[0]: Row(*r) for r in cursor}

    def done(self) -> set[str]:
        """Paths recorded as colorized (by this run or an earlier one), as ``text`` gives them."""
        return {r[0] for r in self._db.execute("SELECT path FROM photos WHERE status = 'done'")}

    def failed(self) -> dict[str, str]:
        """Paths recorded as failed, with the reason."""
        query = "SELECT path, reason FROM photos WHERE status = 'failed'"
        return dict(self._db.execute(query))

    def counts(self) -> Counter:
        """How many photos the manifest holds per status."""
        return Counter(dict(self._db.execute("SELECT status, COUNT(*) FROM photos GROUP BY status")))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
