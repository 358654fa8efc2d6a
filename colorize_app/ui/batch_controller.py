"""Turns "colorize these", "save those" and "stop" into worker jobs, and worker signals into rows.

The window asks; this object keeps the list model in step with what the worker reports.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from colorize_app.core.job import IN_COLOUR, Job, JobOptions
from colorize_app.core.provenance import read_provenance
from colorize_app.core.vocabulary import EXTENSIONS, Status
from colorize_app.ui.batch_model import BatchEntry, BatchListModel
from colorize_app.ui.qimage import to_qimage
from colorize_app.workers.requests import Finished

logger = logging.getLogger(__name__)

# Progress within a photo is drawn at most this often. Each row update repaints the list (the
# whole viewport, offscreen), which cost the window a fifth of a core at 5 small photos a second.
PROGRESS_MS = 100
ROW_PROGRESS_STEP = 0.25  # the row's own bar moves in quarters; the status bar's moves smoothly


class BatchController(QObject):
    busy_changed = Signal(bool)
    progress_changed = Signal(int, int, float)  # finished jobs, all jobs, fraction of the current one
    result_ready = Signal(int)  # entry id whose new result (its chroma) is in the model
    entry_changed = Signal(int)  # entry id whose state the status bar may want to show
    timing = Signal(float, str)  # seconds for the last photo, device name
    message = Signal(str)  # for the status bar

    def __init__(self, model: BatchListModel, host: QObject, parent: QObject | None = None):
        # `host` is a colorize_app.workers.host.WorkerHost, handed in by app.py: not imported here,
        # because that module reaches torch (lazily) and ui must not, not even on paper.
        super().__init__(parent)
        self._model = model
        self._host = host
        self._pending: dict[int, Status] = {}  # job id -> the status to restore if it is stopped
        self._total = 0
        self._finished = 0
        self._progress: dict[int, float] = {}  # job id -> latest fraction, not drawn yet
        self._settings: dict[int, tuple[int, float]] = {}  # job id -> what its result is made with
        self.stopped = False  # the last batch was stopped, not finished
        self.started_at = 0.0  # time.monotonic() when the current (or last) batch began
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._draw_progress)
        worker = host.colorizer
        worker.job_started.connect(self._on_started)
        worker.job_progress.connect(self._on_progress)
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(self._on_failed)
        worker.job_cancelled.connect(self._on_cancelled)

    def is_busy(self) -> bool:
        return bool(self._pending)

    def is_pending(self, entry: BatchEntry) -> bool:
        return entry.id in self._pending

    # -- requests from the window -----------------------------------------------------------------
    def colorize(self, entries: list[BatchEntry], options: JobOptions, *, auto_save: bool) -> int:
        """Queue entries for the network; returns how many were queued (busy ones are left alone).
        With `auto_save`, each result is saved next to its original as it finishes."""
        # The entry's hints are the window's (read from the hints file as the photo was added).
        jobs = [Job(entry.source, entry.output if auto_save else None, options, id=entry.id,
                    hints=tuple(entry.hints))
                for entry in entries if entry.id not in self._pending]
        return self._submit(jobs)

    def save(self, entries: list[BatchEntry], options: JobOptions,
             target: Path | None = None) -> int:
        """Write results that exist in memory (no network run). `target` only for a single entry,
        in the format its extension names."""
        options = replace(options, overwrite=True)
        fmt = EXTENSIONS.get(target.suffix.lower()) if target is not None else None
        # With the entry's hints and render size: the result records what its colour was made with.
        jobs = [Job(entry.source, target or entry.output, _made_with(options, entry),
                    chroma=entry.chroma, format=fmt, id=entry.id, hints=tuple(entry.hints))
                for entry in entries if entry.chroma is not None and entry.id not in self._pending]
        return self._submit(jobs)

    def elapsed(self) -> float:
        """Seconds since the current (or last) batch began."""
        return time.monotonic() - self.started_at if self.started_at else 0.0

    def stop(self) -> None:
        if self._pending:
            self.stopped = True
            self._host.stop()
            self.message.emit(self.tr("Stopping…"))

    def _submit(self, jobs: list[Job]) -> int:
        if not jobs:
            return 0
        was_busy = self.is_busy()
        if not was_busy:
            self._total = self._finished = 0
            self.stopped = False
            self.started_at = time.monotonic()
            logger.info("Batch of %d photo(s) started", len(jobs))
        for job in jobs:
            entry = self._model.entry(job.id)
            self._pending[job.id] = entry.status
            made = entry.made_with if job.chroma is not None and entry.made_with else None
            render_size = made[0] if made else job.options.render_size
            self._settings[job.id] = (int(render_size), round(float(job.options.saturation), 2))
            if job.chroma is None:  # a save keeps its state until the worker starts on it
                self._model.update(job.id, status=Status.WAITING, reason="", progress=0.0)
        self._total += len(jobs)
        self._host.colorize(jobs)
        self.progress_changed.emit(self._finished, self._total, 0.0)
        if not was_busy:
            self.busy_changed.emit(True)
        return len(jobs)

    def _settle(self, job_id: int) -> None:
        self._pending.pop(job_id, None)
        self._progress.pop(job_id, None)
        self._finished += 1
        self.progress_changed.emit(self._finished, self._total, 0.0)
        self.entry_changed.emit(job_id)
        if not self._pending:
            logger.info("Batch %s after %.1f s: %d of %d photo(s) handled",
                        "stopped" if self.stopped else "finished", self.elapsed(),
                        self._finished, self._total)
            self.busy_changed.emit(False)

    # -- what the worker says ---------------------------------------------------------------------
    @Slot(int)
    def _on_started(self, job_id: int) -> None:
        self._model.update(job_id, status=Status.WORKING, progress=0.0)
        self.entry_changed.emit(job_id)

    @Slot(int, float)
    def _on_progress(self, job_id: int, fraction: float) -> None:
        self._progress[job_id] = fraction
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    @Slot()
    def _draw_progress(self) -> None:
        drawn, self._progress = self._progress, {}
        for job_id, fraction in drawn.items():
            entry = self._model.entry(job_id)
            if entry is not None and fraction - entry.progress >= ROW_PROGRESS_STEP:
                self._model.update(job_id, progress=fraction)
            self.progress_changed.emit(self._finished, self._total, fraction)

    @Slot(int, object)
    def _on_finished(self, job_id: int, finished: Finished) -> None:
        entry = self._model.entry(job_id)
        result = finished.result
        made_with = self._settings.pop(job_id, None)
        logger.info("%s: %s in %.2f s%s%s", entry.source if entry else job_id, result.status,
                    result.seconds, f" -> {result.output}" if result.output else "",
                    f" ({result.reason})" if result.reason else "")
        if entry is not None and result.status == Status.SKIPPED and result.skip == IN_COLOUR:
            self._model.update(job_id, status=Status.SKIPPED, progress=0.0, reason=self.tr(
                "Already in colour; Colorize Even If in Colour colours it from its lightness"))
        elif entry is not None and result.status == Status.SKIPPED:
            self._model.update(job_id, status=Status.SAVED, progress=1.0, reason=self.tr(
                "Already colorized earlier ({0} exists)").format(result.output.name),
                saved_record=read_provenance(result.output))
        elif entry is not None:
            if result.status == Status.DONE and result.output is not None:
                output, status = result.output, Status.SAVED
                reason = self.tr("Saved as {0}").format(output.name)
            elif result.status == Status.DONE:  # kept in memory only
                output, status, reason = entry.output, Status.DONE, ""
            else:  # colorized, but saving failed: Save As elsewhere still works
                output, status, reason = entry.output, Status.FAILED, result.reason
                self.message.emit(result.reason)
            # The record just written (a header read): the list judges it by core's rule.
            saved = read_provenance(output) if status == Status.SAVED else entry.saved_record
            self._model.update(job_id, status=status, reason=reason, progress=1.0,
                               seconds=result.seconds, chroma=result.chroma, output=output,
                               thumbnail=to_qimage(finished.thumbnail),
                               made_with=made_with or entry.made_with, saved_record=saved)
            if finished.predicted:
                self.timing.emit(result.seconds, finished.device)
            self.result_ready.emit(job_id)
        self._settle(job_id)

    @Slot(int, str)
    def _on_failed(self, job_id: int, reason: str) -> None:
        # A failed save keeps its chroma, so the result still shows and Save can be tried again.
        entry = self._model.entry(job_id)
        logger.info("%s: failed: %s", entry.source if entry else job_id, reason)
        self._settings.pop(job_id, None)
        if self._model.update(job_id, status=Status.FAILED, reason=reason, progress=0.0):
            self.message.emit(reason)
        self._settle(job_id)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        previous = self._pending.get(job_id, Status.WAITING)
        self._settings.pop(job_id, None)
        entry = self._model.entry(job_id)
        logger.info("%s: stopped before it was done", entry.source if entry else job_id)
        self._model.update(job_id, status=previous, progress=0.0)
        self._settle(job_id)


def _made_with(options: JobOptions, entry: BatchEntry) -> JobOptions:
    """``options`` with the render size the entry's colour was predicted at, when known."""
    return replace(options, render_size=entry.made_with[0]) if entry.made_with else options
