"""The preview area: original and result side by side, or one compare view with a divider."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from colorize_app.ui.compare_view import CompareView
from colorize_app.ui.image_view import ImageView, ViewportModel

SLIDER_STEPS = 1000


class SideBySideView(QWidget):
    """Two image views that share one viewport, so zoom and pan stay in step."""

    def __init__(self, viewport: ViewportModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original_view = ImageView(viewport)
        self.result_view = ImageView(viewport)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for caption, view in ((self.tr("Original"), self.original_view),
                              (self.tr("Colorized"), self.result_view)):
            view.setAccessibleName(caption)  # a screen reader names each view as its caption
            column = QVBoxLayout()
            column.setSpacing(2)
            label = QLabel(caption)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column.addWidget(label)
            column.addWidget(view, 1)
            layout.addLayout(column, 1)


class FrameBar(QWidget):
    """A film's frame slider with play/pause and "Frame n of m"; hidden while a photo is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play = QToolButton()
        self.play.setCheckable(True)
        self.play.setText(self.tr("Play"))
        self.play.setAccessibleName(self.tr("Play or pause the film"))
        self.play.toggled.connect(self._on_play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setAccessibleName(self.tr("Frame of the film"))
        self.slider.setToolTip(self.tr("Move to see another frame, original and colorized."))
        self.label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.play)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)

    def set_frame(self, index: int, frames: int) -> None:
        """Show frame ``index`` of ``frames`` without asking for it again."""
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(0, frames - 1))
            self.slider.setValue(index)
        self.label.setText(self.tr("Frame {0} of {1}").format(index + 1, frames))

    @Slot(bool)
    def _on_play_toggled(self, playing: bool) -> None:
        self.play.setText(self.tr("Pause") if playing else self.tr("Play"))


class PreviewWidget(QWidget):
    """Holds both presentations; the window only hands it images and asks for a mode."""

    compare_mode_changed = Signal(bool)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport = ViewportModel(self)
        self.side_by_side = SideBySideView(self.viewport)
        self.compare_view = CompareView(self.viewport)
        self.compare_slider = QSlider(Qt.Orientation.Horizontal)
        self.compare_slider.setRange(0, SLIDER_STEPS)
        self.compare_slider.setValue(SLIDER_STEPS // 2)
        self.compare_slider.setAccessibleName(self.tr("Before/after divider"))
        self.compare_slider.setToolTip(self.tr("Left of the divider: original. Right: colorized."))
        self.compare_slider.valueChanged.connect(self._on_slider_moved)
        self.compare_view.divider_changed.connect(self._on_divider_moved)

        compare_page = QWidget()
        compare_layout = QVBoxLayout(compare_page)
        compare_layout.setContentsMargins(0, 0, 0, 0)
        compare_layout.addWidget(self.compare_view, 1)
        slider_row = QHBoxLayout()
        slider_row.setContentsMargins(6, 2, 6, 2)
        slider_row.addWidget(QLabel(self.tr("Before")))
        slider_row.addWidget(self.compare_slider, 1)
        slider_row.addWidget(QLabel(self.tr("After")))
        compare_layout.addLayout(slider_row)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.side_by_side)
        self.stack.addWidget(compare_page)
        self.frames = FrameBar()
        self.frames.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.frames)
        for view in self.views():
            view.zoom_changed.connect(self._report_zoom)

    def views(self) -> tuple[ImageView, ...]:
        return (self.side_by_side.original_view, self.side_by_side.result_view, self.compare_view)

    @Slot()
    def _report_zoom(self, *_args) -> None:
        """The status bar's zoom is the view on screen's, whichever view changed (a hidden one,
        or the result pane before it has a photo, must not speak for it)."""
        self.zoom_changed.emit(self.current_view().device_scale())

    def current_view(self) -> ImageView:
        if self.is_compare_mode():
            return self.compare_view
        return self.side_by_side.original_view

    # -- content ----------------------------------------------------------------------------------
    def set_original(self, levels: list[QImage] | None) -> None:
        self.side_by_side.original_view.set_levels(levels)
        self.compare_view.set_levels(levels)

    def set_result(self, levels: list[QImage] | None) -> None:
        """The colour result, possibly a smaller quick preview: shown at the original's size."""
        width, height = self.side_by_side.original_view.image_size()
        size = QSize(width, height) if width else None
        self.side_by_side.result_view.set_levels(levels, size)
        self.compare_view.set_after_levels(levels)

    def set_placeholders(self, original: str, result: str) -> None:
        self.side_by_side.original_view.set_placeholder(original)
        self.side_by_side.result_view.set_placeholder(result)
        self.compare_view.set_placeholder(original)

    # -- mode and zoom ----------------------------------------------------------------------------
    def is_compare_mode(self) -> bool:
        return self.stack.currentIndex() == 1

    @Slot(bool)
    def set_compare_mode(self, on: bool) -> None:
        if on == self.is_compare_mode():
            return
        self.stack.setCurrentIndex(1 if on else 0)
        self.compare_mode_changed.emit(on)
        self._report_zoom()

    @Slot()
    def zoom_in(self) -> None:
        self.current_view().zoom_in()

    @Slot()
    def zoom_out(self) -> None:
        self.current_view().zoom_out()

    @Slot()
    def zoom_fit(self) -> None:
        self.current_view().zoom_fit()

    @Slot()
    def zoom_actual(self) -> None:
        self.current_view().zoom_actual()

    # -- the divider and its slider mirror each other ---------------------------------------------
    @Slot(int)
    def _on_slider_moved(self, value: int) -> None:
        self.compare_view.set_divider(value / SLIDER_STEPS)

    @Slot(float)
    def _on_divider_moved(self, fraction: float) -> None:
        value = round(fraction * SLIDER_STEPS)
        if value != self.compare_slider.value():
            with QSignalBlocker(self.compare_slider):  # the divider already moved; no echo back
                self.compare_slider.setValue(value)
