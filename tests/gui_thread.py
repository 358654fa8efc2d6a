"""Waiting for a worker thread's signal the way the window hears it: on the GUI thread.

PySide6 calls a plain Python callable connected to a signal in the thread that emits the signal,
so `qtbot.waitSignal(worker.job_finished)` runs pytest-qt's handler in the worker's thread. There
it stops pytest-qt's timeout QTimer from the wrong thread ("QObject::killTimer: Timers cannot be
stopped from another thread", and the timer stays registered), can drop the last reference to
pytest-qt's QEventLoop and that QTimer so that they are destroyed off their thread, and ends the
wait as soon as the worker emits: before the GUI thread has delivered that signal, or the ones the
worker emitted just before it, to the window. A test that then looks at the window can find it
half updated (the batch over, the "No colorization model" box not open yet).

`heard()` relays the signals through a QObject that lives on the GUI thread. Qt queues each call
there behind everything the worker emitted earlier, so when the wait ends the window has handled
all of it, and pytest-qt only ever runs on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, Signal


class Relay(QObject):
    """Emits `heard` on the GUI thread the first time `signal` fires, and keeps its arguments."""

    heard = Signal()

    def __init__(self, signal) -> None:
        super().__init__()
        self.args: list | None = None
        self._signal = signal
        # A method of a QObject that lives here: Qt calls it on this thread, through the queue.
        # Not decorated with @Slot, so it takes whatever arguments the signal carries.
        signal.connect(self._on_signal)

    def _on_signal(self, *args) -> None:
        if self.args is None:
            self.args = list(args)
            self.heard.emit()

    def detach(self) -> None:
        self._signal.disconnect(self._on_signal)


@contextmanager
def heard(qtbot, signals, *, timeout: int) -> Iterator:
    """`qtbot.waitSignal` (or `waitSignals`, given a list) for signals of worker threads.

    Yields a Relay whose `args` are the signal's arguments, like the blocker's; a list of them for
    a list of signals, all of which must fire. Raises pytest-qt's TimeoutError after `timeout` ms.
    """
    relays = [Relay(signal) for signal in (signals if isinstance(signals, list) else [signals])]
    try:
        with qtbot.waitSignals([relay.heard for relay in relays], timeout=timeout):
            yield relays if isinstance(signals, list) else relays[0]
    finally:
        for relay in relays:
            relay.detach()
