"""The main window as a person uses it: open through the File menu, colorize, stop, save."""

from __future__ import annotations

import numpy as np
import pytest
from gui_thread import heard
from open_wait import open_and_wait, wait_opened
from photos import make_unwritable, save_photo
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from colorize_app.core import job as job_module
from colorize_app.core.vocabulary import Status
from colorize_app.ui import opening
from colorize_app.ui.main_window import MainWindow

TIMEOUT = 60_000  # ms: the test machine is shared, so be patient; nothing here measures time


@pytest.fixture
def make_window(open_window, tiny_weights):
    """A window on the tiny model, with settings in a temporary folder (auto-save off unless asked;
    None: as the last window left them). All are closed after the test, stopping their threads."""

    def make(auto_save: bool | None = False) -> MainWindow:
        return open_window(tiny_weights, auto_save=auto_save)

    return make


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "album"
    photos = [save_photo(folder / f"photo {i}.jpg", size=(72, 96), mode="L") for i in range(1, 4)]
    return folder, photos


def statuses(window: MainWindow) -> list[Status]:
    return [entry.status for entry in window.model.entries()]


def names(window: MainWindow) -> list[str]:
    return [window.model.data(window.model.index(row)) for row in range(window.model.rowCount())]


def wait_until_idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)


def test_open_images_from_the_file_menu(qtbot, make_window, album, monkeypatch):
    _, photos = album
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args, **kwargs: ([str(p) for p in photos[:2]], ""))
    window.commands.open_images.trigger()
    wait_opened(qtbot, window)
    assert names(window) == ["photo 1.jpg", "photo 2.jpg"]
    assert statuses(window) == [Status.WAITING, Status.WAITING]
    assert window.batch_panel.current_entry().source == photos[0]  # shown in the preview
    assert window.settings.last_open_dir == str(photos[0].parent)


def test_open_folder_lists_its_photos_but_not_our_results(qtbot, make_window, album, monkeypatch):
    folder, _ = album
    save_photo(folder / "photo 1_colorized.jpg")  # a result from an earlier run
    (folder / "notes.txt").write_text("not a photo")
    save_photo(folder / "inner" / "deep.png")
    window = make_window()
    monkeypatch.setattr(opening, "choose_folder", lambda parent, start, sub: (str(folder), sub))
    window.commands.open_folder.trigger()
    wait_opened(qtbot, window)
    assert names(window) == ["photo 1.jpg", "photo 2.jpg", "photo 3.jpg"]
    # The one already colorized is recognised, so colorizing the folder again resumes.
    assert statuses(window) == [Status.SAVED, Status.WAITING, Status.WAITING]

    window.commands.clear.trigger()
    window.commands.include_subfolders.setChecked(True)
    window.commands.open_folder.trigger()
    wait_opened(qtbot, window)
    assert "deep.png" in names(window)


def test_colorize_all_brings_every_photo_to_done_and_save_writes_next_to_it(qtbot, make_window,
                                                                            album):
    _, photos = album
    window = make_window()
    open_and_wait(qtbot, window, photos)
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    assert statuses(window) == [Status.DONE] * 3
    assert not list(photos[0].parent.glob("*_colorized*"))  # auto-save is off: nothing written

    window.batch_panel.select_row(1)
    window.commands.save.trigger()
    output = photos[1].with_name("photo 2_colorized.jpg")
    qtbot.waitUntil(output.exists, timeout=TIMEOUT)
    wait_until_idle(qtbot, window)
    assert statuses(window) == [Status.DONE, Status.SAVED, Status.DONE]
    with Image.open(output) as saved, Image.open(photos[1]) as original:
        assert saved.size == original.size and saved.mode == "RGB"


def test_save_as_writes_the_format_its_name_asks_for(qtbot, make_window, album, tmp_path,
                                                    monkeypatch):
    _, photos = album
    window = make_window()
    open_and_wait(qtbot, window, photos[:1])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    target = tmp_path / "elsewhere" / "copy.png"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    window.commands.save_as.trigger()
    wait_until_idle(qtbot, window)
    with Image.open(target) as saved:
        assert saved.format == "PNG" and saved.size == (96, 72)


def test_colorize_selected_replaces_an_earlier_result(qtbot, make_window, album):
    _, photos = album
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, photos[:1])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    output = photos[0].with_name("photo 1_colorized.jpg")
    assert saturation_of(output) > 0.3

    window.controls.saturation.setValue(0)
    window.batch_panel.select_row(0)
    window.commands.colorize_selected.trigger()
    wait_until_idle(qtbot, window)
    assert saturation_of(output) < 0.3  # rewritten in gray, not skipped as "already done"


