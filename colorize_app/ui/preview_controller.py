"""Keeps the preview showing the selected photo, at the current saturation, or the selected
film's frame (original and colorized) that its frame slider points at.

Requests go to the preview lane (workers.preview_worker's handlers); only answers to the latest
tickets are shown, so a fast scroll through the list or a dragged slider never shows a stale photo.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from colorize_app.core.batch import is_film
from colorize_app.core.vocabulary import Status
from colorize_app.ui.batch_model import BatchEntry, BatchListModel
from colorize_app.ui.preview import PreviewWidget
from colorize_app.ui.qimage import to_qimage, wrap_display
from colorize_app.workers.requests import FilmFrame, FilmFrameRequest, RecomposeRequest

SETTLE_MS = 250  # after the slider stops, compose the full-size preview
PLAY_MS = 40  # while a film plays: the pause between one frame shown and asking for the next


class PreviewController(QObject):
    failed = Signal(str)  # why the photo on screen could not be shown, or colorized
    frame_shown = Signal(int)  # the index of the film frame now on screen

    def __init__(self, preview: PreviewWidget, lane: QObject, model: BatchListModel,
                 parent: QObject | None = None) -> None:
        # `lane` is the host's preview lane (workers.lane.Lane): reached only through its
        # submit() and signals, so ui imports no QObject of the bridge.
        super().__init__(parent)
        self._preview = preview
        self._model = model
        self._lane = lane
        self._shown = 0  # the ticket of the photo on screen (its "show")
        self._shown_result = 0  # the ticket whose result is on screen
        self._thumbnails: dict[int, int] = {}  # ticket -> entry id
        self._entry: BatchEntry | None = None
        self._saturation = 1.0  # the slider's, as it moves (set_saturation)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS, timeout=self._on_settled)
        self._film_ticket = 0  # the latest frame asked of the film on screen
        self._frames = preview.frames
        self._frames.slider.valueChanged.connect(self._request_frame)
        self._frames.play.toggled.connect(self._on_play)
        self._next_frame = QTimer(self, singleShot=True, interval=PLAY_MS, timeout=self._play_next)
        lane.finished.connect(self._on_finished)
        lane.failed.connect(self._on_failed)
        lane.cancelled.connect(self._on_cancelled)
        self.show_entry(None)

    def show_entry(self, entry: BatchEntry | None) -> None:
        """Show `entry` (None: nothing). Its result comes from its prediction, or its saved file."""
        self._entry = entry
        self._settle.stop()
        self._frames.play.setChecked(False)
        self._film_ticket = 0
        self._frames.setVisible(entry is not None and is_film(entry.source))
        if entry is None:
            self._clear(self.tr("Open photos (Ctrl+O) or a folder (Ctrl+Shift+O), or drop them "
                                "here."), "")
            return
        self._clear(self.tr("Loading {0}…").format(entry.source.name),
                    self._result_placeholder(entry))
        if is_film(entry.source):
            self._frames.set_frame(0, 1)
            self._request_frame(0)
            self._shown = self._film_ticket  # answers about the photo shown before are stale
            return
        self._shown = self._lane.submit("show", str(entry.source))
        if entry.chroma is not None:
            self._compose(quick=False)
        elif entry.status == Status.SAVED:
            self._lane.submit("saved", str(entry.output))

    def request_thumbnails(self, entries: list[BatchEntry]) -> None:
        # A photo colorized in an earlier session shows its colour result in the list.
        for entry in entries:
            path = entry.output if entry.status == Status.SAVED else entry.source
            self._thumbnails[self._lane.submit("thumbnail", str(path))] = entry.id

    def forget_thumbnails(self) -> None:
        """The list was cleared: thumbnails not made yet are not wanted any more."""
        self._lane.cancel()

    @Slot(int)
    def refresh_placeholder(self, entry_id: int) -> None:
        """The entry's state changed (queued, working, failed): if it is on screen, say so where
        the result will be, and why it failed in the status bar."""
        entry = self._entry
        if entry is not None and entry.id == entry_id:
            self._preview.side_by_side.result_view.set_placeholder(self._result_placeholder(entry))
            if entry.status == Status.FAILED:
                self.failed.emit(entry.reason)

    def show_result(self, entry_id: int) -> None:
        """A fresh result from the worker: shown if it is the photo on screen, composed by the
        preview worker from the entry's chroma over the original it already holds."""
        if self._entry is not None and self._entry.id == entry_id:
            if is_film(self._entry.source):
                self._request_frame(self._frames.slider.value())
            else:
                self._compose(quick=False)

    @Slot(int)
    def show_hinted(self, entry_id: int) -> None:
        """A new prediction for the photo on screen (its hints changed): a quick copy now, the
        full-size preview once the clicks rest, as for the saturation slider."""
        if self._entry is not None and self._entry.id == entry_id:
            self.set_saturation(self._saturation)

    @Slot(float)
    def set_saturation(self, saturation: float) -> None:
        """Live feedback on a small copy now, the full-size preview once the slider rests."""
        self._saturation = saturation
        if self._compose(quick=True):
            self._settle.start()

    @Slot()
    def _on_settled(self) -> None:
        self._compose(quick=False)

    def _compose(self, *, quick: bool) -> bool:
        entry = self._entry
        if entry is None or entry.chroma is None:
            return False
        self._lane.submit("compose", RecomposeRequest(str(entry.source), entry.chroma,
                                                      self._saturation, quick))
        return True

    # -- a film's frames ---------------------------------------------------------------------------
    @Slot(int)
    def _request_frame(self, index: int) -> None:
        entry = self._entry
        if entry is None or not is_film(entry.source):
            return
        result = str(entry.output) if entry.status == Status.SAVED else None
        self._film_ticket = self._lane.submit("film_frame",
                                              FilmFrameRequest(str(entry.source), result, index))

    @Slot(bool)
    def _on_play(self, playing: bool) -> None:
        if not playing:
            self._next_frame.stop()
            return
        slider = self._frames.slider
        if slider.value() >= slider.maximum():  # at the end: play from the start
            slider.setValue(0)
        else:
            self._play_next()

    @Slot()
    def _play_next(self) -> None:
        slider = self._frames.slider
        if slider.value() < slider.maximum():
            self._request_frame(slider.value() + 1)
        else:
            self._frames.play.setChecked(False)

    def _on_film_frame(self, frame: FilmFrame) -> None:
        entry = self._entry
        if entry is None or str(entry.source) != frame.source:
            return
        self._preview.set_original([wrap_display(level) for level in frame.original])
        self._preview.set_result([wrap_display(level) for level in frame.result]
                                 if frame.result is not None else None)
        self._frames.set_frame(frame.index, frame.frames)
        self.frame_shown.emit(frame.index)
        if self._frames.play.isChecked():
            self._next_frame.start()

    def _result_placeholder(self, entry: BatchEntry) -> str:
        if entry.status == Status.WORKING:
            return self.tr("Colorizing…")
        if entry.status == Status.FAILED:
            return entry.reason
        return self.tr("Not colorized yet.\nColorize it with Ctrl+R, or all photos with Ctrl+Shift+R.")

    def _clear(self, original: str, result: str) -> None:
        self._preview.set_original(None)
        self._preview.set_result(None)
        self._preview.set_placeholders(original, result)

    # -- answers from the preview lane ------------------------------------------------------------
    @Slot(int, object)
    def _on_finished(self, ticket: int, levels) -> None:
        if ticket in self._thumbnails:
            self._on_thumbnail(self._thumbnails.pop(ticket), levels)
        elif isinstance(levels, FilmFrame):
            if ticket == self._film_ticket:
                self._on_film_frame(levels)
        elif ticket == self._shown:
            self._preview.set_original([wrap_display(level) for level in levels])
        elif levels is not None and ticket > self._shown and ticket > self._shown_result:
            # Any result about the photo on screen will do, as long as it is newer than what is
            # shown: quick re-composes while the slider moves, then the full one once it rests.
            self._shown_result = ticket
            self._preview.set_result([wrap_display(level) for level in levels])

    def _on_thumbnail(self, entry_id: int, pixels: np.ndarray | None) -> None:
        entry = self._model.entry(entry_id)
        if pixels is not None and entry is not None and entry.chroma is None:
            self._model.update(entry_id, thumbnail=to_qimage(pixels))  # colour ones stay

    @Slot(int, str)
    def _on_failed(self, ticket: int, reason: str) -> None:
        self._thumbnails.pop(ticket, None)
        if ticket == self._film_ticket:
            self._frames.play.setChecked(False)
        if ticket in (self._shown, self._film_ticket):
            self._preview.set_placeholders(reason, "")
            self.failed.emit(reason)

    @Slot(int)
    def _on_cancelled(self, ticket: int) -> None:
        self._thumbnails.pop(ticket, None)
