"""Turns "colorize these", "save those" and "stop" into jobs on the network's lane, and the lane's
answers into rows of the list model.

Each job submitted is a ticket; the batch is the set of tickets not answered yet, and what it did
is counted from their answers, so its summary speaks of this batch only.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from colorize_app.core.batch import is_film
from colorize_app.core.claims import Claims, as_written
from colorize_app.core.job import IN_COLOUR, Job, JobOptions
from colorize_app.core.provenance import read_provenance
from colorize_app.core.vocabulary import EXTENSIONS, Status
from colorize_app.ui.batch_model import BatchEntry, BatchListModel, made_with
from colorize_app.ui.qimage import to_qimage
from colorize_app.ui.status_bar import format_duration
from colorize_app.workers.requests import Finished

logger = logging.getLogger(__name__)

# Progress within a photo is drawn at most this often. Each row update repaints the list (the
# whole viewport, offscreen), which cost the window a fifth of a core at 5 small photos a second.
PROGRESS_MS = 100
ROW_PROGRESS_STEP = 0.25  # the row's own bar moves in quarters; the status bar's moves smoothly
# A film takes minutes to hours: its row counts in whole percents (a hundred repaints a film).
FILM_ROW_PROGRESS_STEP = 0.01


@dataclass
class _Pending:
    entry_id: int
    previous: Status  # restored if it is stopped before it is done
    made_with: tuple[int, float]  # (render size, saturation) its result is made with
    saving: bool  # a save of a result in memory, not a network run


class BatchController(QObject):
    busy_changed = Signal(bool)
    progress_changed = Signal(int, int, float)  # finished jobs, all jobs, fraction of the current one
    result_ready = Signal(int)  # entry id whose new result (its chroma) is in the model
    entry_changed = Signal(int)  # entry id whose state the status bar may want to show
    timing = Signal(float, str)  # seconds for the last photo, device name
    message = Signal(str)  # for the status bar

    def __init__(self, model: BatchListModel, lane: QObject, parent: QObject | None = None):
        # `lane` is the host's network lane (workers.lane.Lane), handed in by app.py: not
        # imported here, because the bridge's host reaches torch (lazily) and ui must not.
        super().__init__(parent)
        self._model = model
        self._lane = lane
        self._pending: dict[int, _Pending] = {}  # ticket -> the job not answered yet
        self._tally: Counter[str] = Counter()  # this batch's outcomes
        self._total = 0
        self._progress: dict[int, float] = {}  # ticket -> latest fraction, not drawn yet
        self.stopped = False  # the last batch was stopped, not finished
        self.started_at = 0.0  # time.monotonic() when the current (or last) batch began
        self._progress_timer = QTimer(self, singleShot=True, interval=PROGRESS_MS,
                                      timeout=self._draw_progress)
        lane.started.connect(self._on_started)
        lane.progress.connect(self._on_progress)
        lane.finished.connect(self._on_finished)
        lane.failed.connect(self._on_failed)
        lane.cancelled.connect(self._on_cancelled)

    def is_busy(self) -> bool:
        return bool(self._pending)

    def remaining(self) -> int:
        """Photos of this batch not done yet (waiting or being colorized)."""
        return len(self._pending)

    # -- requests from the window -----------------------------------------------------------------
    def colorize(self, entries: list[BatchEntry], options: JobOptions, *, auto_save: bool) -> int:
        """Queue entries for the network; returns how many were queued (busy ones are left alone).
        With `auto_save`, each result is saved next to its original as it finishes."""
        # The entry's hints are the window's (read from the hints file as the photo was added;
        # None until then, and core reads the file itself). A film is always written to its
        # result: its frames are not kept in memory.
        return self._submit([(e, Job(e.source, e.output if auto_save or is_film(e.source) else None,
                                     options, hints=e.hints)) for e in entries])

    def save(self, entries: list[BatchEntry], options: JobOptions,
             target: Path | None = None) -> int:
        """Write results that exist in memory (no network run). `target` only for a single entry,
        in the format its extension names."""
        options = replace(options, overwrite=True)
        fmt = EXTENSIONS.get(target.suffix.lower()) if target is not None else None
        # With the entry's hints and render size: the result records what its colour was made with.
        return self._submit([(e, Job(e.source, target or e.output, _made_with(options, e),
                                     chroma=e.chroma, format=fmt, hints=e.hints))
                             for e in entries if e.chroma is not None])

    def forget(self, entry_ids) -> None:
        """Entries taken off the list: their jobs not done yet are stopped (the rest go on), so
        nothing is written for a photo no longer listed, and the batch does not wait for it."""
        ids = set(entry_ids)
        self._lane.drop([t for t, pending in self._pending.items() if pending.entry_id in ids])

    def elapsed(self) -> float:
        """Seconds since the current (or last) batch began."""
        return time.monotonic() - self.started_at if self.started_at else 0.0

    def stop(self) -> None:
        if self._pending:
            self.stopped = True
            self._lane.cancel()
            self.message.emit(self.tr("Stopping…"))

    def _submit(self, work: list[tuple[BatchEntry, Job]]) -> int:
        work = self._refuse_clashes([(entry, job) for entry, job in work if not entry.queued])
        if not work:
            return 0
        was_busy = self.is_busy()
        if not was_busy:
            self._total = 0
            self._tally.clear()
            self.stopped = False
            self.started_at = time.monotonic()
            logger.info("Batch of %d photo(s) started", len(work))
        for entry, job in work:
            saving = job.chroma is not None  # its options' render size is its colour's (save())
            ticket = self._lane.submit("colorize", job)
            self._pending[ticket] = _Pending(entry.id, entry.status, made_with(job.options), saving)
            # A save keeps its state until the lane starts on it.
            changes = {} if saving else {"status": Status.WAITING, "reason": "", "progress": 0.0}
            self._model.update(entry.id, queued=True, **changes)
        self._total += len(work)
        self.progress_changed.emit(self._total - len(self._pending), self._total, 0.0)
        if not was_busy:
            self.busy_changed.emit(True)
        return len(work)

    def _refuse_clashes(self, work: list[tuple[BatchEntry, Job]]) -> list[tuple[BatchEntry, Job]]:
        """The work whose results may be written (core.claims): never over a photo of the list,
        nor over the result of another one that is saved or on its way. A refused photo's row
        says why (a refused save keeps its result in memory)."""
        if all(job.output is None for _, job in work):
            return work
        asked = {entry.id for entry, _ in work}
        entries = self._model.entries()
        claims = Claims((entry.source for entry in entries), spelling=as_written)
        for other in entries:
            if other.id not in asked and (other.status == Status.SAVED or other.queued):
                claims.claim(other.source, other.output)
        kept = []
        for entry, job in work:
            refused = claims.claim(entry.source, job.output) if job.output is not None else ""
            if not refused:
                kept.append((entry, job))
                continue
            sentence = f"{entry.source.name}: {refused}."
            logger.info("Not started: %s", sentence)
            if job.chroma is None:
                self._model.update(entry.id, status=Status.FAILED, reason=sentence, progress=0.0)
            self.message.emit(sentence)
        return kept

    def _settle(self, ticket: int, outcome: str) -> None:
        pending = self._pending.pop(ticket)
        self._progress.pop(ticket, None)
        self._tally[outcome] += 1
        self.progress_changed.emit(self._total - len(self._pending), self._total, 0.0)
        self.entry_changed.emit(pending.entry_id)
        if not self._pending:
            logger.info("Batch %s after %.1f s: %s of %d photo(s)",
                        "stopped" if self.stopped else "finished", self.elapsed(),
                        ", ".join(f"{n} {what}" for what, n in sorted(self._tally.items())),
                        self._total)  # fmt: skip
            self.message.emit(self.summary())
            self.busy_changed.emit(False)

    def summary(self) -> str:
        """What the last batch did, e.g. "Finished in 3 s: 20 colorized, 1 failed."."""
        t = self._tally
        parts = [self.tr("{0} colorized").format(t["colorized"])]
        for outcome, text in (("saved", self.tr("{0} saved")),
                              ("skipped", self.tr("{0} already done")),
                              ("failed", self.tr("{0} failed")),
                              ("stopped", self.tr("{0} not done"))):
            if t[outcome]:
                parts.append(text.format(t[outcome]))
        if t["saved"] and not t["colorized"]:
            parts.pop(0)
        text = self.tr("Stopped after {0}: {1}.") if self.stopped else self.tr("Finished in {0}: {1}.")
        return text.format(format_duration(self.elapsed()), ", ".join(parts))

    # -- what the lane says -----------------------------------------------------------------------
    @Slot(int)
    def _on_started(self, ticket: int) -> None:
        if ticket in self._pending:
            self._model.update(self._pending[ticket].entry_id, status=Status.WORKING, progress=0.0)
            self.entry_changed.emit(self._pending[ticket].entry_id)

    @Slot(int, float)
    def _on_progress(self, ticket: int, fraction: float) -> None:
        if ticket in self._pending:
            self._progress[ticket] = fraction
            if not self._progress_timer.isActive():
                self._progress_timer.start()

    @Slot()
    def _draw_progress(self) -> None:
        drawn, self._progress = self._progress, {}
        for ticket, fraction in drawn.items():
            entry = self._model.entry(self._pending[ticket].entry_id) if ticket in self._pending else None
            step = FILM_ROW_PROGRESS_STEP if entry and is_film(entry.source) else ROW_PROGRESS_STEP
            if entry is not None and fraction - entry.progress >= step:
                self._model.update(entry.id, progress=fraction)
            self.progress_changed.emit(self._total - len(self._pending), self._total, fraction)

    @Slot(int, object)
    def _on_finished(self, ticket: int, finished: Finished) -> None:
        if ticket not in self._pending:
            return  # another controller's request on the same lane
        pending = self._pending[ticket]
        entry = self._model.entry(pending.entry_id)
        result = finished.result
        logger.info("%s: %s in %.2f s%s%s", entry.source if entry else pending.entry_id,
                    result.status, result.seconds, f" -> {result.output}" if result.output else "",
                    f" ({result.reason})" if result.reason else "")  # fmt: skip
        outcome = "saved" if pending.saving else "colorized"
        if result.status == Status.SKIPPED and result.skip == IN_COLOUR:
            outcome = "skipped"
            self._model.update(pending.entry_id, status=Status.SKIPPED, progress=0.0, queued=False,
                               reason=self.tr("Already in colour; Colorize Even If in Colour "
                                              "colours it from its lightness"))
        elif result.status == Status.SKIPPED:
            outcome = "skipped"
            self._model.update(pending.entry_id, status=Status.SAVED, progress=1.0, queued=False,
                               reason=self.tr("Already colorized earlier ({0} exists)").format(
                                   result.output.name),
                               saved_record=read_provenance(result.output))
        elif entry is not None:
            if result.status == Status.DONE and result.output is not None:
                output, status = result.output, Status.SAVED
                reason = self.tr("Saved as {0}").format(_shown_path(output, entry.source))
            elif result.status == Status.DONE:  # kept in memory only
                output, status, reason = entry.output, Status.DONE, ""
            else:  # colorized, but saving failed: Save As elsewhere still works
                output, status, reason = entry.output, Status.FAILED, result.reason
                outcome = "failed"
                self.message.emit(result.reason)
            # The record just written (a header read): the list judges it by core's rule.
            saved = read_provenance(output) if status == Status.SAVED else entry.saved_record
            self._model.update(entry.id, status=status, reason=reason, progress=1.0, queued=False,
                               seconds=result.seconds, chroma=result.chroma, output=output,
                               thumbnail=(to_qimage(finished.thumbnail) if finished.thumbnail
                                          is not None else entry.thumbnail),
                               made_with=pending.made_with, saved_record=saved,
                               original_changed=entry.original_changed and status != Status.SAVED)
            if finished.predicted:
                self.timing.emit(result.seconds, finished.device)
            self.result_ready.emit(entry.id)
        self._settle(ticket, outcome)

    @Slot(int, str)
    def _on_failed(self, ticket: int, reason: str) -> None:
        # A failed save keeps its chroma, so the result still shows and Save can be tried again.
        if ticket in self._pending:
            entry_id = self._pending[ticket].entry_id
            entry = self._model.update(entry_id, status=Status.FAILED, reason=reason, progress=0.0,
                                       queued=False)
            logger.info("%s: failed: %s", entry.source if entry else entry_id, reason)
            if entry is not None:
                self.message.emit(reason)
            self._settle(ticket, "failed")

    @Slot(int)
    def _on_cancelled(self, ticket: int) -> None:
        if ticket in self._pending:
            pending = self._pending[ticket]
            entry = self._model.update(pending.entry_id, status=pending.previous, progress=0.0,
                                       queued=False)
            logger.info("%s: stopped before it was done",
                        entry.source if entry else pending.entry_id)
            self._settle(ticket, "stopped")


def _shown_path(output: Path, source: Path) -> str:
    """The result's name, with its folder when that is not the original's."""
    return output.name if output.parent == source.parent else str(output)


def _made_with(options: JobOptions, entry: BatchEntry) -> JobOptions:
    """``options`` with the render size the entry's colour was predicted at, when known."""
    return replace(options, render_size=entry.made_with[0]) if entry.made_with else options
