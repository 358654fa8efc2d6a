"""From paths the user gave (dialog, drop, command line) to list entries: the dialogs, and the
entries for what core.finder found (the walk itself runs off the window's thread)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QFileDialog, QGridLayout, QWidget

from colorize_app.core.finder import Found
from colorize_app.core.vocabulary import EXTENSIONS, VIDEO_EXTENSIONS, Status
from colorize_app.ui.batch_model import BatchEntry

# More photos and films than this below one opened folder are not listed (core.batch.Walk says
# so): opening "/" with sub-folders by mistake must not fill the list with every icon on the disk.
MAX_PHOTOS = 50_000


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
    by_format: dict[str, list[str]] = {}
    for ext, fmt in EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(f"*{ext}")
    names = {"WEBP": "WebP"}
    return ";;".join(f"{names.get(fmt, fmt)} ({' '.join(patterns)})"
                     for fmt, patterns in by_format.items())


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


def entries_from(found: Iterable[Found]) -> tuple[list[BatchEntry], list[str]]:
    """Entries for the photos and films core found among the opened paths (core.finder, run off
    the window's thread: nothing here touches the disk), and a sentence per problem.

    A photo whose result already exists next to it comes in as saved, so colorizing a folder
    again resumes where it stopped instead of starting over.
    """
    entries: list[BatchEntry] = []
    problems: list[str] = []
    tr = QCoreApplication.translate
    for opened in found:
        if opened.problem:
            problems.append(opened.problem)
            continue
        if opened.folder and not opened.items:
            problems.append(tr("opening", "No photos or films in {0}.").format(opened.path))
        for item in opened.items:
            if item.status == Status.SKIPPED and item.output not in opened.records:
                problems.append(f"{item.source.name}: {item.reason}")  # not a photo we read
                continue
            entry = BatchEntry(source=item.source, output=item.output,
                               folder=_sub_folder(item.source, opened.path))
            if item.status == Status.SKIPPED:
                entry.status = Status.SAVED
                entry.reason = tr("opening", "Already colorized earlier ({0} exists)").format(
                    item.output.name)
                entry.saved_record = opened.records[item.output]  # the list judges it
                entry.original_changed = item.output in opened.changed
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
