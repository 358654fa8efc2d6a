"""About and keyboard-shortcut dialogs."""

from __future__ import annotations

import html

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
from colorize_app.ui import model_card, resources


def with_close_button(dialog: QDialog, content: QWidget) -> None:
    """Lay ``content`` out above a Close button."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(content)
    layout.addWidget(buttons)


class AboutDialog(QDialog):
    """Version, the model card in brief, and credits (for the sample photo too)."""

    def __init__(self, model_info: dict | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About {0}").format(APP_NAME))
        parts = [f"<h2>{APP_NAME} {html.escape(__version__)}</h2>",
                 "<p>" + self.tr("Turns black-and-white photos into colour ones, on this computer. "
                                 "Nothing is uploaded anywhere.") + "</p>",
                 "<p>" + self.tr("Every result it saves says so: XMP records that its colour was "
                                 "made by a trained model (the IPTC digital source type), the "
                                 "application and version, the model and a fingerprint of it, the "
                                 "render size, saturation, how many colour hints were used, and "
                                 "the original's file name and fingerprint. Preferences can turn "
                                 "this off.") + "</p>",
                 self._model_html(model_info)]
        credit = resources.sample_credit()
        if credit:  # the credit file's own words, which already say what they are about
            parts.append("<p>" + html.escape(credit) + "</p>")
        label = QLabel("".join(parts))
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        label.setOpenExternalLinks(True)
        with_close_button(self, label)
        self.setMinimumWidth(420)
        self.text = label.text()  # for tests and accessibility tools

    def _model_html(self, info: dict | None) -> str:
        if not info:
            return "<p>" + self.tr("Model: not loaded yet (it loads with the first photo).") + "</p>"
        cells = "".join(f"<tr><td valign='top'><b>{html.escape(k)}</b>&nbsp;</td>"
                        f"<td>{html.escape(v)}</td></tr>" for k, v in model_card.describe(info))
        link = model_card.model_card_url()
        more = (f"<p><a href='{link.toString()}'>{self.tr('Read the model card')}</a>: "
                + self.tr("how it was trained and measured, and its limits.") + "</p>"
                if link is not None else "")
        return f"<table>{cells}</table>{more}"


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
        with_close_button(self, self.table)
        self.resize(460, 520)
