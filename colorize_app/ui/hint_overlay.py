"""The hint markers over the colorized view, and the mouse gestures that place, move and remove them.

A transparent child of an ImageView that follows its geometry: positions are kept relative to
the whole photo (0..1, as core.hints.Hint), so they stay put at any zoom or pan. Outside hint
mode it lets every event through to the view; in hint mode the wheel and the middle button
still reach the view (zoom and pan), the left and right buttons edit points.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from colorize_app.ui.image_view import ImageView

MARKER_RADIUS = 8.0  # logical pixels
HIT_RADIUS = 11.0
DRAG_START = 3.0  # pixels the pointer moves before a press becomes a drag


class HintOverlay(QWidget):
    """Paints ``points`` (list of (x, y, "#rrggbb")) over ``view`` and reports gestures."""

    place_requested = Signal(float, float, QPoint)  # x, y in 0..1, global position (for a menu)
    move_finished = Signal(int, float, float)  # index, new x, new y
    remove_requested = Signal(int)  # index
    recolour_requested = Signal(int, QPoint)  # index, global position

    def __init__(self, view: ImageView) -> None:
        super().__init__(view)
        self._view = view
        self.points: list[tuple[float, float, str]] = []
        self.selected = -1
        self._active = False
        self._markers_shown = True
        self._press: QPointF | None = None
        self._dragging = -1
        self._drag_at: tuple[float, float] | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setGeometry(view.rect())
        view.installEventFilter(self)
        view.viewport.changed.connect(self.update)

    # -- state from the controller ----------------------------------------------------------------
    def set_points(self, points: list[tuple[float, float, str]]) -> None:
        self.points = list(points)
        if self.selected >= len(self.points):
            self.selected = len(self.points) - 1
        self.update()

    def set_active(self, on: bool) -> None:
        self._active = on
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, not on)
        self.setCursor(Qt.CursorShape.CrossCursor) if on else self.unsetCursor()
        self.update()

    def set_markers_shown(self, on: bool) -> None:
        self._markers_shown = on
        self.update()

    # -- geometry ---------------------------------------------------------------------------------
    def to_widget(self, x: float, y: float) -> QPointF:
        rect = self._view.image_rect()
        return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())

    def to_photo(self, pos: QPointF) -> tuple[float, float] | None:
        """The photo point under ``pos`` (0..1), or None outside the photo."""
        rect = self._view.image_rect()
        if not self._view.has_image() or rect.isEmpty() or not rect.contains(pos):
            return None
        return (min(1.0, max(0.0, (pos.x() - rect.left()) / rect.width())),
                min(1.0, max(0.0, (pos.y() - rect.top()) / rect.height())))

    def point_at(self, pos: QPointF) -> int:
        """Index of the topmost point within reach of ``pos``, or -1."""
        for index in reversed(range(len(self.points))):
            x, y, _ = self.points[index]
            centre = self.to_widget(x, y)
            if (centre - pos).manhattanLength() <= HIT_RADIUS * 1.4:
                return index
        return -1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._view and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._view.rect())
        return False

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        if not self._markers_shown or not self.points or not self._view.has_image():
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for index, (x, y, colour) in enumerate(self.points):
            if index == self._dragging and self._drag_at is not None:
                x, y = self._drag_at
            centre = self.to_widget(x, y)
            radius = MARKER_RADIUS + (2 if index == self.selected and self._active else 0)
            # The colour inside a white ring inside a black one: visible on any colour around it.
            painter.setPen(QPen(QColor(255, 255, 255), 3))
            painter.setBrush(QColor(colour))
            painter.drawEllipse(centre, radius, radius)
            painter.setPen(QPen(QColor(0, 0, 0), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, radius + 2, radius + 2)
        painter.end()

    # -- gestures ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._press = pos
            self._dragging = self.point_at(pos)
            self.selected = self._dragging
            self.update()
            event.accept()
        elif event.button() == Qt.MouseButton.RightButton:
            index = self.point_at(pos)
            if index >= 0:
                self.remove_requested.emit(index)
            event.accept()
        else:
            event.ignore()  # the middle button pans the view underneath

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._press is None or self._dragging < 0:
            event.ignore()
            return
        if (event.position() - self._press).manhattanLength() >= DRAG_START:
            at = self.to_photo(event.position())
            if at is not None:
                self._drag_at = at
                self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            event.ignore()
            return
        index, at, press = self._dragging, self._drag_at, self._press
        self._press, self._dragging, self._drag_at = None, -1, None
        if index >= 0 and at is not None:
            self.move_finished.emit(index, *at)
        elif index < 0:
            spot = self.to_photo(press)
            if spot is not None:
                self.place_requested.emit(*spot, self.mapToGlobal(press.toPoint()))
        self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        index = self.point_at(event.position())
        if index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.recolour_requested.emit(index, self.mapToGlobal(event.position().toPoint()))
        event.accept()

    def event(self, event: QEvent) -> bool:
        # Delete removes the selected point here, not the photo from the list (the window's
        # Remove shortcut), while this overlay has the focus and a point is selected.
        if (event.type() == QEvent.Type.ShortcutOverride and self._active and self.selected >= 0
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected >= 0:
            self.remove_requested.emit(self.selected)
            event.accept()
        else:
            self._view.keyPressEvent(event)  # zoom and pan keys still work
