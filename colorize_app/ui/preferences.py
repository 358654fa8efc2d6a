"""Edit > Preferences: where results go, their name and format, JPEG quality, and whether each
result records what made it.

The same settings, with the same defaults, limits and checks (core.settings), as the command
line's --output-dir, --suffix, --format, --jpeg-quality and --no-provenance. A value the check
refuses is refused here, with the reason beside the field, and OK stays off until it is mended.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from colorize_app.core.settings import SETTINGS
from colorize_app.ui.settings import AppSettings

SUFFIX, FORMAT, QUALITY = SETTINGS["suffix"], SETTINGS["export_format"], SETTINGS["jpeg_quality"]


class PreferencesDialog(QDialog):
    """Reads the settings when made; writes them back only on OK."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.setWindowTitle(self.tr("Preferences"))
        self.next_to = QRadioButton(self.tr("&Next to each original"))
        self.in_folder = QRadioButton(self.tr("In this &folder:"))
        self.where = QButtonGroup(self)
        self.where.addButton(self.next_to)
        self.where.addButton(self.in_folder)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText(self.tr("Choose a folder"))
        self.browse = QPushButton(self.tr("&Browse…"))
        self.browse.clicked.connect(self._browse)
        self.suffix = QLineEdit()
        self.format = QComboBox()
        names = {"same": self.tr("Same as the original"), "JPEG": "JPEG", "PNG": "PNG",
                 "TIFF": "TIFF"}
        for fmt in FORMAT.choices:
            self.format.addItem(names[fmt], fmt)
        self.quality = QSpinBox()
        self.quality.setRange(int(QUALITY.minimum), int(QUALITY.maximum))
        self.suffix_problem = QLabel()  # why the suffix is refused, beside it
        self.suffix_problem.setWordWrap(True)
        self.suffix_problem.setAccessibleName(self.tr("Problem with the name suffix"))
        self.folder_problem = QLabel()  # why the folder is refused, beside it
        self.folder_problem.setWordWrap(True)
        self.folder_problem.setAccessibleName(self.tr("Problem with the folder for results"))
        self.provenance = QCheckBox(self.tr("&Write what made each result into it"))
        self.provenance.setToolTip(self.tr(
            "XMP in each result: that its colour was made by a trained model, the application, "
            "the model, render size, saturation, the hints used and the original's name and "
            "fingerprint"))
        self.defaults = QPushButton(self.tr("Restore &Defaults"))
        self.defaults.clicked.connect(self.restore_defaults)
        self._name_controls()

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.in_folder)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow(QLabel(self.tr("Save results:")), self.next_to)
        form.addRow("", folder_row)
        form.addRow("", self.folder_problem)
        for label, field in ((self.tr("Name &suffix:"), self.suffix),
                             (self.tr("F&ormat:"), self.format),
                             (self.tr("JPEG &quality:"), self.quality)):
            text = QLabel(label)
            text.setBuddy(field)  # the label's Alt+letter moves the focus to the field
            form.addRow(text, field)
            if field is self.suffix:
                form.addRow("", self.suffix_problem)
        self.example = QLabel()
        self.example.setAccessibleName(self.tr("Example file name"))
        form.addRow(self.tr("Example:"), self.example)
        form.addRow("", self.provenance)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.defaults, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

        self._load(settings.output_dir, settings.suffix, settings.export_format,
                   settings.jpeg_quality, settings.provenance)
        for signal in (self.next_to.toggled, self.folder.textChanged, self.suffix.textChanged,
                       self.format.currentIndexChanged):
            signal.connect(self._refresh)
        self._refresh()

    def _name_controls(self) -> None:
        for widget, name in ((self.next_to, self.tr("Save results next to each original")),
                             (self.in_folder, self.tr("Save results in a chosen folder")),
                             (self.folder, self.tr("Folder for results")),
                             (self.browse, self.tr("Choose the folder for results")),
                             (self.suffix, self.tr("Name suffix")),
                             (self.format, self.tr("Format of results")),
                             (self.quality, self.tr("JPEG quality")),
                             (self.provenance, self.tr("Write what made each result into it")),
                             (self.defaults, self.tr("Restore defaults"))):
            widget.setAccessibleName(name)

    def _load(self, folder: str, suffix: str, fmt: str, quality: int, provenance: bool = True) -> None:
        (self.in_folder if folder else self.next_to).setChecked(True)
        self.folder.setText(folder)
        self.suffix.setText(suffix)
        self.format.setCurrentIndex(max(0, self.format.findData(fmt)))
        self.quality.setValue(quality)
        self.provenance.setChecked(provenance)

    def restore_defaults(self) -> None:
        self._load("", SUFFIX.default, FORMAT.default, QUALITY.default, SETTINGS["provenance"].default)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder for Results"),
                                                  self.folder.text())
        if folder:
            self.folder.setText(folder)
            self.in_folder.setChecked(True)

    def _folder(self) -> str:
        """The folder typed or chosen, "~" made the home folder."""
        folder = self.folder.text().strip()
        return os.path.expanduser(folder) if folder else ""

    def _refresh(self, *_args) -> None:
        in_folder = self.in_folder.isChecked()
        self.folder.setEnabled(in_folder)
        self.browse.setEnabled(in_folder)
        fmt = self.format.currentData()
        self.quality.setEnabled(fmt in ("same", "JPEG"))
        ext = {"same": ".jpg", "JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif"}[fmt]
        self.example.setText(f"photo.jpg → photo{self.suffix.text()}{ext}")
        problem = SUFFIX.problem(self.suffix.text())
        self.suffix_problem.setText(problem)
        self.suffix_problem.setVisible(bool(problem))
        folder = self._folder()
        # A relative folder would be taken from wherever the app was started.
        folder_problem = "" if not in_folder or not folder or os.path.isabs(folder) else self.tr(
            "Give the folder's full path, for example {0}.").format(
                os.path.join(os.path.expanduser("~"), "Colorized"))  # fmt: skip
        self.folder_problem.setText(folder_problem)
        self.folder_problem.setVisible(bool(folder_problem))
        # Results would replace the originals: the command line refuses this too.
        ok = not problem and not folder_problem and (bool(self.suffix.text()) or in_folder)
        if in_folder and not folder:
            ok = False
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def accept(self) -> None:
        s = self._settings
        s.output_dir = self._folder() if self.in_folder.isChecked() else ""
        s.suffix = self.suffix.text()
        s.export_format = self.format.currentData()
        s.jpeg_quality = self.quality.value()
        s.provenance = self.provenance.isChecked()
        s.sync()
        super().accept()
