"""Opening a huge folder tree ("/" with sub-folders) never walks the disk on the window's thread:
the window keeps answering, says how far the walk got, and Esc (or its Stop) ends it."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
from gui_thread import heard
from open_wait import open_and_wait, wait_opened
from photos import save_photo
from PySide6.QtCore import QTimer

from colorize_app.core import tree
from colorize_app.ui import open_controller

TIMEOUT = 60_000  # ms: the test machine is shared; nothing here measures time
FAKE_FOLDERS = 2000  # a slow walk's sub-folders: 10 s at 5 ms each, far more than any test waits


@pytest.fixture
def window(open_window, tiny_weights):
    window = open_window(tiny_weights, auto_save=False)
    window.commands.include_subfolders.setChecked(True)
    return window


@pytest.fixture
def slow_tree(tmp_path, monkeypatch):
    """A folder with one photo whose walk then finds FAKE_FOLDERS empty sub-folders, one every
    5 ms, like a tree on a slow disk; `walked` counts the folders handed out, `threads` records
    the threads that walked it."""
    top = tmp_path / "huge"
    save_photo(top / "photo.jpg", mode="L")
    real_walk = tree.walk
    walked, threads = [0], []

    def walk(folder, *args, **kwargs):
        if os.fspath(folder) != str(top):
            yield from real_walk(folder, *args, **kwargs)
            return
        threads.append(threading.current_thread())
        yield str(top), [], ["photo.jpg"]
        for i in range(FAKE_FOLDERS):
            time.sleep(0.005)
            walked[0] += 1
            yield str(top / f"sub {i}"), [], []

    monkeypatch.setattr(tree, "walk", walk)
    return top, walked, threads


def folders_said(window) -> int:
    """The folder count in "Looking for photos… 1,234 folders, 56 found"."""
    found = re.search(r"([\d,.\s]+) folders", window.status.looking.text())
    return int(re.sub(r"\D", "", found.group(1))) if found else 0


def test_a_folder_is_walked_off_the_windows_thread_which_keeps_answering(qtbot, window,
                                                                         tmp_path, monkeypatch):
    folder = tmp_path / "album"
    save_photo(folder / "a.jpg", mode="L")
    release, threads = threading.Event(), []
    real_walk = tree.walk

    def blocked_walk(top, *args, **kwargs):  # the disk answers only once the test says so
        threads.append(threading.current_thread())
        release.wait(timeout=10)
        yield from real_walk(top, *args, **kwargs)

    monkeypatch.setattr(tree, "walk", blocked_walk)
    window.open_paths([folder])
    ticked = []
    QTimer.singleShot(0, lambda: ticked.append(True))
    try:
        qtbot.waitUntil(lambda: bool(ticked), timeout=TIMEOUT)  # the event loop runs meanwhile
        assert threads and threads[0] is not threading.main_thread()
        assert window.model.rowCount() == 0  # not there before the walk is
    finally:
        release.set()
    wait_opened(qtbot, window)
    assert [e.source.name for e in window.model.entries()] == ["a.jpg"]
    assert window.batch_panel.current_entry().source.name == "a.jpg"  # then all as before
    assert window.settings.recent_files == [str(folder)]


def test_a_huge_tree_leaves_the_window_responsive_and_its_photos_arrive(qtbot, window, tmp_path):
    top = tmp_path / "tree"
    for i in range(1500):  # many empty sub-folders, as under "/"
        (top / f"{i // 50}" / f"{i}").mkdir(parents=True)
    deep = [save_photo(top / "7" / "351" / f"p{i}.jpg", mode="L") for i in range(2)]
    window.open_paths([top])
    assert window.model.rowCount() == 0  # the window did not walk the tree itself
    ticked = []
    QTimer.singleShot(0, lambda: ticked.append(True))
    qtbot.waitUntil(lambda: bool(ticked), timeout=TIMEOUT)
    wait_opened(qtbot, window)
    assert sorted(e.source for e in window.model.entries()) == deep
    assert {e.folder for e in window.model.entries()} == {"7/351"}
    assert window.status.currentMessage().startswith("Added 2 photo(s).")


def test_the_walk_says_how_far_it_got_and_esc_stops_it_adding_nothing(qtbot, window, slow_tree):
    top, walked, threads = slow_tree
    window.open_paths([top])
    qtbot.waitUntil(lambda: window.status.looking.isVisible(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: folders_said(window) >= 20, timeout=TIMEOUT)  # and it goes on
    text = window.status.looking.text()
    assert text.startswith("Looking for photos…") and text.endswith("folders, 1 found")
    assert window.status.stop_looking.isVisible()
    assert window.commands.stop.isEnabled()  # no batch runs: Esc is for the walk
    with heard(qtbot, window.host.opening.cancelled, timeout=TIMEOUT):  # the walk has ended
        window.commands.stop.trigger()
    assert walked[0] < FAKE_FOLDERS
    assert threads[0] is not threading.main_thread()
    qtbot.wait(50)  # an answer already on its way would be handled by now
    assert window.model.rowCount() == 0
    assert window.settings.recent_files == []
    assert not window.status.looking.isVisible()
    assert window.status.currentMessage() == "Stopped looking for photos; nothing was added."
    assert not window.commands.stop.isEnabled()


def test_the_status_bars_stop_ends_the_walk_too(qtbot, window, slow_tree):
    top, walked, _threads = slow_tree
    window.open_paths([top])
    qtbot.waitUntil(lambda: window.status.stop_looking.isVisible(), timeout=TIMEOUT)
    with heard(qtbot, window.host.opening.cancelled, timeout=TIMEOUT):
        window.status.stop_looking.click()
    assert walked[0] < FAKE_FOLDERS and window.model.rowCount() == 0


def test_a_second_open_during_a_walk_waits_its_turn_and_both_arrive_in_order(qtbot, window,
                                                                           tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    save_photo(first / "a.jpg", mode="L")
    save_photo(second / "b.jpg", mode="L")
    release = threading.Event()
    real_walk = tree.walk

    def walk(top, *args, **kwargs):
        if os.fspath(top) == str(first):
            release.wait(timeout=10)
        yield from real_walk(top, *args, **kwargs)

    monkeypatch.setattr(tree, "walk", walk)
    window.open_paths([first])
    window.open_paths([second])
    qtbot.wait(100)
    assert window.model.rowCount() == 0  # the second waits behind the first
    release.set()
    wait_opened(qtbot, window)
    assert [e.source.name for e in window.model.entries()] == ["a.jpg", "b.jpg"]


def test_quitting_while_a_walk_runs_stops_it_and_adds_nothing(qtbot, window, slow_tree):
    top, walked, _threads = slow_tree
    window.open_paths([top])
    qtbot.waitUntil(lambda: walked[0] >= 5, timeout=TIMEOUT)
    window.close()  # waits for the lanes' threads: returns once the walk has stopped
    stopped_at = walked[0]
    assert stopped_at < FAKE_FOLDERS
    qtbot.wait(100)
    assert walked[0] == stopped_at  # nothing walks on after the window
    assert window.model.rowCount() == 0


def test_an_absurd_tree_is_not_listed_and_says_why(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(open_controller, "MAX_PHOTOS", 3)
    top = tmp_path / "everything"
    for i in range(4):
        save_photo(top / f"d{i}" / f"p{i}.jpg", mode="L")
    alone = save_photo(tmp_path / "alone.jpg", mode="L")
    open_and_wait(qtbot, window, [top, alone])
    assert [e.source for e in window.model.entries()] == [alone]  # the rest of the open still is
    assert any("more than 3 photos and films" in p and str(top) in p
               for p in window.problems.problems())
