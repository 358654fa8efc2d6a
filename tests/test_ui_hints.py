"""Hint mode in the window: place, move, remove, undo and redo; the hints file; models without hints."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from conftest import TINY_CONFIG
from gui_thread import heard
from open_wait import open_and_wait
from photos import digest, save_photo
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication

from colorize_app.core.hints import Hint
from colorize_app.core.sidecar import read_hints, sidecar_path, write_hints
from colorize_app.core.vocabulary import Status
from colorize_app.workers import host as host_module

TIMEOUT = 60_000
RED, BLUE = "#c0392b", "#2e86c1"


@pytest.fixture(scope="module")
def random_hint_weights(tmp_path_factory):
    """A hint network (4 input channels) with random weights: enough to exercise the window."""
    import torch

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(**TINY_CONFIG, in_channels=4)).eval()
    path = tmp_path_factory.mktemp("hint-weights") / "random-hint.safetensors"
    return save_weights(path, model, metadata={"note": "random hint network for tests"})


def _ready(qtbot, open_window, weights, photo):
    window = open_window(weights, auto_save=False)
    with heard(qtbot, window.host.colorizer.model_loaded, timeout=TIMEOUT):
        window.warm_up()
    open_and_wait(qtbot, window, [photo])
    return window


def _colorized(qtbot, window):
    window.commands.colorize_all.trigger()
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    qtbot.waitUntil(window.preview.side_by_side.result_view.has_image, timeout=TIMEOUT)


def _send(overlay, kind, pos: QPointF, button=Qt.MouseButton.LeftButton):
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    if kind == QEvent.Type.MouseMove:
        button = Qt.MouseButton.NoButton
    event = QMouseEvent(kind, pos, overlay.mapToGlobal(pos), button, held,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(overlay, event)


def _click(overlay, pos: QPointF, button=Qt.MouseButton.LeftButton):
    _send(overlay, QEvent.Type.MouseButtonPress, pos, button)
    _send(overlay, QEvent.Type.MouseButtonRelease, pos, button)


def _drag(overlay, start: QPointF, end: QPointF):
    _send(overlay, QEvent.Type.MouseButtonPress, start)
    _send(overlay, QEvent.Type.MouseMove, (start + end) / 2)
    _send(overlay, QEvent.Type.MouseMove, end)
    _send(overlay, QEvent.Type.MouseButtonRelease, end)


def _file_says(qtbot, photo, hints):
    """The photo's hints file (written off the GUI thread) comes to hold ``hints``."""
    qtbot.waitUntil(lambda: (read_hints(photo) if hints else not sidecar_path(photo).exists())
                    == (hints or True), timeout=TIMEOUT)


def test_place_move_remove_with_undo_and_redo_and_the_file_follows(qtbot, open_window,
                                                                  random_hint_weights, tmp_path):
    photo = save_photo(tmp_path / "grandma.png", size=(120, 160), mode="L")
    window = _ready(qtbot, open_window, random_hint_weights, photo)
    _colorized(qtbot, window)
    hints, entry = window.hints, window.model.entries()[0]
    before = entry.chroma.copy()
    assert hints.hint_mode.isEnabled()
    hints.hint_mode.trigger()
    offered = []
    hints.pick = lambda parent, suggested, recent, at, current=None: offered.append(suggested) or RED
    overlay = hints.overlay
    rect = window.preview.side_by_side.result_view.image_rect()
    centre = rect.center()

    with qtbot.waitSignal(hints.predicted, timeout=TIMEOUT):
        _click(overlay, centre)  # place
    [hint] = entry.hints
    assert hint.color == RED and abs(hint.x - 0.5) < 0.02 and abs(hint.y - 0.5) < 0.02
    _file_says(qtbot, photo, [hint])
    assert offered and len(offered[0]) >= 4  # suggestions for that spot
    qtbot.waitUntil(lambda: not np.array_equal(entry.chroma, before), timeout=TIMEOUT)
    assert entry.status == Status.DONE
    assert "1 hint" in window.model.detail(entry)  # the list shows it

    target = QPointF(rect.left() + rect.width() * 0.25, rect.top() + rect.height() * 0.75)
    _drag(overlay, centre, target)  # move
    [moved] = entry.hints
    assert abs(moved.x - 0.25) < 0.02 and abs(moved.y - 0.75) < 0.02 and moved.color == RED
    _file_says(qtbot, photo, [moved])

    _click(overlay, target, Qt.MouseButton.RightButton)  # remove
    assert entry.hints == ()
    _file_says(qtbot, photo, [])

    hints.undo.trigger()
    assert entry.hints == (moved,)
    _file_says(qtbot, photo, [moved])
    hints.undo.trigger()
    assert entry.hints == (hint,)
    _file_says(qtbot, photo, [hint])
    hints.undo.trigger()
    assert entry.hints == ()
    _file_says(qtbot, photo, [])
    hints.redo.trigger()
    hints.redo.trigger()
    assert entry.hints == (moved,)
    _file_says(qtbot, photo, [moved])
    assert QKeySequence("Ctrl+Z") in hints.undo.shortcuts()
    assert QKeySequence("Ctrl+Shift+Z") in hints.redo.shortcuts()

    overlay.setFocus()
    overlay.selected = 0
    qtbot.keyClick(overlay, Qt.Key.Key_Delete)  # Delete removes the point, not the photo
    assert entry.hints == () and window.model.rowCount() == 1
    hints.undo.trigger()
    hints.clear.trigger()
    assert entry.hints == ()
    _file_says(qtbot, photo, [])
    hints.undo.trigger()
    assert entry.hints == (moved,)


