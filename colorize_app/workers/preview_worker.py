"""What the window shows, prepared off its thread: display copies, thumbnails, quick re-colouring.

No torch here: re-applying a saturation uses the prediction the network already made and
`core.chroma.compose` (numpy and OpenCV), so the saturation slider answers at once even while the
network is busy with another photo in the other thread. The pixel work itself is core's
(`core.display`, `core.imageio`); this object only schedules it and signals the answers.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot

from colorize_app.core.chroma import compose
from colorize_app.core.display import for_display, levels, quick_level, read_thumbnail
from colorize_app.core.errors import ColorizeError
from colorize_app.core.imageio import read_image
from colorize_app.workers.priority import lower_thread_priority
from colorize_app.workers.requests import RecomposeRequest, ShowRequest

logger = logging.getLogger(__name__)


class PreviewWorker(QObject):
    """Latest request wins: a newer show or re-compose replaces one not yet started."""

    original_loaded = Signal(int, object)  # request id, display levels (see for_display)
    result_loaded = Signal(int, object)  # request id, display levels (one small one if quick)
    preview_failed = Signal(int, str)  # request id, reason
    thumbnail_loaded = Signal(int, object)  # entry id, HxWx3 uint8
    _step_requested = Signal()  # to itself, queued: the next piece of work in a later turn

    def __init__(self) -> None:
        super().__init__()
        self._show: ShowRequest | None = None
        self._recompose: RecomposeRequest | None = None
        self._thumbnails: deque[tuple[int, str, int]] = deque()  # id, path, generation
        self._original: tuple[str, list[np.ndarray]] | None = None  # the photo last shown
        self._scheduled = False
        self._lock = threading.Lock()
        self._generation = 0
        self._step_requested.connect(self._step, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def lower_priority(self) -> None:
        """Run in this thread: let the window's thread win the CPU when both want it."""
        lower_thread_priority()

    def cancel_all(self) -> None:
        """Thread-safe: forget queued thumbnails (the list was cleared or the window is closing)."""
        with self._lock:
            self._generation += 1

    @Slot(object)
    def request_show(self, request: ShowRequest) -> None:
        self._show, self._recompose = request, None
        self._schedule()

    @Slot(object)
    def request_recompose(self, request: RecomposeRequest) -> None:
        self._recompose = request
        self._schedule()

    @Slot(object)
    def request_thumbnails(self, items: list[tuple[int, str]]) -> None:
        with self._lock:
            generation = self._generation
        self._thumbnails.extend((entry_id, path, generation) for entry_id, path in items)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self._step_requested.emit()  # see ColorizeWorker._schedule

    @Slot()
    def _step(self) -> None:
        # One piece of work per turn, the photo on screen first, so requests arriving meanwhile
        # can replace stale ones before they are started.
        self._scheduled = False
        if self._show is not None:
            request, self._show = self._show, None
            self._do_show(request)
        elif self._recompose is not None:
            request, self._recompose = self._recompose, None
            self._do_recompose(request)
        elif self._thumbnails:
            self._do_thumbnail(*self._thumbnails.popleft())
        if self._show or self._recompose or self._thumbnails:
            self._schedule()

    def _do_show(self, request: ShowRequest) -> None:
        try:
            original = levels(read_image(request.source).pixels)
        except ColorizeError as exc:
            self._original = None
            self.preview_failed.emit(request.id, str(exc))
            return
        except MemoryError:
            self.preview_failed.emit(request.id, self.tr("Not enough memory to show this photo."))
            return
        self._original = (request.source, original)
        self.original_loaded.emit(request.id, for_display(original))
        if request.chroma is not None:
            self._emit_composed(request.id, original[0], request.chroma, request.saturation)
        elif request.result_path and Path(request.result_path).is_file():
            try:
                result = levels(read_image(request.result_path).pixels)
                self.result_loaded.emit(request.id, for_display(result))
            except ColorizeError as exc:
                logger.warning("Could not show the saved result: %s", exc)

    def _do_recompose(self, request: RecomposeRequest) -> None:
        if self._original is None or self._original[0] != request.source:
            return  # the window moved on to another photo
        original = self._original[1]
        base = quick_level(original) if request.quick else original[0]
        self._emit_composed(request.id, base, request.chroma, request.saturation,
                            pyramid=not request.quick)

    def _emit_composed(self, request_id: int, base: np.ndarray, chroma: np.ndarray,
                       saturation: float, pyramid: bool = True) -> None:
        try:
            result = compose(base, chroma, saturation=saturation)
        except (ColorizeError, ValueError, TypeError, cv2.error) as exc:
            logger.warning("Could not re-compose the preview: %s", exc)
            return
        self.result_loaded.emit(request_id, for_display(levels(result) if pyramid else [result]))

    def _do_thumbnail(self, entry_id: int, path: str, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
        try:
            self.thumbnail_loaded.emit(entry_id, read_thumbnail(path))
        except (ColorizeError, MemoryError) as exc:
            logger.info("No thumbnail for %s: %s", path, exc)
