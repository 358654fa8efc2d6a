"""The network's handlers: what runs on the network's lane (see lane.py).

Torch is imported here (through core.engine) on the first job or warm-up, in the lane's thread, so
the window appears before torch is even imported. Only app.py and tests import this module; the
window is handed the host and never imports it.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from colorize_app.core import display
from colorize_app.core.batch import BatchRunner, is_film
from colorize_app.core.errors import Cancelled, ColorizeError, WeightsError
from colorize_app.core.job import Job
from colorize_app.core.memory import release_freed_memory
from colorize_app.core.vocabulary import Status
from colorize_app.workers.lane import Lane, Task
from colorize_app.workers.requests import Finished

logger = logging.getLogger(__name__)
RELEASE_AFTER_MS = 30_000


class ColorizeWorker(QObject):
    """Four kinds on the network's lane: ``warm_up`` (a device name), ``hints`` (a Job whose
    hints changed, latest wins, answered with float16 chroma), ``colorize`` (a core Job, queued,
    answered with a requests.Finished) and ``release_memory`` (its own, after a while idle). What
    is not one request's answer goes out on these signals."""

    model_loaded = Signal(object)  # dict (core.engine.Engine.describe): name, device, gpu, ...
    model_failed = Signal(str)  # no model installed, damaged weights...: stops everything queued
    notice = Signal(str)  # something worth telling the user, e.g. a fall back to the CPU

    def __init__(self, lane: Lane, weights=None) -> None:
        super().__init__()
        self._lane = lane
        self._weights = weights
        self._engine = None  # core.engine.Engine, made on first use (it imports torch)
        self._runner = BatchRunner(self._predict)
        self._announced: tuple | None = None  # the model and device last told to the window
        self._hint_preview = None  # core.hint_preview.HintPreview, made on first use
        lane.handle("warm_up", self.warm_up, latest=True)
        lane.handle("hints", self.hints, latest=True)
        lane.handle("colorize", self.colorize, dropped=self._runner.drop)
        lane.on_close(self._runner.close)
        # Memory a batch freed is kept for the next photo (core.memory) and given back once the
        # lane has had nothing to do for a while; the next batch in that while reuses it.
        lane.handle("release_memory", lambda _request, _task: release_freed_memory(), latest=True)
        self._release = QTimer(self, singleShot=True, interval=RELEASE_AFTER_MS,
                               timeout=lambda: lane.submit("release_memory", None))
        lane.idle.connect(self._release.start)
        lane.started.connect(self._release.stop)

    def warm_up(self, device: str, _task: Task) -> None:
        """Load the model ahead of the first job, so the status bar can name it early."""
        try:
            self._get_engine().load(device)
        except WeightsError as exc:
            self.model_failed.emit(str(exc))
        except ColorizeError as exc:  # e.g. a GPU remembered in the settings is gone
            logger.warning("Could not load the model ahead of time: %s", exc)
        self._announce()

    def hints(self, job: Job, _task: Task) -> np.ndarray:
        """A photo's colour predicted anew for its job's hints (the window's hint mode), on the
        render-size copy only (core.hint_preview)."""
        if self._hint_preview is None:
            from colorize_app.core.hint_preview import HintPreview

            self._hint_preview = HintPreview(self._predict)
        chroma = self._stopping_on_weights(self._hint_preview.chroma, job)
        self._announce()
        return chroma.astype(np.float16)

    def colorize(self, job: Job, task: Task) -> Finished:
        """Colorize (or, given a chroma, only re-compose) and save one photo."""
        result = self._stopping_on_weights(self._runner.run, job, upcoming=task.upcoming(),
                                           on_progress=task.progress,
                                           is_cancelled=task.is_cancelled)
        self._announce()
        film_done = is_film(job.source) and result.status == Status.DONE  # saved, no pixels kept
        if result.pixels is None and result.status != Status.SKIPPED and not film_done:
            raise ColorizeError(result.reason)
        colorized = result.pixels is not None or film_done
        chroma = None if result.chroma is None else result.chroma.astype(np.float16)
        # Only a thumbnail: the preview lane composes the screen copy of the one photo shown from
        # the chroma (display copies of every photo cost 6 % of a batch on this thread).
        return Finished(result=replace(result, pixels=None, chroma=chroma),
                        thumbnail=self._thumbnail(result, film_done) if colorized else None,
                        predicted=job.chroma is None and colorized,
                        device=self._get_engine().device_name())  # fmt: skip

    @staticmethod
    def _thumbnail(result, film_done: bool) -> np.ndarray | None:
        if not film_done:
            return display.thumbnail_of(result.pixels)
        try:
            return display.read_thumbnail(result.output)  # the colorized film's poster frame
        except ColorizeError as exc:
            logger.warning("No poster frame for %s: %s", result.output, exc)
            return None

    def _stopping_on_weights(self, run, *args, **kwargs):
        # No usable model stops every photo: this one ends cancelled, the queue is dropped.
        try:
            return run(*args, **kwargs)
        except WeightsError as exc:
            self._lane.cancel()
            self.model_failed.emit(str(exc))
            raise Cancelled(str(exc)) from None

    def _get_engine(self):
        if self._engine is None:
            from colorize_app.core.engine import Engine, default_threads

            self._engine = Engine(self._weights, on_notice=self.notice.emit,
                                  threads=default_threads())  # fmt: skip
        return self._engine

    def _predict(self, pixels: np.ndarray, options, hints) -> np.ndarray:
        return self._get_engine().predict(pixels, options, hints)

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
