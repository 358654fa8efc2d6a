"""The status bar: overall progress, how far a walk of opened folders got (with its Stop), the
model and device in use, and the last timing."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

PROGRESS_STEPS = 1000
ETA_AFTER = 0.02  # share of the batch done before a guess at the time left is shown


def format_duration(seconds: float) -> str:
    """"12 s", "3 min 5 s", "1 h 4 min": for the time left and the time a batch took."""
    tr = QCoreApplication.translate
    seconds = max(0, round(seconds))
    if seconds < 60:
        return tr("status", "{0} s").format(seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return tr("status", "{0} min {1} s").format(minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return tr("status", "{0} h {1} min").format(hours, minutes)


class AppStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setMaximumWidth(320)  # "3 of 24 · about 2 min 5 s left"
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.progress.setAccessibleName(self.tr("Batch progress"))
        self.engine = QLabel(self.tr("Model: loading…"))
        self.engine.setAccessibleName(self.tr("Model and device"))
        self.zoom = QLabel()
        self.zoom.setAccessibleName(self.tr("Zoom level"))
        self.looking = QLabel()
        self.looking.setAccessibleName(self.tr("Looking for photos"))
        self.stop_looking = QToolButton()
        self.stop_looking.setText(self.tr("Stop"))
        self.stop_looking.setToolTip(self.tr("Stop looking for photos (Esc); nothing is added"))
        for widget in (self.zoom, self.looking, self.stop_looking, self.progress, self.engine):
            self.addPermanentWidget(widget)
        self.hide_looking()
        self._model = ""
        self._device = ""
        self._timing = ""
        self._started = 0.0  # time.monotonic() of the batch's start, for the time left

    def set_model(self, name: str, device: str) -> None:
        self._model, self._device = name, device
        self._refresh()

    def set_model_missing(self) -> None:
        self._model, self._device = self.tr("none installed"), ""
        self._refresh()

    def set_timing(self, seconds: float, device: str) -> None:
        if seconds < 1:  # small scans take tens of milliseconds: "0.0 s" would say nothing
            self._timing = self.tr("last photo {0:.0f} ms").format(seconds * 1000)
        else:
            self._timing = self.tr("last photo {0:.1f} s").format(seconds)
        if device:
            self._device = device
        self._refresh()

    def _refresh(self) -> None:
        parts = [self.tr("Model: {0}").format(self._model or self.tr("loading…"))]
        if self._device:
            parts.append(self._device)
        if self._timing:
            parts.append(self._timing)
        self.engine.setText(" · ".join(parts))

    def set_zoom(self, scale: float) -> None:
        """Device pixels per image pixel, as a percentage."""
        self.zoom.setText(self.tr("Zoom {0}%").format(round(scale * 100)))

    def set_looking(self, folders: int, photos: int) -> None:
        """"Looking for photos… 1,234 folders, 56 found", with its Stop button beside it."""
        locale = QLocale()
        self.looking.setText(self.tr("Looking for photos… {0} folders, {1} found").format(
            locale.toString(folders), locale.toString(photos)) if folders  # files only: no count
            else self.tr("Looking for photos…"))
        self.looking.show()
        self.stop_looking.show()

    def hide_looking(self) -> None:
        self.looking.hide()
        self.stop_looking.hide()

    def start_batch(self, started: float | None = None) -> None:
        self._started = time.monotonic() if started is None else started

    def set_progress(self, finished: int, total: int, fraction: float) -> None:
        """Overall progress: whole photos done plus the share of the one in hand, and a guess at
        the time left from the pace so far."""
        if total <= 0:
            self.progress.hide()
            return
        value = (finished + (fraction if finished < total else 0.0)) / total
        self.progress.setValue(round(value * PROGRESS_STEPS))
        text = self.tr("{0} of {1}").format(min(finished + 1, total), total)
        left = self.time_left(value)
        if left is not None and finished < total:
            text = self.tr("{0} · about {1} left").format(text, format_duration(left))
        self.progress.setFormat(text)
        self.progress.setToolTip(text)
        self.progress.show()

    def time_left(self, done: float) -> float | None:
        """Seconds left at the pace so far, or None before there is a pace to go by."""
        if not self._started or done < ETA_AFTER or done >= 1:
            return None
        elapsed = time.monotonic() - self._started
        return elapsed / done * (1 - done)

    def hide_progress(self) -> None:
        self.progress.hide()
