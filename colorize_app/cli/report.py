"""What the command line prints when a run ends: the batch's own counts (core.batch.BatchSummary),
the notes, the skips and what they mean, the failures; and how it prints a name whatever its bytes."""

from __future__ import annotations

import sys

from colorize_app.core.names import printable
from colorize_app.core.vocabulary import Status

EXIT_OK, EXIT_FAILED = 0, 1  # every photo done or skipped; any failed
SHOWN_SKIPS = 10


def say(text: str, file=None) -> None:
    """Print ``text`` on ``file`` (stdout) with its names made printable, in any terminal."""
    file = file or sys.stdout
    text = printable(text)
    encoding = getattr(file, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):  # a terminal that cannot show every name
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    print(text, file=file)


def _explain_skips(skipped) -> None:
    """One line per kind of skip that needs a word: what it means and the option that changes it."""
    from colorize_app.core.freshness import Freshness
    from colorize_app.core.job import IN_COLOUR

    kinds = [item.skip for item in skipped]
    stale = kinds.count(Freshness.OUT_OF_DATE.value)
    if stale:
        print(f"{stale} out of date (saved with other hints, settings or model, or their original "
              "changed since): --update redoes them.")  # fmt: skip
    colour = kinds.count(IN_COLOUR)
    if colour:
        print(f"{colour} already in colour: --include-colour colours them anyway, from their lightness.")
    unrecorded = kinds.count(Freshness.NO_RECORD.value)
    if unrecorded:
        print(f"{unrecorded} made before Colorize recorded how results are made: they count as "
              "current (--overwrite redoes them).")  # fmt: skip


def report(summary) -> int:
    """Print what ``summary`` (a core.batch.BatchSummary) counted; returns the exit status."""
    done, skipped = summary.of(Status.DONE), summary.of(Status.SKIPPED)
    failed = summary.of(Status.FAILED)
    print(f"Colorized {len(done)}, skipped {len(skipped)}, failed {len(failed)}.")
    if summary.hinted:
        print(f"{summary.hinted} of them with colour hints.")
    noted = [item for item in done if item.note]
    if noted:
        print("Notes:")
        for item in noted:
            say(f"  {item.note}")
    if skipped:
        print("Skipped:")
        for item in skipped[:SHOWN_SKIPS]:
            say(f"  {item.source}: {item.reason}")
        if len(skipped) > SHOWN_SKIPS:
            print(f"  ... and {len(skipped) - SHOWN_SKIPS} more (use --overwrite to redo results)")
        _explain_skips(skipped)
    if failed:
        print("Failed:")
        for item in failed:
            # most reasons already name the file; don't say it twice
            say(
                f"  {item.reason}"
                if str(item.source) in item.reason
                else f"  {item.source}: {item.reason}"
            )
    return EXIT_FAILED if failed else EXIT_OK