def saturation_of(path) -> float:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), np.float32)
    return float(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean())


def test_colorize_all_with_auto_save_writes_each_result_and_a_reopen_resumes(qtbot, make_window,
                                                                             album):
    folder, photos = album
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, [folder])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    assert statuses(window) == [Status.SAVED] * 3
    outputs = sorted(p.name for p in folder.glob("*_colorized.jpg"))
    assert outputs == ["photo 1_colorized.jpg", "photo 2_colorized.jpg", "photo 3_colorized.jpg"]
    window.close()

    again = make_window(auto_save=True)
    open_and_wait(qtbot, again, [folder])
    assert statuses(again) == [Status.SAVED] * 3
    assert not again.commands.colorize_all.isEnabled()  # nothing left to do


def test_stop_cancels_a_batch_midway(qtbot, make_window, tmp_path):
    photos = [save_photo(tmp_path / "many" / f"p{i:02}.png", size=(160, 200)) for i in range(10)]
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, photos)
    with heard(qtbot, window.host.network.finished, timeout=TIMEOUT):
        window.commands.colorize_all.trigger()
    assert window.commands.stop.isEnabled()
    window.commands.stop.trigger()
    wait_until_idle(qtbot, window)

    states = statuses(window)
    assert Status.WORKING not in states
    assert states.count(Status.SAVED) >= 1
    assert states.count(Status.WAITING) >= 1, "stop came too late to cancel anything"
    for entry in window.model.entries():  # waiting ones left no file behind
        assert entry.output.exists() == (entry.status == Status.SAVED)
    assert not window.commands.stop.isEnabled()
    assert window.commands.colorize_all.isEnabled()  # the rest can be resumed


def test_closing_mid_batch_keeps_what_was_saved_and_a_reopen_resumes(qtbot, make_window,
                                                                      tmp_path):
    folder = tmp_path / "big album"
    for i in range(8):
        save_photo(folder / f"p{i}.png", size=(160, 200))
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, [folder])
    with heard(qtbot, window.host.network.finished, timeout=TIMEOUT):
        window.commands.colorize_all.trigger()
    window.close()  # waits for the worker: nothing is left half-written behind the window

    saved = sorted(p.name for p in folder.glob("*_colorized.png"))
    assert 1 <= len(saved) < 8
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"p{i}.png" for i in range(8)] + saved)  # no temporary files either
    again = make_window(auto_save=True)
    open_and_wait(qtbot, again, [folder])
    assert statuses(again).count(Status.SAVED) == len(saved)
    again.commands.colorize_all.trigger()
    wait_until_idle(qtbot, again)
    assert statuses(again) == [Status.SAVED] * 8
    assert len(list(folder.glob("*_colorized.png"))) == 8


def test_a_result_another_run_saves_meanwhile_is_kept_and_the_window_carries_on(
        qtbot, make_window, album, monkeypatch):  # fmt: skip
    # A command-line run (or another computer) saves photo 1's result while the window colours
    # it: the window kept it, but stayed busy for ever (Stop did nothing, quitting asked).
    folder, photos = album
    theirs = folder / "photo 1_colorized.jpg"
    real_compose = job_module.compose

    def another_run_saves_first(pixels, *args, **kwargs):
        if not theirs.exists():
            save_photo(theirs, size=(72, 96), colour=True)
        return real_compose(pixels, *args, **kwargs)

    monkeypatch.setattr(job_module, "compose", another_run_saves_first)
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, photos)
    assert not theirs.exists()
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    assert statuses(window) == [Status.SAVED] * 3
    assert "photo 1_colorized.jpg" in window.model.entries()[0].reason
    assert not window.commands.colorize_all.isEnabled()  # nothing left to do


def test_a_broken_file_fails_with_its_reason_while_the_rest_complete(qtbot, make_window, album):
    folder, photos = album
    broken = folder / "photo 2.jpg"
    broken.write_bytes(broken.read_bytes()[:200])  # truncated mid-way
    window = make_window()
    open_and_wait(qtbot, window, photos)
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    assert statuses(window) == [Status.DONE, Status.FAILED, Status.DONE]
    tooltip = window.model.data(window.model.index(1), Qt.ItemDataRole.ToolTipRole)
    assert "photo 2.jpg" in tooltip and "truncated" in tooltip.lower()

    window.batch_panel.select_row(1)
    assert "truncated" in window.status.currentMessage().lower()


