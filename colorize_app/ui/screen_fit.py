"""The window's first size, and saved geometry only where it still fits the screen."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QWidget

DEFAULT_SIZE = QSize(1280, 800)
SCREEN_SHARE = 0.9  # of the available area, so the window's frame and the panel stay visible


def first_size(available: QRect) -> QSize:
    """DEFAULT_SIZE, shrunk to fit the screen's available area (at 150 % scaling a 1600 x 1000
    screen offers about 1066 x 640 logical pixels)."""
    return QSize(min(DEFAULT_SIZE.width(), int(available.width() * SCREEN_SHARE)),
                 min(DEFAULT_SIZE.height(), int(available.height() * SCREEN_SHARE)))


def place(window: QWidget, saved_geometry) -> None:
    """Restore `saved_geometry` (a QByteArray, maybe empty) if it fits on a screen now; else give
    the window its first size, centred on the screen it is on."""
    if not saved_geometry.isEmpty() and window.restoreGeometry(saved_geometry):
        screen = window.screen()
        if screen is None or screen.availableGeometry().contains(window.frameGeometry()):
            return
    screen = window.screen()
    if screen is None:
        window.resize(DEFAULT_SIZE)
        return
    available = screen.availableGeometry()
    # Never below the layout's minimum, which Qt would apply only once the window is shown.
    size = first_size(available).expandedTo(window.minimumSizeHint())
    window.resize(size)
    window.move(max(available.left(), available.center().x() - size.width() // 2),
                max(available.top(), available.center().y() - size.height() // 2))
