"""A zoomable, pannable image view whose zoom and position can be shared with other views."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

ZOOM_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 32.0


class ViewportModel(QObject):
    """Zoom and centre shared by the views that show the same photo, so they move in step.

    `zoom` is device pixels per image pixel (1.0 is "100%": one photo pixel on one screen pixel, even
    on a high-DPI screen); `center` is the photo point in the middle of the view, as fractions 0..1
    (the photo's middle while fitting: set_fit puts it there).
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fit = True
        self.zoom = 1.0
        self.center = QPointF(0.5, 0.5)

    def set_fit(self) -> None:
        self.fit = True
        self.center = QPointF(0.5, 0.5)
        self.changed.emit()

    def set_zoom(self, zoom: float, center: QPointF | None = None) -> None:
        self.fit = False
        self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        if center is not None:
            self.center = QPointF(min(1.0, max(0.0, center.x())), min(1.0, max(0.0, center.y())))
        self.changed.emit()


class ImageView(QWidget):
    """Paints one photo (a pyramid of halvings, so zoomed-out views stay sharp and cheap) under a
    shared ViewportModel. Wheel and +/-/0/1 zoom; dragging and arrow keys pan."""

    zoom_changed = Signal(float)  # device pixels per image pixel, for the status bar

    def __init__(self, viewport: ViewportModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport = viewport
        self.viewport.changed.connect(self._on_viewport_changed)
        self._levels: list[QImage] = []
        self._size = QSize()
        self._placeholder = ""
        self._drag_from: QPointF | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 90)

    # -- content ----------------------------------------------------------------------------------
    def set_levels(self, levels: list[QImage] | None, size: QSize | None = None) -> None:
        """Show a photo given as [full, half, quarter, ...]; None or [] clears the view.

        `size` is the photo's full size when the levels are a smaller stand-in (a quick preview);
        zoom and pan are always in terms of the full size.
        """
        # QImages, not QPixmaps: on the raster backends that Qt uses for widgets a pixmap is an
        # image anyway, and converting one is a full copy of the photo on this thread.
        self._levels = list(levels or [])
        self._size = QSize(size) if size is not None and self._levels else (
            self._levels[0].size() if self._levels else QSize())
        self.update()
        self.zoom_changed.emit(self.device_scale())  # fitting, another photo is another scale

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def has_image(self) -> bool:
        return bool(self._levels)

    def image_size(self) -> tuple[int, int]:
        return (self._size.width(), self._size.height()) if self._levels else (0, 0)

    def pixel_at(self, x: float, y: float) -> QColor | None:
        """The colour shown at photo point (x, y) (0..1), or None without a photo."""
        if not self._levels:
            return None
        image = self._levels[0]
        col = min(image.width() - 1, int(x * image.width()))
        row = min(image.height() - 1, int(y * image.height()))
        return image.pixelColor(col, row)

    # -- geometry ---------------------------------------------------------------------------------
    def device_scale(self) -> float:
        """Device pixels per image pixel as currently shown (the fit scale when fitting)."""
        width, height = self.image_size()
        if not width:
            return 1.0
        if self.viewport.fit:  # small photos are enlarged too: comparing colours needs room
            dpr = self.devicePixelRatioF()
            return min(MAX_ZOOM, self.width() * dpr / width, self.height() * dpr / height)
        return self.viewport.zoom

    def image_rect(self) -> QRectF:
        """Where the whole photo lands, in widget (logical) coordinates."""
        width, height = self.image_size()
        scale = self.device_scale() / self.devicePixelRatioF()
        center = self.viewport.center
        left = self.width() / 2 - center.x() * width * scale
        top = self.height() / 2 - center.y() * height * scale
        return QRectF(left, top, width * scale, height * scale)

    @staticmethod
    def _pick_level(levels: list[QImage], device_width: float) -> QImage:
        # The smallest level still at least as wide as what is drawn: sharp, and no 12 MP pixmap
        # is resampled on every repaint.
        chosen = levels[0]
        for level in levels[1:]:
            if level.width() + 0.5 < device_width:
                break
            chosen = level
        return chosen

    # -- zoom and pan -----------------------------------------------------------------------------
    @Slot()
    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    @Slot()
    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    @Slot()
    def zoom_fit(self) -> None:
        self.viewport.set_fit()

    @Slot()
    def zoom_actual(self) -> None:
        self.viewport.set_zoom(1.0)  # around the point in the middle now

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the photo point under `anchor` (widget coordinates) where it is."""
        width, height = self.image_size()
        if not width:
            return
        rect = self.image_rect()
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        fx = (anchor.x() - rect.left()) / rect.width()
        fy = (anchor.y() - rect.top()) / rect.height()
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, self.device_scale() * factor))
        scale = zoom / self.devicePixelRatioF()
        center = QPointF(fx - (anchor.x() - self.width() / 2) / (width * scale),
                         fy - (anchor.y() - self.height() / 2) / (height * scale))
        self.viewport.set_zoom(zoom, center)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the photo by (dx, dy) logical pixels."""
        rect = self.image_rect()
        if rect.isEmpty():
            return
        center = self.viewport.center - QPointF(dx / rect.width(), dy / rect.height())
        self.viewport.set_zoom(self.device_scale(), center)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.viewport.fit:  # the fit scale follows the view's size
            self.zoom_changed.emit(self.device_scale())

    @Slot()
    def _on_viewport_changed(self) -> None:
        self.update()
        self.zoom_changed.emit(self.device_scale())

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window().color().darker(115))
        if not self._levels:
            self._paint_placeholder(painter)
        else:
            self.paint_photo(painter, self.image_rect())

    def paint_photo(self, painter: QPainter, rect: QRectF) -> None:
        """Draw what the view shows of its photo, landing in `rect` (the compare view: two)."""
        self.paint_image(painter, self._levels, rect)

    def paint_image(self, painter: QPainter, levels: list[QImage], rect: QRectF,
                    clip: QRectF | None = None) -> None:
        """Draw a pyramid into `rect`, optionally only the part inside `clip` (for the compare view)."""
        painter.save()
        if clip is not None:
            painter.setClipRect(clip)
        device_width = rect.width() * self.devicePixelRatioF()
        image = self._pick_level(levels, device_width)
        # Smooth when shrinking or mildly enlarging; at high zoom, crisp pixels are more useful.
        ratio = device_width / max(1, image.width())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                              abs(ratio - 1.0) > 1e-3 and ratio < 3)
        painter.drawImage(rect, image, QRectF(image.rect()))
        painter.restore()

    def _paint_placeholder(self, painter: QPainter) -> None:
        if self._placeholder:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)

    # -- input ------------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._drag_from is not None:
            delta = event.position() - self._drag_from
            self._drag_from = event.position()
            self.pan_by(delta.x(), delta.y())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self._drag_from = None
        self.unsetCursor()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        step = 0.1 * min(self.width(), self.height())
        pans = {Qt.Key.Key_Left: (step, 0), Qt.Key.Key_Right: (-step, 0),
                Qt.Key.Key_Up: (0, step), Qt.Key.Key_Down: (0, -step)}
        zooms = {Qt.Key.Key_Plus: self.zoom_in, Qt.Key.Key_Equal: self.zoom_in,
                 Qt.Key.Key_Minus: self.zoom_out, Qt.Key.Key_0: self.zoom_fit,
                 Qt.Key.Key_1: self.zoom_actual}
        if key in zooms:
            zooms[key]()
        elif key in pans and self.has_image():
            self.pan_by(*pans[key])
        else:
            super().keyPressEvent(event)
