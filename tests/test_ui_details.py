"""The window's details a careful new user notices (issue 11): where results go, what it says,
what it asks before losing work, and that it fits the screen."""

from __future__ import annotations

import logging
import time

import pytest
from gui_thread import heard
from open_wait import open_and_wait, wait_opened
from photos import digest, save_photo
from PIL import Image
from PySide6.QtCore import QByteArray, QEvent, QRect
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from colorize_app import cli
from colorize_app.core.vocabulary import Status
from colorize_app.core.weights import default_weights_path, read_metadata
from colorize_app.ui import guards, icons, model_card, resources, sample, screen_fit
from colorize_app.ui.dialogs import AboutDialog
from colorize_app.ui.opening import save_filter
from colorize_app.ui.preferences import PreferencesDialog
from colorize_app.ui.settings import AppSettings
from colorize_app.ui.single_instance import InstanceServer, send_to_running
from colorize_app.ui.status_bar import AppStatusBar

TIMEOUT = 60_000


@pytest.fixture
def make_window(open_window, tiny_weights):
    def make(auto_save: bool | None = False):
        return open_window(tiny_weights, auto_save=auto_save)

    return make


def wait_until_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)


def visible_boxes(window) -> list[QMessageBox]:
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


# -- Wrong 1: the sample's result --------------------------------------------------------------
@pytest.fixture
def installed_sample(tmp_path, monkeypatch):
    """The sample photo where an installed package keeps it."""
    installed = tmp_path / "site-packages" / "resources"
    save_photo(installed / "sample.jpg", mode="L")
    monkeypatch.setattr(resources, "RESOURCES", installed)
    return installed


def colorize_the_sample(qtbot, window) -> None:
    window.commands.sample.trigger()
    wait_opened(qtbot, window)
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)


def test_the_sample_result_goes_to_a_user_folder_not_into_the_package(qtbot, make_window,
                                                                      installed_sample):
    installed = installed_sample
    window = make_window(auto_save=True)
    colorize_the_sample(qtbot, window)
    assert sorted(p.name for p in installed.iterdir()) == ["sample.jpg"]  # nothing written there
    result = sample.output_dir() / "sample_colorized.jpg"
    assert result.is_file()
    assert window.model.entries()[0].status == Status.SAVED


def test_the_sample_result_stays_in_the_user_folder_after_preferences_are_changed(
        qtbot, make_window, installed_sample):  # fmt: skip
    # OK in Preferences re-aimed every unsaved result: the sample's went back into the package.
    window = make_window(auto_save=False)
    window.commands.sample.trigger()
    wait_opened(qtbot, window)
    window.commands.preferences.trigger()
    window.findChild(PreferencesDialog).accept()  # OK, nothing changed
    window.commands.auto_save.setChecked(True)
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    assert sorted(p.name for p in installed_sample.iterdir()) == ["sample.jpg"]
    assert (sample.output_dir() / "sample_colorized.jpg").is_file()


def test_the_sample_result_saved_in_an_earlier_session_is_judged_like_any_other(
        qtbot, make_window, installed_sample):
    first = make_window(auto_save=True)
    colorize_the_sample(qtbot, first)
    first.close()

    again = make_window(auto_save=True)  # the next day: the result is already in ~/Pictures
    again.commands.sample.trigger()
    wait_opened(qtbot, again)
    qtbot.waitUntil(lambda: again.model.entries()[0].status == Status.SAVED, timeout=TIMEOUT)
    entry = again.model.entries()[0]
    assert not again.model.is_out_of_date(entry)
    again.controls.saturation.setValue(40)
    # its saved record was read, as for any photo (judged once its hints file has been read too)
    qtbot.waitUntil(lambda: again.model.is_out_of_date(entry), timeout=TIMEOUT)


# -- Wrong 2: Save As and the extension ---------------------------------------------------------
def test_save_as_refuses_an_extension_it_cannot_write_and_offers_the_ones_it_can(
        qtbot, make_window, tmp_path, monkeypatch):
    assert "PNG (*.png)" in save_filter() and "gif" not in save_filter()
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    window = make_window()
    open_and_wait(qtbot, window, [photo])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    target = tmp_path / "export_test.gif"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.commands.save_as.trigger()
    wait_until_idle(qtbot, window)
    assert not target.exists()
    boxes = visible_boxes(window)
    assert len(boxes) == 1 and ".gif" in boxes[0].text()

    tiff = tmp_path / "export_test.tif"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tiff), ""))
    window.commands.save_as.trigger()
    qtbot.waitUntil(tiff.exists, timeout=TIMEOUT)
    wait_until_idle(qtbot, window)
    with Image.open(tiff) as saved:
        assert saved.format == "TIFF"


