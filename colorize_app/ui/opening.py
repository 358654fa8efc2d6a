"""From paths the user gave (dialog, drop, command line) to list entries, via core's batch planning."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QFileDialog, QGridLayout, QWidget

from colorize_app.core import batch
from colorize_app.core.errors import ColorizeError
from colorize_app.core.provenance import read_provenance
from colorize_app.core.vocabulary import EXTENSIONS, VIDEO_EXTENSIONS, Status
from colorize_app.ui.batch_model import BatchEntry


def image_filter() -> str:
    """The file dialog's filter: every extension core reads (photos and films), photos only,
    films only, then "all files"."""
    photos = " ".join(f"*{ext}" for ext in sorted(EXTENSIONS))
    films = " ".join(f"*{ext}" for ext in VIDEO_EXTENSIONS)
    tr = QCoreApplication.translate
    return (f"{tr('opening', 'Photos and films')} ({photos} {films});;"
            f"{tr('opening', 'Images')} ({photos});;{tr('opening', 'Films')} ({films});;"
            f"{tr('opening', 'All files')} (*)")


def save_filter() -> str:
    """Save As's filter: one entry per format core writes, the first the default."""
    tr = QCoreApplication.translate
    by_format: dict[str, list[str]] = {}
    for ext, fmt in EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(f"*{ext}")
    names = {"WEBP": "WebP"}
    return ";;".join(f"{names.get(fmt, fmt)} ({' '.join(patterns)})"
                     for fmt, patterns in by_format.items()) or tr("opening", "Images")


def folder_dialog(parent: QWidget | None, start: str, subfolders: bool) -> QFileDialog:
    """File > Open Folder's dialog, with "Include sub-folders" in it (its `subfolders`)."""
    tr = QCoreApplication.translate
    dialog = QFileDialog(parent, tr("opening", "Open Folder"), start)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # a native one takes no extra widget
    dialog.subfolders = QCheckBox(tr("opening", "Include &sub-folders"), dialog)
    dialog.subfolders.setChecked(subfolders)
    layout = dialog.layout()
    if isinstance(layout, QGridLayout):
        layout.addWidget(dialog.subfolders, layout.rowCount(), 0, 1, layout.columnCount())
    return dialog


def choose_folder(parent: QWidget | None, start: str, subfolders: bool) -> tuple[str, bool]:
    """Ask for a folder: (the folder or "", whether to include its sub-folders)."""
    dialog = folder_dialog(parent, start, subfolders)
    chosen = dialog.exec() and dialog.selectedFiles()
    include = dialog.subfolders.isChecked()
    dialog.deleteLater()
    return (chosen[0] if chosen else ""), include


def plan_entries(paths: Iterable[str | Path], *, recursive: bool,
                 **export) -> tuple[list[BatchEntry], list[str]]:
    """Entries for the photos and films among `paths` (folders expanded), and a sentence per
    problem.

    A photo whose result already exists next to it comes in as saved, so colorizing a folder
    again resumes where it stopped instead of starting over. `export`: core.batch.plan_batch's
    suffix, output_dir and format (the Preferences).
    """
    entries: list[BatchEntry] = []
    problems: list[str] = []
    tr = QCoreApplication.translate
    for path in paths:
        path = Path(path)
        try:
            items = batch.plan_batch([path], recursive=recursive, films=True, **export)
        except (ColorizeError, OSError) as exc:
            problems.append(str(exc))
            continue
        if path.is_dir() and not items:
            problems.append(tr("opening", "No photos or films in {0}.").format(path))
        for item in items:
            if item.status == Status.SKIPPED and not item.output.exists():
                problems.append(f"{item.source.name}: {item.reason}")  # not a photo we read
                continue
            entry = BatchEntry(source=item.source, output=item.output,
                               folder=_sub_folder(item.source, path))
            if item.status == Status.SKIPPED:
                entry.status = Status.SAVED
                entry.reason = tr("opening", "Already colorized earlier ({0} exists)").format(
                    item.output.name)
                entry.saved_record = read_provenance(item.output)  # the list judges it
            elif item.status == Status.FAILED:
                entry.status, entry.reason = Status.FAILED, item.reason
            entries.append(entry)
    return entries, problems


def _sub_folder(source: Path, opened: Path) -> str:
    """"inner/deeper" for a photo found below the opened folder; "" at its top or for a file."""
    if source == opened or source.parent == opened:
        return ""
    try:
        return source.parent.relative_to(opened).as_posix()
    except ValueError:
        return ""
