"""Every control of the window can be named by a screen reader and reached from the keyboard."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
)

from colorize_app.ui.image_view import ImageView
from colorize_app.ui.preferences import PreferencesDialog

CONTROLS = (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox,
            QLineEdit, ImageView)


def controls(root: QWidget) -> list[QWidget]:
    found = [w for w in root.findChildren(QWidget) if isinstance(w, CONTROLS)]
    # Qt's own parts of a composite (a scroll bar, a combo's list, a menu's items) are reached
    # through the control that owns them.
    return [w for w in found if not w.objectName().startswith("qt_")
            and not isinstance(w.parent(), (QComboBox, QAbstractSpinBox, QMenu))
            and type(w).__name__ not in ("QScrollBar",)
            and not any(isinstance(a, (QAbstractItemView, QComboBox)) for a in _ancestors(w))]


def _ancestors(widget: QWidget):
    parent = widget.parentWidget()
    while parent is not None:
        yield parent
        parent = parent.parentWidget()


def name_of(widget: QWidget) -> str:
    if widget.accessibleName():
        return widget.accessibleName()
    if isinstance(widget, QToolButton) and widget.defaultAction() is not None:
        return widget.defaultAction().text().replace("&", "")
    if isinstance(widget, QAbstractButton):
        return widget.text().replace("&", "")
    return ""


def menu_actions(window) -> set:
    seen, stack = set(), [a for a in window.menuBar().actions()]
    while stack:
        action = stack.pop()
        seen.add(action)
        if action.menu() is not None:
            stack.extend(action.menu().actions())
    return seen


def reachable(widget: QWidget, in_menus: set) -> bool:
    if isinstance(widget, QToolButton) and widget.defaultAction() is not None:
        action = widget.defaultAction()
        return action in in_menus or not action.shortcut().isEmpty()
    return bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus)


def check(root: QWidget, in_menus: set) -> list[str]:
    problems = []
    for widget in controls(root):
        label = f"{type(widget).__name__} {name_of(widget)!r} in {type(widget.parent()).__name__}"
        if not name_of(widget):
            problems.append(f"no accessible name: {label}")
        if not reachable(widget, in_menus):
            problems.append(f"no keyboard path: {label}")
    return problems


def test_every_control_of_the_window_has_a_name_and_a_keyboard_path(open_window, tiny_weights):
    window = open_window(tiny_weights)
    in_menus = menu_actions(window)
    assert check(window, in_menus) == []
    window.commands.compare.trigger()  # the before/after divider and its slider
    assert check(window, in_menus) == []
    for action in window.findChildren(QToolButton):
        if action.defaultAction() is not None and action.isVisible():
            assert action.defaultAction() in in_menus, action.defaultAction().text()


def test_every_control_of_the_preferences_has_a_name_and_a_keyboard_path(qtbot, tmp_path):
    from colorize_app.ui.settings import AppSettings

    dialog = PreferencesDialog(AppSettings(tmp_path / "s.ini"))
    qtbot.addWidget(dialog)
    assert check(dialog, set()) == []
