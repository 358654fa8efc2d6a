"""A notice that stays: files that were not opened, each with its reason, until dismissed."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QWidget,
)

from colorize_app.ui.dialogs import with_close_button


class ProblemsBar(QFrame):
    """Shown above the batch list while it holds problems; "Details" lists every one of them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._problems: list[str] = []
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.details = QPushButton(self.tr("&Details…"))
        self.details.setAccessibleName(self.tr("Show the files that were not opened"))
        self.dismiss = QPushButton(self.tr("D&ismiss"))
        self.dismiss.setAccessibleName(self.tr("Dismiss the list of files not opened"))
        self.details.clicked.connect(self.show_details)
        self.dismiss.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.details)
        row.addWidget(self.dismiss)
        self.setAccessibleName(self.tr("Files not opened"))
        self.hide()

    def problems(self) -> list[str]:
        return list(self._problems)

    def add(self, problems: list[str]) -> None:
        fresh = [p for p in problems if p not in self._problems]
        if not fresh:
            return
        self._problems += fresh
        count = len(self._problems)
        first = self._problems[0]
        self.label.setText(first if count == 1 else self.tr(
            "{0} files or folders were not opened. {1}").format(count, first))
        self.label.setToolTip("\n".join(self._problems))
        self.show()

    @Slot()
    def clear(self) -> None:
        self._problems = []
        self.hide()

    @Slot()
    def show_details(self) -> None:
        dialog = QDialog(self.window())
        dialog.setWindowTitle(self.tr("Not Opened"))
        items = QListWidget()
        items.setAccessibleName(self.tr("Files not opened, with the reason"))
        items.addItems(self._problems)
        with_close_button(dialog, items)
        dialog.resize(520, 300)
        dialog.open()
