"""One photo with a before/after divider: the original left of it, the colour result right of it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QImage, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QWidget

from colorize_app.ui.image_view import ImageView, ViewportModel

GRAB_DISTANCE = 12  # logical pixels either side of the divider that pick it up rather than pan
KEY_STEP = 0.01
KEY_STEP_LARGE = 0.1


class CompareView(ImageView):
    """Drag the divider (or use Left/Right, Shift for bigger steps, Home/End) to wipe between them.

    The divider is a fraction of the photo's width, so it stays on the same part of the photo while
    zooming and panning.
    """

    divider_changed = Signal(float)

    def __init__(self, viewport: ViewportModel, parent: QWidget | None = None) -> None:
        super().__init__(viewport, parent)
        self._after: list[QImage] = []
        self._divider = 0.5
        self._dragging_divider = False
        self.setMouseTracking(True)  # to show the split cursor when hovering over the divider
        self.setAccessibleName(self.tr("Before and after comparison"))

    def set_after_levels(self, levels: list[QImage] | None) -> None:
        """The colour result; drawn over the original's rectangle, whatever its own size."""
        self._after = list(levels or [])
        self.update()

    def divider(self) -> float:
        return self._divider

    @Slot(float)
    def set_divider(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if abs(fraction - self._divider) < 1e-9:
            return
        self._divider = fraction
        self.update()
        self.divider_changed.emit(fraction)

    def divider_x(self) -> float:
        """The divider's position in widget coordinates."""
        rect = self.image_rect() if self.has_image() else QRectF(self.rect())
        return rect.left() + self._divider * rect.width()

    def _near_divider(self, pos: QPointF) -> bool:
        return self.has_image() and abs(pos.x() - self.divider_x()) <= GRAB_DISTANCE

    # -- painting ---------------------------------------------------------------------------------
    def paint_photo(self, painter: QPainter, rect: QRectF) -> None:
        x = self.divider_x()
        full = QRectF(self.rect())
        left = QRectF(full.left(), full.top(), x - full.left(), full.height())
        right = QRectF(x, full.top(), full.right() - x, full.height())
        self.paint_image(painter, self._levels, rect, left)
        # Until the result arrives the whole photo shows as the original.
        self.paint_image(painter, self._after or self._levels, rect, right)
        self._paint_divider(painter, x, rect)

    def _paint_divider(self, painter: QPainter, x: float, rect: QRectF) -> None:
        top = max(rect.top(), 0.0)
        bottom = min(rect.bottom(), float(self.height()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # A white line over a wider black one, its shadow: visible over any photo.
        for colour, width in ((Qt.GlobalColor.black, 3), (Qt.GlobalColor.white, 1.5)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        middle = (top + bottom) / 2
        painter.setBrush(self.palette().highlight())
        painter.drawEllipse(QPointF(x, middle), 9, 9)
        painter.setPen(QPen(self.palette().highlightedText().color(), 1.5))
        for sign in (-1, 1):  # two small arrows: "this can be dragged sideways"
            tip = x + sign * 6
            painter.drawLine(QPointF(tip, middle), QPointF(tip - sign * 3, middle - 3))
            painter.drawLine(QPointF(tip, middle), QPointF(tip - sign * 3, middle + 3))

    # -- input ------------------------------------------------------------------------------------
    def _divider_from(self, pos: QPointF) -> None:
        rect = self.image_rect()
        if rect.width() > 0:
            self.set_divider((pos.x() - rect.left()) / rect.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event.position()):
            self._dragging_divider = True
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._dragging_divider:
            self._divider_from(event.position())
            event.accept()
            return
        if self._drag_from is None:
            near = self._near_divider(event.position())
            self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self._dragging_divider = False
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        step = KEY_STEP_LARGE if shift else KEY_STEP
        moves = {Qt.Key.Key_Left: self._divider - step, Qt.Key.Key_Right: self._divider + step,
                 Qt.Key.Key_Home: 0.0, Qt.Key.Key_End: 1.0}
        if event.key() in moves:
            self.set_divider(moves[event.key()])
        else:
            super().keyPressEvent(event)
