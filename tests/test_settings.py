"""One table of settings (core.settings): the command line, the stored settings and the window's
controls and Preferences accept and refuse the same values, setting by setting."""

from __future__ import annotations

import math

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from colorize_app import cli
from colorize_app.core.settings import SETTINGS
from colorize_app.ui.controls import ControlsWidget
from colorize_app.ui.preferences import PreferencesDialog
from colorize_app.ui.settings import AppSettings

SHARED = [s for s in SETTINGS.values() if s.key and s.flag]


def cli_accepts(setting, value) -> bool:
    try:
        args = cli.build_parser().parse_args(["x", setting.flag, str(value)])
    except SystemExit:
        return False
    return getattr(args, setting.flag.lstrip("-").replace("-", "_")) == value


def stored_reads(setting, raw, tmp_path):
    """What the window reads back when its settings file says ``raw`` (edited by hand, or by an
    older version)."""
    settings = AppSettings(tmp_path / "s.ini")
    settings.qsettings.setValue(setting.key, raw)
    settings.sync()
    return getattr(AppSettings(tmp_path / "s.ini"), setting.name)


def window_range(setting, qtbot, settings) -> tuple | None:
    """What the window's own control for ``setting`` offers: (lowest, highest), or its choices."""
    controls, dialog = ControlsWidget(), PreferencesDialog(settings)
    qtbot.addWidget(controls)
    qtbot.addWidget(dialog)
    if setting.name == "saturation":
        return controls.saturation.minimum() / 100, controls.saturation.maximum() / 100
    if setting.name == "jpeg_quality":
        return dialog.quality.minimum(), dialog.quality.maximum()
    if setting.name == "render_size":
        sizes = [controls.render_size.itemData(i) for i in range(controls.render_size.count())]
        return min(sizes), max(sizes)
    if setting.name == "export_format":
        return tuple(dialog.format.itemData(i) for i in range(dialog.format.count()))
    if setting.name == "device":
        return tuple(controls.device.itemData(i) for i in range(controls.device.count()))
    return None


@pytest.mark.parametrize("setting", SHARED, ids=lambda s: s.name)
def test_the_command_line_the_stored_settings_and_the_window_agree(setting, tmp_path, qtbot):
    defaults = cli.build_parser().parse_args(["x"])
    # A yes/no setting's option keeps its name (--no-provenance sets provenance to False)
    dest = setting.name if setting.type is bool else setting.flag.lstrip("-").replace("-", "_")
    flag_default = getattr(defaults, dest)
    assert flag_default in (setting.default, None if setting.default == "" else setting.default)
    assert getattr(AppSettings(tmp_path / "fresh.ini"), setting.name) == setting.default
    offered = window_range(setting, qtbot, AppSettings(tmp_path / "fresh.ini"))
    if setting.minimum is not None:
        step = 1 if setting.type is int else 0.01
        for value in (setting.minimum, setting.maximum):
            assert cli_accepts(setting, value)
            assert stored_reads(setting, str(value), tmp_path) == value
        for value in (setting.minimum - step, setting.maximum + step):
            assert not cli_accepts(setting, value)
            assert stored_reads(setting, str(value), tmp_path) == setting.default
        low, high = offered
        assert setting.minimum <= low and high <= setting.maximum
        if setting.name != "render_size":  # the window offers a few sizes, the command line any
            assert (low, high) == (setting.minimum, setting.maximum)
    if setting.choices:
        assert set(offered) <= set(setting.choices)
        for choice in setting.choices:
            assert cli_accepts(setting, choice)
            assert stored_reads(setting, choice, tmp_path) == choice
        assert not cli_accepts(setting, "bogus")
        assert stored_reads(setting, "bogus", tmp_path) == setting.default


def test_the_first_windows_gpu_choice_reads_as_whichever_gpu_there_is(tmp_path):
    # It meant CUDA or Apple's GPU; read as CUDA, a Mac's every photo failed ("no CUDA GPU").
    assert stored_reads(SETTINGS["device"], "gpu", tmp_path) == "auto"


def test_saturation_has_one_limit_everywhere():
    assert SETTINGS["saturation"].maximum == 2.0
    assert cli_accepts(SETTINGS["saturation"], 2.0) and not cli_accepts(SETTINGS["saturation"], 3.0)
    assert not cli_accepts(SETTINGS["saturation"], math.nan)


def test_preferences_refuse_a_suffix_with_a_folder_in_it_and_say_why(qtbot, tmp_path):
    settings = AppSettings(tmp_path / "s.ini")
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.suffix.setText("a/b")
    assert not ok.isEnabled()
    assert dialog.suffix_problem.isVisible() and "'/'" in dialog.suffix_problem.text()
    assert not cli_accepts(SETTINGS["suffix"], "a/b")  # the command line says no too
    dialog.suffix.setText("_colour")
    assert ok.isEnabled() and not dialog.suffix_problem.isVisible()


def test_a_bad_suffix_left_in_the_settings_file_does_not_break_later_starts(tmp_path):
    assert stored_reads(SETTINGS["suffix"], "a/b", tmp_path) == SETTINGS["suffix"].default
