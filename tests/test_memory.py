"""Photo after photo, a batch reuses the memory the last photo freed instead of asking the kernel
for fresh (zeroed) pages, and an idle window gives that memory back."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
from gui_thread import heard
from photos import save_photo

from colorize_app.core.job import Job
from colorize_app.core.memory import _glibc
from colorize_app.workers import colorize_worker
from colorize_app.workers.host import WorkerHost

BATCH_ON_A_THREAD = textwrap.dedent("""
    import resource, threading
    import numpy as np
    from colorize_app.core.memory import keep_freed_memory

    assert keep_freed_memory()
    def photo():  # a 12 MP photo's big arrays, made, filled and freed
        pixels = np.ones((4000, 3000, 3), np.uint8)
        planes = np.ones((4000, 3000), np.float32)
        del pixels, planes
    faults = []
    def batch():  # as the window's lane does: not the main thread
        photo()
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        for _ in range(3):
            photo()
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
    thread = threading.Thread(target=batch)
    thread.start()
    thread.join()
    print(faults[0])
""")


@pytest.mark.skipif(_glibc() is None, reason="the setting is glibc's (Linux)")
def test_the_next_photo_on_a_worker_thread_reuses_the_pages_the_last_one_freed():
    # A fresh process, as the app and the command line set it first thing. Without the
    # setting the three photos took 1,700-3,300 fresh pages here (each zeroed by the kernel).
    done = subprocess.run([sys.executable, "-c", BATCH_ON_A_THREAD], capture_output=True,
                          text=True, timeout=120, check=True)
    assert int(done.stdout.split()[-1]) < 100


def test_the_network_lane_gives_memory_back_after_a_while_idle(qtbot, tiny_weights, tmp_path,
                                                                monkeypatch):
    released = []
    monkeypatch.setattr(colorize_worker, "RELEASE_AFTER_MS", 200)
    monkeypatch.setattr(colorize_worker, "release_freed_memory",
                        lambda: released.append(threading.current_thread() is threading.main_thread()))
    host = WorkerHost(weights=tiny_weights)
    try:
        source = save_photo(tmp_path / "scan.jpg", size=(60, 80), mode="L")
        with heard(qtbot, host.network.finished, timeout=60_000):
            host.network.submit("colorize", Job(source, tmp_path / "scan_colorized.jpg"))
        qtbot.waitUntil(lambda: bool(released), timeout=10_000)
        assert released == [False]  # once, on the lane's thread: the window's never waits for it
    finally:
        host.shut_down()
