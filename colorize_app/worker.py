"""The one bridge between the window and the engine: worker objects on their own threads.

`ColorizeWorker` runs the network (torch is imported there, lazily, on first use, so the window
appears first). `PreviewWorker` does the cheap, latency-sensitive work: decoding the selected photo
for display, thumbnails, and re-composing the colour at another saturation from a cached
prediction. Both are fed by queued signals and answer with signals carrying a job id and plain data
(paths, numpy arrays, strings). `WorkerHost` owns the threads on the window's side.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from colorize_app import gc_guard
from colorize_app.core.errors import Cancelled, ColorizeError, ImageWriteError, WeightsError
from colorize_app.jobs import ColorizeJob
from colorize_app.preview_worker import (
    PreviewWorker,
    for_display,
    levels,
    lower_thread_priority,
    thumbnail,
)

logger = logging.getLogger(__name__)

READ_SHARE, NETWORK_SHARE, COMPOSE_SHARE = 0.1, 0.5, 0.95  # progress at the end of each stage


class ColorizeWorker(QObject):
    """Runs jobs one at a time in its thread. Stop is cooperative: `cancel_all()` is thread-safe."""

    job_started = Signal(int)
    job_progress = Signal(int, float)  # job id, 0..1
    # job id, dict: chroma (the prediction, float16), display (levels for the window), thumbnail,
    # saved_to ("" if not saved), save_error, skipped (an earlier result was kept), predicted,
    # device, seconds. A skipped job carries only skipped and saved_to.
    job_finished = Signal(int, object)
    job_failed = Signal(int, str)  # job id, a sentence a person can act on
    job_cancelled = Signal(int)
    model_loaded = Signal(object)  # dict: name, device, summary, gpu_available
    model_failed = Signal(str)  # no model installed, damaged weights...: stops everything queued
    notice = Signal(str)  # something worth telling the user, e.g. a fall back to the CPU
    idle = Signal()  # the queue ran dry
    _step_requested = Signal()  # to itself, queued: run the next job in a later turn of the loop

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        self._weights = weights
        self._queue: deque[ColorizeJob] = deque()
        self._lock = threading.Lock()
        self._epoch = 0
        self._model = None
        self._device = None  # torch.device the model is on
        self._cpu_fallback = False  # the GPU ran out of memory once: stay on the CPU
        self._prefetch: dict[int, Future] = {}
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="colorize-read")
        self._scheduled = False
        self._step_requested.connect(self._step, Qt.ConnectionType.QueuedConnection)

    # -- thread-safe, called from the window's thread ---------------------------------------------
    def epoch(self) -> int:
        with self._lock:
            return self._epoch

    def cancel_all(self) -> None:
        """Stop the running job at its next checkpoint and drop every queued one."""
        with self._lock:
            self._epoch += 1

    def _stale(self, job: ColorizeJob) -> bool:
        with self._lock:
            return job.epoch != self._epoch

    # -- slots, run in the worker's thread ---------------------------------------------------------
    @Slot(object)
    def submit(self, jobs: list[ColorizeJob]) -> None:
        self._queue.extend(jobs)
        self._schedule()

    @Slot(str)
    def warm_up(self, device: str) -> None:
        """Load the model ahead of the first job, so the status bar can name it early."""
        try:
            self._ensure_model(device)
        except WeightsError as exc:
            self.model_failed.emit(str(exc))
        except Exception:  # the first real job will report it properly
            logger.exception("Could not load the model ahead of time")

    @Slot()
    def close_reader(self) -> None:
        """Stop the prefetching thread; called on the worker's thread as that thread finishes."""
        self._reader.shutdown(wait=True, cancel_futures=True)

    @Slot()
    def lower_priority(self) -> None:
        """Run in this thread: let the window's thread win the CPU when both want it."""
        lower_thread_priority()

    def _schedule(self) -> None:
        # One job per turn of the thread's event loop, so newly queued jobs and stops get in between.
        # A queued signal to itself rather than QTimer.singleShot(0, ...): no helper object is made
        # on this thread for every job, and a step still pending when the thread ends goes with
        # the worker instead of holding on to it.
        if not self._scheduled and self._queue:
            self._scheduled = True
            self._step_requested.emit()

    @Slot()
    def _step(self) -> None:
        self._scheduled = False
        if not self._queue:
            return
        job = self._queue.popleft()
        if self._stale(job):
            self._drop_prefetch(job.id)
            self.job_cancelled.emit(job.id)
        else:
            self._prefetch_next()
            self._run(job)
        if self._queue:
            self._schedule()
        else:
            self.idle.emit()

    # -- one job ----------------------------------------------------------------------------------
    def _run(self, job: ColorizeJob) -> None:
        from colorize_app.core.imageio import EXTENSIONS

        started = time.perf_counter()
        self.job_started.emit(job.id)
        name = Path(job.source).name
        made: dict[str, np.ndarray] = {}

        def colorize_fn(pixels: np.ndarray, on_progress, is_cancelled) -> np.ndarray:
            self._check(job)
            self.job_progress.emit(job.id, READ_SHARE)
            made["chroma"] = job.chroma if job.chroma is not None else self._predict(job, pixels)
            self.job_progress.emit(job.id, NETWORK_SHARE)
            made["result"] = self._compose(job, pixels, made["chroma"])
            return made["result"]

        try:
            if job.output and not job.overwrite and Path(job.output).exists():
                self._drop_prefetch(job.id)
                self.job_finished.emit(job.id, {"skipped": True, "saved_to": job.output})
                return
            image = self._read(job)
            saved_to, save_error = "", ""
            fmt = EXTENSIONS.get(Path(job.output).suffix.lower()) if job.output else None
            try:
                saved_to = self._colorize_and_save(job, image, fmt, colorize_fn)
            except ImageWriteError as exc:
                if "result" not in made:
                    raise
                save_error = str(exc)  # colorized but not written: keep the result, say why
            self.job_progress.emit(job.id, 1.0)
            shown = levels(made["result"])
            self.job_finished.emit(job.id, {
                # Half precision is plenty for a colour and halves what the list keeps per photo.
                "chroma": made["chroma"].astype(np.float16),
                "display": for_display(shown), "thumbnail": thumbnail(shown),
                "saved_to": saved_to, "save_error": save_error, "skipped": False,
                "predicted": job.chroma is None, "device": self._device_name(),
                "seconds": time.perf_counter() - started,
            })
        except Cancelled:
            self.job_cancelled.emit(job.id)
        except WeightsError as exc:
            self.job_cancelled.emit(job.id)
            self.cancel_all()
            self.model_failed.emit(str(exc))
        except ColorizeError as exc:
            self.job_failed.emit(job.id, str(exc))
        except MemoryError:
            self.job_failed.emit(job.id, self.tr("Not enough memory to colorize {0}. Close other "
                                                 "programs or colorize it on its own.").format(name))
        except Exception as exc:  # a bug: logged in full, shown as a sentence, never a traceback
            logger.exception("Unexpected error colorizing %s", job.source)
            self.job_failed.emit(job.id, self.tr("Unexpected error colorizing {0}: {1}")
                                 .format(name, exc))

    def _colorize_and_save(self, job: ColorizeJob, image, fmt: str | None, colorize_fn) -> str:
        """Colorize, and save where the job says; returns the path written ("" for none)."""
        from colorize_app.core.imageio import write_image
        from colorize_app.core.job import colorize_file

        if fmt is not None and fmt != image.format:  # Save As with another extension
            result = colorize_fn(image.pixels, None, None)
            self._check(job)
            return str(write_image(job.output, result, like=image, format=fmt,
                                   overwrite=job.overwrite))
        if job.output:  # core's one "colour a file and save it" step: the CLI's rules
            return str(colorize_file(job.source, job.output, colorize_fn, image=image,
                                     overwrite=job.overwrite, is_cancelled=partial(self._stale, job)))
        colorize_fn(image.pixels, None, None)
        return ""

    def _check(self, job: ColorizeJob) -> None:
        if self._stale(job):
            raise Cancelled("Stopped.")

    def _read(self, job: ColorizeJob):
        future = self._prefetch.pop(job.id, None)
        if future is not None:
            return future.result()
        from colorize_app.core.imageio import read_image

        return read_image(job.source)

    def _prefetch_next(self) -> None:
        # Decode the next photo while the network works on this one (the two overlap well: the
        # decoder and torch both release the GIL).
        from colorize_app.core.imageio import read_image

        for job in list(self._queue)[:1]:
            if job.id not in self._prefetch and not self._stale(job):
                if job.output and not job.overwrite and Path(job.output).exists():
                    continue
                self._prefetch[job.id] = self._reader.submit(read_image, job.source)

    def _drop_prefetch(self, job_id: int) -> None:
        future = self._prefetch.pop(job_id, None)
        if future is not None:
            future.cancel()

    def _predict(self, job: ColorizeJob, pixels: np.ndarray) -> np.ndarray:
        from colorize_app.core.pipeline import predict_chroma

        model = self._ensure_model(job.device)
        try:
            return predict_chroma(pixels, model, render_size=job.render_size)
        except RuntimeError as exc:
            if self._device is None or self._device.type == "cpu" or not _out_of_memory(exc):
                raise
            logger.warning("Out of GPU memory on %s; falling back to the CPU", job.source)
            self._cpu_fallback = True
            self._move_model("cpu")
            self.notice.emit(self.tr("The GPU ran out of memory; continuing on the CPU."))
            return predict_chroma(pixels, self._model, render_size=job.render_size)

    def _compose(self, job: ColorizeJob, pixels: np.ndarray, chroma: np.ndarray) -> np.ndarray:
        from colorize_app.core.chroma import compose

        def progress(fraction: float) -> None:
            self.job_progress.emit(job.id, NETWORK_SHARE + (COMPOSE_SHARE - NETWORK_SHARE) * fraction)

        return compose(pixels, chroma, saturation=job.saturation, on_progress=progress,
                       is_cancelled=partial(self._stale, job))

    # -- the model --------------------------------------------------------------------------------
    def _ensure_model(self, device: str):
        from colorize_app.core import weights

        if self._model is None:
            # Collection runs on the GUI thread only (gc_guard); what loading torch and the model
            # created is long-lived, so it is set aside rather than scanned again and again.
            try:
                self._model = weights.load_model(self._weights, device="cpu")
                self._move_model(self._torch_device(device))
            finally:
                gc_guard.set_aside_long_lived_objects()
            self.model_loaded.emit(self._describe())
        elif str(self._torch_device(device)) != str(self._device):
            self._move_model(self._torch_device(device))
            self.model_loaded.emit(self._describe())
        return self._model

    def _torch_device(self, choice: str) -> str:
        from colorize_app.core.device import cuda_available, mps_available

        if self._cpu_fallback or choice == "cpu":
            return "cpu"
        if cuda_available():
            return "cuda"
        if mps_available():
            return "mps"
        return "cpu"

    def _move_model(self, device: str) -> None:
        import torch

        self._device = torch.device(device)
        self._model.to(self._device)
        if self._device.type == "cpu" and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _device_name(self) -> str:
        from colorize_app.core.device import describe

        return describe(self._device) if self._device is not None else ""

    def _describe(self) -> dict:
        from colorize_app.core.device import cuda_available, mps_available

        meta = getattr(self._model, "metadata", {}) or {}
        training = meta.get("training") or {}
        path = getattr(self._model, "weights_path", None)
        name = training.get("name") or (Path(path).stem if path else "model")
        return {
            "name": str(name),
            "device": self._device_name(),
            "summary": dict(training),  # plain JSON from the file: the model card
            "config": meta.get("model_config") or {},
            "path": str(path or ""),
            "gpu_available": cuda_available() or mps_available(),
        }


