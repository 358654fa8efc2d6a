"""The list of photos the window is working on, as a Qt list model."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon, QImage

from colorize_app.core.freshness import Freshness, Judgement, compare
from colorize_app.core.provenance import recipe_for
from colorize_app.core.vocabulary import Status
from colorize_app.ui import icons

StatusRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
DetailRole = Qt.ItemDataRole.UserRole + 3
StatusIconRole = Qt.ItemDataRole.UserRole + 4

_ids = itertools.count(1)


@dataclass(eq=False)
class BatchEntry:
    """One photo. `id` doubles as the worker's job id, so no result can land on the wrong row."""

    source: Path
    output: Path
    status: Status = Status.WAITING
    reason: str = ""
    progress: float = 0.0
    seconds: float | None = None
    thumbnail: QImage | None = None
    # The network's low-resolution prediction: enough to redo the result at another saturation (or
    # save it) without running the network again. A few hundred kB per photo.
    chroma: np.ndarray | None = None
    id: int = 0
    folder: str = ""  # the sub-folder below the opened folder ("" at its top, or a single file)
    # (render size, saturation) of the result in memory; None: unknown
    made_with: tuple[int, float] | None = None
    # What the file on disk records about how it was made (core.provenance.read_provenance's
    # answer); None: nothing saved, or not read
    saved_record: tuple | None = None
    original_changed: bool = False  # since the saved result was made (core.freshness), as opened
    # core.hints.Hint points, as in the photo's hints file; None: not read yet (a job then has
    # core reads the file, see core.job.with_hints)
    hints: tuple | None = None
    hints_note: str = ""  # why its hints file could not be used (damaged, newer version...)
    queued: bool = False  # a job of the window's batch is waiting for it or working on it

    def __post_init__(self) -> None:
        if not self.id:
            self.id = next(_ids)


def made_with(options) -> tuple[int, float]:
    """(render size, saturation) of a colour made with ``options`` (a core JobOptions), as
    ``BatchEntry.made_with`` holds it."""
    return int(options.render_size), round(float(options.saturation), 2)


