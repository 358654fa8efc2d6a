"""The window's hint mode: colour points on the colorized preview, their undo history, their file.

Each change is an undoable command (one QUndoStack per photo, in a QUndoGroup that follows the
photo on screen); applying one puts the points in the list model, has the files lane write the
photo's hints file (core.sidecar, atomically), and asks the network's lane to predict the photo's
colour anew on the render-size copy (a core Job with the new hints). The answer's chroma goes into the
list model; the window then has the preview re-compose it as for the saturation slider.

On a film the points are placed on the frame on screen (``set_frame``) and remember it. Each
point is shown on every frame of its shot where colorizing would carry it: the tracks lane works
that out (ui.hint_track) whenever a film's points change; until it answers, a point shows on the
frame it was placed on. A point moved on another frame is placed anew there. A film is not re-predicted live: its saved result
becomes out of date (core.freshness) and colorizing it again applies the points to their shots.

This object talks to the list model, the lanes and the views it is given; the window wires it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, QPoint, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QUndoCommand, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QWidget

from colorize_app.core.batch import is_film
from colorize_app.core.hint_colours import suggest_colours
from colorize_app.core.hints import Hint
from colorize_app.core.job import Job, JobOptions
from colorize_app.core.vocabulary import Status
from colorize_app.ui.actions import make_action
from colorize_app.ui.batch_model import BatchEntry, BatchListModel, made_with
from colorize_app.ui.controls import ControlsWidget
from colorize_app.ui.hint_overlay import HintOverlay
from colorize_app.ui.hint_palette import pick_colour
from colorize_app.ui.hint_track import HintTrack
from colorize_app.ui.settings import MAX_RECENT_COLOURS, AppSettings

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
    problem = Signal(object)  # [a sentence]: a hints file that cannot be used, for the problems bar
    predicted = Signal(int)  # entry id whose colour for its new hints is in the model
    recolorize_requested = Signal(object)  # entries to colorize again with their new hints

    def __init__(self, model: BatchListModel, lanes: tuple[QObject, ...], side_by_side: QWidget,
                 controls: ControlsWidget, settings: AppSettings, parent: QObject | None = None):
        # `lanes`: the host's network, files and tracks lanes (workers.lane.Lane). `side_by_side`:
        # the preview's two views (the overlay lies on the result); `controls`: the render size
        # and device the network runs with. None of them holds this object or the window.
        super().__init__(parent)
        self._model = model
        self._network, self._files, tracks = lanes
        self.track = HintTrack(tracks, self)  # a film's points, per frame
        self._side = side_by_side
        self._controls = controls
        self._settings = settings
        self._entry: BatchEntry | None = None
        self._selected: list[BatchEntry] = []
        self._frame = 0  # the film frame on screen (a film's points are placed on one)
        self._takes_hints: bool | None = None  # None: the model is not loaded yet
        self._stacks: dict[int, QUndoStack] = {}
        self._predicting: dict[int, tuple] = {}  # ticket -> (entry id, its colour's made_with)
        self._latest: dict[int, int] = {}  # entry id -> its latest prediction's ticket
        self._reading: dict[int, int] = {}  # ticket -> entry id whose hints file is read
        self._writing: set[int] = set()  # tickets of hints files being written
        self.recent: list[str] = settings.recent_hint_colours  # kept between sessions
        self.pick = pick_colour  # tests replace it: the real one opens a menu
        self.overlay = HintOverlay(side_by_side.result_view)
        self.group = QUndoGroup(self)
        self._make_actions()
        self._connect()
        self._update_enabled()

    def actions(self) -> list[QAction]:
        """For the window to add (their shortcuts work anywhere in it)."""
        return [self.undo, self.redo, self.hint_mode, self.show_markers, self.clear,
                self.apply_to_selected]

    def _options(self) -> JobOptions:
        render_size, saturation, device = self._controls.values()
        return JobOptions(render_size=render_size, saturation=saturation, device=device)

    # -- actions ----------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        tr = self.tr
        self.undo = self.group.createUndoAction(self, tr("&Undo"))
        self.undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        self.redo = self.group.createRedoAction(self, tr("&Redo"))
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.hint_mode = make_action(self, tr("&Hint Mode"), "Ctrl+H", "mdi6.eyedropper-variant",
                                     checkable=True)
        self.hint_mode.setIconText(tr("Hints"))
        self.show_markers = make_action(self, tr("Show Hint &Markers"), "Ctrl+Shift+H",
                                        checkable=True)
        self.show_markers.setChecked(True)
        self.clear = make_action(self, tr("Clear &Hints"), tip=tr(
            "Remove every colour hint of this photo (undo brings them back)"))
        self.apply_to_selected = make_action(self, tr("&Apply Hints to Selected Photos"), tip=tr(
            "Give the other selected photos this photo's hints (the same places relative to each "
            "photo), and colorize them again with them"))

    def _connect(self) -> None:
        self.hint_mode.toggled.connect(self._on_mode_toggled)
        self.show_markers.toggled.connect(self.overlay.set_markers_shown)
        self.clear.triggered.connect(self.clear_hints)
        self.apply_to_selected.triggered.connect(self.apply_hints_to_selected)
        self.overlay.place_requested.connect(self._on_place_requested)
        self.overlay.move_finished.connect(self.move_point)
        self.overlay.remove_requested.connect(self.remove_point)
        self.overlay.recolour_requested.connect(self._on_recolour_requested)
        for lane in (self._network, self._files):
            lane.finished.connect(self._on_finished)
            lane.failed.connect(self._on_failed)
        self._files.cancelled.connect(self._on_read_replaced)
        self.track.changed.connect(self._on_track_changed)

    # -- the photo on screen ----------------------------------------------------------------------
    @Slot(object)
    def set_entry(self, entry: BatchEntry | None) -> None:
        self._entry = entry
        self._frame = 0
        self.overlay.selected = -1
        self.group.setActiveStack(self._stack(entry.id) if entry is not None else None)
        if entry is not None and entry.hints is None:  # its file's answer is still queued
            self._reading[self._files.submit("read_hints_now", str(entry.source))] = entry.id
        if entry is not None and entry.hints_note:
            self.message.emit(entry.hints_note)
        self._refresh()

    def _stack(self, entry_id: int) -> QUndoStack:
        if entry_id not in self._stacks:
            self._stacks[entry_id] = QUndoStack(self.group)
        return self._stacks[entry_id]

    @Slot(int)
    def set_frame(self, index: int) -> None:
        """The film's frame ``index`` is on screen: its points are the ones shown and edited."""
        if index != self._frame:
            self._frame = index
            self.overlay.selected = -1
            self._show_points()

    def _on_film(self) -> bool:
        return self._entry is not None and is_film(self._entry.source)

    def _places(self) -> list[tuple[int, float, float]]:
        """(index into the entry's hints, x, y) of the points on screen: a film's on this frame."""
        if self._on_film():
            return self.track.places(self._entry, self._frame)
        hints = (self._entry.hints or ()) if self._entry is not None else ()
        return [(i, h.x, h.y) for i, h in enumerate(hints)]

    def _shown(self) -> list[int]:
        return [index for index, _x, _y in self._places()]

    def _show_points(self) -> None:
        hints = (self._entry.hints or ()) if self._entry is not None else ()
        self.overlay.set_points([(x, y, hints[i].color) for i, x, y in self._places()])

    def _refresh(self) -> None:
        """The photo on screen's markers and actions, after it or its hints changed; a film's
        track is asked of the tracks lane (its markers move once that answers)."""
        if self._on_film():
            self.track.request(self._entry, self._options().render_size)
        self._show_points()
        self._update_enabled()

    @Slot(int)
    def _on_track_changed(self, entry_id: int) -> None:
        if self._entry is not None and self._entry.id == entry_id:
            self._show_points()

    # -- editing (each is one undoable command) ---------------------------------------------------
    def place(self, x: float, y: float, colour: str) -> None:
        if self._entry is not None:
            hints = self._entry.hints or ()
            frame = self._frame if self._on_film() else None
            self._push(self._entry, hints + (Hint(x, y, colour, frame),), self.tr("Place Hint"))
            self.overlay.selected = len(self._shown()) - 1
            self._remember(colour)

    def _hint_at(self, index: int) -> int:
        """The entry's hint behind the ``index``-th point on screen; -1 when none."""
        shown = self._shown()
        return shown[index] if 0 <= index < len(shown) else -1

    @Slot(int, float, float)
    def move_point(self, index: int, x: float, y: float) -> None:
        index = self._hint_at(index)
        if index >= 0:
            hints = list(self._entry.hints)
            frame = self._frame if self._on_film() else None  # placed anew on this frame
            hints[index] = replace(hints[index], x=x, y=y, frame=frame)
            self._push(self._entry, tuple(hints), self.tr("Move Hint"))

    def recolour(self, index: int, colour: str) -> None:
        index = self._hint_at(index)
        if index >= 0:
            hints = list(self._entry.hints)
            hints[index] = replace(hints[index], color=colour)
            self._push(self._entry, tuple(hints), self.tr("Change Hint Colour"))
            self._remember(colour)

    @Slot(int)
    def remove_point(self, index: int) -> None:
        index = self._hint_at(index)
        if index >= 0:
            hints = list(self._entry.hints)
            self.overlay.selected = -1
            self._push(self._entry, tuple(hints[:index] + hints[index + 1:]), self.tr("Remove Hint"))

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
        targets = [e for e in self._selected if e.id != entry.id]
        if any(target.hints is None for target in targets):
            self.message.emit(self.tr("The selected photos' hints files are still being read; "
                                      "apply the hints again in a moment."))
            return
        for target in targets:
            self._push(target, tuple(entry.hints), self.tr("Apply Hints"))
        again = [t for t in targets if t.chroma is not None]
        if again and self._takes_hints:
            self.recolorize_requested.emit(again)
        self.message.emit(self.tr("Hints applied to {0} more photo(s).").format(len(targets)))

    def _push(self, entry: BatchEntry, after: tuple, text: str) -> None:
        if entry.hints is None:  # the points in its file are not known yet: never written over
            self.message.emit(self.tr("Reading the hints file of {0}; try again in a moment.")
                              .format(entry.source.name))
            return
        self._stack(entry.id).push(HintsCommand(self, entry.id, tuple(entry.hints), after, text))

    def apply(self, entry_id: int, hints: tuple) -> None:
        """Make ``hints`` the photo's: the list, its hints file, the markers and the colour."""
        entry = self._model.update(entry_id, hints=tuple(hints), hints_note="")
        if entry is None:
            return
        self._writing.add(self._files.submit("write_hints", (str(entry.source), tuple(hints))))
        if entry is self._entry:
            self._refresh()
        if is_film(entry.source):  # its colour comes from colorizing it again (out of date now)
            return
        if self._takes_hints and entry is self._entry:  # other photos: Colorize runs with them
            options = self._options()
            ticket = self._network.submit("hints", Job(entry.source, options=options,
                                                       hints=tuple(hints)))
            self._predicting[ticket] = (entry_id, made_with(options))
            self._latest[entry_id] = ticket

    def _remember(self, colour: str) -> None:
        self.recent = [colour] + [c for c in self.recent if c != colour][: MAX_RECENT_COLOURS - 1]
        self._settings.recent_hint_colours = self.recent

    # -- gestures from the overlay ----------------------------------------------------------------
    @Slot(float, float, QPoint)
    def _on_place_requested(self, x: float, y: float, at: QPoint) -> None:
        suggested = self.suggestions(x, y)
        colour = self.pick(self._side, suggested, self.recent, at)
        if colour:
            self.place(x, y, colour)

    @Slot(int, QPoint)
    def _on_recolour_requested(self, index: int, at: QPoint) -> None:
        hint_index = self._hint_at(index)  # -1 without a photo on screen
        if hint_index >= 0:
            hint = self._entry.hints[hint_index]
            colour = self.pick(self._side, self.suggestions(hint.x, hint.y), self.recent, at,
                               hint.color)
            if colour:
                self.recolour(index, colour)

    def suggestions(self, x: float, y: float) -> list[str]:
        """Colours for a hint at (x, y): the result's colour there first, at the spot's lightness."""
        side = self._side
        original = side.original_view.pixel_at(x, y)
        result = side.result_view.pixel_at(x, y)
        gray = 128.0 if original is None else _gray(original)
        current = None if result is None else (result.red(), result.green(), result.blue())
        return suggest_colours(gray, current)

    # -- answers from the lanes ------------------------------------------------------------------
    @Slot(int, object)
    def _on_finished(self, ticket: int, answer) -> None:
        if ticket in self._reading:
            entry = self._model.entry(self._reading.pop(ticket))
            if entry is None or entry.hints is not None:
                return  # removed, or hinted here already: the file is older than that
            self._model.update(entry.id, hints=answer)
            if entry is self._entry:
                self._refresh()
        elif ticket in self._writing:
            self._writing.discard(ticket)
        elif ticket in self._predicting:
            entry_id, made = self._predicting.pop(ticket)
            entry = self._model.entry(entry_id)
            if entry is None or self._latest.get(entry_id) != ticket:
                return  # removed from the list, or a newer change is on its way
            changes = dict(chroma=answer, made_with=made)  # at the render size chosen now
            if entry.status != Status.WORKING:  # hinted since it was saved: not saved yet
                changes.update(status=Status.DONE, reason="", progress=1.0)
            self._model.update(entry_id, **changes)
            self.predicted.emit(entry_id)

    @Slot(int, str)
    def _on_failed(self, ticket: int, reason: str) -> None:
        if ticket in self._reading:  # the file is left as it is: never rewritten by a broken read
            logger.warning("%s", reason)
            note = self.tr("{0} It is left as it is; the photo is colorized without hints.")
            entry = self._model.entry(self._reading.pop(ticket))
            if entry is not None and entry.hints is None:
                self._model.update(entry.id, hints=(), hints_note=note.format(reason))
                self.problem.emit([entry.hints_note])
        elif ticket in self._predicting:
            if self._latest.get(self._predicting.pop(ticket)[0]) == ticket:
                self.message.emit(reason)
        elif ticket in self._writing:
            self._writing.discard(ticket)
            self.message.emit(self.tr("The hints could not be saved: {0}").format(reason))

    @Slot(int)
    def _on_read_replaced(self, ticket: int) -> None:
        # Another photo came on screen first: this one's file is still read in its queued turn.
        self._reading.pop(ticket, None)

    def set_takes_hints(self, takes_hints: bool) -> None:
        """The model loaded: whether it takes hints (core.engine.Engine.describe)."""
        self._takes_hints = takes_hints
        self._update_enabled()

    def takes_hints(self) -> bool | None:
        return self._takes_hints

    def read_files(self, entries: list[BatchEntry]) -> None:
        """Read the hints files of photos just added, on the files lane."""
        for entry in entries:
            self._reading[self._files.submit("read_hints", str(entry.source))] = entry.id

    @Slot(object)
    def set_selected(self, entries: list[BatchEntry]) -> None:
        """The photos selected in the list (Apply Hints to Selected Photos)."""
        self._selected = entries
        self._update_enabled()

    # -- modes ------------------------------------------------------------------------------------
    @Slot(bool)
    def _on_mode_toggled(self, on: bool) -> None:
        self.overlay.set_active(on)
        if on:
            if self._on_film():
                self.message.emit(self.tr("Hint mode: click the colorized frame to place a colour "
                                          "point; it colours its whole shot when the film is "
                                          "colorized again. Drag to move it, right-click to "
                                          "remove it."))
            else:
                self.message.emit(self.tr("Hint mode: click the colorized photo to place a colour "
                                          "point; drag to move it, right-click to remove it."))

    @Slot(bool)
    def leave_mode_if(self, on: bool) -> None:
        """Compare mode came on: hint mode goes (its markers live on the side-by-side view)."""
        if on:
            self.hint_mode.setChecked(False)

    @Slot()
    def _update_enabled(self, *_args) -> None:
        if self._takes_hints is False:
            tip = self.tr("The installed model does not take colour hints. A hint-capable model "
                          "(a newer colorizer.safetensors) enables hint mode.")
        elif self._takes_hints is None:
            tip = self.tr("Hint mode is available once the model has loaded.")
        elif self._on_film():
            tip = self.tr("Click the colorized frame to say what colour a place should be; the "
                          "point colours its whole shot when the film is colorized again (Ctrl+H)")
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
        self.apply_to_selected.setEnabled(  # a film's points belong to its frames
            has_hints and len(self._selected) > 1 and not self._on_film())


def _gray(colour: QColor) -> float:
    return 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()
