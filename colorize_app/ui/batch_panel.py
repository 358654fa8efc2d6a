"""The batch list: thumbnails, names and states, with its own small toolbar."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from colorize_app.ui.batch_delegate import BatchItemDelegate
from colorize_app.ui.batch_model import BatchEntry, BatchListModel

REPAINT_MS = 100  # rows that changed are repainted together, at most 10 times a second


class BatchListView(QListView):
    """A list view whose context menu offers the given actions, and that repaints changed rows
    together: a batch of small photos changes a row several times a photo, and each change
    repainted the whole list (offscreen), most of the window's own work during a batch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context_actions: list[QAction | None] = []  # None: a separator
        self._changed: tuple[int, int] | None = None  # first and last row changed, not repainted
        self._repaint = QTimer(self, singleShot=True, interval=REPAINT_MS,
                               timeout=self._repaint_changed)

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:  # noqa: N802 (Qt override)
        first, last = top_left.row(), bottom_right.row()
        if self._changed is not None:
            first, last = min(first, self._changed[0]), max(last, self._changed[1])
        self._changed = (first, last)
        if not self._repaint.isActive():
            self._repaint.start()

    @Slot()
    def _repaint_changed(self) -> None:
        if self._changed is None or self.model() is None:
            return
        (first, last), self._changed = self._changed, None
        last = min(last, self.model().rowCount() - 1)
        if 0 <= first <= last:
            super().dataChanged(self.model().index(first, 0), self.model().index(last, 0), [])

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt override)
        menu = QMenu(self)
        for action in self.context_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.exec(event.globalPos())


class BatchPanel(QWidget):
    current_changed = Signal(object)  # BatchEntry or None

    def __init__(self, model: BatchListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = BatchListView()
        self.view.setModel(model)
        self.view.setItemDelegate(BatchItemDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setUniformItemSizes(True)  # rows all alike: fast even for thousands of photos
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setAccessibleName(self.tr("Photos"))
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        model.rowsRemoved.connect(self._on_rows_changed)
        model.modelReset.connect(self._on_rows_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)

    def add_buttons(self, actions: list[QAction]) -> None:
        """Small buttons under the list for list-only commands (remove, clear)."""
        row = QHBoxLayout()
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            row.addWidget(button)
        row.addStretch(1)
        self.layout().addLayout(row)

    # -- selection --------------------------------------------------------------------------------
    def current_entry(self) -> BatchEntry | None:
        index = self.view.currentIndex()
        return self.model.entry_at(index.row()) if index.isValid() else None

    def selected_entries(self) -> list[BatchEntry]:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        return [entry for entry in map(self.model.entry_at, rows) if entry is not None]

    def selected_rows(self) -> list[int]:
        return [self.model.row_of(entry.id) for entry in self.selected_entries()]

    def select_row(self, row: int) -> None:
        index = self.model.index(row)
        if index.isValid():
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.view.scrollTo(index)

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.current_changed.emit(self.model.entry_at(current.row()) if current.isValid() else None)

    @Slot()
    def _on_rows_changed(self) -> None:
        # Removing the current row may leave no current index without a currentChanged signal.
        if not self.view.currentIndex().isValid():
            if self.model.rowCount():
                self.select_row(0)
            else:
                self.current_changed.emit(None)
