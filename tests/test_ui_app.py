"""The application around the window: start-up without torch, --self-test, Help menu, no model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from gui_thread import heard
from open_wait import open_and_wait, wait_opened
from photos import save_photo
from PySide6.QtWidgets import QMessageBox

from colorize_app import __version__
from colorize_app.app import parse_args
from colorize_app.ui import resources
from colorize_app.ui.dialogs import AboutDialog, ShortcutsDialog

TIMEOUT = 60_000


def run_python(code_or_args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    return subprocess.run([sys.executable, *code_or_args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def window(open_window, tiny_weights):
    return open_window(tiny_weights)


def test_the_window_is_shown_before_torch_is_imported(tmp_path):
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from colorize_app import app as entry\n"
        "from colorize_app.ui.main_window import MainWindow\n"
        "from colorize_app.ui.settings import AppSettings\n"
        "from colorize_app.workers.host import WorkerHost\n"
        f"window = MainWindow(AppSettings({str(tmp_path / 's.ini')!r}), WorkerHost())\n"
        "window.show(); app.processEvents()\n"
        "print('torch' in sys.modules)\n"
        "window.close()\n"
    )
    result = run_python(["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_self_test_passes_from_the_source_install(tiny_weights, tmp_path):
    result = run_python(["-m", "colorize_app.app", "--self-test", "--weights", str(tiny_weights)],
                        tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout


def test_self_test_fails_plainly_without_a_model(tmp_path):
    missing = tmp_path / "none.safetensors"
    result = run_python(["-m", "colorize_app.app", "--self-test", "--weights", str(missing)],
                        tmp_path)
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "none.safetensors" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_paths_on_the_command_line_are_opened_in_the_window(tmp_path, tiny_weights):
    album = tmp_path / "album"
    for name in ("a.jpg", "b.png"):
        save_photo(album / name, mode="L")
    single = save_photo(tmp_path / "single.jpg", mode="L")
    # Run the real entry point; once its event loop starts, report the list and quit.
    code = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "real_exec = QApplication.exec\n"
        "def report():\n"
        "    window = next(w for w in QApplication.topLevelWidgets() if w.isVisible())\n"
        "    if window.opener.is_looking():  # the folder is walked off the window's thread\n"
        "        QTimer.singleShot(20, report)\n"
        "        return\n"
        "    print(sorted(e.source.name for e in window.model.entries()), flush=True)\n"
        "    window.close()\n"
        "def exec_and_report():\n"
        "    QTimer.singleShot(0, report)\n"
        "    return real_exec()\n"
        "QApplication.exec = staticmethod(exec_and_report)\n"
        "from colorize_app.app import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = run_python(["-c", code, str(single), str(album), "--weights", str(tiny_weights),
                         "--settings", str(tmp_path / "s.ini")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['a.jpg', 'b.png', 'single.jpg']"


def test_command_line_paths_and_qt_options_are_told_apart():
    args, qt_args = parse_args(["photo.jpg", "album/", "-platform", "offscreen"])
    assert args.paths == ["photo.jpg", "album/"]
    assert qt_args == ["-platform", "offscreen"]


def test_about_names_the_version_and_the_model(qtbot, window):
    with heard(qtbot, window.host.colorizer.model_loaded, timeout=TIMEOUT):
        window.warm_up()
    assert "tiny" in window.status.engine.text() and "CPU" in window.status.engine.text()
    about = AboutDialog(window.model_info, window)
    assert __version__ in about.text and "tiny" in about.text and "version 1" in about.text


def test_the_shortcuts_dialog_lists_the_real_shortcuts(window):
    dialog = ShortcutsDialog(window.commands.all(), [], window)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text()
            for r in range(dialog.table.rowCount())}
    assert rows["Open Images"] == "Ctrl+O"
    assert rows["Open Folder"] == "Ctrl+Shift+O"
    assert rows["Save"] == "Ctrl+S"


def test_the_sample_photo_is_offered_only_when_it_ships(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "RESOURCES", tmp_path / "no-resources")
    window._update_actions()
    assert not window.commands.sample.isEnabled()

    shipped = tmp_path / "resources"
    save_photo(shipped / "sample-harbour.jpg", mode="L")
    monkeypatch.setattr(resources, "RESOURCES", shipped)
    window._update_actions()
    assert window.commands.sample.isEnabled()
    window.commands.sample.trigger()
    wait_opened(qtbot, window)
    assert [e.source.name for e in window.model.entries()] == ["sample-harbour.jpg"]


def test_no_model_installed_is_a_message_not_a_traceback(qtbot, open_window, tmp_path,
                                                        monkeypatch):
    import colorize_app.core.weights as weights

    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "gone.safetensors")
    window = open_window(None)  # the installed model, which is not there
    photo = save_photo(tmp_path / "a.jpg", mode="L")
    open_and_wait(qtbot, window, [photo])
    with heard(qtbot, window.host.colorizer.model_failed, timeout=TIMEOUT):
        window.commands.colorize_all.trigger()
    # The lane tells of the cancelled job after the failure: under load it can arrive later.
    qtbot.waitUntil(lambda: not window.batch.is_busy(), timeout=TIMEOUT)
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert len(boxes) == 1 and "No colorization model is installed" in boxes[0].text()
    assert "none installed" in window.status.engine.text()
    assert not window.batch.is_busy() and not window.commands.stop.isEnabled()
    assert window.model.entries()[0].status == "waiting"  # ready once a model is there
