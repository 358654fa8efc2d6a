"""The preview widgets on their own: the before/after divider, and zoom kept in step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from colorize_app.ui.preview import SLIDER_STEPS, PreviewWidget
from colorize_app.ui.qimage import to_qimage


def pyramid(height: int, width: int, colour) -> list:
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = colour
    return [to_qimage(image), to_qimage(image[::2, ::2].copy())]


@pytest.fixture
def preview(qtbot):
    widget = PreviewWidget()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.set_original(pyramid(600, 800, (128, 128, 128)))
    widget.set_result(pyramid(600, 800, (200, 40, 40)))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def pixel(view, x: float, y: float):
    colour = view.grab().toImage().pixelColor(round(x), round(y))
    return colour.red(), colour.green(), colour.blue()


def test_the_slider_moves_the_divider_and_the_picture_follows(qtbot, preview):
    preview.set_compare_mode(True)
    view = preview.compare_view
    preview.compare_slider.setValue(SLIDER_STEPS // 4)
    assert view.divider() == pytest.approx(0.25)
    rect = view.image_rect()
    y = rect.center().y()
    # Left of the divider the original, right of it the colour result.
    assert pixel(view, rect.left() + 0.15 * rect.width(), y) == (128, 128, 128)
    assert pixel(view, rect.left() + 0.40 * rect.width(), y) == (200, 40, 40)
    preview.compare_slider.setValue(SLIDER_STEPS // 2)
    assert pixel(view, rect.left() + 0.40 * rect.width(), y) == (128, 128, 128)


def test_dragging_the_divider_with_the_mouse_moves_it_and_the_slider(qtbot, preview):
    preview.set_compare_mode(True)
    view = preview.compare_view
    rect = view.image_rect()
    start = QPointF(view.divider_x(), rect.center().y())
    end = QPointF(rect.left() + 0.8 * rect.width(), rect.center().y())
    send_mouse(view, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    send_mouse(view, QEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    send_mouse(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.LeftButton)
    assert view.divider() == pytest.approx(0.8, abs=0.01)
    assert preview.compare_slider.value() == pytest.approx(0.8 * SLIDER_STEPS, abs=10)


def test_the_keyboard_moves_the_divider(qtbot, preview):
    preview.set_compare_mode(True)
    view = preview.compare_view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.divider() == pytest.approx(0.51)
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert view.divider() == pytest.approx(0.41)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.divider() == 0.0
    assert preview.compare_slider.value() == 0


def test_zoom_and_pan_stay_in_step_between_the_two_panes(qtbot, preview):
    original = preview.side_by_side.original_view
    result = preview.side_by_side.result_view
    assert original.image_rect() == result.image_rect()
    preview.zoom_actual()
    assert original.device_scale() == pytest.approx(1.0)
    assert result.device_scale() == pytest.approx(1.0)
    original.pan_by(-60, -30)
    assert result.image_rect() == original.image_rect()
    qtbot.keyClick(result, Qt.Key.Key_Plus)
    assert original.device_scale() == pytest.approx(1.25)
    preview.zoom_fit()
    fit = original.device_scale()
    assert fit < 1.0 and result.device_scale() == pytest.approx(fit)
    assert original.image_rect().width() <= original.width()


def test_a_smaller_quick_preview_is_shown_at_the_original_size(qtbot, preview):
    result = preview.side_by_side.result_view
    before = result.image_rect()
    preview.set_result(pyramid(150, 200, (10, 200, 10))[:1])  # a quarter-size stand-in
    assert result.image_rect() == before
    centre = before.center()
    assert pixel(result, centre.x(), centre.y()) == (10, 200, 10)


def send_mouse(widget, kind, pos: QPointF, button, buttons=None) -> None:
    buttons = button if buttons is None else buttons
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
