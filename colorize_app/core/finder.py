"""What a person opened (a dialog, a drop, a second start), planned path by path as the window
lists it: the walk of the folders, the checks of the results already there, and the records read
from them. All of it touches the disk, so the window runs it off its thread (workers/find_worker.py),
watched and stoppable through a ``batch.Walk``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from colorize_app.core.batch import BatchItem, Walk, plan_batch
from colorize_app.core.errors import Cancelled, ColorizeError
from colorize_app.core.freshness import original_changed
from colorize_app.core.provenance import read_provenance
from colorize_app.core.vocabulary import Status


@dataclass
class Found:
    """What one opened path gave: its plan's items, or the sentence why it gave none."""

    path: Path
    items: list[BatchItem] = field(default_factory=list)
    problem: str = ""  # the path could not be planned at all (missing, too many photos...)
    folder: bool = False
    # read_provenance's answer for each result already there (items skipped because of it)
    records: dict[Path, tuple] = field(default_factory=dict)
    # those results whose original changed since they were made (freshness.original_changed)
    changed: set[Path] = field(default_factory=set)


def find(paths, walk: Walk | None = None, *, recursive: bool = False, **export) -> list[Found]:
    """Plan each of ``paths`` on its own (a problem with one never hides the others), with films,
    and read the provenance of every result that is already there.

    ``export``: plan_batch's suffix, output_dir and format. ``walk`` (shared by all the paths, so
    its counts add up) reports progress and stops the work with Cancelled.
    """
    walk = walk or Walk()
    found = []
    for path in map(Path, paths):
        try:
            here = Found(path, plan_batch([path], recursive=recursive, films=True, walk=walk,
                                          **export), folder=path.is_dir())  # fmt: skip
        except Cancelled:
            raise
        except (ColorizeError, OSError) as exc:
            found.append(Found(path, problem=str(exc)))
            continue
        for item in here.items:
            if item.status == Status.SKIPPED and item.output.exists():
                walk.check()
                state, recorded = here.records[item.output] = read_provenance(item.output)
                if recorded is not None and original_changed(item.source, recorded):
                    here.changed.add(item.output)
        found.append(here)
    return found
