"""Films in the window: listed with a poster frame, previewed frame by frame, colorized by
Colorize All. Small generated clips (tests/films.py)."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest
from films import frames, make_film
from open_wait import open_and_wait, wait_opened
from photos import save_photo
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from colorize_app.core import film as film_core
from colorize_app.core.sidecar import read_hints, sidecar_path
from colorize_app.core.vocabulary import Status
from colorize_app.ui import guards, opening
from colorize_app.ui.main_window import MainWindow

TIMEOUT = 60_000  # ms: the machine is shared; nothing here measures time
COUNT = 20


@pytest.fixture
def make_window(open_window, tiny_weights):
    def make() -> MainWindow:
        return open_window(tiny_weights, auto_save=False)

    return make


@pytest.fixture
def film(tmp_path):
    pictures = frames(COUNT, step=3)
    return make_film(tmp_path / "reel.mp4", pictures, audio=None), pictures


def shown_row(view, row: float = 0.5) -> np.ndarray:
    """The gray values the view shows along one row of its picture, every 4th pixel."""
    width, _height = view.image_size()
    xs = np.arange(2, width, 4)
    return np.array([view.pixel_at((x + 0.5) / width, row).red() for x in xs], np.float32)


def nearest_frame(view, pictures) -> int:
    """Which of ``pictures`` the view shows (the closest along the middle row)."""
    shown = shown_row(view)
    height, width = pictures[0].shape
    xs = np.arange(2, width, 4)
    errors = [np.abs(shown - p[height // 2, xs].astype(np.float32)).mean() for p in pictures]
    return int(np.argmin(errors))


def test_a_film_opened_in_the_window_is_listed_with_a_poster_frame(qtbot, make_window, film,
                                                                    monkeypatch):
    path, _ = film
    save_photo(path.parent / "still.jpg", size=(40, 60), mode="L")
    window = make_window()
    monkeypatch.setattr(opening, "choose_folder", lambda parent, start, sub: (str(path.parent), sub))
    window.commands.open_folder.trigger()  # as the command line does: films among the photos
    wait_opened(qtbot, window)
    assert [e.source.name for e in window.model.entries()] == ["reel.mp4", "still.jpg"]
    entry = window.model.entries()[0]
    assert entry.status == Status.WAITING
    qtbot.waitUntil(lambda: window.model.entries()[0].thumbnail is not None, timeout=TIMEOUT)
    poster = window.model.entries()[0].thumbnail
    assert poster.width() > poster.height() > 0  # the film's shape, 96 x 64

    window.batch_panel.select_row(1)
    assert not window.preview.frames.isVisible()


def test_moving_the_frame_slider_shows_that_frame(qtbot, make_window, film):
    path, pictures = film
    window = make_window()
    open_and_wait(qtbot, window, [path])
    bar, original = window.preview.frames, window.preview.side_by_side.original_view
    assert bar.isVisible()
    qtbot.waitUntil(lambda: bar.slider.maximum() == COUNT - 1, timeout=TIMEOUT)
    assert nearest_frame(original, pictures) == 0

    bar.slider.setValue(15)
    qtbot.waitUntil(lambda: bar.label.text() == "Frame 16 of 20", timeout=TIMEOUT)
    assert nearest_frame(original, pictures) == 15

    bar.play.click()  # plays on to the last frame, then stops there
    qtbot.waitUntil(lambda: not bar.play.isChecked(), timeout=TIMEOUT)
    assert bar.label.text() == "Frame 20 of 20"
    assert nearest_frame(original, pictures) == COUNT - 1


@pytest.mark.parametrize("kind", ["variable rate", "sound outlasts"])
def test_the_sliders_frame_k_is_the_films_frame_k(qtbot, make_window, tmp_path, kind):
    # A hint remembers the frame it was placed on, as colorizing counts frames. The slider
    # counted them from length x rate: a phone's variable rate showed other frames under their
    # numbers, and sound longer than the picture added frames that do not exist.
    pictures = frames(COUNT, step=3)
    if kind == "variable rate":  # 30 fps, then 10 fps
        times = [i * 3000 if i < 10 else 30000 + (i - 10) * 9000 for i in range(COUNT)]
        path = make_film(tmp_path / "phone.mp4", pictures, audio=None, times=times,
                         time_base=Fraction(1, 90000))  # fmt: skip
    else:
        path = make_film(tmp_path / "reel.mkv", pictures, sound_seconds=1.5)
    window = make_window()
    open_and_wait(qtbot, window, [path])
    bar, original = window.preview.frames, window.preview.side_by_side.original_view
    qtbot.waitUntil(lambda: bar.slider.maximum() > 0, timeout=TIMEOUT)
    assert bar.slider.maximum() == COUNT - 1
    for index in (9, 10, 14, COUNT - 1):
        bar.slider.setValue(index)
        qtbot.waitUntil(lambda i=index: bar.label.text() == f"Frame {i + 1} of {COUNT}", timeout=TIMEOUT)
        qtbot.waitUntil(lambda i=index: nearest_frame(original, pictures) == i, timeout=TIMEOUT)


def slowed(frames_of, seconds: float):
    """``core.film._frames`` that hands out each frame ``seconds`` late, so a 20-frame film takes
    longer than the list's progress throttle (a fast machine colours it between two redraws)."""

    def frames_slowly(*args, **kwargs):
        for frame in frames_of(*args, **kwargs):
            time.sleep(seconds)
            yield frame

    return frames_slowly


