"""A lane: one long-lived QThread that runs handlers, one request at a time, off the window's thread.

A handler is a plain function ``handler(request, task) -> result`` that calls core. The window
submits ``(kind, request)`` and gets a ticket at once; the lane answers on its signals with that
ticket: ``finished(ticket, result)`` or ``failed(ticket, sentence)`` (a ``ColorizeError``, an
``OSError`` or a ``MemoryError`` the handler let through), ``cancelled(ticket)`` (the handler raised
``Cancelled``, or the work was stopped before its turn). Adding a kind of work is one
``handle()`` and one ``submit()``.

Two kinds of kinds:
- latest-wins (``handle(..., latest=True)``): one slot per kind; a newer request replaces one not
  started yet (the replaced ticket is answered ``cancelled``) and ends the running one of its kind
  at its next ``task.is_cancelled()``, as ``cancel()`` and ``shut_down()`` do. Slots run before
  the queue, in the order they were registered (the photo on screen before thumbnails, a hint
  before the batch).
- queued: first in, first out. ``cancel()`` (thread-safe) stops the queued work of every kind and
  the running one at its next ``task.is_cancelled()``: one cancellation generation per lane.
  ``drop(tickets)`` (thread-safe) does the same for those requests alone (photos taken off the
  list mid-batch).

Every ticket gets exactly one answer.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from colorize_app.core.errors import Cancelled, ColorizeError

logger = logging.getLogger(__name__)

# One count for every lane: a controller listening to two lanes never mistakes one's answer for
# the other's, and within a lane a later request has a higher ticket.
_tickets = itertools.count(1)


@dataclass
class Task:
    """What a handler is handed beside its request: its ticket, progress, a cancel check, and a
    look at the queued requests of its kind that come next (to read ahead)."""

    ticket: int
    progress: Callable[[float], None]
    is_cancelled: Callable[[], bool]
    upcoming: Callable[[], list] = field(default=list)


@dataclass
class _Kind:
    handler: Callable[[Any, Task], Any]
    latest: bool
    dropped: Callable[[Any], None] | None  # told of queued requests cancelled before their turn


class Lane(QObject):
    """One thread, one request at a time; see the module's docstring."""

    started = Signal(int)  # ticket
    progress = Signal(int, float)  # ticket, 0..1
    finished = Signal(int, object)  # ticket, the handler's result
    failed = Signal(int, str)  # ticket, a sentence a person can act on
    cancelled = Signal(int)  # ticket
    idle = Signal()  # the queue ran dry
    _submitted = Signal(int, int, str, object)  # to itself, queued: ticket, generation, kind, request
    _step_requested = Signal()  # to itself, queued: run the next request in a later turn
    _drain_requested = Signal()  # to itself, blocking: run what is left, then answer

    def __init__(self, name: str, *, low_priority: bool = False) -> None:
        super().__init__()
        self._kinds: dict[str, _Kind] = {}
        self._slots: dict[str, tuple[int, int, Any]] = {}  # kind -> (ticket, generation, request)
        self._newest: dict[str, int] = {}  # latest-wins kind -> its newest ticket (thread-safe)
        self._queue: deque[tuple[int, int, str, Any]] = deque()  # ticket, generation, kind, request
        self._closers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._generation = 0
        self._dropped: set[int] = set()  # queued tickets to answer "cancelled" (drop())
        self._scheduled = False
        self._open = True  # False once shut down: later submissions get no answer
        self._submitted.connect(self._accept, Qt.ConnectionType.QueuedConnection)
        self._step_requested.connect(self._step, Qt.ConnectionType.QueuedConnection)
        self._drain_requested.connect(self._drain, Qt.ConnectionType.BlockingQueuedConnection)
        self.thread_ = QThread()
        self.thread_.setObjectName(name)
        self.moveToThread(self.thread_)
        if low_priority:  # let the window's thread win the CPU when both want it
            self.thread_.started.connect(self._lower_priority)
        self.thread_.finished.connect(self._close)  # runs on the lane's thread as it ends
        self.thread_.finished.connect(self.deleteLater)  # a QObject is destroyed on its thread
        self.thread_.start(QThread.Priority.LowPriority if low_priority
                           else QThread.Priority.NormalPriority)  # fmt: skip

    def handle(self, kind: str, handler: Callable[[Any, Task], Any], *, latest: bool = False,
               dropped: Callable[[Any], None] | None = None) -> None:
        """Register ``handler`` for ``kind`` (before submitting any)."""
        self._kinds[kind] = _Kind(handler, latest, dropped)

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call ``closer`` on the lane's thread as the thread ends (e.g. stop a reader thread)."""
        self._closers.append(closer)

    # -- thread-safe ------------------------------------------------------------------------------
    def submit(self, kind: str, request: Any) -> int:
        """Hand ``request`` to ``kind``'s handler; returns its ticket at once (0 once the lane is
        shut down: an answer still on its way to the window may ask for more work)."""
        with self._lock:
            if not self._open:
                return 0
            ticket, generation = next(_tickets), self._generation
            if self._kinds[kind].latest:
                self._newest[kind] = ticket
        self._submitted.emit(ticket, generation, kind, request)
        return ticket

    def cancel(self) -> None:
        """Stop the running request at its next check and drop every queued one."""
        with self._lock:
            self._generation += 1

    def drop(self, tickets) -> None:
        """Stop these queued requests: each not started is answered cancelled in its turn, the
        running one at its next check; the rest of the queue goes on."""
        with self._lock:
            self._dropped.update(tickets)

    def _stale(self, generation: int, ticket: int = 0) -> bool:
        with self._lock:
            return generation != self._generation or ticket in self._dropped

    def _superseded(self, kind: str, ticket: int, generation: int) -> bool:
        with self._lock:
            return self._newest[kind] != ticket or generation != self._generation

    def shut_down(self, *, finish_queue: bool = False) -> None:
        """End the thread and wait for it. The running request ends as cancelled and the queue is
        dropped; with ``finish_queue`` everything submitted before is run first (files)."""
        with self._lock:
            self._open = False
        if finish_queue:
            self._drain_requested.emit()  # returns once the lane has run it all
        else:
            self.cancel()
        self.thread_.quit()
        self.thread_.wait()

    # -- on the lane's thread ---------------------------------------------------------------------
    @Slot()
    def _lower_priority(self) -> None:
        # On Linux a thread has its own nice value, and the threads it starts later (torch's and
        # OpenCV's pools) inherit it. Elsewhere QThread.LowPriority, set at start, does the job.
        if sys.platform.startswith("linux"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            except (OSError, AttributeError):
                logger.debug("Could not lower the lane's priority", exc_info=True)

    @Slot()
    def _close(self) -> None:
        for closer in self._closers:
            closer()

    @Slot(int, int, str, object)
    def _accept(self, ticket: int, generation: int, kind: str, request: Any) -> None:
        if self._kinds[kind].latest:
            replaced = self._slots.get(kind)
            self._slots[kind] = (ticket, generation, request)
            if replaced is not None:
                self.cancelled.emit(replaced[0])
        else:
            self._queue.append((ticket, generation, kind, request))
        self._schedule()

    @Slot()
    def _drain(self) -> None:
        while self._slots or self._queue:
            self._step()

    def _schedule(self) -> None:
        # One request per turn of the thread's event loop, so that newer requests and stops get in
        # between. A queued signal to itself rather than QTimer.singleShot(0, ...): no helper
        # object is made on this thread per request, and a step still pending as the thread ends
        # goes with the lane instead of holding on to it.
        if not self._scheduled and (self._slots or self._queue):
            self._scheduled = True
            self._step_requested.emit()

    @Slot()
    def _step(self) -> None:
        self._scheduled = False
        if self._slots:
            kind = next(k for k in self._kinds if k in self._slots)
            ticket, generation, request = self._slots.pop(kind)
            self._run(ticket, kind, request, generation)
        elif self._queue:
            ticket, generation, kind, request = self._queue.popleft()
            if self._stale(generation, ticket):
                if self._kinds[kind].dropped is not None:
                    self._kinds[kind].dropped(request)
                self.cancelled.emit(ticket)
            else:
                self._run(ticket, kind, request, generation)
            with self._lock:
                self._dropped.discard(ticket)  # answered
            if not self._queue:
                self.idle.emit()
        self._schedule()

    def _run(self, ticket: int, kind: str, request: Any, generation: int) -> None:
        self.started.emit(ticket)
        # A latest-wins request is stopped by a newer one of its kind, and, as queued ones, by
        # cancel() after it was submitted.
        is_cancelled = (partial(self._superseded, kind, ticket, generation) if self._kinds[kind].latest
                        else partial(self._stale, generation, ticket))  # fmt: skip
        task = Task(ticket, partial(self.progress.emit, ticket), is_cancelled,
                    partial(self._upcoming, kind))
        try:
            result = self._kinds[kind].handler(request, task)
        except Cancelled:
            self.cancelled.emit(ticket)
        except (ColorizeError, OSError, MemoryError) as exc:
            self.failed.emit(ticket, str(exc) or type(exc).__name__)
        else:
            self.finished.emit(ticket, result)

    def _upcoming(self, kind: str) -> list:
        return [request for ticket, generation, queued_kind, request in list(self._queue)[:1]
                if queued_kind == kind and not self._stale(generation, ticket)]  # fmt: skip
