"""The status bar: overall progress, the model and device in use, and the last timing."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

PROGRESS_STEPS = 1000


class AppStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.engine = QLabel(self.tr("Model: loading…"))
        self.engine.setAccessibleName(self.tr("Model and device"))
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.engine)
        self._model = ""
        self._device = ""
        self._timing = ""

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

    def set_progress(self, finished: int, total: int, fraction: float) -> None:
        """Overall progress: whole photos done plus the share of the one in hand."""
        if total <= 0:
            self.progress.hide()
            return
        value = (finished + (fraction if finished < total else 0.0)) / total
        self.progress.setValue(round(value * PROGRESS_STEPS))
        self.progress.setFormat(self.tr("{0} of {1}").format(min(finished + 1, total), total)
                                if finished < total else self.tr("{0} of {1}").format(total, total))
        self.progress.show()

    def hide_progress(self) -> None:
        self.progress.hide()