# -- Wrong 3: out of date, and replacing asks once ---------------------------------------------
def test_a_saved_result_is_marked_out_of_date_and_replacing_it_asks_once(qtbot, make_window,
                                                                       tmp_path, monkeypatch):
    photo = save_photo(tmp_path / "p.jpg", mode="L", size=(72, 96))
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, [photo])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    entry = window.model.entries()[0]
    assert entry.status == Status.SAVED
    assert "Out of date" not in window.model.detail(entry)

    window.controls.saturation.setValue(40)
    assert window.model.is_out_of_date(entry)
    assert "Out of date" in window.model.detail(entry)
    before = digest(entry.output)

    asked = []
    monkeypatch.setattr(guards, "ask_replace",
                        lambda parent, names: asked.append(names) or (False, False))
    window.batch_panel.select_row(0)
    window.commands.colorize_selected.trigger()
    wait_until_idle(qtbot, window)
    assert asked == [["p_colorized.jpg"]] and digest(entry.output) == before  # declined: kept

    monkeypatch.setattr(guards, "ask_replace",
                        lambda parent, names: asked.append(names) or (True, True))
    window.commands.colorize_selected.trigger()
    wait_until_idle(qtbot, window)
    assert digest(entry.output) != before
    assert not window.model.is_out_of_date(window.model.entries()[0])
    assert window.settings.ask_before_replacing is False  # "don't ask again" is remembered
    window.controls.saturation.setValue(120)
    window.commands.colorize_selected.trigger()
    wait_until_idle(qtbot, window)
    assert len(asked) == 2  # not asked a third time


# -- Wrong 4: quitting mid-batch, and "Stopped" -------------------------------------------------
def test_quitting_mid_batch_asks_first_and_stop_says_stopped(qtbot, make_window, tmp_path,
                                                             monkeypatch):
    photos = [save_photo(tmp_path / "many" / f"p{i:02}.png", size=(160, 200)) for i in range(10)]
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, photos)
    asked = []
    monkeypatch.setattr(guards, "ask_quit_mid_batch",
                        lambda parent, left: asked.append(left) or False)
    with heard(qtbot, window.host.network.finished, timeout=TIMEOUT):
        window.commands.colorize_all.trigger()
    window.close()
    assert asked and asked[0] >= 1
    assert window.isVisible() and window.batch.is_busy()  # "Cancel": still at work

    window.commands.stop.trigger()
    wait_until_idle(qtbot, window)
    assert window.status.currentMessage().startswith("Stopped")


def test_a_finished_batch_says_finished_and_how_long_it_took(qtbot, make_window, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, [save_photo(tmp_path / "p.jpg", mode="L")])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    message = window.status.currentMessage()
    assert message.startswith("Finished in ") and " s:" in message


# -- Wrong 5: the About box and the status bar speak plainly ------------------------------------
DEVELOPER_WORDS = ("cut_after", "truth_cf", "../shared", "MSE", "gain", "delta_cf", "resnet")


def shipped_info() -> dict:
    meta = read_metadata(default_weights_path())
    training = meta.get("training") or {}
    return {"name": training.get("name", ""), "device": "CPU", "summary": training,
            "config": meta.get("model_config") or {}, "path": str(default_weights_path())}


FIRST_MODEL = {  # the first shipped model's metadata: a developer's name and figures only
    "name": "Colorize default (MSE + gain 1.45)", "loss": "mse", "steps": 4000,
    "data": {"root": "train", "photos": 12071},
    "metrics": {"split": "validation (hash of path, 5%): 620 photos of ../shared/data/train",
                "model": {"psnr": 21.7, "cf": 37.6, "delta_cf": 3.07}, "truth_cf": 40.701},
}


def test_the_about_box_describes_the_first_model_in_words(qtbot, make_window):
    window = make_window()
    info = dict(shipped_info(), name=FIRST_MODEL["name"], summary=FIRST_MODEL,
                config={"backbone": "resnet18", "cut_after": 3, "chroma_gain": 1.45})
    about = AboutDialog(info, window)
    for word in DEVELOPER_WORDS:
        assert word not in about.text, word
    assert "Colorize default, version 1" in about.text
    assert "12,071 colour photographs" in about.text
    assert "non-commercial" in about.text
    assert "MODEL_CARD.md" in about.text and "file://" in about.text

    window._on_model_loaded(info)
    for word in DEVELOPER_WORDS:
        assert word not in window.status.engine.text(), word


