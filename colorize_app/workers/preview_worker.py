"""The preview's handlers: display copies, thumbnails and quick re-colouring on the preview lane.

No torch here: re-applying a saturation uses the prediction the network already made and
`core.chroma.compose` (numpy and OpenCV), so the saturation slider answers at once even while the
network is busy with another photo in the other lane. The pixel work itself is core's
(`core.display`, `core.imageio`); these handlers only call it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from colorize_app.core.chroma import compose, warm_table
from colorize_app.core.display import for_display, levels, quick_level, read_thumbnail
from colorize_app.core.errors import ColorizeError
from colorize_app.core.imageio import read_image
from colorize_app.workers.lane import Lane, Task
from colorize_app.workers.requests import FilmFrame, FilmFrameRequest, RecomposeRequest

logger = logging.getLogger(__name__)


class PreviewWorker:
    """Five kinds: ``show`` (a photo's path: its display levels, kept for re-composing),
    ``compose`` (a RecomposeRequest over the photo shown; None once another is shown), both
    latest-wins; ``saved`` (a result file's display levels, latest wins), ``film_frame`` (a
    FilmFrameRequest: a FilmFrame, latest wins) and ``thumbnail`` (a path: a list-sized copy, a
    film's poster frame; queued). Films are decoded by core.film_io (PyAV), imported on the first
    film."""

    def __init__(self, lane: Lane) -> None:
        self._original: tuple[str, list[np.ndarray]] | None = None  # the photo last shown
        self._film: tuple[str, list[float]] | None = None  # the film last shown: its frames' times
        lane.handle("show", self.show, latest=True)
        lane.handle("compose", self.compose, latest=True)
        lane.handle("saved", self.saved, latest=True)
        lane.handle("film_frame", self.film_frame, latest=True)
        lane.handle("thumbnail", self.thumbnail)

    def show(self, source: str, _task: Task) -> list[np.ndarray]:
        self._original = None
        try:
            pixels = read_image(source).pixels
            original = levels(pixels)
        except MemoryError:
            raise MemoryError("Not enough memory to show this photo.") from None
        warm_table(pixels.shape, pixels.dtype)  # a big photo on screen is likely coloured next
        self._original = (source, original)
        return for_display(original)

    def compose(self, request: RecomposeRequest, _task: Task) -> list[np.ndarray] | None:
        if self._original is None or self._original[0] != request.source:
            return None  # the window moved on to another photo
        original = self._original[1]
        base = quick_level(original) if request.quick else original[0]
        try:
            result = compose(base, request.chroma, saturation=request.saturation)
        except (ColorizeError, ValueError, TypeError, cv2.error) as exc:
            logger.warning("Could not re-compose the preview: %s", exc)
            return None
        return for_display(levels(result) if not request.quick else [result])

    def saved(self, path: str, _task: Task) -> list[np.ndarray] | None:
        if not Path(path).is_file():
            return None
        try:
            return for_display(levels(read_image(path).pixels))
        except (ColorizeError, MemoryError) as exc:
            logger.warning("Could not show the saved result: %s", exc)
            return None

    def film_frame(self, request: FilmFrameRequest, _task: Task) -> FilmFrame:
        """The original's frame ``request.index`` and the colorized film's frame at that moment."""
        from colorize_app.core import film_io  # PyAV, only once a film is shown

        # The photo's copy stays: a film's frame asked for before a photo came on screen may run
        # after the photo's show (show's slot runs first), and the photo must still recolour.
        if self._film is None or self._film[0] != request.source:  # its frames' times, once
            self._film = (request.source, film_io.frame_times(request.source))
        _source, times = self._film
        index = min(max(0, request.index), len(times) - 1)
        seconds = times[index]
        original = film_io.picture_at(request.source, seconds)[0]
        result = None
        if request.result and Path(request.result).is_file():
            try:
                result = for_display(levels(film_io.picture_at(request.result, seconds)[0]))
            except (ColorizeError, MemoryError) as exc:
                logger.warning("Could not show the colorized film: %s", exc)
        return FilmFrame(request.source, index, len(times), for_display(levels(original)), result)

    def thumbnail(self, path: str, _task: Task) -> np.ndarray | None:
        try:
            return read_thumbnail(path)  # a film's: its poster frame
        except (ColorizeError, MemoryError) as exc:
            logger.info("No thumbnail for %s: %s", path, exc)
            return None