def test_a_folder_that_cannot_be_written_fails_with_a_reason_to_act_on(qtbot, make_window,
                                                                       tmp_path, monkeypatch):
    folder = tmp_path / "cd-rom"
    photo = save_photo(folder / "scan.jpg", mode="L")
    make_unwritable(folder, monkeypatch)
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, [photo])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    entry = window.model.entries()[0]
    assert entry.status == Status.FAILED
    assert "cd-rom" in entry.reason and "Traceback" not in entry.reason
    assert entry.chroma is not None  # the colour result is kept: Save As elsewhere still works
    assert window.commands.save_as.isEnabled()


def test_the_saturation_slider_recolours_the_preview_without_the_network(qtbot, make_window,
                                                                         album):
    _, photos = album
    window = make_window()
    window.controls.saturation.setValue(200)
    open_and_wait(qtbot, window, photos[:1])
    window.commands.colorize_all.trigger()
    wait_until_idle(qtbot, window)
    result_view = window.preview.side_by_side.result_view
    qtbot.waitUntil(result_view.has_image, timeout=TIMEOUT)
    assert colourfulness(result_view) > 0.3  # the tiny random model's colours are faint

    started = []
    window.host.network.started.connect(started.append)
    window.controls.saturation.setValue(0)
    qtbot.waitUntil(lambda: colourfulness(result_view) < 0.05, timeout=TIMEOUT)
    assert started == []  # the network did not run again
    assert window.settings.saturation == 0.0


def colourfulness(view) -> float:
    image = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_RGB888)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
    rgb = pixels[:, : width * 3].reshape(height, width, 3).astype(np.float32)
    return float(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean())


def test_dropping_files_and_folders_opens_them(qtbot, make_window, album):
    folder, photos = album
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    args = (QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(*args))
    wait_opened(qtbot, window)
    assert names(window) == ["photo 1.jpg", "photo 2.jpg", "photo 3.jpg"]


def test_remove_and_clear_take_photos_off_the_list_only(qtbot, make_window, album):
    _, photos = album
    window = make_window()
    open_and_wait(qtbot, window, photos)
    window.batch_panel.select_row(0)
    window.commands.remove.trigger()
    assert names(window) == ["photo 2.jpg", "photo 3.jpg"]
    window.commands.clear.trigger()
    assert window.model.rowCount() == 0
    assert all(p.exists() for p in photos)


def test_photos_removed_mid_batch_are_not_colorized_or_saved(qtbot, make_window, tmp_path):
    # Their jobs went on: results were written for photos no longer listed, and the summary
    # counted them as colorized.
    photos = [save_photo(tmp_path / f"p{i}.png", size=(600, 800), mode="L") for i in range(4)]
    window = make_window(auto_save=True)
    open_and_wait(qtbot, window, photos)
    window.commands.colorize_all.trigger()
    panel = window.batch_panel
    panel.select_row(1)
    for row in (2, 3):
        panel.view.selectionModel().select(window.model.index(row),
                                           panel.view.selectionModel().SelectionFlag.Select)
    window.commands.remove.trigger()
    assert names(window) == ["p0.png"]
    wait_until_idle(qtbot, window)
    assert sorted(p.name for p in tmp_path.glob("*_colorized*")) == ["p0_colorized.png"]
    assert "3 not done" in window.status.currentMessage()


def test_settings_persist_across_a_new_window(qtbot, make_window, album, monkeypatch):
    folder, photos = album
    window = make_window()
    window.controls.saturation.setValue(140)
    window.controls.render_size.setCurrentIndex(window.controls.render_size.findData(512))
    window.commands.auto_save.setChecked(True)
    window.commands.include_subfolders.setChecked(True)
    window.commands.compare.trigger()
    window.resize(790, 560)
    monkeypatch.setattr(opening, "choose_folder", lambda parent, start, sub: (str(folder), sub))
    window.commands.open_folder.trigger()
    wait_opened(qtbot, window)
    window.close()

    again = make_window(auto_save=None)  # as the last window left them
    assert again.controls.values() == (512, 1.4, "auto")
    assert again.commands.auto_save.isChecked()
    assert again.commands.include_subfolders.isChecked()
    assert again.preview.is_compare_mode()
    assert (again.width(), again.height()) == (790, 560)
    assert again.settings.last_folder_dir == str(folder)
    assert again.settings.recent_files[0] == str(folder)
    recent = [a.data() for a in again.recent.menu.actions() if a.data()]
    assert recent[0] == str(folder)
