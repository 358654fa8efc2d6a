"""Keeps the preview showing the selected photo, at the current saturation.

Requests go to the PreviewWorker's thread; only answers to the latest request are shown, so a
fast scroll through the list or a dragged slider never shows a stale photo.
"""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from colorize_app.core.vocabulary import Status
from colorize_app.ui.batch_model import BatchEntry, BatchListModel
from colorize_app.ui.preview import PreviewWidget
from colorize_app.ui.qimage import to_qimage, wrap_display
from colorize_app.workers.requests import RecomposeRequest, ShowRequest

SETTLE_MS = 250  # after the slider stops, compose the full-size preview


class PreviewController(QObject):
    _show_requested = Signal(object)
    _recompose_requested = Signal(object)
    _thumbnails_requested = Signal(object)
    failed = Signal(str)

    def __init__(self, preview: PreviewWidget, previewer: QObject, model: BatchListModel,
                 parent: QObject | None = None) -> None:
        # `previewer` is the host's workers.preview_worker.PreviewWorker: reached only through
        # its signals and slots, so ui imports no QObject of the bridge.
        super().__init__(parent)
        self._preview = preview
        self._model = model
        self._ids = itertools.count(1)
        self._request = 0  # the latest request sent
        self._shown_request = 0  # the show request of the photo on screen
        self._shown_result = 0  # the request whose result is on screen
        self._entry: BatchEntry | None = None
        self._saturation = 1.0
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self._show_requested.connect(previewer.request_show)
        self._recompose_requested.connect(previewer.request_recompose)
        self._thumbnails_requested.connect(previewer.request_thumbnails)
        previewer.thumbnail_loaded.connect(self._on_thumbnail)
        previewer.original_loaded.connect(self._on_original)
        previewer.result_loaded.connect(self._on_result)
        previewer.preview_failed.connect(self._on_failed)
        self._set_empty()

    def current(self) -> BatchEntry | None:
        return self._entry

    def show_entry(self, entry: BatchEntry | None, saturation: float) -> None:
        """Show `entry` (None: nothing). Its result comes from its prediction, or its saved file."""
        self._entry, self._saturation = entry, saturation
        self._request = self._shown_request = next(self._ids)
        self._settle.stop()
        if entry is None:
            self._set_empty()
            return
        self._preview.set_original(None)
        self._preview.set_result(None)
        self._preview.set_placeholders(self.tr("Loading {0}…").format(entry.source.name),
                                       self._result_placeholder(entry))
        result_path = str(entry.output) if entry.status == Status.SAVED else ""
        self._show_requested.emit(ShowRequest(self._request, str(entry.source), entry.chroma,
                                              saturation, result_path))

    def request_thumbnails(self, entries: list[BatchEntry]) -> None:
        # A photo colorized in an earlier session shows its colour result in the list.
        self._thumbnails_requested.emit([
            (entry.id, str(entry.output if entry.status == Status.SAVED else entry.source))
            for entry in entries])

    def refresh_placeholder(self) -> None:
        """The entry's state changed (queued, working, failed): say so where the result will be."""
        if self._entry is not None:
            self._preview.side_by_side.result_view.set_placeholder(
                self._result_placeholder(self._entry))

    def show_result(self, entry_id: int) -> None:
        """A fresh result from the worker: shown if it is the photo on screen, composed by the
        preview worker from the entry's chroma over the original it already holds."""
        if self._entry is not None and self._entry.id == entry_id and self._entry.chroma is not None:
            self._request = next(self._ids)  # older re-composes are stale now
            self._recompose_requested.emit(RecomposeRequest(
                self._request, str(self._entry.source), self._entry.chroma, self._saturation,
                quick=False))

    def show_hinted(self, entry_id: int, saturation: float) -> None:
        """A new prediction for the photo on screen (its hints changed): a quick copy now, the
        full-size preview once the clicks rest, as for the saturation slider."""
        if self._entry is not None and self._entry.id == entry_id:
            self.set_saturation(saturation)

    def set_saturation(self, saturation: float) -> None:
        """Live feedback on a small copy now, the full-size preview once the slider rests."""
        self._saturation = saturation
        if self._entry is None or self._entry.chroma is None:
            return
        self._request = next(self._ids)
        self._recompose_requested.emit(RecomposeRequest(
            self._request, str(self._entry.source), self._entry.chroma, saturation, quick=True))
        self._settle.start()

    @Slot()
    def _on_settled(self) -> None:
        if self._entry is not None and self._entry.chroma is not None:
            self._request = next(self._ids)
            self._recompose_requested.emit(RecomposeRequest(
                self._request, str(self._entry.source), self._entry.chroma, self._saturation,
                quick=False))

    def _result_placeholder(self, entry: BatchEntry) -> str:
        if entry.status == Status.WORKING:
            return self.tr("Colorizing…")
        if entry.status == Status.FAILED:
            return entry.reason
        return self.tr("Not colorized yet.\nColorize it with Ctrl+R, or all photos with Ctrl+Shift+R.")

    def _set_empty(self) -> None:
        self._preview.set_original(None)
        self._preview.set_result(None)
        self._preview.set_placeholders(
            self.tr("Open photos (Ctrl+O) or a folder (Ctrl+Shift+O), or drop them here."), "")

    # -- answers from the preview thread ----------------------------------------------------------
    @Slot(int, object)
    def _on_original(self, request_id: int, levels: list[np.ndarray]) -> None:
        if request_id == self._shown_request:
            self._preview.set_original([wrap_display(level) for level in levels])

    @Slot(int, object)
    def _on_result(self, request_id: int, levels: list[np.ndarray]) -> None:
        # Any answer about the photo on screen will do, as long as it is newer than what is shown:
        # quick re-composes while the slider moves, then the full one once it rests.
        if request_id >= self._shown_request and request_id > self._shown_result:
            self._shown_result = request_id
            self._preview.set_result([wrap_display(level) for level in levels])

    @Slot(int, object)
    def _on_thumbnail(self, entry_id: int, pixels: np.ndarray) -> None:
        entry = self._model.entry(entry_id)
        if entry is not None and entry.chroma is None:  # a colour thumbnail is not replaced
            self._model.update(entry_id, thumbnail=to_qimage(pixels))

    @Slot(int, str)
    def _on_failed(self, request_id: int, reason: str) -> None:
        if request_id == self._shown_request:
            self._preview.set_placeholders(reason, "")
            self.failed.emit(reason)
