"""Windows come and go while the workers run, and the process never crashes.

Qt destroys a widget wherever its last reference goes. A window kept alive by a reference cycle
is freed by Python's garbage collector, which runs on whichever thread happens to allocate, so
it can destroy the widgets from a worker thread, and Qt crashes. The window must be freed by
reference counting alone, on the GUI thread, as soon as it is closed and deleted.
"""

from __future__ import annotations

import gc
import weakref

import pytest
from photos import save_photo
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from colorize_app.ui.main_window import MainWindow
from colorize_app.ui.settings import AppSettings
from colorize_app.workers.host import WorkerHost

ROUNDS = 12


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch):
    """These windows close mid-batch on purpose: answer the window's question with "quit"."""
    from colorize_app.ui import guards

    monkeypatch.setattr(guards, "ask_quit_mid_batch", lambda parent, left: True)


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "album"
    for i in range(4):
        save_photo(folder / f"p{i}.jpg", size=(240, 320), mode="L")
    return folder


def open_and_close(album, settings, weights, *, work_ms: int) -> weakref.ref:
    """A window colorizing the album, closed after `work_ms`; returns a weak reference to it."""
    host = WorkerHost(weights=weights)
    window = MainWindow(AppSettings(settings), host)
    window.show()
    window.open_paths([album], remember=False)
    while window.opener.is_looking():  # the album is walked off the window's thread
        QApplication.processEvents()
        QApplication.instance().thread().msleep(10)
    window.batch_panel.view.setCurrentIndex(window.model.index(0, 0))  # preview busy too
    window.colorize_all()
    deadline = QApplication.instance()
    for _ in range(max(1, work_ms // 10)):
        deadline.processEvents()
        QApplication.instance().thread().msleep(10)
    window.close()  # stops the workers mid-batch and waits for their threads
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return weakref.ref(window)


def test_a_closed_window_is_freed_without_the_garbage_collector(qtbot, album, tmp_path,
                                                                tiny_weights):
    gc.collect()
    gc.disable()
    try:
        gone = open_and_close(album, tmp_path / "s.ini", tiny_weights, work_ms=100)
        assert gone() is None, "a reference cycle keeps the closed window alive: " + ", ".join(
            type(r).__name__ for r in gc.get_referrers(gone()))
    finally:
        gc.enable()


def test_opening_and_closing_windows_while_workers_run_never_crashes(qtbot, album, tmp_path,
                                                                     tiny_weights):
    # Collect often, so a collection lands on a worker thread if any cycle is left to collect.
    thresholds = gc.get_threshold()
    gc.set_threshold(50, 2, 2)
    try:
        for round_ in range(ROUNDS):
            gone = open_and_close(album, tmp_path / "s.ini", tiny_weights,
                                  work_ms=20 + 40 * (round_ % 4))
            assert gone() is None
    finally:
        gc.set_threshold(*thresholds)
    # The last batch was stopped, not lost: what was saved before closing is on disk, whole.
    for result in album.glob("*_colorized.jpg"):
        assert result.stat().st_size > 0
