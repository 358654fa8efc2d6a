"""Is a saved result still current? The one rule the command line, the window and Ray share.

A result is current when the recipe recorded in it (model, render size, saturation, hints; see
``provenance``) equals the one that would be used now, and its original has not changed since it
was made (``original_changed``: archives rescan and retouch their originals). A result without a
record (made before Colorize recorded provenance) counts as current, and so does one whose record
cannot be trusted (damaged, or from a newer Colorize): a result the person may like is never
replaced unasked.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from colorize_app.core.files import open_regular
from colorize_app.core.provenance import Provenance, Recipe, RecordState, read_provenance, stamp_of

# Digests of originals read in this process, by the file's identity and times: the window's open
# and its Colorize All, the planner and each job (--update) ask about the same original in turn,
# and one only touched (same bytes, another time) would be read in full each time. ~0.5 kB each.
DIGESTS_KEPT = 10_000
_digests: OrderedDict[tuple, str] = OrderedDict()
_digests_lock = threading.Lock()  # the window's lanes ask from several threads


class Freshness(str, Enum):
    CURRENT = "current"
    OUT_OF_DATE = "out of date"
    NO_RECORD = "no record"  # counts as current
    UNKNOWN = "unknown"  # the record is damaged or newer; counts as current


@dataclass(frozen=True)
class Judgement:
    """How a saved result compares with what would be made now."""

    freshness: Freshness
    differences: tuple[str, ...] = ()  # "hints", "settings", "model", "original" when out of date
    recorded: Provenance | None = field(default=None, compare=False)

    def sentence(self) -> str:
        """"out of date: saved with other hints and settings", "out of date: its original has
        changed since it was made", or what else is true of it."""
        if self.freshness is Freshness.OUT_OF_DATE:
            recipe = tuple(d for d in self.differences if d != "original")
            said = [f"saved with other {_join(recipe)}"] if recipe else []
            if "original" in self.differences:
                said.append("its original has changed since" if recipe
                            else "its original has changed since it was made")  # fmt: skip
            return "out of date: " + ", and ".join(said)
        if self.freshness is Freshness.NO_RECORD:
            return "made before Colorize recorded how results are made; counted as current"
        if self.freshness is Freshness.UNKNOWN:
            return "its record of how it was made is damaged or from a newer Colorize; counted as current"
        return "up to date"


def judge(result: str | os.PathLike, wanted: Recipe,
          original: str | os.PathLike | None = None) -> Judgement:  # fmt: skip
    """Compare the result saved at ``result`` with ``wanted`` and, given the path of its
    ``original``, with that file as it is now (``original_changed``); never raises (see the
    module)."""
    state, recorded = read_provenance(result)
    changed = original is not None and recorded is not None and bool(original_changed(original, recorded))
    return compare(state, recorded, wanted, original_changed=changed)


def original_changed(original: str | os.PathLike, recorded: Provenance) -> bool | None:
    """Has the file at ``original`` changed since the result that ``recorded`` describes was made?

    Cheap enough to ask of every result of an archive of millions: a stat, and the original's
    bytes read only when they must be. Its size differs from the recorded one: changed. Size and
    modification time both equal: unchanged. Same size, another time (a copy that did not keep
    times, a same-size retouch of an uncompressed TIFF): its SHA-256 against the recorded one,
    read once in a process while the file's size and times stay as they were (thread-safe).
    None when it cannot be told, and the original then counts as unchanged: a record without the
    size (an older Colorize), a film's (its bytes are not digested) when only its time differs,
    an original that is gone or cannot be read."""
    then = recorded.original_stamp
    now = stamp_of(original) if then is not None else None
    if then is None or now is None:
        return None
    if now.size != then.size:
        return True
    if now.modified == then.modified and now.modified:
        return False
    if not recorded.original_sha256:
        return None
    digest = _remembered_digest(original, now.size)
    return None if digest is None else digest != recorded.original_sha256


def compare(state: RecordState, recorded: Provenance | None, wanted: Recipe, *,
            original_changed: bool = False) -> Judgement:  # fmt: skip
    """Compare a record read earlier (``provenance.read_provenance``) with ``wanted``, and say
    whether its original changed since (found earlier by ``original_changed``): the window
    keeps each saved result's record and asks again whenever its settings or hints change."""
    if state is RecordState.NONE:
        return Judgement(Freshness.NO_RECORD)
    if state is RecordState.UNKNOWN or recorded is None:
        return Judgement(Freshness.UNKNOWN)
    differences = (*recorded.recipe.differences(wanted), *(("original",) if original_changed else ()))
    if differences:
        return Judgement(Freshness.OUT_OF_DATE, differences, recorded)
    return Judgement(Freshness.CURRENT, (), recorded)


def _join(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _remembered_digest(path: str | os.PathLike, size: int) -> str | None:
    """``_digest``, read once for as long as the file keeps its identity, size and times (the
    change time too: no program sets it, so a rewrite whose time was put back still shows)."""
    key = _identity(path)
    if key is None or key[3] != size:
        return _digest(path, size)
    with _digests_lock:
        digest = _digests.get(key)
        if digest is not None:
            _digests.move_to_end(key)
            return digest
    digest = _digest(path, size)
    if digest is not None and _identity(path) == key:  # not changed while it was read
        with _digests_lock:
            _digests[key] = digest
            while len(_digests) > DIGESTS_KEPT:
                _digests.popitem(last=False)
    return digest


def _identity(path: str | os.PathLike) -> tuple | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (os.fspath(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
            info.st_ctime_ns)  # fmt: skip


def _digest(path: str | os.PathLike, size: int) -> str | None:
    """SHA-256 of the regular file at ``path``, read a megabyte at a time and no further than a
    byte past ``size`` (its size a moment ago: one it gained meanwhile makes the digest differ);
    None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(open_regular(path), "rb") as fh:  # never waits on a pipe
            left = size + 1
            while left > 0 and (block := fh.read(min(left, 1 << 20))):
                digest.update(block)
                left -= len(block)
    except OSError:
        return None
    return digest.hexdigest()
