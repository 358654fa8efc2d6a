"""One window per desktop session: a second start hands its photos to the running one and ends.

The running window listens on a local socket; a new start connects and sends its paths as one line
of JSON. The socket is a door into the window, so:

- it lives in a folder only this user can enter and create files in: the session's runtime folder
  (``$XDG_RUNTIME_DIR``, mode 0700), else a ``colorize-<uid>`` folder of the temporary folder that
  is checked to be ours and private; when neither is, there is no single instance at all and every
  start opens its own window;
- its name carries the display (``DISPLAY``, ``WAYLAND_DISPLAY``), so a start on another display
  opens a window there rather than handing its photos to a window the user cannot see;
- each side asks the system who is at the other end (SO_PEERCRED) and talks only to its own user;
- the window reads at most MAX_MESSAGE bytes from a start, for at most CLIENT_MS, then hangs up
  and forgets it; what it reads must be a list of at most MAX_PATHS paths without NUL.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import socket
import stat
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from colorize_app import APP_ID

logger = logging.getLogger(__name__)

CONNECT_MS = 500
CLIENT_MS = 5000  # a start that has not sent its whole message by then is hung up on
MAX_MESSAGE = 1 << 20  # bytes: ~4,000 long paths; a file manager hands over a selection, not a disk
MAX_PATHS = 10_000
MAX_CLIENTS = 16  # starts talking to the window at once; more are hung up on at once
SWEEP_MS = 250  # how often slow starts are looked for


def session_key() -> str:
    """The display this process shows its windows on, as part of a file name."""
    display = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "no-display"
    return re.sub(r"[^A-Za-z0-9._-]", "_", display)[:40]


def session_name() -> str:
    """The display in words, for the message a second start prints."""
    if os.environ.get("WAYLAND_DISPLAY"):
        return f"Wayland display {os.environ['WAYLAND_DISPLAY']}"
    if os.environ.get("DISPLAY"):
        return f"display {os.environ['DISPLAY']}"
    return "this desktop"


def private_folder() -> Path | None:
    """A folder only this user can create files in (made if need be), or None when there is none."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and _private(Path(runtime)):
        # In a Flatpak each start has a runtime folder of its own; only app/<id> is shared by them.
        shared = Path(runtime, "app", os.environ.get("FLATPAK_ID", ""))
        if os.environ.get("FLATPAK_ID") and _private(shared):
            return shared
        return _made_private(Path(runtime) / APP_ID)
    return _made_private(Path(tempfile.gettempdir()) / f"colorize-{_own_uid()}")


def server_name() -> str | None:
    """Where this user's window on this display listens; None: nowhere safe (no single instance).

    On Windows, a named pipe named after the user (the system keeps pipes per session)."""
    if os.name == "nt":
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no user name: one name for everyone
            user = "user"
        return f"{APP_ID}-{user}"
    folder = private_folder()
    return None if folder is None else str(folder / f"{session_key()}.socket")


def send_to_running(paths: list[str], name: str | None = None) -> bool:
    """Give `paths` to this user's window already running; False when there is none, or when what
    answers is not this user's (then start a window: nothing was sent)."""
    name = name or server_name()
    if name is None:
        return False
    client = QLocalSocket()
    client.connectToServer(name)
    if not client.waitForConnected(CONNECT_MS):
        return False
    if not _is_own(client):
        logger.warning("Something not yours answers at %s; opening a window of its own", name)
        client.abort()
        return False
    message = json.dumps([str(Path(p).absolute()) for p in paths]).encode() + b"\n"
    client.write(message)
    sent = client.waitForBytesWritten(CONNECT_MS)
    client.disconnectFromServer()
    return sent