class BatchListModel(QAbstractListModel):
    """Rows of BatchEntry; the window changes them only through the methods below."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[BatchEntry] = []
        self._rows: dict[int, int] | None = None  # entry id -> row, made again after a change
        self._icons: dict[Status, QIcon] = {}
        # the window's render size, saturation and model digest
        self._current: tuple[int, float, str] | None = None

    # -- reading ----------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.source.name
        if role == Qt.ItemDataRole.DecorationRole:
            return entry.thumbnail
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{entry.source}\n{self.detail(entry)}"
        if role == StatusRole:
            return entry.status
        if role == ProgressRole:
            return entry.progress
        if role == DetailRole:
            return self.detail(entry)
        if role == StatusIconRole:  # an out-of-date result shows the clock: it needs doing again
            return self.status_icon(Status.WAITING if self.is_out_of_date(entry) else entry.status)
        return None

    def detail(self, entry: BatchEntry) -> str:
        """The one-line state shown under the name, in the tooltip and in the status bar."""
        state = self._hinted_state(entry)
        return f"{entry.folder} · {state}" if entry.folder else state

    def judgement(self, entry: BatchEntry) -> Judgement | None:
        """How the file on disk compares with what the window would make now (core.freshness's
        rule); None when nothing is saved, or its record or the photo's hints are not read yet."""
        if (entry.status != Status.SAVED or entry.saved_record is None or self._current is None
                or entry.hints is None):  # fmt: skip
            return None
        render_size, saturation, model = self._current
        return compare(*entry.saved_record, recipe_for(render_size, saturation, entry.hints, model),
                       original_changed=entry.original_changed)  # fmt: skip

    def is_out_of_date(self, entry: BatchEntry) -> bool:
        """The file on disk was made with other hints, settings or model than the window's now
        (core's rule), or the result in memory at another render size (its saturation is applied
        as it is saved)."""
        if entry.status == Status.SAVED:
            judgement = self.judgement(entry)
            return judgement is not None and judgement.freshness is Freshness.OUT_OF_DATE
        return (entry.status == Status.DONE and entry.made_with is not None
                and self._current is not None and entry.made_with[0] != self._current[0])

    def set_current_settings(self, render_size: int, saturation: float, model_sha256: str = "") -> None:
        """The window's settings and model, to tell which saved results no longer match them."""
        current = (int(render_size), round(float(saturation), 2), model_sha256)
        if current != self._current:
            self._current = current
            self._repaint_all()

    def _out_of_date(self, differences: tuple[str, ...]) -> str:
        words = {"hints": self.tr("hints"), "settings": self.tr("settings"), "model": self.tr("model")}
        recipe = self.tr(", ").join(words[d] for d in differences if d in words)
        if "original" not in differences:
            return self.tr("Out of date: saved with other {0}").format(recipe)
        if recipe:
            return self.tr("Out of date: saved with other {0}, and its original has changed "
                           "since").format(recipe)  # fmt: skip
        return self.tr("Out of date: its original has changed since it was made")

    def _hinted_state(self, entry: BatchEntry) -> str:
        # First, so that a narrow list that cuts the line short still shows it.
        if entry.hints:
            return self.tr("{0} hint(s) · {1}").format(len(entry.hints), self._state(entry))
        if entry.hints_note:
            return self.tr("Hints file unusable · {0}").format(self._state(entry))
        return self._state(entry)

    def _state(self, entry: BatchEntry) -> str:
        judgement = self.judgement(entry)
        if judgement is not None and judgement.freshness is Freshness.OUT_OF_DATE:
            return self._out_of_date(judgement.differences)
        if self.is_out_of_date(entry):  # in memory only, at another render size
            return self.tr("Out of date: colorized at another render size")
        if entry.status == Status.WAITING:
            return self.tr("Waiting") if entry.queued else self.tr("Not colorized yet")
        if entry.status == Status.WORKING:
            return self.tr("Colorizing… {0}%").format(round(entry.progress * 100))
        if entry.status == Status.DONE:
            if entry.seconds is not None:
                return self.tr("Colorized in {0:.1f} s, not saved yet").format(entry.seconds)
            return self.tr("Colorized, not saved yet")
        if entry.status == Status.SAVED:
            return entry.reason or self.tr("Saved as {0}").format(entry.output.name)
        if entry.status == Status.SKIPPED:
            return entry.reason
        # Core's messages name the file by its full path; in the list its name is enough.
        reason = entry.reason.replace(str(entry.source), entry.source.name)
        return self.tr("Failed: {0}").format(reason)

    def status_icon(self, status: Status) -> QIcon:
        if status not in self._icons:
            self._icons[status] = icons.status_icon(status)
        return self._icons[status]

    def refresh_icons(self) -> None:
        """After a light/dark switch: rebuild the tinted icons."""
        self._icons.clear()
        self._repaint_all()

    def _repaint_all(self) -> None:
        if self._entries:
            self.dataChanged.emit(self.index(0), self.index(len(self._entries) - 1))

    def entries(self) -> list[BatchEntry]:
        return list(self._entries)

    def entry_at(self, row: int) -> BatchEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def row_of(self, entry_id: int) -> int:
        # Asked for every answer of a lane (progress a few times a second, each thumbnail): a
        # lookup, not a walk of 20,000 rows.
        if self._rows is None:
            self._rows = {entry.id: row for row, entry in enumerate(self._entries)}
        return self._rows.get(entry_id, -1)

    def entry(self, entry_id: int) -> BatchEntry | None:
        return self.entry_at(self.row_of(entry_id))

    # -- changing ---------------------------------------------------------------------------------
    def add(self, entries: list[BatchEntry]) -> list[BatchEntry]:
        """Append entries whose source is not in the list yet; returns those actually added."""
        known = {entry.source for entry in self._entries}
        fresh = []
        for entry in entries:
            if entry.source not in known:
                known.add(entry.source)
                fresh.append(entry)
        if fresh:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._entries.extend(fresh)
            self._rows = None
            self.endInsertRows()
        return fresh

    def remove_rows(self, rows: list[int]) -> list[BatchEntry]:
        """Take rows off the list, each run of neighbours at once (one signal, not one a row:
        removing 2,000 selected rows one by one took the window ten seconds)."""
        removed = []
        for first, last in reversed(_runs(r for r in set(rows) if 0 <= r < len(self._entries))):
            self.beginRemoveRows(QModelIndex(), first, last)  # from the end: earlier rows stay
            removed[:0] = self._entries[first : last + 1]
            del self._entries[first : last + 1]
            self._rows = None
            self.endRemoveRows()
        return removed

    def clear(self) -> None:
        self.beginResetModel()
        self._entries.clear()
        self._rows = None
        self.endResetModel()

    def update(self, entry_id: int, **changes) -> BatchEntry | None:
        """Change fields of one entry (status, reason, progress, ...) and repaint its row."""
        row = self.row_of(entry_id)
        if row < 0:
            return None  # removed from the list while the worker was on it
        entry = self._entries[row]
        for name, value in changes.items():
            setattr(entry, name, value)
        index = self.index(row)
        self.dataChanged.emit(index, index)
        return entry


def _runs(rows) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive row numbers, in order."""
    runs: list[tuple[int, int]] = []
    for row in sorted(rows):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
