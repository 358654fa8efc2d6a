"""The opening lane's handler: the walk of what a person opened (core.finder), off the window's
thread, stoppable (the lane's cancel) and telling how far it got."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from colorize_app.core.batch import Walk
from colorize_app.core.finder import Found, find
from colorize_app.workers.lane import Lane, Task
from colorize_app.workers.requests import FindRequest

REPORT_EVERY_S = 0.1  # a local disk walks thousands of folders a second: the bar needs ten


class FindWorker(QObject):
    """One kind on its lane: ``find`` (a FindRequest, queued), answered with core.finder's list
    of Found; how far the walk got goes out on ``looked`` as it goes."""

    looked = Signal(int, int, int)  # ticket, folders looked in, photos and films found

    def __init__(self, lane: Lane) -> None:
        super().__init__()
        lane.handle("find", self.find)

    def find(self, request: FindRequest, task: Task) -> list[Found]:
        last = -REPORT_EVERY_S

        def report(folders: int, photos: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= REPORT_EVERY_S:
                last = now
                self.looked.emit(task.ticket, folders, photos)

        walk = Walk(report, task.is_cancelled, request.max_photos)
        return find(request.paths, walk, recursive=request.recursive, **request.export)
