"""Opening photos in a test window: `open_paths` walks and plans off the window's thread
(ui/open_controller.py), so the rows arrive once the window has handled the walk's answer, as a
person sees them a moment after opening. These wait for that, on the GUI thread."""

from __future__ import annotations

TIMEOUT = 60_000  # ms: the test machine is shared; nothing here measures time


def wait_opened(qtbot, window, *, timeout: int = TIMEOUT) -> None:
    """Until every open the window was asked for is in its list (or reported as a problem)."""
    qtbot.waitUntil(lambda: not window.opener.is_looking(), timeout=timeout)


def open_and_wait(qtbot, window, paths, **kwargs) -> None:
    """`window.open_paths(paths, **kwargs)`, then wait until its photos are listed."""
    window.open_paths(paths, **kwargs)
    wait_opened(qtbot, window)
