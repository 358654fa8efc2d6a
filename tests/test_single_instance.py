"""The single-instance socket under attack (issue 24, items 1 and 2) and across displays (issue 23,
item 4): only this user's starts on this display reach the window, and none can hurt it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from photos import save_photo
from PySide6.QtNetwork import QLocalSocket

from colorize_app.ui import single_instance
from colorize_app.ui.single_instance import InstanceServer, send_to_running, server_name

pytestmark = pytest.mark.skipif(os.name == "nt", reason="Unix sockets and user ids")
TIMEOUT = 10_000
NOBODY = 65534
AS_ROOT = hasattr(os, "getuid") and os.getuid() == 0


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A private runtime folder of this user, as a desktop session has (mode 0700)."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.setenv("DISPLAY", ":77")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return folder


@pytest.fixture
def open_folder():
    """A folder anyone may create files in, like /tmp (pytest's own are closed to other users)."""
    folder = Path(tempfile.mkdtemp(prefix="colorize-test-"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _interpreter_for(uid: int) -> str | None:
    """A Python that user ``uid`` may run (ours may live in a home closed to others), or None."""
    for candidate in (sys.executable, shutil.which("python3", path="/usr/bin:/bin")):
        if not candidate:
            continue
        try:
            done = subprocess.run([candidate, "-c", "pass"], user=uid, group=uid, timeout=30,
                                  capture_output=True)  # fmt: skip
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    return None


@pytest.fixture
def stranger(monkeypatch):
    """``stranger(code)``: runs Python ``code`` (standard library only) as another user: nobody,
    where the tests run as root and nobody can run a Python; else as this user, with this process
    told that its own uid is another one, which the checks cannot tell apart."""
    started = []
    python = _interpreter_for(NOBODY) if AS_ROOT else None

    def start(code: str) -> subprocess.Popen:
        as_other = {"user": NOBODY, "group": NOBODY} if python else {}
        if not python:
            monkeypatch.setattr(single_instance, "_own_uid", lambda: os.getuid() + 1)
        process = subprocess.Popen([python or sys.executable, "-c", textwrap.dedent(code)],
                                   stdout=subprocess.PIPE, text=True, **as_other)  # fmt: skip
        started.append(process)
        assert process.stdout.readline().strip() == "ready"
        return process

    yield start
    for process in started:
        process.kill()
        process.communicate()  # also closes its pipe


LISTENER = """
    import socket, sys
    server = socket.socket(socket.AF_UNIX)
    server.bind({path!r}); server.listen(); print("ready", flush=True)
    client, _ = server.accept(); client.settimeout(3)
    try:
        data = client.recv(65536)
    except OSError:
        data = b""
    print(repr(data), flush=True)
"""


def test_the_socket_is_in_a_private_folder_not_the_shared_temporary_one(runtime):
    name = server_name()
    assert name is not None and os.path.isabs(name)
    folder = os.path.dirname(name)
    assert os.path.commonpath([folder, runtime]) == str(runtime)
    info = os.lstat(folder)
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def test_a_strangers_listener_gets_no_paths_and_the_start_opens_a_window(qtbot, open_folder,
                                                                         stranger, tmp_path):
    path = str(open_folder / "io.github.colorize.Colorize-user")  # the old, predictable name
    listener = stranger(LISTENER.format(path=path))
    photo = save_photo(tmp_path / "private.jpg")
    assert not send_to_running([str(photo)], name=path)  # so the start opens a window
    out, _ = listener.communicate(timeout=10)
    assert "private.jpg" not in out and out.strip() == "b''"


def test_a_strangers_start_is_not_heard(qtbot, open_folder, stranger):
    heard = []
    path = str(open_folder / "window.socket")
    server = InstanceServer(heard.append, name=path)
    os.chmod(path, 0o777)  # as a umask of 0 would leave it
    try:
        sender = stranger(f"""
            import socket, time
            client = socket.socket(socket.AF_UNIX); client.connect({path!r})
            print("ready", flush=True)
            client.sendall(b'["/home/victim/evil"]\\n'); time.sleep(1)
        """)
        qtbot.wait(500)
        sender.wait(10)
        qtbot.wait(100)
    finally:
        server.close()
    assert heard == [] and server.clients() == 0


def test_a_folder_taken_by_a_stranger_means_no_single_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(single_instance.tempfile, "gettempdir", lambda: str(tmp_path))
    taken = tmp_path / f"colorize-{os.getuid()}"
    taken.mkdir()
    taken.chmod(0o777)  # or owned by another user: anyone could put a socket there
    assert server_name() is None
    assert not send_to_running(["photo.jpg"])  # so the start opens a window


def test_without_a_runtime_folder_a_private_one_is_made(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(single_instance.tempfile, "gettempdir", lambda: str(tmp_path))
    name = server_name()
    info = os.lstat(os.path.dirname(name))
    assert info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) == 0o700


def test_in_a_flatpak_the_folder_its_starts_share_is_used(runtime, monkeypatch):
    shared = runtime / "app" / "io.github.colorize.Colorize"
    shared.mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("FLATPAK_ID", "io.github.colorize.Colorize")
    assert os.path.dirname(server_name()) == str(shared)


def test_a_start_on_another_display_opens_its_own_window(qtbot, runtime, monkeypatch):
    heard = []
    server = InstanceServer(heard.append)
    try:
        monkeypatch.setenv("DISPLAY", ":78")
        assert not send_to_running(["/photos/a.png"])  # a window on :78, not the one on :77
        monkeypatch.setenv("DISPLAY", ":77")
        assert send_to_running(["/photos/b.png"])
        qtbot.waitUntil(lambda: heard == [["/photos/b.png"]], timeout=TIMEOUT)
    finally:
        server.close()


def test_a_second_start_says_where_its_photos_went(runtime, tmp_path):
    """`colorize-app photo.jpg` while a window is open: exit 0, and a line naming the display."""
    photo = save_photo(tmp_path / "p.jpg")
    code = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        from colorize_app.ui.single_instance import InstanceServer
        app = QApplication([])
        server = InstanceServer(lambda paths: (print("got", paths, flush=True), app.quit()))
        print("ready", flush=True)
        app.exec()
    """)
    window = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert window.stdout.readline().strip() == "ready"
        second = subprocess.run([sys.executable, "-m", "colorize_app.app", str(photo)],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "already open on display :77" in second.stderr
        assert "p.jpg" in window.communicate(timeout=20)[0]
    finally:
        window.kill()
        window.communicate()


# --- item 2: what a start may send ---------------------------------------------------------------


def _connect(name: str) -> QLocalSocket:
    client = QLocalSocket()
    client.connectToServer(name)
    assert client.waitForConnected(TIMEOUT)
    return client


def test_a_message_without_end_is_cut_off_at_the_limit_and_forgotten(qtbot, runtime, monkeypatch):
    monkeypatch.setattr(single_instance, "MAX_MESSAGE", 100_000)
    heard = []
    server = InstanceServer(heard.append)
    client = _connect(server.name)
    try:
        chunk = b"x" * 65536
        for _ in range(8):  # 512 kB, no newline
            if client.state() != QLocalSocket.LocalSocketState.ConnectedState:
                break
            client.write(chunk)
            client.waitForBytesWritten(1000)
            qtbot.wait(20)
        qtbot.waitUntil(lambda: client.state() == QLocalSocket.LocalSocketState.UnconnectedState,
                        timeout=TIMEOUT)  # fmt: skip
        assert server.clients() == 0 and heard == []
    finally:
        server.close()


def test_a_start_that_never_finishes_is_hung_up_on(qtbot, runtime, monkeypatch):
    monkeypatch.setattr(single_instance, "CLIENT_MS", 300)
    server = InstanceServer(lambda paths: None)
    client = _connect(server.name)
    try:
        client.write(b'["/photos/a.jp')
        client.waitForBytesWritten(1000)
        qtbot.waitUntil(lambda: client.state() == QLocalSocket.LocalSocketState.UnconnectedState,
                        timeout=TIMEOUT)  # fmt: skip
        assert server.clients() == 0
    finally:
        server.close()


@pytest.mark.parametrize("message", [
    b"[" * 100_000 + b"]" * 100_000,
    json.dumps({"paths": ["/a"]}).encode(),
    b"\xff\xfe not utf-8",
    json.dumps([1, None, ["/a"]]).encode(),
], ids=["100k deep", "not a list", "not utf-8", "not strings"])
def test_a_malformed_message_is_ignored_without_a_traceback(qtbot, runtime, message, caplog):
    heard = []
    server = InstanceServer(heard.append)
    client = _connect(server.name)
    try:
        client.write(message + b"\n")
        client.waitForBytesWritten(1000)
        qtbot.waitUntil(lambda: server.clients() == 0, timeout=TIMEOUT)
        qtbot.wait(50)
    finally:
        server.close()
    assert heard in ([], [[]])
    assert not any(record.exc_info for record in caplog.records)


def test_a_path_with_a_nul_is_dropped_and_the_rest_opens(qtbot, runtime, tmp_path):
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    heard = []
    server = InstanceServer(heard.append)
    try:
        assert send_to_running(["/tmp/a\0b", str(photo)], name=server.name)
        qtbot.waitUntil(lambda: heard != [], timeout=TIMEOUT)
    finally:
        server.close()
    assert heard == [[str(photo)]]


def test_many_idle_connections_are_not_all_kept(qtbot, runtime):
    server = InstanceServer(lambda paths: None)
    clients = [socket.socket(socket.AF_UNIX) for _ in range(single_instance.MAX_CLIENTS + 10)]
    try:
        for client in clients:
            client.connect(server.name)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and server.clients() < single_instance.MAX_CLIENTS:
            qtbot.wait(20)
        qtbot.wait(100)
        assert server.clients() == single_instance.MAX_CLIENTS
    finally:
        for client in clients:
            client.close()
        server.close()