def test_the_about_box_describes_the_shipped_model_in_words(make_window):
    window = make_window()
    info = shipped_info()
    about = AboutDialog(info, window)
    for word in ("cut_after", "truth_cf", "../shared", "delta_cf", "resnet"):
        assert word not in about.text, word
    assert model_card.model_name(info["summary"]) in about.text


def test_the_about_box_uses_a_models_own_name_version_and_description(make_window):
    window = make_window()
    info = shipped_info()
    info["summary"] = dict(info["summary"], name="Colorize Portraits", version="2",
                           trained_on="portraits from public archives")
    about = AboutDialog(info, window)
    assert "Colorize Portraits, version 2" in about.text
    assert "portraits from public archives" in about.text


# -- Wrong 6: the first window fits the screen --------------------------------------------------
def test_the_first_window_and_a_restored_one_fit_the_screen(make_window, tmp_path):
    assert screen_fit.first_size(QRect(0, 0, 1066, 640)).height() <= 640  # 1600 x 1000 at 150 %
    window = make_window()
    available = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)

    settings = AppSettings(tmp_path / "settings.ini")
    settings.geometry = QByteArray()  # a geometry saved on a bigger screen:
    window.resize(available.width() * 2, available.height() * 2)
    settings.geometry = window.saveGeometry()
    settings.sync()
    screen_fit.place(window, settings.geometry)
    assert available.contains(window.frameGeometry())


# -- Wrong 7: every refused file is listed somewhere that stays ---------------------------------
def test_refused_files_stay_listed_until_dismissed(qtbot, make_window, tmp_path, monkeypatch):
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: ([str(photo), str(notes)], ""))
    window.commands.open_images.trigger()
    wait_opened(qtbot, window)
    open_and_wait(qtbot, window, [tmp_path / "gone.jpg"])  # as from the command line
    window.status.clearMessage()  # the status bar's message has timed out
    assert window.problems.isVisible()
    listed = "\n".join(window.problems.problems())
    assert "notes.txt" in listed and "gone.jpg" in listed
    window.problems.dismiss.click()
    assert not window.problems.isVisible()


# -- Missing: ETA, Preferences shared with the command line, one instance, ... -----------------
def test_the_progress_shows_the_time_left(qtbot):
    bar = AppStatusBar()
    qtbot.addWidget(bar)
    bar.start_batch(time.monotonic() - 10)
    bar.set_progress(1, 4, 0.0)  # a quarter done in 10 s: about 30 s left
    assert "about 30 s left" in bar.progress.format()


def test_the_folder_for_results_is_a_full_path(qtbot, tmp_path, monkeypatch):
    # "~/Colorized" was stored as typed: results went into a folder named "~" inside whatever
    # folder the app was started from. A hand-edited line with a comma read back as a list.
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = AppSettings(tmp_path / "s.ini")
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.in_folder.setChecked(True)
    dialog.folder.setText("Colorized")
    assert not ok.isEnabled() and "full path" in dialog.folder_problem.text()
    dialog.folder.setText("~/Colorized")
    assert ok.isEnabled()
    dialog.accept()
    assert settings.output_dir == str(tmp_path / "Colorized")

    (tmp_path / "hand.ini").write_text("[export]\noutput_dir=/x/Scans, colour\n")
    assert AppSettings(tmp_path / "hand.ini").output_dir == ""  # refused: the default


def test_preferences_are_the_command_lines_export_settings_with_its_defaults(qtbot, tmp_path):
    defaults = cli.build_parser().parse_args(["x"])
    settings = AppSettings(tmp_path / "s.ini")
    assert settings.suffix == defaults.suffix
    assert settings.export_format == defaults.format
    assert settings.jpeg_quality == defaults.jpeg_quality
    assert (settings.output_dir or None) == defaults.output_dir

    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    dialog.in_folder.setChecked(True)
    dialog.folder.setText(str(tmp_path / "results"))
    dialog.suffix.setText("_colour")
    dialog.format.setCurrentIndex(dialog.format.findData("PNG"))
    dialog.quality.setValue(80)
    assert dialog.example.text() == "photo.jpg → photo_colour.png"
    dialog.accept()
    again = AppSettings(tmp_path / "s.ini")
    assert (again.output_dir, again.suffix, again.export_format, again.jpeg_quality) == (
        str(tmp_path / "results"), "_colour", "PNG", 80)
    dialog = PreferencesDialog(again)
    qtbot.addWidget(dialog)
    dialog.restore_defaults()
    dialog.accept()
    assert AppSettings(tmp_path / "s.ini").suffix == defaults.suffix


