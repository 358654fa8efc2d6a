"""The window's handle on the two worker threads: the network's lane and the preview's lane.

app.py (or a test) makes one and hands it to the window, which talks to the workers only through
their signals and the methods here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from colorize_app.core.job import Job
from colorize_app.workers.colorize_worker import ColorizeWorker
from colorize_app.workers.preview_worker import PreviewWorker


class WorkerHost(QObject):
    """Lives in the window's thread and owns the worker threads.

    `colorizer` and `previewer` live on their own threads and are deleted there as those threads
    end (a QObject is destroyed on its own thread), so they are not to be used after `shut_down()`.
    """

    _submitted = Signal(object)
    _warm_up_requested = Signal(str)
    _hints_requested = Signal(object)

    def __init__(self, weights: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.weights = weights  # None: the shipped model
        self.colorizer = ColorizeWorker(weights)
        self.previewer = PreviewWorker()
        self._threads = []
        for worker, name in ((self.colorizer, "colorize"), (self.previewer, "preview")):
            thread = QThread()
            thread.setObjectName(name)
            worker.moveToThread(thread)
            priority = QThread.Priority.LowPriority
            if worker is self.colorizer:
                # Normal priority, as the command line: the engine leaves a core free instead
                # (core.engine.batch_threads). At nice 10 the batch lost to any busy program
                # (0.13 of the command line's rate with other work on the machine).
                priority = QThread.Priority.NormalPriority
                thread.finished.connect(worker.close_reader)
            else:  # thumbnails for a whole album must not compete with the window's thread
                thread.started.connect(worker.lower_priority)
            thread.finished.connect(worker.deleteLater)  # run on that thread as it ends
            thread.start(priority)
            self._threads.append(thread)
        self._shut_down = False
        self._submitted.connect(self.colorizer.submit)
        self._warm_up_requested.connect(self.colorizer.warm_up)
        self._hints_requested.connect(self.colorizer.request_hints)

    def colorize(self, jobs: list[Job]) -> None:
        """Queue jobs for the network (or, with a chroma, for re-composing and saving)."""
        epoch = self.colorizer.epoch()
        self._submitted.emit([(epoch, job) for job in jobs])

    def predict_hints(self, request) -> None:
        """Re-run the network for one photo's new hints (a requests.HintRequest)."""
        self._hints_requested.emit(request)

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
