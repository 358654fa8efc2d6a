"""Icons from qtawesome (vector, so crisp at any DPI), coloured from the current palette.

Icons are built on demand rather than once at import, so a switch between light and dark follows
the system: callers ask again after a palette change.
"""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

from colorize_app.core.vocabulary import Status

_STATUS_ICONS = {
    Status.WAITING: ("mdi6.clock-outline", None),
    Status.WORKING: ("mdi6.progress-clock", "highlight"),
    Status.DONE: ("mdi6.check-circle-outline", "#2e9b4f"),
    Status.SAVED: ("mdi6.content-save-check-outline", "#2e9b4f"),
    Status.FAILED: ("mdi6.alert-circle-outline", "#d13b3b"),
    Status.SKIPPED: ("mdi6.palette-outline", None),  # already in colour
}


def _text_colour() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorRole.WindowText)


def icon(name: str) -> QIcon:
    """An action icon in the palette's text colour (greyed automatically when disabled)."""
    text = _text_colour()
    disabled = QGuiApplication.palette().color(QPalette.ColorGroup.Disabled,
                                               QPalette.ColorRole.WindowText)
    return qta.icon(name, color=text, color_disabled=disabled)


def status_icon(status: Status) -> QIcon:
    name, colour = _STATUS_ICONS[status]
    if colour is None:
        return qta.icon(name, color=_text_colour())
    if colour == "highlight":
        return qta.icon(name, color=QGuiApplication.palette().color(QPalette.ColorRole.Highlight))
    tint = QColor(colour)
    if _text_colour().lightness() > 128:  # dark theme: same hue, lighter, to keep its contrast
        tint = tint.lighter(140)
    return qta.icon(name, color=tint)
