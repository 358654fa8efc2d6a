"""Run Python's garbage collector on the GUI thread only.

CPython collects on whichever thread happens to allocate past the threshold. When that is a
worker thread and the garbage holds Qt objects that belong to the GUI thread (a closed window's
widgets, pixmaps), Qt destroys them from the wrong thread and the process can crash with a
segmentation fault "while garbage-collecting". So automatic collection is turned off once a
worker thread exists, and a timer on the GUI thread collects instead, generation by generation,
on the same thresholds CPython would use.

That covers the collector only. A Qt object is also destroyed wherever the last reference to it
is dropped, so only plain data (paths, arrays, strings) crosses between threads, and WorkerHost
has each worker deleted on its own thread.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot

logger = logging.getLogger(__name__)

INTERVAL_MS = 250


class MainThreadCollector(QObject):
    """A timer on the GUI thread that does what CPython's automatic collection would."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)

    @Slot()
    def collect(self) -> None:
        count0, count1, count2 = gc.get_count()
        if count0 <= self._thresholds[0]:
            return
        generation = 0
        if count1 > self._thresholds[1]:
            generation = 2 if count2 > self._thresholds[2] else 1
        gc.collect(generation)


def install() -> None:
    """Idempotent: disable automatic collection and collect on the application's thread instead."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before starting worker threads")
    if app.findChild(MainThreadCollector) is None:
        gc.disable()
        MainThreadCollector(app)
        logger.debug("garbage collection moved to the GUI thread")


def set_aside_long_lived_objects() -> None:
    """Move everything alive now (torch's modules, the model) out of future collections.

    Importing torch and building the model make hundreds of thousands of long-lived objects;
    scanning them in every full collection would hold the GIL long enough to stall the window.
    Safe on any thread (the worker calls it): freezing moves objects aside and destroys nothing.
    """
    gc.freeze()