class InstanceServer(QObject):
    """Calls `on_paths(list[str])` for each later start of this user on this display."""

    def __init__(self, on_paths: Callable[[list[str]], None], name: str | None = None,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self._on_paths = on_paths
        # Each start's buffer, and the time.monotonic() to hang up on it at.
        self._clients: dict[QLocalSocket, tuple[bytearray, float]] = {}
        # One timer for every start, not one each.
        self._sweeper = QTimer(self, interval=SWEEP_MS, timeout=self._hang_up_on_slow)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.name = name or server_name()
        if self.name is None:
            logger.warning("No private folder for the single-instance socket: every start opens "
                           "a window of its own")  # fmt: skip
            return
        if not self.server.listen(self.name):
            QLocalServer.removeServer(self.name)  # left behind by a crash: nobody answered it
            if not self.server.listen(self.name):
                logger.warning("Cannot listen for other starts: %s", self.server.errorString())
        self.server.newConnection.connect(self._on_connection)

    def clients(self) -> int:
        """Starts being listened to now (each holds a buffer until it is done or hung up on)."""
        return len(self._clients)

    @Slot()
    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            client = self.server.nextPendingConnection()
            client.disconnected.connect(client.deleteLater)
            if len(self._clients) >= MAX_CLIENTS or not _is_own(client):
                client.abort()
                continue
            self._clients[client] = (bytearray(), time.monotonic() + CLIENT_MS / 1000)
            client.readyRead.connect(self._on_ready)
            client.disconnected.connect(self._on_ready)
            self._sweeper.start()

    @Slot()
    def _hang_up_on_slow(self) -> None:
        now = time.monotonic()
        for client, (_buffer, deadline) in list(self._clients.items()):
            if deadline <= now:
                logger.warning("Hung up on a start that did not finish its message in time")
                self._drop(client)
        if not self._clients:
            self._sweeper.stop()

    @Slot()
    def _on_ready(self) -> None:
        client = self.sender()
        if client not in self._clients:
            return
        buffer = self._clients[client][0]
        buffer += bytes(client.read(MAX_MESSAGE + 1 - len(buffer)))
        end = buffer.find(b"\n")
        if end < 0:
            if len(buffer) > MAX_MESSAGE:
                logger.warning("Hung up on a start whose message is over %d bytes", MAX_MESSAGE)
                self._drop(client)
            elif client.state() != QLocalSocket.LocalSocketState.ConnectedState:
                self._drop(client)  # gone without finishing
            return
        message = bytes(buffer[:end])
        self._drop(client)
        paths = _paths_in(message)
        if paths is not None:
            self._on_paths(paths)

    def _drop(self, client: QLocalSocket) -> None:
        self._clients.pop(client, None)  # frees the buffer; what comes later is not read
        client.abort()

    def close(self) -> None:
        for client in list(self._clients):
            self._drop(client)
        self._sweeper.stop()
        self.server.close()


def _paths_in(message: bytes) -> list[str] | None:
    """The paths of a start's message; None (and a log line) when it is not a list of them."""
    try:
        paths = json.loads(message.decode("utf-8"))
    except (ValueError, RecursionError):
        logger.warning("Ignored a malformed message from another start")
        return None
    if not isinstance(paths, list) or len(paths) > MAX_PATHS:
        logger.warning("Ignored a message from another start that is not a list of paths")
        return None
    good = [p for p in paths if isinstance(p, str) and p and "\0" not in p]
    if len(good) < len(paths):
        logger.warning("Ignored %d entries of another start that are not paths", len(paths) - len(good))
    return good


def _own_uid() -> int:
    return os.getuid()


def _is_own(client: QLocalSocket) -> bool:
    """True when the process at the other end of ``client`` runs as this user (or when the system
    cannot tell, where the private folder alone keeps others out)."""
    uid = peer_uid(int(client.socketDescriptor()))
    return uid is None or uid == _own_uid()


def peer_uid(descriptor: int) -> int | None:
    """The user id of the process at the other end of a local socket; None where unknown."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or descriptor < 0:
        return None  # macOS, Windows: the folder's permissions are the guard
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(descriptor)) as peer:
        _pid, uid, _gid = struct.unpack("3i", peer.getsockopt(socket.SOL_SOCKET, option,
                                                              struct.calcsize("3i")))
    return uid


def _private(folder: Path) -> bool:
    """True when ``folder`` is a real folder (not a link), ours, and closed to everyone else."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == _own_uid()
            and not info.st_mode & 0o077)  # fmt: skip


def _made_private(folder: Path) -> Path | None:
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        logger.warning("Cannot make %s: %s", folder, exc.strerror or exc)
        return None
    if not _private(folder):  # made by someone else first, or opened to others
        logger.warning("%s is not a private folder of yours; no single instance", folder)
        return None
    return folder