def test_a_photos_hints_file_is_read_when_it_opens_and_its_markers_shown(qtbot, open_window,
                                                                         random_hint_weights,
                                                                         tmp_path):
    photo = save_photo(tmp_path / "a.png", mode="L")
    write_hints(photo, [Hint(0.2, 0.3, BLUE), Hint(0.7, 0.6, RED)])
    window = _ready(qtbot, open_window, random_hint_weights, photo)
    entry = window.model.entries()[0]
    qtbot.waitUntil(lambda: entry.hints is not None, timeout=TIMEOUT)  # read off the GUI thread
    assert entry.hints == (Hint(0.2, 0.3, BLUE), Hint(0.7, 0.6, RED))
    assert "2 hint" in window.model.detail(entry)
    assert [p[2] for p in window.hints.overlay.points] == [BLUE, RED]
    window.hints.show_markers.trigger()  # hidden, and back
    assert not window.hints.show_markers.isChecked()


def test_a_point_placed_before_the_photos_hints_file_is_read_never_loses_its_points(
        qtbot, open_window, random_hint_weights, tmp_path, monkeypatch):  # fmt: skip
    # A big album on a slow share: every photo's hints file is read in turn, and a point placed
    # on a photo whose turn had not come rewrote its file with that point alone.
    folder = tmp_path / "album"
    photos = [save_photo(folder / f"p{i:02}.png", mode="L") for i in range(12)]
    saved = [Hint(0.2, 0.3, BLUE), Hint(0.7, 0.6, RED), Hint(0.5, 0.5, BLUE)]
    write_hints(photos[-1], saved)

    def slow_share(photo):
        time.sleep(0.1)
        return read_hints(photo)

    monkeypatch.setattr(host_module, "read_hints", slow_share)
    window = open_window(random_hint_weights, auto_save=False)
    with heard(qtbot, window.host.colorizer.model_loaded, timeout=TIMEOUT):
        window.warm_up()
    open_and_wait(qtbot, window, [folder])
    window.batch_panel.select_row(11)
    entry = window.model.entries()[11]
    assert entry.hints is None  # its file's turn has not come: a point is refused, the file kept
    window.hints.place(0.9, 0.1, RED)
    assert "Reading the hints file of p11.png" in window.status.currentMessage()
    qtbot.waitUntil(lambda: entry.hints is not None, timeout=TIMEOUT)
    assert entry.hints == tuple(saved) and read_hints(photos[-1]) == saved
    window.hints.place(0.9, 0.1, RED)
    _file_says(qtbot, photos[-1], [*saved, Hint(0.9, 0.1, RED)])


