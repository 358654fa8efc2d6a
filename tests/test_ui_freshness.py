"""The window and the one up-to-date rule: hinted work is not lost on quitting, a reopened result
saved before the hint says it is out of date, Colorize All redoes it after asking once; photos
already in colour; the provenance option."""

from __future__ import annotations

import pytest
from gui_thread import heard
from open_wait import open_and_wait
from photos import digest, save_photo
from test_ui_hints import random_hint_weights  # noqa: F401  (a fixture)

from colorize_app.core.provenance import RecordState, read_provenance
from colorize_app.core.vocabulary import Status
from colorize_app.ui import guards

TIMEOUT = 60_000
BLUE = "#3b7dd8"


def _idle(qtbot, window):
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)


def _colorized_and_saved(qtbot, open_window, weights, photo):
    window = open_window(weights, auto_save=True)
    with heard(qtbot, window.host.colorizer.model_loaded, timeout=TIMEOUT):
        window.warm_up()
    open_and_wait(qtbot, window, [photo])
    window.commands.colorize_all.trigger()
    _idle(qtbot, window)
    entry = window.model.entries()[0]
    assert entry.status == Status.SAVED and not window.model.is_out_of_date(entry)
    return window, entry


def test_the_newcomers_hint_is_not_lost_on_quitting_and_the_reopened_list_says_out_of_date(
        qtbot, open_window, random_hint_weights, tmp_path, monkeypatch):  # noqa: F811
    photo = save_photo(tmp_path / "grandma.png", size=(72, 96), mode="L")
    window, entry = _colorized_and_saved(qtbot, open_window, random_hint_weights, photo)
    saved = digest(entry.output)
    window.hints.place(0.3, 0.2, BLUE)  # the sky, blue
    qtbot.waitUntil(lambda: entry.status == Status.DONE, timeout=TIMEOUT)  # shown, not saved

    asked = []
    monkeypatch.setattr(guards, "ask_quit_with_unsaved_hints",
                        lambda parent, names: asked.append(names) or guards.CANCEL)
    window.close()
    assert asked == [["grandma.png"]] and window.isVisible()  # it asked, and stayed
    monkeypatch.setattr(guards, "ask_quit_with_unsaved_hints", lambda parent, names: guards.DISCARD)
    window.close()
    assert not window.isVisible() and digest(entry.output) == saved

    again = open_window(random_hint_weights, auto_save=True)
    open_and_wait(qtbot, again, [photo])
    reopened = again.model.entries()[0]
    qtbot.waitUntil(lambda: reopened.hints is not None, timeout=TIMEOUT)  # read on the files lane
    assert reopened.hints and again.model.is_out_of_date(reopened)
    assert "Out of date: saved with other hints" in again.model.detail(reopened)
    redo = []
    monkeypatch.setattr(guards, "ask_redo_out_of_date", lambda parent, count: redo.append(count) or True)
    assert again.commands.colorize_all.isEnabled()
    again.commands.colorize_all.trigger()
    _idle(qtbot, again)
    assert redo == [1]  # asked once
    assert digest(reopened.output) != saved and not again.model.is_out_of_date(reopened)
    assert read_provenance(reopened.output)[1].hints_count == 1


def test_save_and_quit_saves_the_hinted_result_then_closes(qtbot, open_window, random_hint_weights,  # noqa: F811
                                                           tmp_path, monkeypatch):
    photo = save_photo(tmp_path / "picnic.png", size=(72, 96), mode="L")
    window, entry = _colorized_and_saved(qtbot, open_window, random_hint_weights, photo)
    window.hints.place(0.5, 0.5, BLUE)
    qtbot.waitUntil(lambda: entry.status == Status.DONE, timeout=TIMEOUT)
    monkeypatch.setattr(guards, "ask_quit_with_unsaved_hints", lambda parent, names: guards.SAVE)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
    state, record = read_provenance(entry.output)
    assert state is RecordState.FOUND and record.hints_count == 1


def test_quitting_mid_batch_still_offers_to_save_the_hinted_result(
        qtbot, open_window, random_hint_weights, tmp_path, monkeypatch):  # noqa: F811
    # Only "quit while colorizing?" was asked, and "Stop and Quit" lost the hinted result.
    photo = save_photo(tmp_path / "picnic.png", size=(72, 96), mode="L")
    window, entry = _colorized_and_saved(qtbot, open_window, random_hint_weights, photo)
    window.hints.place(0.5, 0.5, BLUE)
    qtbot.waitUntil(lambda: entry.status == Status.DONE, timeout=TIMEOUT)
    window.commands.auto_save.setChecked(False)
    others = [save_photo(tmp_path / f"more {i}.png", size=(600, 800), mode="L") for i in range(6)]
    open_and_wait(qtbot, window, others)
    asked = []
    monkeypatch.setattr(guards, "ask_quit_with_unsaved_hints",
                        lambda parent, names: asked.append(names) or guards.SAVE)
    window.commands.colorize_all.trigger()
    assert window.batch.is_busy()
    window.close()  # "Stop and Quit", then "Save and Quit"
    assert asked == [["picnic.png"]]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
    assert read_provenance(entry.output)[1].hints_count == 1


