"""File > Open Recent, filled from the settings each time it opens."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMenu

from colorize_app.ui.settings import AppSettings


class RecentMenu(QObject):
    path_chosen = Signal(str)

    def __init__(self, menu: QMenu, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = menu
        self._settings = settings
        menu.aboutToShow.connect(self.rebuild)
        self.rebuild()  # so the menu is never empty-looking before its first showing

    @Slot()
    def rebuild(self) -> None:
        self.menu.clear()
        recent = self._settings.recent_files
        for number, path in enumerate(recent, 1):
            label = Path(path).name or path
            action = self.menu.addAction(f"&{number % 10} {label}")
            action.setData(path)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setEnabled(Path(path).exists())
            action.triggered.connect(self._on_triggered)
        if recent:
            self.menu.addSeparator()
        clear = self.menu.addAction(self.tr("Clear Recent"))
        clear.setEnabled(bool(recent))
        clear.triggered.connect(self._on_clear)

    @Slot()
    def _on_triggered(self) -> None:
        action = self.sender()
        if action is not None and action.data():
            self.path_chosen.emit(str(action.data()))

    @Slot()
    def _on_clear(self) -> None:
        self._settings.recent_files = []
        self.rebuild()
