"""Where a film's colour points are on each of its frames, for the hint markers.

The tracks lane (workers.host) works it out: core.film.hint_track, the colouring pass's own plan
and flow, a few numbers a frame. This object asks it whenever the film's points change (a newer
question ends an older one still running: the lane's latest-wins kind) and keeps the latest
answer; until it comes, a point shows on the frame it was placed on.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from colorize_app.core.job import Job, JobOptions
from colorize_app.ui.batch_model import BatchEntry

logger = logging.getLogger(__name__)


class HintTrack(QObject):
    """The latest film's track: per frame, (index into its hints, x, y) of the points there."""

    changed = Signal(int)  # the entry id whose track arrived

    def __init__(self, lane: QObject, parent: QObject | None = None) -> None:
        # `lane`: the host's tracks lane (workers.lane.Lane).
        super().__init__(parent)
        self._lane = lane
        self._track: tuple[int, tuple, list] | None = None  # entry id, its hints, the places
        self._asked: dict[int, tuple[int, tuple]] = {}  # ticket -> (entry id, hints)
        lane.finished.connect(self._on_finished)
        lane.failed.connect(self._on_failed)
        lane.cancelled.connect(self._on_cancelled)

    def request(self, entry: BatchEntry, render_size: int) -> None:
        """Ask where ``entry``'s points are on each frame, unless that is known already."""
        hints = tuple(entry.hints or ())
        if not hints or self._known(entry.id, hints):
            return
        job = Job(entry.source, options=JobOptions(render_size=render_size), hints=hints)
        self._asked[self._lane.submit("hint_track", job)] = (entry.id, hints)

    def places(self, entry: BatchEntry, frame: int) -> list[tuple[int, float, float]]:
        """(index into ``entry``'s hints, x, y) of the points on ``frame``."""
        hints = tuple(entry.hints or ())
        if self._known(entry.id, hints):
            places = self._track[2]
            return list(places[frame]) if frame < len(places) else []
        return [(i, h.x, h.y) for i, h in enumerate(hints) if (h.frame or 0) == frame]

    def _known(self, entry_id: int, hints: tuple) -> bool:
        return self._track is not None and self._track[:2] == (entry_id, hints)

    @Slot(int, object)
    def _on_finished(self, ticket: int, places) -> None:
        if ticket in self._asked:
            entry_id, hints = self._asked.pop(ticket)
            self._track = (entry_id, hints, places)
            self.changed.emit(entry_id)

    @Slot(int, str)
    def _on_failed(self, ticket: int, reason: str) -> None:
        if self._asked.pop(ticket, None) is not None:
            logger.info("No hint track: %s", reason)  # the points show on their own frames

    @Slot(int)
    def _on_cancelled(self, ticket: int) -> None:
        self._asked.pop(ticket, None)