def test_declining_to_redo_keeps_out_of_date_results(qtbot, open_window, tiny_weights, tmp_path,
                                                     monkeypatch):
    photo = save_photo(tmp_path / "p.jpg", size=(72, 96), mode="L")
    window, entry = _colorized_and_saved(qtbot, open_window, tiny_weights, photo)
    saved = digest(entry.output)
    window.controls.saturation.setValue(40)
    assert "Out of date: saved with other settings" in window.model.detail(entry)
    monkeypatch.setattr(guards, "ask_redo_out_of_date", lambda parent, count: False)
    window.commands.colorize_all.trigger()
    _idle(qtbot, window)
    assert digest(entry.output) == saved and window.model.is_out_of_date(entry)


def test_a_photo_already_in_colour_is_skipped_until_asked(qtbot, open_window, tiny_weights, tmp_path):
    photo = save_photo(tmp_path / "holiday.png", size=(72, 96), colour=True)
    window = open_window(tiny_weights, auto_save=False)
    open_and_wait(qtbot, window, [photo])
    window.commands.colorize_all.trigger()
    _idle(qtbot, window)
    entry = window.model.entries()[0]
    assert entry.status == Status.SKIPPED and "Already in colour" in window.model.detail(entry)
    window.batch_panel.select_row(0)
    window.commands.colorize_anyway.trigger()
    _idle(qtbot, window)
    assert entry.status == Status.DONE


@pytest.mark.parametrize("on", [True, False])
def test_the_preferences_decide_whether_results_record_what_made_them(qtbot, open_window, tiny_weights,
                                                                      tmp_path, on):
    from colorize_app.ui.preferences import PreferencesDialog

    photo = save_photo(tmp_path / "p.jpg", size=(72, 96), mode="L")
    window = open_window(tiny_weights, auto_save=True)
    dialog = PreferencesDialog(window.settings, window)
    assert dialog.provenance.isChecked()  # on by default
    dialog.provenance.setChecked(on)
    dialog.accept()
    open_and_wait(qtbot, window, [photo])
    window.commands.colorize_all.trigger()
    _idle(qtbot, window)
    state = read_provenance(window.model.entries()[0].output)[0]
    assert state is (RecordState.FOUND if on else RecordState.NONE)


def test_the_about_box_says_what_results_record(open_window, tiny_weights):
    from colorize_app.ui.dialogs import AboutDialog

    window = open_window(tiny_weights)
    text = AboutDialog(None, window).text
    assert "IPTC digital source type" in text and "Preferences can turn this off" in text


def test_results_made_before_records_count_as_current_and_it_is_said_once(qtbot, open_window, tiny_weights, tmp_path):
    photos = [save_photo(tmp_path / f"{name}.jpg", mode="L") for name in ("a", "b")]
    for photo in photos:
        save_photo(photo.with_name(f"{photo.stem}_colorized.jpg"))  # an older Colorize's: no record
    window = open_window(tiny_weights, auto_save=True)
    open_and_wait(qtbot, window, [tmp_path])
    assert [e.status for e in window.model.entries()] == [Status.SAVED] * 2
    assert not any(window.model.is_out_of_date(e) for e in window.model.entries())
    message = window.status.currentMessage()
    assert message.count("made before Colorize recorded how") == 1 and "2 saved result(s)" in message


def test_a_result_whose_original_was_rescanned_since_reopens_out_of_date(qtbot, open_window,
                                                                         tiny_weights, tmp_path):  # fmt: skip
    photo = save_photo(tmp_path / "negative 12.png", size=(72, 96), mode="L")
    window, entry = _colorized_and_saved(qtbot, open_window, tiny_weights, photo)
    window.close()
    save_photo(photo, size=(90, 120), mode="L")  # the damaged negative scanned again

    again = open_window(tiny_weights, auto_save=True)
    open_and_wait(qtbot, again, [photo])
    reopened = again.model.entries()[0]
    qtbot.waitUntil(lambda: reopened.hints is not None, timeout=TIMEOUT)
    assert again.model.is_out_of_date(reopened)
    assert "Out of date: its original has changed since it was made" in again.model.detail(reopened)

    again.commands.colorize_all.trigger()  # redone after the one question (auto-answered here)
    _idle(qtbot, again)
    assert reopened.status == Status.SAVED and not again.model.is_out_of_date(reopened)
