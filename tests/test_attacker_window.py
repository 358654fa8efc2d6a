"""Hostile hints files as the window meets them (issue 24, item 3), and a disk that fills while the
window saves a photo's hints."""

from __future__ import annotations

import errno
import os

import pytest
from conftest import TINY_CONFIG
from gui_thread import heard
from open_wait import open_and_wait
from photos import digest, save_photo

from colorize_app.core.hints import Hint
from colorize_app.core.sidecar import read_hints, sidecar_path, write_hints

HUGE = "1" + "0" * 400
TIMEOUT = 60_000
RED = "#c0392b"


@pytest.fixture(scope="module")
def hint_weights(tmp_path_factory):
    """A hint network (4 input channels) with random weights: the window offers hint mode."""
    import torch

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(**TINY_CONFIG, in_channels=4)).eval()
    return save_weights(tmp_path_factory.mktemp("hint-weights") / "hint.safetensors", model)


def _window(qtbot, open_window, weights):
    window = open_window(weights, auto_save=False)
    with heard(qtbot, window.host.colorizer.model_loaded, timeout=TIMEOUT):
        window.warm_up()
    return window


def test_a_hints_file_with_a_huge_number_costs_only_its_own_photos_hints(qtbot, open_window,
                                                                         hint_weights,
                                                                         tmp_path):
    """The OverflowError stopped the window's reading of a folder's hints files: the photos after
    the bad one silently lost theirs."""
    photos = [save_photo(tmp_path / f"{name}.png", mode="L") for name in ("a", "b", "c")]
    write_hints(photos[0], [Hint(0.1, 0.1, RED)])
    point = f'{{"x": {HUGE}, "y": 0.5, "color": "#b03a2e"}}'
    sidecar_path(photos[1]).write_text(f'{{"format": "colorize-hints", "version": 1, "points": [{point}]}}')
    write_hints(photos[2], [Hint(0.9, 0.9, RED)])
    window = _window(qtbot, open_window, hint_weights)
    open_and_wait(qtbot, window, [tmp_path])
    first, second, third = window.model.entries()
    # Read off the GUI thread: each photo's answer comes on its own.
    qtbot.waitUntil(lambda: all(e.hints is not None for e in (first, second, third)), timeout=TIMEOUT)
    assert first.hints == (Hint(0.1, 0.1, RED),)
    assert second.hints == () and "b.png.colorize.json" in second.hints_note
    assert third.hints == (Hint(0.9, 0.9, RED),)


def test_a_full_disk_while_saving_hints_keeps_the_old_file_and_says_so(qtbot, open_window,
                                                                       hint_weights,
                                                                       tmp_path, monkeypatch):
    photo = save_photo(tmp_path / "a.png", mode="L")
    old = Hint(0.2, 0.2, RED)
    write_hints(photo, [old])
    before = digest(sidecar_path(photo))
    window = _window(qtbot, open_window, hint_weights)
    open_and_wait(qtbot, window, [photo])
    [entry] = window.model.entries()
    qtbot.waitUntil(lambda: entry.hints is not None, timeout=TIMEOUT)  # read off the GUI thread
    real_fsync = os.fsync

    def full(fd):  # the bytes do not fit: where a file system says so (delayed allocation, NFS)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    messages = []
    window.hints.message.connect(messages.append)
    monkeypatch.setattr(os, "fsync", full)
    try:
        window.hints.place(0.6, 0.6, RED)  # written off the GUI thread: its answer comes later
        qtbot.waitUntil(lambda: any("could not be saved" in m for m in messages), timeout=TIMEOUT)
    finally:
        monkeypatch.setattr(os, "fsync", real_fsync)
    assert any("could not be saved" in m and "disk space" in m for m in messages), messages
    assert digest(sidecar_path(photo)) == before and read_hints(photo) == [old]  # the old file whole
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".colorize-tmp")]
