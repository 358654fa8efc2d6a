"""What the window shows, prepared off its thread: display copies, thumbnails, quick re-colouring.

No torch here: re-applying a saturation uses the prediction the network already made and
`core.chroma.compose` (numpy and OpenCV), so the saturation slider answers at once even while the
network is busy with another photo in the other thread.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import deque
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot

from colorize_app.core.errors import ColorizeError
from colorize_app.jobs import RecomposeRequest, ShowRequest

logger = logging.getLogger(__name__)

DISPLAY_MAX = 4096  # long side of the copy the window shows as "100%"; bigger scans are shrunk
SMALLEST_LEVEL = 192  # stop halving below this long side
THUMB_SIZE = 128
QUICK_SIDE = 1024  # long side used for live feedback while the saturation slider moves


def levels(pixels: np.ndarray) -> list[np.ndarray]:
    """Display copies of a photo: 8-bit, no larger than DISPLAY_MAX, then successive halvings.

    The window draws from the smallest one that is still sharp at the current zoom, so a zoomed
    out 12 MP photo is never resampled in full on every repaint.
    """
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    height, width = pixels.shape[:2]
    if max(height, width) > DISPLAY_MAX:
        scale = DISPLAY_MAX / max(height, width)
        pixels = cv2.resize(pixels, (max(1, round(width * scale)), max(1, round(height * scale))),
                            interpolation=cv2.INTER_AREA)
    out = [np.ascontiguousarray(pixels)]
    while max(out[-1].shape[:2]) // 2 >= SMALLEST_LEVEL:
        height, width = out[-1].shape[:2]
        out.append(cv2.resize(out[-1], (max(1, width // 2), max(1, height // 2)),
                              interpolation=cv2.INTER_AREA))
    return out


def for_display(pyramid: list[np.ndarray]) -> list[np.ndarray]:
    """The levels in the byte order of Qt's native 32-bit format (B, G, R, 255 on little-endian
    machines), so the window wraps them as QImages without copying or converting anything on its
    thread; converting a 12 MP photo there took a third of a second."""
    codes = {1: cv2.COLOR_GRAY2BGRA, 3: cv2.COLOR_RGB2BGRA, 4: cv2.COLOR_RGBA2BGRA}
    out = []
    for level in pyramid:
        channels = 1 if level.ndim == 2 else level.shape[2]
        bgra = cv2.cvtColor(level, codes[channels])
        if channels == 4:
            bgra[:, :, 3] = 255  # the preview shows colour; transparency would only confuse it
        out.append(bgra if sys.byteorder == "little" else np.ascontiguousarray(bgra[:, :, ::-1]))
    return out


def thumbnail(display_levels: list[np.ndarray]) -> np.ndarray:
    """A list-sized copy (long side THUMB_SIZE at most), made from the smallest level that will do."""
    source = display_levels[-1]
    for level in reversed(display_levels):
        source = level
        if max(level.shape[:2]) >= THUMB_SIZE:
            break
    height, width = source.shape[:2]
    scale = min(1.0, THUMB_SIZE / max(height, width))
    return cv2.resize(source, (max(1, round(width * scale)), max(1, round(height * scale))),
                      interpolation=cv2.INTER_AREA)


def quick_level(display_levels: list[np.ndarray]) -> np.ndarray:
    """The largest level no bigger than QUICK_SIDE (the smallest one if all are bigger)."""
    for level in display_levels:
        if max(level.shape[:2]) <= QUICK_SIDE:
            return level
    return display_levels[-1]


def read_thumbnail(path: str | Path) -> np.ndarray:
    """A thumbnail, decoded cheaply where the format allows (JPEG decodes at 1/8 size directly)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("RGB", (THUMB_SIZE * 2, THUMB_SIZE * 2))
                im = ImageOps.exif_transpose(im.convert("RGB"))
                im.thumbnail((THUMB_SIZE, THUMB_SIZE))
                return np.asarray(im)
    except (OSError, ValueError, Image.DecompressionBombError):
        pass  # core's reader below gives the proper error
    from colorize_app.core.imageio import read_image

    return thumbnail(levels(read_image(path).pixels))


def lower_thread_priority() -> None:
    """Call in a worker thread: the window's thread then wins the CPU when both want it."""
    # On Linux a thread has its own nice value, and the threads it starts later (torch's and
    # OpenCV's pools) inherit it. Elsewhere QThread.LowPriority, set at start, does the job.
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (OSError, AttributeError):
            logger.debug("Could not lower the worker thread's priority", exc_info=True)


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
        from colorize_app.core.imageio import read_image

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
        from colorize_app.core.chroma import compose

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
