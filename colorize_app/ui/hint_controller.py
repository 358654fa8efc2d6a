"""The window's hint mode: colour points on the colorized preview, their undo history, their file.

Each change is an undoable command (one QUndoStack per photo, in a QUndoGroup that follows the
photo on screen); applying one writes the photo's hints file atomically (core.sidecar), and asks
the colorize worker to re-run the network on the render-size copy (a requests.HintRequest). The
answer's chroma goes into the list entry and the preview re-composes it as the saturation slider
does: a quick copy at once, the full-size preview once the clicks rest.
"""

from __future__ import annotations

import itertools
import logging
import weakref

from PySide6.QtCore import QObject, QPoint, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QUndoCommand, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from colorize_app.core.errors import ColorizeError
from colorize_app.core.hint_colours import suggest_colours
from colorize_app.core.hints import Hint
from colorize_app.core.sidecar import HintsFileError, read_hints, write_hints
from colorize_app.core.vocabulary import Status
from colorize_app.ui import icons
from colorize_app.ui.batch_model import BatchEntry, BatchListModel
from colorize_app.ui.hint_overlay import HintOverlay
from colorize_app.ui.hint_palette import pick_colour
from colorize_app.ui.settings import MAX_RECENT_COLOURS
from colorize_app.workers.requests import HintRequest

logger = logging.getLogger(__name__)


class HintsCommand(QUndoCommand):
    """One hint change of one photo: its points before and after."""

    def __init__(self, controller: HintController, entry_id: int, before: tuple, after: tuple,
                 text: str) -> None:
        super().__init__(text)
        self._controller, self._entry_id = controller, entry_id
        self._before, self._after = before, after

    def redo(self) -> None:
        self._controller.apply(self._entry_id, self._after)

    def undo(self) -> None:
        self._controller.apply(self._entry_id, self._before)