def test_the_window_saves_where_and_how_the_preferences_say(qtbot, make_window, tmp_path):
    folder = tmp_path / "album"
    save_photo(folder / "top.jpg", mode="L")
    save_photo(folder / "inner" / "deep.jpg", mode="L")
    window = make_window(auto_save=True)
    s = window.settings
    s.output_dir, s.suffix, s.export_format = str(tmp_path / "results"), "_c", "PNG"
    window.commands.include_subfolders.setChecked(True)
    open_and_wait(qtbot, window, [folder])
    deep = next(e for e in window.model.entries() if e.source.name == "deep.jpg")
    assert window.model.detail(deep).startswith("inner · ")  # which sub-folder it is in
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    with Image.open(tmp_path / "results" / "inner" / "deep_c.png") as saved:
        assert saved.format == "PNG"
    assert (tmp_path / "results" / "top_c.png").is_file()


def test_two_photos_with_one_result_name_never_write_over_each_other(qtbot, make_window, tmp_path):
    # Two cards' folders, each with its IMG_0001, opened one after the other and saved into one
    # output folder: the second was reported "already colorized" by Colorize All, and Colorize
    # Selected wrote over the first one's result.
    first = save_photo(tmp_path / "card 1" / "IMG_0001.jpg", mode="L")
    second = save_photo(tmp_path / "card 2" / "IMG_0001.jpg", mode="L", colour=True)
    window = make_window(auto_save=True)
    window.settings.output_dir = str(tmp_path / "results")
    open_and_wait(qtbot, window, [first.parent])
    open_and_wait(qtbot, window, [second.parent])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    ours, theirs = window.model.entries()
    result = tmp_path / "results" / "IMG_0001_colorized.jpg"
    assert ours.status == Status.SAVED and result.is_file()
    assert theirs.status == Status.FAILED and "same name" in theirs.reason
    made = digest(result)

    window.batch_panel.select_row(1)
    window.commands.colorize_selected.trigger()
    wait_until_idle(qtbot, window)
    assert digest(result) == made
    assert window.model.entries()[1].status == Status.FAILED
    assert "same name" in window.status.currentMessage()


def test_the_command_line_writes_the_format_and_quality_it_is_given(tiny_weights, tmp_path):
    photo = save_photo(tmp_path / "p.jpg", mode="L", size=(64, 80))
    assert cli.main([str(photo), "--weights", str(tiny_weights), "--format", "png"]) == 0
    with Image.open(tmp_path / "p_colorized.png") as saved:
        assert saved.format == "PNG"
    assert cli.main([str(photo), "--weights", str(tiny_weights), "--jpeg-quality", "20",
                     "--suffix", "_low"]) == 0
    low, high = tmp_path / "p_low.jpg", tmp_path / "p_colorized.jpg"
    assert cli.main([str(photo), "--weights", str(tiny_weights)]) == 0
    assert low.stat().st_size < high.stat().st_size


def test_a_second_start_hands_its_photos_to_the_running_window(qtbot, make_window, tmp_path):
    photo = save_photo(tmp_path / "from the file manager.jpg", mode="L")
    window = make_window()
    name = f"colorize-test-{id(window)}"
    server = InstanceServer(window.open_paths_from_another_start, name=name)
    try:
        assert send_to_running([str(photo)], name=name)
        qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=TIMEOUT)
        assert window.model.entries()[0].source == photo
    finally:
        server.close()
    assert not send_to_running([str(photo)], name=name)  # nobody listening: start a window


def test_open_recent_lists_only_what_opened(qtbot, make_window, tmp_path):
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    empty = tmp_path / "empty"
    empty.mkdir()
    window = make_window()
    open_and_wait(qtbot, window, [notes, empty, photo])
    assert window.settings.recent_files == [str(photo)]