def test_a_hint_after_a_new_render_size_gives_a_colour_current_at_that_size(qtbot, open_window,
                                                                           random_hint_weights,
                                                                           tmp_path):
    # The hint's colour is predicted at the size chosen now; the row still called it "colorized at
    # another render size", and Save recorded the old size in the result.
    photo = save_photo(tmp_path / "a.png", size=(120, 160), mode="L")
    window = _ready(qtbot, open_window, random_hint_weights, photo)
    sizes = window.controls.render_size
    sizes.setCurrentIndex(0)
    _colorized(qtbot, window)
    entry = window.model.entries()[0]
    sizes.setCurrentIndex(1)
    assert "another render size" in window.model.detail(entry)
    # a hint waits for the photo's hints file to be read (on the files lane; slow under load)
    qtbot.waitUntil(lambda: entry.hints is not None, timeout=TIMEOUT)
    with qtbot.waitSignal(window.hints.predicted, timeout=TIMEOUT):
        window.hints.place(0.5, 0.5, RED)
    assert entry.made_with[0] == sizes.currentData()
    assert "another render size" not in window.model.detail(entry)


def test_a_broken_hints_file_is_reported_and_left_untouched(qtbot, open_window,
                                                            random_hint_weights, tmp_path):
    photo = save_photo(tmp_path / "a.png", mode="L")
    broken = sidecar_path(photo)
    broken.write_text(json.dumps({"format": "colorize-hints", "version": 9, "points": []}))
    before = digest(broken)
    window = _ready(qtbot, open_window, random_hint_weights, photo)
    entry = window.model.entries()[0]
    qtbot.waitUntil(lambda: entry.hints is not None, timeout=TIMEOUT)  # read off the GUI thread
    assert entry.hints == () and str(broken) in entry.hints_note
    assert "Hints file unusable" in window.model.detail(entry)
    assert str(broken) in window.statusBar().currentMessage()
    _colorized(qtbot, window)
    assert entry.status == Status.DONE
    assert digest(broken) == before


def test_hint_mode_is_off_with_a_reason_when_the_model_takes_no_hints(qtbot, open_window,
                                                                      tiny_weights, tmp_path):
    photo = save_photo(tmp_path / "a.png", mode="L")
    window = _ready(qtbot, open_window, tiny_weights, photo)
    assert not window.hints.hint_mode.isEnabled()
    assert "does not take colour hints" in window.hints.hint_mode.toolTip()
    assert QPoint  # (imported for the pick signature's type)


def test_hints_applied_to_the_selected_photos_reach_their_files_and_results(qtbot, open_window,
                                                                           random_hint_weights,
                                                                           tmp_path):
    photos = [save_photo(tmp_path / f"{name}.png", mode="L") for name in ("a", "b", "c")]
    window = open_window(random_hint_weights, auto_save=False)
    with heard(qtbot, window.host.colorizer.model_loaded, timeout=TIMEOUT):
        window.warm_up()
    open_and_wait(qtbot, window, photos)
    _colorized(qtbot, window)
    first, second, third = window.model.entries()
    hint = Hint(0.4, 0.6, RED)
    window.hints.place(hint.x, hint.y, hint.color)
    assert first.hints == (hint,)
    assert not window.hints.apply_to_selected.isEnabled()  # nothing else selected
    window.batch_panel.view.selectAll()
    window.batch_panel.view.selectionModel().setCurrentIndex(
        window.model.index(0), window.batch_panel.view.selectionModel().SelectionFlag.NoUpdate)
    before = second.chroma.copy()
    window.hints.apply_to_selected.trigger()
    assert second.hints == third.hints == (hint,)
    _file_says(qtbot, photos[1], [hint])
    _file_says(qtbot, photos[2], [hint])
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    assert not np.array_equal(second.chroma, before)  # colorized again, with the hint
    window.batch_panel.select_row(1)
    window.hints.undo.trigger()  # each photo keeps its own history
    assert second.hints == ()
    _file_says(qtbot, photos[1], [])
    assert first.hints == third.hints == (hint,)


def test_colours_used_for_hints_are_offered_again_in_the_next_session(qtbot, open_window,
                                                                    random_hint_weights, tmp_path):
    photo = save_photo(tmp_path / "picnic.png", size=(120, 160), mode="L")
    window = _ready(qtbot, open_window, random_hint_weights, photo)
    _colorized(qtbot, window)
    window.hints.place(0.3, 0.3, RED)
    window.hints.place(0.6, 0.6, BLUE)
    window.close()

    later = open_window(random_hint_weights, auto_save=False)  # the same settings file
    assert later.hints.recent[:2] == [BLUE, RED]  # newest first