class HintController(QObject):
    """Owns the hint actions, the overlay on the result view and each photo's undo stack."""

    message = Signal(str)  # for the status bar
    hints_changed = Signal(int)  # entry id whose hints were applied (tests, the list)

    def __init__(self, window: QMainWindow) -> None:
        # `window` is the MainWindow: its preview, list model, previews controller, host and
        # options. Held weakly: this object is the window's child, and a cycle through Python
        # would keep a closed window alive until a garbage collection (tests/test_ui_lifetime.py).
        super().__init__(window)
        self._window_ref = weakref.ref(window)
        self._model: BatchListModel = window.model
        self._host = window.host
        self._entry: BatchEntry | None = None
        self._takes_hints: bool | None = None  # None: the model is not loaded yet
        self._stacks: dict[int, QUndoStack] = {}
        self._ids = itertools.count(1)
        self._latest: dict[int, int] = {}  # entry id -> latest HintRequest id
        self.recent: list[str] = window.settings.recent_hint_colours  # kept between sessions
        self.pick = pick_colour  # tests replace it: the real one opens a menu
        self.overlay = HintOverlay(window.preview.side_by_side.result_view)
        self.group = QUndoGroup(self)
        self._make_actions(window)
        self._connect(window)
        self._update_enabled()

    @property
    def _window(self):
        return self._window_ref()

    def _options(self):
        return self._window.options()

    def _saturation(self) -> float:
        return self._window.options().saturation

    # -- actions ----------------------------------------------------------------------------------
    def _make_actions(self, window: QMainWindow) -> None:
        tr = self.tr
        self.undo = self.group.createUndoAction(window, tr("&Undo"))
        self.undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        self.redo = self.group.createRedoAction(window, tr("&Redo"))
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.hint_mode = QAction(icons.icon("mdi6.eyedropper-variant"), tr("&Hint Mode"), window)
        self.hint_mode.setCheckable(True)
        self.hint_mode.setShortcut(QKeySequence("Ctrl+H"))
        self.hint_mode.setIconText(tr("Hints"))
        self.hint_mode.setData("mdi6.eyedropper-variant")
        self.show_markers = QAction(tr("Show Hint &Markers"), window)
        self.show_markers.setCheckable(True)
        self.show_markers.setChecked(True)
        self.show_markers.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.clear = QAction(tr("Clear &Hints"), window)
        self.clear.setStatusTip(tr("Remove every colour hint of this photo (undo brings them back)"))
        self.apply_to_selected = QAction(tr("&Apply Hints to Selected Photos"), window)
        self.apply_to_selected.setStatusTip(tr(
            "Give the other selected photos this photo's hints (the same places relative to each "
            "photo), and colorize them again with them"))
        for action in (self.undo, self.redo, self.hint_mode, self.show_markers, self.clear,
                       self.apply_to_selected):
            window.addAction(action)

    def install(self, menu_bar, toolbar: QToolBar | None) -> None:
        """Add the actions to the Edit and View menus and the toolbar."""
        menus = {a.menu().objectName(): a.menu() for a in menu_bar.actions() if a.menu()}
        edit: QMenu | None = menus.get("edit_menu")
        view: QMenu | None = menus.get("view_menu")
        if edit is not None:
            first = edit.actions()[0] if edit.actions() else None
            edit.insertActions(first, [self.undo, self.redo])
            edit.insertSeparator(first)
            edit.addSeparator()
            edit.addActions([self.clear, self.apply_to_selected])
        if view is not None:
            view.addSeparator()
            view.addActions([self.hint_mode, self.show_markers])
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(self.hint_mode)

    def _connect(self, window: QMainWindow) -> None:
        self.hint_mode.toggled.connect(self._on_mode_toggled)
        self.show_markers.toggled.connect(self.overlay.set_markers_shown)
        self.clear.triggered.connect(self.clear_hints)
        self.apply_to_selected.triggered.connect(self.apply_hints_to_selected)
        window.batch_panel.view.selectionModel().selectionChanged.connect(self._update_enabled)
        window.preview.compare_mode_changed.connect(self._on_compare_mode)
        window.batch_panel.current_changed.connect(self.set_entry)
        self._model.rowsInserted.connect(self._on_rows_inserted)
        self.overlay.place_requested.connect(self._on_place_requested)
        self.overlay.move_finished.connect(self._on_move_finished)
        self.overlay.remove_requested.connect(self.remove_point)
        self.overlay.recolour_requested.connect(self._on_recolour_requested)
        worker = self._host.colorizer
        worker.model_loaded.connect(self._on_model_loaded)
        worker.hints_predicted.connect(self._on_predicted)
        worker.hints_failed.connect(self._on_failed)

    # -- the photo on screen ----------------------------------------------------------------------
    @Slot(object)
    def set_entry(self, entry: BatchEntry | None) -> None:
        self._entry = entry
        self.overlay.selected = -1
        self._show_points()
        if entry is not None:
            self.group.setActiveStack(self._stack(entry.id))
            if entry.hints_note:
                self.message.emit(entry.hints_note)
        else:
            self.group.setActiveStack(None)
        self._update_enabled()

    def _stack(self, entry_id: int) -> QUndoStack:
        if entry_id not in self._stacks:
            self._stacks[entry_id] = QUndoStack(self.group)
        return self._stacks[entry_id]

    def _show_points(self) -> None:
        hints = self._entry.hints if self._entry is not None else ()
        self.overlay.set_points([(h.x, h.y, h.color) for h in hints])

    # -- editing (each is one undoable command) ---------------------------------------------------
    def place(self, x: float, y: float, colour: str) -> None:
        entry = self._entry
        if entry is not None:
            self._push(entry, entry.hints + (Hint(x, y, colour),), self.tr("Place Hint"))
            self.overlay.selected = len(entry.hints) - 1
            self._remember(colour)

    def move_point(self, index: int, x: float, y: float) -> None:
        entry = self._entry
        if entry is not None and 0 <= index < len(entry.hints):
            hints = list(entry.hints)
            hints[index] = Hint(x, y, hints[index].color)
            self._push(entry, tuple(hints), self.tr("Move Hint"))

    def recolour(self, index: int, colour: str) -> None:
        entry = self._entry
        if entry is not None and 0 <= index < len(entry.hints):
            hints = list(entry.hints)
            hints[index] = Hint(hints[index].x, hints[index].y, colour)
            self._push(entry, tuple(hints), self.tr("Change Hint Colour"))
            self._remember(colour)

    @Slot(int)
    def remove_point(self, index: int) -> None:
        entry = self._entry
        if entry is not None and 0 <= index < len(entry.hints):
            self.overlay.selected = -1
            self._push(entry, entry.hints[:index] + entry.hints[index + 1:], self.tr("Remove Hint"))

    @Slot()
    def clear_hints(self) -> None:
        entry = self._entry
        if entry is not None and entry.hints:
            self._push(entry, (), self.tr("Clear Hints"))

    @Slot()
    def apply_hints_to_selected(self) -> None:
        """The photo on screen's hints for every other selected photo (one undoable change on
        each photo's own history); those already colorized are colorized again with them."""
        entry = self._entry
        if entry is None or not entry.hints:
            return
        targets = [e for e in self._window.batch_panel.selected_entries() if e.id != entry.id]
        for target in targets:
            self._push(target, tuple(entry.hints), self.tr("Apply Hints"))
        again = [t for t in targets if t.chroma is not None]
        if again and self._takes_hints:
            window = self._window
            window.batch.colorize(again, window.options(overwrite=True),
                                  auto_save=window.commands.auto_save.isChecked())
        self.message.emit(self.tr("Hints applied to {0} more photo(s).").format(len(targets)))

    def _push(self, entry: BatchEntry, after: tuple, text: str) -> None:
        self._stack(entry.id).push(HintsCommand(self, entry.id, tuple(entry.hints), after, text))

    def apply(self, entry_id: int, hints: tuple) -> None:
        """Make ``hints`` the photo's: the list, its hints file, the markers and the colour."""
        entry = self._model.update(entry_id, hints=tuple(hints), hints_note="")
        if entry is None:
            return
        try:
            write_hints(entry.source, list(hints))
        except (ColorizeError, OSError) as exc:
            self.message.emit(self.tr("The hints could not be saved: {0}").format(exc))
        if entry is self._entry:
            self._show_points()
        self._update_enabled()
        self.hints_changed.emit(entry_id)
        if self._takes_hints and entry is self._entry:  # other photos: Colorize runs with them
            request = HintRequest(next(self._ids), entry_id, str(entry.source), tuple(hints),
                                  self._options())
            self._latest[entry_id] = request.id
            self._host.predict_hints(request)

    def _remember(self, colour: str) -> None:
        self.recent = [colour] + [c for c in self.recent if c != colour][: MAX_RECENT_COLOURS - 1]
        self._window.settings.recent_hint_colours = self.recent

    # -- gestures from the overlay ----------------------------------------------------------------
    @Slot(float, float, QPoint)
    def _on_place_requested(self, x: float, y: float, at: QPoint) -> None:
        suggested = self.suggestions(x, y)
        colour = self.pick(self._window, suggested, self.recent, at)
        if colour:
            self.place(x, y, colour)

    @Slot(int, float, float)
    def _on_move_finished(self, index: int, x: float, y: float) -> None:
        self.move_point(index, x, y)

    @Slot(int, QPoint)
    def _on_recolour_requested(self, index: int, at: QPoint) -> None:
        if self._entry is None:
            return
        hint = self._entry.hints[index]
        colour = self.pick(self._window, self.suggestions(hint.x, hint.y), self.recent, at,
                           hint.color)
        if colour:
            self.recolour(index, colour)

    def suggestions(self, x: float, y: float) -> list[str]:
        """Colours for a hint at (x, y): the result's colour there first, at the spot's lightness."""
        side = self._window.preview.side_by_side
        original = side.original_view.pixel_at(x, y)
        result = side.result_view.pixel_at(x, y)
        gray = 128.0 if original is None else _gray(original)
        current = None if result is None else (result.red(), result.green(), result.blue())
        return suggest_colours(gray, current)

    # -- answers from the worker ------------------------------------------------------------------
    @Slot(int, int, object)
    def _on_predicted(self, request_id: int, entry_id: int, chroma) -> None:
        if self._latest.get(entry_id) != request_id:
            return  # a newer change is on its way
        entry = self._model.entry(entry_id)
        if entry is None:
            return
        changes = dict(chroma=chroma)
        if entry.status != Status.WORKING:  # hinted since it was saved: not saved yet
            changes.update(status=Status.DONE, reason="", progress=1.0)
        self._model.update(entry_id, **changes)
        self._window.previews.show_hinted(entry_id, self._saturation())
        self._window._update_actions()

    @Slot(int, int, str)
    def _on_failed(self, request_id: int, entry_id: int, reason: str) -> None:
        if self._latest.get(entry_id) == request_id:
            self.message.emit(reason)

    @Slot(object)
    def _on_model_loaded(self, info: dict) -> None:
        self._takes_hints = bool(info.get("takes_hints"))
        self._update_enabled()

    def takes_hints(self) -> bool | None:
        return self._takes_hints

    # -- modes ------------------------------------------------------------------------------------
    @Slot(bool)
    def _on_mode_toggled(self, on: bool) -> None:
        if on:
            self._window.commands.side_by_side.setChecked(True)  # the markers live on that view
        self.overlay.set_active(on)
        if on:
            self.message.emit(self.tr("Hint mode: click the colorized photo to place a colour point; "
                                      "drag to move it, right-click to remove it."))

    @Slot(bool)
    def _on_compare_mode(self, on: bool) -> None:
        if on:
            self.hint_mode.setChecked(False)

    @Slot()
    def _update_enabled(self, *_args) -> None:
        if self._takes_hints is False:
            tip = self.tr("The installed model does not take colour hints. A hint-capable model "
                          "(a newer colorizer.safetensors) enables hint mode.")
        elif self._takes_hints is None:
            tip = self.tr("Hint mode is available once the model has loaded.")
        else:
            tip = self.tr("Click the colorized photo to say what colour a place should be (Ctrl+H)")
        usable = bool(self._takes_hints) and self._entry is not None
        self.hint_mode.setEnabled(usable)
        self.hint_mode.setToolTip(tip)
        self.hint_mode.setStatusTip(tip)
        if not usable and self.hint_mode.isChecked():
            self.hint_mode.setChecked(False)
        has_hints = self._entry is not None and bool(self._entry.hints)
        self.clear.setEnabled(has_hints)
        self.apply_to_selected.setEnabled(
            has_hints and len(self._window.batch_panel.selected_entries()) > 1)

    # -- photos added to the list -----------------------------------------------------------------
    @Slot()
    def _on_rows_inserted(self, _parent, first: int, last: int) -> None:
        for row in range(first, last + 1):
            entry = self._model.entry_at(row)
            if entry is None:
                continue
            try:
                hints = tuple(read_hints(entry.source))
            except HintsFileError as exc:  # left as it is: never rewritten by a broken read
                logger.warning("%s", exc)
                self._model.update(entry.id, hints_note=self.tr(
                    "{0} It is left as it is; the photo is colorized without hints.").format(exc))
                continue  # the window's "added" message tells it
            if hints:
                self._model.update(entry.id, hints=hints)


def _gray(colour: QColor) -> float:
    return 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()