def test_a_photo_named_relative_to_where_the_app_started_is_remembered_in_full(
        qtbot, make_window, tmp_path, monkeypatch):  # fmt: skip
    # `colorize-app photo.jpg` from a terminal: Open Recent kept "photo.jpg", which the next start
    # from the desktop menu (another working folder) could not find, or found another of.
    save_photo(tmp_path / "photo.jpg", mode="L")
    monkeypatch.chdir(tmp_path)
    window = make_window()
    open_and_wait(qtbot, window, ["photo.jpg"])
    assert window.settings.recent_files == [str(tmp_path / "photo.jpg")]
    assert window.model.entries()[0].source == tmp_path / "photo.jpg"


def test_removing_thousands_of_selected_rows_is_one_change_per_run_of_rows(qtbot, tmp_path):
    # One signal per row kept the window busy for seconds (2,000 rows: 10 s), every row's removal
    # re-reading the whole selection.
    from pathlib import Path

    from colorize_app.ui.batch_model import BatchEntry, BatchListModel

    model = BatchListModel()
    entries = [BatchEntry(Path(f"/album/p{i:04}.jpg"), Path(f"/album/p{i:04}_c.jpg"))
               for i in range(3000)]  # fmt: skip
    model.add(entries)
    changes = []
    model.rowsRemoved.connect(lambda parent, first, last: changes.append((first, last)))
    removed = model.remove_rows([*range(10, 1010), *range(2000, 3000)])
    assert changes == [(2000, 2999), (10, 1009)]  # from the end: the first run keeps its rows
    assert len(removed) == 2000 and model.rowCount() == 1000
    kept = [*entries[:10], *entries[1010:2000]]
    assert model.entries() == kept
    assert [model.row_of(e.id) for e in kept] == list(range(1000))
    assert model.row_of(entries[2500].id) == -1


def test_the_zoom_shown_is_the_photos_on_screen_as_it_fits(qtbot, make_window, tmp_path):
    # The hidden compare view spoke last (32 % shown, the panes at 25 %), and a resize said
    # nothing.
    window = make_window()
    open_and_wait(qtbot, window, [save_photo(tmp_path / "p.jpg", mode="L", size=(1200, 1800))])
    view = window.preview.side_by_side.original_view
    qtbot.waitUntil(view.has_image, timeout=TIMEOUT)

    def shows_the_panes_zoom():
        return window.status.zoom.text() == f"Zoom {round(view.device_scale() * 100)}%"

    window.commands.zoom_fit.trigger()
    qtbot.waitUntil(shows_the_panes_zoom, timeout=TIMEOUT)
    before = view.device_scale()
    window.resize(window.width() + 300, window.height() + 200)
    qtbot.waitUntil(lambda: view.device_scale() != before, timeout=TIMEOUT)
    qtbot.waitUntil(shows_the_panes_zoom, timeout=TIMEOUT)


def test_zoom_level_and_the_user_guide_are_shown(qtbot, make_window, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, [save_photo(tmp_path / "p.jpg", mode="L", size=(200, 300))])
    qtbot.waitUntil(window.preview.side_by_side.original_view.has_image, timeout=TIMEOUT)
    window.commands.zoom_actual.trigger()
    qtbot.waitUntil(lambda: window.status.zoom.text() == "Zoom 100%", timeout=TIMEOUT)
    assert window.commands.user_guide.isEnabled()
    assert resources.user_guide_url().toLocalFile().endswith("docs/user-guide.md")


def test_the_log_records_each_photos_outcome_and_time(qtbot, make_window, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="colorize_app.ui")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(save_photo(tmp_path / "b.jpg").read_bytes()[:100])
    window = make_window()
    open_and_wait(qtbot, window, [save_photo(tmp_path / "good.jpg", mode="L"), broken])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    text = caplog.text
    assert "good.jpg: done in " in text and "broken.jpg" in text and "failed" in text
    assert "Batch finished after" in text


def test_a_quit_without_a_batch_asks_nothing(make_window, monkeypatch):
    window = make_window()
    monkeypatch.setattr(guards, "ask_quit_mid_batch", pytest.fail)
    window.close()
    assert not window.isVisible()
    QApplication.processEvents()


def test_a_light_dark_switch_redraws_every_icon_the_hint_modes_too(make_window, monkeypatch):
    window = make_window()
    asked = []
    real = icons.icon
    monkeypatch.setattr(icons, "icon", lambda name: asked.append(name) or real(name))
    QApplication.sendEvent(window, QEvent(QEvent.Type.PaletteChange))
    assert "mdi6.palette" in asked  # Colorize All's
    assert "mdi6.eyedropper-variant" in asked  # the hint mode's, made by its controller
