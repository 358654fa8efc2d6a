"""The network's lane: core's jobs run one at a time on this worker's thread.

Torch is imported here (through core.engine) on the first job or warm-up, in this thread, so
the window appears before torch is even imported. Only app.py and tests import this module; the
window is handed the host and never imports it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import deque
from dataclasses import replace
from functools import partial

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot

from colorize_app.core import display
from colorize_app.core.batch import BatchRunner
from colorize_app.core.errors import Cancelled, ColorizeError, WeightsError
from colorize_app.core.job import Job, JobResult
from colorize_app.core.vocabulary import Status
from colorize_app.workers.requests import Finished

logger = logging.getLogger(__name__)


class ColorizeWorker(QObject):
    """Runs `core.job.Job`s in its thread. Stop is cooperative: `cancel_all()` is thread-safe."""

    job_started = Signal(int)  # job id
    job_progress = Signal(int, float)  # job id, 0..1
    job_finished = Signal(int, object)  # job id, requests.Finished
    job_failed = Signal(int, str)  # job id, a sentence a person can act on
    job_cancelled = Signal(int)  # job id
    model_loaded = Signal(object)  # dict (core.engine.Engine.describe): name, device, gpu, ...
    model_failed = Signal(str)  # no model installed, damaged weights...: stops everything queued
    notice = Signal(str)  # something worth telling the user, e.g. a fall back to the CPU
    idle = Signal()  # the queue ran dry
    hints_predicted = Signal(int, int, object)  # request id, entry id, float16 chroma
    hints_failed = Signal(int, int, str)  # request id, entry id, a sentence
    _step_requested = Signal()  # to itself, queued: run the next job in a later turn of the loop

    def __init__(self, weights=None) -> None:
        super().__init__()
        self._weights = weights
        self._engine = None  # core.engine.Engine, made on first use (it imports torch)
        self._runner = BatchRunner(self._predict)
        self._queue: deque[tuple[int, Job]] = deque()  # (epoch, job)
        self._lock = threading.Lock()
        self._epoch = 0
        self._announced: tuple | None = None  # the model and device last told to the window
        self._scheduled = False
        self._hint_request = None  # requests.HintRequest: only the latest is worth running
        self._hint_preview = None  # core.hint_preview.HintPreview, made on first use
        self._step_requested.connect(self._step, Qt.ConnectionType.QueuedConnection)

    # -- thread-safe, called from the window's thread ---------------------------------------------
    def epoch(self) -> int:
        with self._lock:
            return self._epoch

    def cancel_all(self) -> None:
        """Stop the running job at its next checkpoint and drop every queued one."""
        with self._lock:
            self._epoch += 1

    def _stale(self, epoch: int) -> bool:
        with self._lock:
            return epoch != self._epoch

    # -- slots, run in the worker's thread ---------------------------------------------------------
    @Slot(object)
    def submit(self, jobs: list[tuple[int, Job]]) -> None:
        """Queue (epoch, job) pairs; jobs of an epoch older than the current one were stopped."""
        self._queue.extend(jobs)
        self._schedule()

    @Slot(object)
    def request_hints(self, request) -> None:
        """Predict a photo's colour for new hints (requests.HintRequest); it goes before queued
        jobs, and a newer request replaces one not started yet."""
        self._hint_request = request
        self._schedule()

    @Slot(str)
    def warm_up(self, device: str) -> None:
        """Load the model ahead of the first job, so the status bar can name it early."""
        try:
            self._get_engine().load(device)
        except WeightsError as exc:
            self.model_failed.emit(str(exc))
        except ColorizeError as exc:  # e.g. a GPU remembered in the settings is gone
            logger.warning("Could not load the model ahead of time: %s", exc)
        self._announce()

    @Slot()
    def close_reader(self) -> None:
        """Stop the prefetching thread; called on the worker's thread as that thread finishes."""
        self._runner.close()

    def _schedule(self) -> None:
        # One job per turn of the thread's event loop, so newly queued jobs and stops get in between.
        # A queued signal to itself rather than QTimer.singleShot(0, ...): no helper object is made
        # on this thread for every job, and a step still pending when the thread ends goes with
        # the worker instead of holding on to it.
        if not self._scheduled and (self._queue or self._hint_request is not None):
            self._scheduled = True
            self._step_requested.emit()

    @Slot()
    def _step(self) -> None:
        self._scheduled = False
        if self._hint_request is not None:
            request, self._hint_request = self._hint_request, None
            self._run_hints(request)
            self._schedule()
            return
        if not self._queue:
            return
        epoch, job = self._queue.popleft()
        if self._stale(epoch):
            self._runner.drop(job)
            self.job_cancelled.emit(job.id)
        else:
            self._run(epoch, job)
        if self._queue:
            self._schedule()
        else:
            self.idle.emit()

    def _run(self, epoch: int, job: Job) -> None:
        self.job_started.emit(job.id)
        upcoming = [later for later_epoch, later in list(self._queue)[:1]
                    if not self._stale(later_epoch)]  # fmt: skip
        try:
            result = self._runner.run(job, upcoming=upcoming,
                                      on_progress=partial(self.job_progress.emit, job.id),
                                      is_cancelled=partial(self._stale, epoch))  # fmt: skip
        except Cancelled:
            self.job_cancelled.emit(job.id)
        except WeightsError as exc:
            self.job_cancelled.emit(job.id)
            self.cancel_all()
            self.model_failed.emit(str(exc))
        else:
            self._announce()
            self._report(job, result)

    def _run_hints(self, request) -> None:
        if self._hint_preview is None:
            from colorize_app.core.hint_preview import HintPreview

            self._hint_preview = HintPreview(self._predict)
        try:
            chroma = self._hint_preview.chroma(request.source, request.hints, request.options)
        except WeightsError as exc:
            self.model_failed.emit(str(exc))
        except (ColorizeError, MemoryError) as exc:
            self.hints_failed.emit(request.id, request.entry_id, str(exc) or type(exc).__name__)
        else:
            self._announce()
            self.hints_predicted.emit(request.id, request.entry_id, chroma.astype(np.float16))

    def _report(self, job: Job, result: JobResult) -> None:
        if result.pixels is None and result.status != Status.SKIPPED:
            self.job_failed.emit(job.id, result.reason)
            return
        colorized = result.pixels is not None
        chroma = None if result.chroma is None else result.chroma.astype(np.float16)
        # Only a thumbnail: the preview worker composes the screen copy of the one photo shown
        # from the chroma (display copies of every photo cost 6 % of a batch on this thread).
        self.job_finished.emit(job.id, Finished(
            result=replace(result, pixels=None, chroma=chroma),
            thumbnail=display.thumbnail_of(result.pixels) if colorized else None,
            predicted=job.chroma is None and colorized,
            device=self._get_engine().device_name()))

    def _get_engine(self):
        if self._engine is None:
            from colorize_app.core.engine import Engine, default_threads

            self._engine = Engine(self._weights, on_notice=self.notice.emit,
                                  threads=default_threads())  # fmt: skip
        return self._engine

    def _predict(self, pixels: np.ndarray, options) -> np.ndarray:
        return self._get_engine().predict(pixels, options)

    def _announce(self) -> None:
        engine = self._get_engine()
        key = (id(engine.model), str(engine.device))
        if engine.model is not None and key != self._announced:
            if self._announced is None:
                # Torch and the model are hundreds of thousands of objects that live as long as
                # the process; a full collection scanned them all, holding the GIL for 100-330
                # ms (a stall the window shows). Freezing exempts what exists now from later
                # scans; the collector stays on, on every thread, for everything else.
                gc.freeze()
            self._announced = key
            self.model_loaded.emit(engine.describe())
