"""About and keyboard-shortcut dialogs."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from colorize_app import APP_NAME, __version__
from colorize_app.ui import resources


class AboutDialog(QDialog):
    """Version, the model card in brief, and credits (for the sample photo too)."""

    def __init__(self, model_info: dict | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About {0}").format(APP_NAME))
        parts = [f"<h2>{APP_NAME} {html.escape(__version__)}</h2>",
                 "<p>" + self.tr("Turns black-and-white photos into colour ones, on this computer. "
                                 "Nothing is uploaded anywhere.") + "</p>",
                 self._model_html(model_info)]
        credit = resources.sample_credit()
        if credit:  # the credit file's own words, which already say what they are about
            parts.append("<p>" + html.escape(credit) + "</p>")
        label = QLabel("".join(parts))
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        label.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        self.text = label.text()  # for tests and accessibility tools

    def _model_html(self, info: dict | None) -> str:
        if not info:
            return "<p>" + self.tr("Model: not loaded yet (it loads with the first photo).") + "</p>"
        rows = [(self.tr("Model"), info.get("name", "")), (self.tr("Runs on"), info.get("device", ""))]
        config = info.get("config") or {}
        if config:
            rows.append((self.tr("Network"), ", ".join(f"{k} {v}" for k, v in config.items()
                                                     if k in ("backbone", "cut_after", "head"))))
        rows += self._card_rows(info.get("summary") or {})
        if info.get("path"):
            rows.append((self.tr("File"), Path(info["path"]).name))
        cells = "".join(f"<tr><td><b>{html.escape(str(k))}</b>&nbsp;</td>"
                        f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows if v)
        return f"<table>{cells}</table>"


    def _card_rows(self, card: dict) -> list[tuple[str, str]]:
        """The model card (training.export's metadata) in a few readable lines."""
        rows = []
        if card.get("loss"):
            rows.append((self.tr("Trained with"), self.tr("{0} loss").format(card["loss"])))
        if card.get("steps"):
            seen = card.get("images_seen")
            rows.append((self.tr("Training"), self.tr("{0} steps, {1} images seen").format(
                card["steps"], seen) if seen else self.tr("{0} steps").format(card["steps"])))
        data = card.get("data")
        if isinstance(data, dict) and data.get("root"):
            photos = data.get("photos")
            rows.append((self.tr("Data"), f"{data['root']} ({photos} photos)" if photos
                         else str(data["root"])))
        metrics = card.get("metrics")
        if isinstance(metrics, dict) and metrics:
            rows.append((self.tr("Evaluation"), ", ".join(
                f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in metrics.items() if not isinstance(v, dict | list))))
        if card.get("note"):
            rows.append((self.tr("Note"), str(card["note"])))
        return rows


class ShortcutsDialog(QDialog):
    """Built from the actions themselves, so it can never disagree with what the keys do."""

    def __init__(self, actions: list[QAction], extra: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard Shortcuts"))
        # The primary shortcut only: platform key bindings also list media keys ("Open", "Save")
        # that most keyboards lack.
        rows = [(action.text().replace("&", "").rstrip("…"),
                 action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for action in actions if not action.shortcut().isEmpty()]
        rows += extra
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels([self.tr("Command"), self.tr("Keys")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (command, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(command))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 520)
