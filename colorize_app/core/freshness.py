"""Is a saved result still current? The one rule the command line, the window and Ray share.

A result is current when the recipe recorded in it (model, render size, saturation, hints; see
``provenance``) equals the one that would be used now. A result without a record (made before
Colorize recorded provenance) counts as current, and so does one whose record cannot be trusted
(damaged, or from a newer Colorize): a result the person may like is never replaced unasked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum

from colorize_app.core.provenance import Provenance, Recipe, RecordState, read_provenance


class Freshness(str, Enum):
    CURRENT = "current"
    OUT_OF_DATE = "out of date"
    NO_RECORD = "no record"  # counts as current
    UNKNOWN = "unknown"  # the record is damaged or newer; counts as current


@dataclass(frozen=True)
class Judgement:
    """How a saved result compares with what would be made now."""

    freshness: Freshness
    differences: tuple[str, ...] = ()  # "hints", "settings", "model" when out of date
    recorded: Provenance | None = field(default=None, compare=False)

    def sentence(self) -> str:
        """"out of date: saved with other hints and settings", or what else is true of it."""
        if self.freshness is Freshness.OUT_OF_DATE:
            return f"out of date: saved with other {_join(self.differences)}"
        if self.freshness is Freshness.NO_RECORD:
            return "made before Colorize recorded how results are made; counted as current"
        if self.freshness is Freshness.UNKNOWN:
            return "its record of how it was made is damaged or from a newer Colorize; counted as current"
        return "up to date"


def judge(result: str | os.PathLike, wanted: Recipe) -> Judgement:
    """Compare the result saved at ``result`` with ``wanted``; never raises (see the module)."""
    return compare(*read_provenance(result), wanted)


def compare(state: RecordState, recorded: Provenance | None, wanted: Recipe) -> Judgement:
    """Compare a record read earlier (``provenance.read_provenance``) with ``wanted``: the window
    keeps each saved result's record and asks again whenever its settings or hints change."""
    if state is RecordState.NONE:
        return Judgement(Freshness.NO_RECORD)
    if state is RecordState.UNKNOWN or recorded is None:
        return Judgement(Freshness.UNKNOWN)
    differences = tuple(recorded.recipe.differences(wanted))
    if differences:
        return Judgement(Freshness.OUT_OF_DATE, differences, recorded)
    return Judgement(Freshness.CURRENT, (), recorded)


def _join(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