def test_colorize_all_colours_a_film_and_marks_it_done(qtbot, make_window, film, monkeypatch):
    path, pictures = film
    monkeypatch.setattr(film_core, "_frames", slowed(film_core._frames, 0.03))
    window = make_window()
    window.controls.saturation.setValue(200)  # the tiny random model's colours are faint
    open_and_wait(qtbot, window, [path])
    bar, preview = window.preview.frames, window.preview
    qtbot.waitUntil(lambda: bar.slider.maximum() == COUNT - 1, timeout=TIMEOUT)
    shown = []  # what the film's row says as it goes
    window.model.dataChanged.connect(lambda *_: shown.append(window.model.detail(entry)))
    entry = window.model.entries()[0]
    window.commands.colorize_all.trigger()
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    assert entry.status == Status.SAVED, entry.reason
    assert entry.output.name == "reel_colorized.mp4" and entry.output.is_file()
    assert "Saved as reel_colorized.mp4" in window.model.detail(entry)
    percents = {text for text in shown if text.startswith("Colorizing… ") and text != "Colorizing… 0%"}
    assert percents, shown  # its progress showed in the list while it was being made

    # The preview shows the colorized frame beside the original, and on the compare view's
    # other side of the divider, for any frame the slider points at.
    bar.slider.setValue(10)
    result = preview.side_by_side.result_view
    qtbot.waitUntil(lambda: bar.label.text() == "Frame 11 of 20" and result.has_image(),
                    timeout=TIMEOUT)  # fmt: skip
    assert nearest_frame(result, pictures) == 10  # its lightness is the original's

    window.commands.compare.trigger()
    compare = preview.compare_view
    compare.set_divider(0.5)
    qtbot.waitUntil(lambda: colourfulness(compare, right=True) > 0.3, timeout=TIMEOUT)
    assert colourfulness(compare, right=False) < 0.05  # the original, left of the divider


def test_colorize_selected_asks_before_it_replaces_a_colorized_film(qtbot, make_window, film,
                                                                   monkeypatch):
    # Photos stay in memory unless saved; a film is always written, so with "save each result"
    # off its hours-long result was replaced without the question photos get.
    path, _ = film
    result = path.with_name("reel_colorized.mp4")
    window = make_window()
    open_and_wait(qtbot, window, [path])
    window.commands.colorize_all.trigger()
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    made = result.stat().st_mtime_ns
    asked = []
    monkeypatch.setattr(guards, "ask_replace", lambda parent, names: asked.append(names) or (False, False))
    window.batch_panel.select_row(0)
    window.commands.colorize_selected.trigger()
    assert asked == [["reel_colorized.mp4"]] and not window.batch.is_busy()
    assert result.stat().st_mtime_ns == made


def colourfulness(view, *, right: bool) -> float:
    """How far from gray one side of the divider is drawn (0: gray)."""
    image = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_RGB888)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    rgb = pixels[:, : width * 3].reshape(height, width, 3).astype(np.float32)
    x = round(view.divider_x())
    side = rgb[:, x + 3 :] if right else rgb[:, : x - 3]
    return float(np.abs(side - side.mean(axis=2, keepdims=True)).mean())


def click(widget, pos: QPointF) -> None:
    for kind, held in ((QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton),
                       (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):  # fmt: skip
        QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos),
                                                   Qt.MouseButton.LeftButton, held,
                                                   Qt.KeyboardModifier.NoModifier))  # fmt: skip


def test_a_hint_placed_on_a_frame_goes_into_the_films_hints_file_and_dates_its_result(
        qtbot, make_window, film, monkeypatch):  # fmt: skip
    path, _pictures = film
    window = make_window()
    open_and_wait(qtbot, window, [path])
    bar, result = window.preview.frames, window.preview.side_by_side.result_view
    qtbot.waitUntil(lambda: bar.slider.maximum() == COUNT - 1, timeout=TIMEOUT)
    entry = window.model.entries()[0]
    window.commands.colorize_all.trigger()
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    assert entry.status == Status.SAVED and not window.model.is_out_of_date(entry)

    bar.slider.setValue(12)
    qtbot.waitUntil(lambda: bar.label.text() == "Frame 13 of 20" and result.has_image(),
                    timeout=TIMEOUT)  # fmt: skip
    hints = window.hints
    hints.set_takes_hints(True)  # as a hint-capable model says once loaded
    assert hints.hint_mode.isEnabled()
    hints.hint_mode.trigger()
    hints.pick = lambda parent, suggested, recent, at, current=None: "#c0392b"
    click(hints.overlay, result.image_rect().center())
    [hint] = entry.hints
    assert hint.frame == 12 and abs(hint.x - 0.5) < 0.03 and hint.color == "#c0392b"
    qtbot.waitUntil(lambda: sidecar_path(path).exists(), timeout=TIMEOUT)  # off the GUI thread
    [saved] = read_hints(path)
    assert (saved.frame, saved.color) == (12, hint.color) and abs(saved.y - hint.y) < 1e-6
    assert window.model.is_out_of_date(entry)  # the saved film was made without it
    assert "Out of date: saved with other hints" in window.model.detail(entry)

    # On the shot's other frames the point shows where the motion carries it (the camera pans
    # 3 of 96 pixels a frame: 9 frames earlier the spot was 27 pixels to the right).
    bar.slider.setValue(3)
    qtbot.waitUntil(lambda: bar.label.text() == "Frame 4 of 20" and len(hints.overlay.points) == 1,
                    timeout=TIMEOUT)  # fmt: skip
    x, y, colour = hints.overlay.points[0]
    assert abs(x - (0.5 + 27 / 96)) < 0.03 and abs(y - 0.5) < 0.03 and colour == "#c0392b"
    monkeypatch.setattr(guards, "ask_redo_out_of_date", lambda parent, count: True)
    window.commands.colorize_all.trigger()  # colorized again, with the hint: current again
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    assert entry.status == Status.SAVED and not window.model.is_out_of_date(entry)
