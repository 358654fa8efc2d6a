"""Help > Try a Sample Photo: the sample's result goes to a folder of the user's, never into the
installed package (which may be read-only, and is not the user's to fill)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

from colorize_app import APP_NAME
from colorize_app.core.provenance import read_provenance
from colorize_app.core.vocabulary import Status
from colorize_app.ui.batch_model import BatchListModel


def output_dir() -> Path:
    """~/Pictures/Colorize (or the platform's equivalent; the home folder without one)."""
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return Path(pictures or Path.home()) / APP_NAME


def redirect(model: BatchListModel, photo: Path) -> None:
    """Point the sample's list entry at the user's folder, and say whether a result is there (with
    its record of how it was made, so the list can tell when it is out of date, as for any photo)."""
    for entry in model.entries():
        if entry.source == photo and entry.output.parent == photo.parent:
            output = output_dir() / entry.output.name
            saved = output.exists()
            model.update(entry.id, output=output,
                         status=Status.SAVED if saved else Status.WAITING,
                         saved_record=read_provenance(output) if saved else None,
                         reason=model.tr("Already colorized earlier ({0} exists)").format(
                             output) if saved else "")
