"""The controls under the preview: saturation, render size, device."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QWidget,
)

from colorize_app.core.settings import SETTINGS
from colorize_app.core.vocabulary import GPU_DEVICES, RENDER_SIZES

SATURATION = SETTINGS["saturation"]


class ControlsWidget(QWidget):
    render_size_changed = Signal(int)
    saturation_changed = Signal(float)  # 0..2, on every step of the slider
    device_changed = Signal(str)  # one of core.vocabulary.DEVICES

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.render_size = QComboBox()
        for size in RENDER_SIZES:
            self.render_size.addItem(self.tr("{0} px").format(size), size)
        self.render_size.setToolTip(self.tr(
            "Size of the copy the network looks at. Larger can give finer colour detail but is "
            "slower; the result always keeps the photo's full resolution and sharpness."))
        self.render_size.currentIndexChanged.connect(self._on_render_size)
        self.render_size.setAccessibleName(self.tr("Render size"))

        self.saturation = QSlider(Qt.Orientation.Horizontal)
        self.saturation.setRange(round(SATURATION.minimum * 100), round(SATURATION.maximum * 100))
        self.saturation.setPageStep(10)
        self.saturation.setValue(100)
        self.saturation.setMinimumWidth(60)
        self.saturation.setAccessibleName(self.tr("Saturation"))
        self.saturation.setToolTip(self.tr("How strong the colours are. Changes show at once."))
        self.saturation_label = QLabel()
        self.saturation_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("200 %") + 4)
        self.saturation.valueChanged.connect(self._on_saturation)

        self.device = QComboBox()
        self.device.setToolTip(self.tr("Where the network runs. Automatic uses a GPU when present."))
        self.device.currentIndexChanged.connect(self._on_device)
        self.device.setAccessibleName(self.tr("Device"))
        self.set_gpu_available("")

        # One row under the preview: the photo keeps the height, and every control stays in view.
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        for label, widget, stretch in ((self.tr("&Saturation:"), self.saturation, 1),
                                       (self.tr("&Render size:"), self.render_size, 0),
                                       (self.tr("&Device:"), self.device, 0)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget, stretch)
            if widget is self.saturation:
                row.addWidget(self.saturation_label)  # "120 %"
            row.addSpacing(8)
        self._on_saturation(self.saturation.value())

    # -- values -----------------------------------------------------------------------------------
    def values(self) -> tuple[int, float, str]:
        return self.render_size.currentData(), self.saturation.value() / 100, self.device.currentData()

    def set_values(self, render_size: int, saturation: float, device: str) -> None:
        index = self.render_size.findData(render_size)
        self.render_size.setCurrentIndex(index if index >= 0 else 0)
        self.saturation.setValue(round(saturation * 100))
        self._select_device(device)

    def set_gpu_available(self, gpu: str) -> None:
        """Offer `gpu` ("cuda", "mps"; "" for none) once the worker has found it (the window never
        imports torch)."""
        current = self.device.currentData() or "auto"
        with QSignalBlocker(self.device):
            self.device.clear()
            self.device.addItem(self.tr("Automatic"), "auto")
            self.device.addItem(self.tr("CPU"), "cpu")
            if gpu in GPU_DEVICES:
                self.device.addItem(self.tr("GPU"), gpu)
        self._select_device(current)

    def _select_device(self, device: str) -> None:
        index = self.device.findData(device)
        if index < 0:
            # Remember a GPU choice even before the worker has confirmed a GPU exists.
            if device in GPU_DEVICES:
                self.device.addItem(self.tr("GPU"), device)
                index = self.device.count() - 1
            else:
                index = 0
        self.device.setCurrentIndex(index)

    # -- slots ------------------------------------------------------------------------------------
    @Slot(int)
    def _on_render_size(self, index: int) -> None:
        self.render_size_changed.emit(self.render_size.itemData(index))

    @Slot(int)
    def _on_saturation(self, value: int) -> None:
        self.saturation_label.setText(self.tr("{0} %").format(value))
        self.saturation_changed.emit(value / 100)

    @Slot(int)
    def _on_device(self, index: int) -> None:
        if index >= 0:
            self.device_changed.emit(self.device.itemData(index))