def _out_of_memory(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower()


class WorkerHost(QObject):
    """The window's handle on the two worker threads. Lives in the window's thread.

    `colorizer` and `previewer` live on their own threads and are deleted there as those threads
    end (a QObject is destroyed on its own thread), so they are not to be used after `shut_down()`.
    """

    _submitted = Signal(object)
    _warm_up_requested = Signal(str)

    def __init__(self, weights: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc_guard.install()  # before any worker thread can start collecting Qt objects
        self.colorizer = ColorizeWorker(weights)
        self.previewer = PreviewWorker()
        self._threads = []
        for worker, name in ((self.colorizer, "colorize"), (self.previewer, "preview")):
            thread = QThread()
            thread.setObjectName(name)
            worker.moveToThread(thread)
            thread.started.connect(worker.lower_priority)
            if worker is self.colorizer:
                thread.finished.connect(worker.close_reader)
            thread.finished.connect(worker.deleteLater)  # run on that thread as it ends
            thread.start(QThread.Priority.LowPriority)
            self._threads.append(thread)
        self._shut_down = False
        self._submitted.connect(self.colorizer.submit)
        self._warm_up_requested.connect(self.colorizer.warm_up)

    def colorize(self, jobs: list[ColorizeJob]) -> None:
        epoch = self.colorizer.epoch()
        self._submitted.emit([replace(job, epoch=epoch) for job in jobs])

    def stop(self) -> None:
        self.colorizer.cancel_all()

    def warm_up(self, device: str = "auto") -> None:
        self._warm_up_requested.emit(device)

    def shut_down(self) -> None:
        """Stop everything and wait for the threads, so nothing is left writing after the window.

        Closing the window calls it, and app.py again once the event loop ends: the second time
        does nothing.
        """
        if self._shut_down:
            return
        self._shut_down = True
        self.colorizer.cancel_all()
        self.previewer.cancel_all()
        for thread in self._threads:
            thread.quit()  # the running job ends at its next checkpoint, as a cancelled one
        for thread in self._threads:
            thread.wait()  # also for the reader to close and the workers to be deleted there
