"""Opening photos and folders without freezing the window: what a person opens is walked and
planned on the opening lane (core.finder through workers/find_worker.py), with how far it got in
the status bar and a Stop beside it; the window hears `opened` once the entries are found."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from colorize_app.ui.opening import MAX_PHOTOS, entries_from
from colorize_app.ui.status_bar import AppStatusBar
from colorize_app.workers.requests import FindRequest

logger = logging.getLogger(__name__)

SHOW_AFTER_MS = 300  # a photo or a small folder opens before "Looking for photos…" would flash


@dataclass
class Opening:
    """One open: what was asked, and once found, its list entries and problems."""

    paths: list[Path]
    remember: bool = True  # put what opened in Open Recent
    then: Callable[[], None] | None = None  # run once its entries are in the list
    entries: list = field(default_factory=list)  # BatchEntry
    problems: list[str] = field(default_factory=list)


class OpenController(QObject):
    """Keeps the opening lane's tickets; see the module's docstring."""

    opened = Signal(object)  # an Opening, its entries and problems filled in
    looking_changed = Signal(bool)  # a walk started (True), or the last one ended or stopped
    message = Signal(str)

    def __init__(self, lane, finder, status: AppStatusBar, parent: QObject | None = None) -> None:
        """`lane` and `finder`: the host's `opening` lane and its FindWorker."""
        super().__init__(parent)
        self._lane = lane
        self._status = status
        self._pending: dict[int, Opening] = {}
        self._counts = (0, 0)  # folders, photos: the latest report of the walk running
        self._reveal = QTimer(self, singleShot=True, interval=SHOW_AFTER_MS,
                              timeout=self._show_looking)
        lane.finished.connect(self._on_finished)
        lane.failed.connect(self._on_failed)
        lane.cancelled.connect(self._on_cancelled)
        finder.looked.connect(self._on_looked)
        status.stop_looking.clicked.connect(self.stop)

    def open(self, paths: list[Path], *, recursive: bool, export: dict, remember: bool = True,
             then: Callable[[], None] | None = None) -> None:
        """Look for the photos and films among `paths` off the window's thread."""
        # A second open while a walk runs waits its turn in the lane's queue (first in, first
        # out) rather than replacing it: a person who drops two folders expects both, in that
        # order. Stop ends them all.
        request = FindRequest(tuple(str(p) for p in paths), recursive, export, MAX_PHOTOS)
        ticket = self._lane.submit("find", request)
        if not ticket:  # the window is closing
            return
        self._pending[ticket] = Opening(list(paths), remember, then)
        if len(self._pending) == 1:
            self._counts = (0, 0)
            self._reveal.start()
            self.looking_changed.emit(True)

    def is_looking(self) -> bool:
        """True from an open until its entries are in the list (or it is stopped)."""
        return bool(self._pending)

    @Slot()
    def stop(self) -> None:
        """Stop every walk, the running one at its next folder or photo; nothing of them is
        added, also when an answer is already on its way."""
        if self._pending:
            self.close()
            self.message.emit(self.tr("Stopped looking for photos; nothing was added."))

    def close(self) -> None:
        """Stop without a word (the window is closing)."""
        self._lane.cancel()
        self._pending.clear()
        self._settle()

    def _settle(self) -> None:
        if not self._pending:
            self._reveal.stop()
            self._status.hide_looking()
            self.looking_changed.emit(False)

    @Slot()
    def _show_looking(self) -> None:
        if self._pending:
            self._status.set_looking(*self._counts)

    @Slot(int, int, int)
    def _on_looked(self, ticket: int, folders: int, photos: int) -> None:
        if ticket in self._pending:
            self._counts = (folders, photos)
            if not self._reveal.isActive():
                self._show_looking()

    @Slot(int, object)
    def _on_finished(self, ticket: int, found: list) -> None:
        opening = self._pending.pop(ticket, None)
        if opening is not None:
            opening.entries, opening.problems = entries_from(found)
            self._answer(opening)

    @Slot(int, str)
    def _on_failed(self, ticket: int, sentence: str) -> None:
        opening = self._pending.pop(ticket, None)
        if opening is not None:
            opening.problems = [sentence]
            self._answer(opening)

    @Slot(int)
    def _on_cancelled(self, ticket: int) -> None:
        if self._pending.pop(ticket, None) is not None:  # not by stop(): the lane shut down
            self._settle()

    def _answer(self, opening: Opening) -> None:
        self._counts = (0, 0)  # the next walk reports its own
        if self._pending:
            self._status.hide_looking()
            self._reveal.start()
        self.opened.emit(opening)
        self._settle()
