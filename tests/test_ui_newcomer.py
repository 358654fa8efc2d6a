"""What a new user tripped over in the window and at the command line (issue 23, items 2, 3, 6)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from open_wait import open_and_wait, wait_opened
from photos import save_photo
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox

from colorize_app import cli
from colorize_app.core.vocabulary import Status
from colorize_app.selftest import run_self_test
from colorize_app.ui import guards, opening
from colorize_app.ui.hint_palette import label

TIMEOUT = 60_000
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def make_window(open_window, tiny_weights):
    def make(auto_save: bool = True):
        return open_window(tiny_weights, auto_save=auto_save)

    return make


def photos(folder: Path, count: int) -> list[Path]:
    return [save_photo(folder / f"p{i:02}.png", size=(60, 80), mode="L") for i in range(count)]


def saved_with(entry) -> tuple[int, float]:
    """(render size, saturation) the file on disk records (core.provenance)."""
    recipe = entry.saved_record[1].recipe
    return recipe.render_size, recipe.saturation


def idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)


# -- 2. settings changed after colorizing -------------------------------------------------------
def test_after_a_saturation_change_colorize_all_and_save_all_redo_the_out_of_date(
        qtbot, make_window, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, photos(tmp_path, 2))
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    assert not window.commands.colorize_all.isEnabled()  # all saved
    window.controls.saturation.setValue(150)
    entries = window.model.entries()
    assert all(window.model.is_out_of_date(e) for e in entries)
    assert window.commands.colorize_all.isEnabled() and window.commands.save_all.isEnabled()
    window.commands.save_all.trigger()
    idle(qtbot, window)
    assert not any(window.model.is_out_of_date(e) for e in entries)
    assert [saved_with(e) for e in entries] == [(256, 1.5)] * 2

    window.controls.saturation.setValue(50)
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    assert [saved_with(e) for e in entries] == [(256, 0.5)] * 2


def test_a_render_size_change_marks_results_in_memory_and_says_so(qtbot, make_window, tmp_path):
    window = make_window(auto_save=False)
    open_and_wait(qtbot, window, photos(tmp_path, 1))
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    [entry] = window.model.entries()
    assert entry.status == Status.DONE and not window.model.is_out_of_date(entry)
    window.controls.render_size.setCurrentIndex(window.controls.render_size.findData(512))
    assert window.model.is_out_of_date(entry)
    assert "another render size" in window.model.detail(entry)
    assert "512" in window.status.currentMessage()
    assert window.commands.colorize_all.isEnabled()
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    assert entry.made_with[0] == 512 and not window.model.is_out_of_date(entry)


# -- 3. counts --------------------------------------------------------------------------------
def test_the_summary_counts_this_batch_only(qtbot, make_window, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, photos(tmp_path / "first", 3))
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    assert re.search(r": 3 colorized\.$", window.status.currentMessage())
    open_and_wait(qtbot, window, photos(tmp_path / "second", 2))
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    assert re.search(r": 2 colorized\.$", window.status.currentMessage())

    window.batch_panel.select_row(0)
    window.controls.saturation.setValue(120)
    window.commands.save.trigger()  # re-saving one photo
    idle(qtbot, window)
    assert re.search(r": 1 saved\.$", window.status.currentMessage())


def test_quitting_mid_batch_counts_the_batch_not_the_list(qtbot, make_window, tmp_path,
                                                        monkeypatch):
    window = make_window()
    open_and_wait(qtbot, window, photos(tmp_path, 6))
    asked = []
    monkeypatch.setattr(guards, "ask_quit_mid_batch", lambda parent, left: asked.append(left))
    window.batch_panel.select_row(0)
    window.commands.colorize_selected.trigger()  # one photo of six
    window.close()
    assert asked == [1]
    idle(qtbot, window)


def test_only_photos_in_a_batch_say_waiting(qtbot, make_window, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, photos(tmp_path, 2))
    first, second = window.model.entries()
    assert "Waiting" not in window.model.detail(first)
    assert "Not colorized yet" in window.model.detail(first)
    window.batch_panel.select_row(1)
    window.commands.colorize_selected.trigger()
    assert "Not colorized yet" in window.model.detail(first)
    idle(qtbot, window)
    assert second.status == Status.SAVED


# -- 6. smaller -------------------------------------------------------------------------------
def test_the_samples_item_names_the_folder_its_result_went_to(qtbot, make_window):
    window = make_window()
    window.commands.sample.trigger()
    wait_opened(qtbot, window)
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    [entry] = window.model.entries()
    assert entry.status == Status.SAVED
    assert str(entry.output.parent) in window.model.detail(entry)


def test_the_readme_names_the_sample_as_the_menu_does(make_window):
    window = make_window()
    menu_text = window.commands.sample.text().replace("&", "")
    assert f"Help > {menu_text}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_user_guide_without_a_browser_says_where_it_is(make_window, monkeypatch):
    window = make_window()
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    window.commands.user_guide.trigger()
    assert "user-guide.md" in window.status.currentMessage()


def test_open_folders_dialog_offers_sub_folders(qtbot, tmp_path):
    dialog = opening.folder_dialog(None, str(tmp_path), True)
    qtbot.addWidget(dialog)
    assert dialog.findChild(QCheckBox) is dialog.subfolders and dialog.subfolders.isChecked()
    assert "sub-folders" in dialog.subfolders.text().replace("&", "")


def test_the_command_line_says_what_it_left_in_sub_folders(tmp_path, tiny_weights, capsys):
    photos(tmp_path, 1)
    photos(tmp_path / "inner", 4)
    assert cli.main([str(tmp_path), "--weights", str(tiny_weights)]) == 0
    assert "left 4 photo(s) or film(s) in sub-folders alone" in capsys.readouterr().err
    assert cli.main([str(tmp_path), "-r", "--weights", str(tiny_weights)]) == 0
    assert "sub-folders alone" not in capsys.readouterr().err


def test_hint_suggestions_are_named():
    assert label("#87a9d0").startswith("sky")
    assert label("#3f5e2c").startswith("foliage")
    assert label("#c68863").startswith("skin") and label("#c68863").endswith("#c68863")


def test_the_self_tests_total_includes_its_imports(tiny_weights):
    out = io.StringIO()
    assert run_self_test(tiny_weights, device="cpu", out=out) == 0
    text = out.getvalue()
    timings = dict(re.findall(r"([a-z][a-z ]+) (\d+\.\d\d) s", text.split("timings:")[1].splitlines()[0]))
    assert "imports" in timings
    total = float(re.search(r"PASS \((\d+\.\d) s in all\)", text).group(1))
    # The total has one decimal and each part two: allow for rounding both (it once read 0.4 s
    # beside 5 s of imports).
    assert total >= sum(map(float, timings.values())) - 0.05 - 0.005 * len(timings)


def test_a_failed_photo_is_not_reported_as_hints_that_could_not_be_saved(qtbot, make_window,
                                                                       tmp_path):
    # The hint controller listens to the network's lane too: only its own tickets are its news.
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    window = make_window()
    said = []
    window.hints.message.connect(said.append)
    open_and_wait(qtbot, window, [broken])
    window.commands.colorize_all.trigger()
    idle(qtbot, window)
    assert window.model.entries()[0].status == Status.FAILED
    assert not [m for m in said if "hints" in m.lower()]
