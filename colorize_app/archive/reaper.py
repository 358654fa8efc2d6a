"""Stop what a run started, even when the run itself is killed outright.

A run that starts Ray on this computer starts a dozen processes (the GCS, the raylet, its
dashboard and runtime-env agents, the workers). ``ray.shutdown()`` stops them when the run ends
normally, but a SIGKILL of the driver leaves the agents running for a minute or more. So before
Ray starts, the driver starts a reaper: a small process, in a session of its own, that notes Ray's
processes below the driver twice a second (by their command line: Ray's programs and ``ray::``
workers; the driver's other children are none of its business) and waits on a pipe only the
driver holds. When the pipe closes (the driver ended, however), it stops those still running:
SIGTERM, then SIGKILL.

Linux only (it reads /proc); elsewhere ``start_reaper`` does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time

logger = logging.getLogger(__name__)

POLL_S = 0.5
GRACE_S = 3.0  # between SIGTERM and SIGKILL


class Reaper:
    """The driver's end: ``close()`` (or the driver's death) sets the reaper to work."""

    def __init__(self, process: subprocess.Popen, pipe: int) -> None:
        self.process = process
        self._pipe = pipe

    def close(self, wait: float = 10.0) -> None:
        """Let the reaper stop what is left, and wait (at most ``wait`` s) until it is done."""
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            logger.warning("The reaper of Ray's processes is still at work (pid %d)", self.process.pid)


def start_reaper() -> Reaper | None:
    """Start the reaper of this process's descendants (see the module); None where unsupported."""
    if not sys.platform.startswith("linux") or not os.path.isdir("/proc"):
        return None
    read_end, write_end = os.pipe()  # not inheritable: Ray's processes never hold the write end
    try:
        process = subprocess.Popen([sys.executable, "-m", __name__, str(os.getpid()), str(read_end)],
                                   pass_fds=(read_end,), start_new_session=True,
                                   stdin=subprocess.DEVNULL)  # fmt: skip
    except OSError as exc:
        os.close(write_end)
        logger.warning("Cannot start a reaper for Ray's processes: %s", exc)
        return None
    finally:
        os.close(read_end)
    return Reaper(process, write_end)


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of ``pid``; None when it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == b"Z":
        return None
    return int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every process below ``root`` now, with its start time (to tell a reused pid apart)."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                children.setdefault(info[0], []).append((int(entry), info[1]))
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid, started in children.get(todo.pop(), []):
            if pid not in found:
                found[pid] = started
                todo.append(pid)
    return found


def is_ray(pid: int) -> bool:
    """True when ``pid`` runs one of Ray's programs or is a Ray worker (``ray::...``)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            command = fh.read(4096)
    except OSError:
        return False
    return command.startswith(b"ray::") or b"/ray/" in command


def _still_running(known: dict[int, int]) -> dict[int, int]:
    alive = {}
    for pid, started in known.items():
        info = _stat(pid)
        if info is not None and info[1] == started:
            alive[pid] = started
    return alive


def _signal_all(known: dict[int, int], signum: int) -> None:
    for pid in _still_running(known):
        with contextlib.suppress(OSError):  # gone meanwhile
            os.kill(pid, signum)


def _note(known: dict[int, int], driver: int, me: int) -> None:
    for pid, started in descendants(driver).items():
        if pid != me and pid not in known and is_ray(pid):
            known[pid] = started


def reap(driver: int, pipe: int) -> None:
    """Note ``driver``'s descendants until ``pipe`` closes, then stop those still running."""
    me = os.getpid()
    known: dict[int, int] = {}
    while True:
        ready, _, _ = select.select([pipe], [], [], POLL_S)
        if ready and not os.read(pipe, 4096):
            break  # the driver closed it, or died
        _note(known, driver, me)
    _note(known, driver, me)  # what the driver had at the end (if it is still there)
    # Processes left by the driver live on under init: those noted are stopped by their pid.
    _signal_all(known, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while _still_running(known) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_all(known, signal.SIGKILL)


if __name__ == "__main__":
    reap(int(sys.argv[1]), int(sys.argv[2]))
