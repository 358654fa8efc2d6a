"""One window per user: a second start hands its photos to the running one and ends.

The running window listens on a QLocalServer named after the application id and the user;
a new start connects with a QLocalSocket and sends its paths as one line of JSON.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from colorize_app import APP_ID

logger = logging.getLogger(__name__)

CONNECT_MS = 500


def server_name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container): one name for everyone
        user = "user"
    return f"{APP_ID}-{user}"


def send_to_running(paths: list[str], name: str | None = None) -> bool:
    """Give `paths` to a window already running; False when none answers (so start one)."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_MS):
        return False
    message = json.dumps([str(Path(p).absolute()) for p in paths]).encode() + b"\n"
    socket.write(message)
    sent = socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    return sent


class InstanceServer(QObject):
    """Calls `on_paths(list[str])` for each later start; `raise_window()` brings it forward."""

    def __init__(self, on_paths: Callable[[list[str]], None], name: str | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_paths = on_paths
        self._buffers: dict[QLocalSocket, bytes] = {}
        self.server = QLocalServer(self)
        self.name = name or server_name()
        if not self.server.listen(self.name):
            QLocalServer.removeServer(self.name)  # left behind by a crash: nobody answered it
            if not self.server.listen(self.name):
                logger.warning("Cannot listen for other starts: %s", self.server.errorString())
        self.server.newConnection.connect(self._on_connection)

    @Slot()
    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(self._on_ready)
            socket.disconnected.connect(self._on_ready)
            socket.disconnected.connect(socket.deleteLater)

    @Slot()
    def _on_ready(self) -> None:
        socket = self.sender()
        if socket not in self._buffers:
            return
        self._buffers[socket] += bytes(socket.readAll())
        data = self._buffers[socket]
        if not data.endswith(b"\n"):
            return
        del self._buffers[socket]
        try:
            paths = [str(p) for p in json.loads(data.decode())]
        except (ValueError, TypeError):
            logger.warning("Ignored a malformed message from another start")
            return
        self._on_paths(paths)

    def close(self) -> None:
        self.server.close()
