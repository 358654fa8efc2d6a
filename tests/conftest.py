"""Shared fixtures. Qt must be told to run offscreen before anything imports it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The colour table's cache (core.table_cache) goes to a folder of the run's own, never the user's.
os.environ["COLORIZE_CACHE_DIR"] = tempfile.mkdtemp(prefix="colorize-test-cache-")
atexit.register(shutil.rmtree, os.environ["COLORIZE_CACHE_DIR"], True)

import pytest  # noqa: E402

TINY_CONFIG = {"backbone": "resnet18", "cut_after": 1, "decoder_width": 32, "out_stride": 4}


@pytest.fixture(scope="session")
def tiny_model():
    """A tiny, randomly initialised ColorizerNet (fast, deterministic, colourful enough to see)."""
    import torch

    from colorize_app.core.model import ColorizerNet, ModelConfig

    torch.manual_seed(0)
    return ColorizerNet(ModelConfig(**TINY_CONFIG)).eval()


@pytest.fixture(scope="session")
def tiny_weights(tiny_model, tmp_path_factory):
    """Path to a .safetensors file holding ``tiny_model``."""
    from colorize_app.core.weights import save_weights

    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    return save_weights(path, tiny_model, metadata={"note": "random weights for tests"})


@pytest.fixture
def open_window(qtbot, tmp_path, monkeypatch):
    """``open_window(weights, auto_save=None)``: a MainWindow on its own WorkerHost, shown, with
    settings in a temporary folder (``auto_save=None`` keeps what they say).

    After the test every window is closed and every host shut down, also when making or showing
    one failed half-way: a worker thread left running would be destroyed with the host later, and
    Qt aborts the whole run on a QThread destroyed while it runs.
    """
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from colorize_app.ui import guards, sample
    from colorize_app.ui.main_window import MainWindow
    from colorize_app.ui.settings import AppSettings
    from colorize_app.workers.host import WorkerHost

    # The window's modal questions would block a test: answered "go ahead" unless a test asks
    # otherwise. The sample's results go to a temporary folder, not ~/Pictures.
    monkeypatch.setattr(guards, "ask_replace", lambda parent, names: (True, False))
    monkeypatch.setattr(guards, "ask_quit_mid_batch", lambda parent, left: True)
    monkeypatch.setattr(guards, "ask_redo_out_of_date", lambda parent, count: True)
    monkeypatch.setattr(guards, "ask_quit_with_unsaved_hints", lambda parent, names: guards.DISCARD)
    monkeypatch.setattr(sample, "output_dir", lambda: tmp_path / "Pictures" / "Colorize")
    windows, hosts = [], []

    def make(weights, *, auto_save: bool | None = None):
        settings = AppSettings(tmp_path / "settings.ini")
        if auto_save is not None:
            settings.auto_save = auto_save
        hosts.append(WorkerHost(weights=weights))
        windows.append(MainWindow(settings, hosts[-1]))
        windows[-1].show()
        qtbot.waitExposed(windows[-1])
        return windows[-1]

    yield make
    for window in windows:
        window.close()  # as a person would: saves the settings and stops the worker threads
    for host in hosts:
        host.shut_down()  # does nothing when closing its window already did
    for window in windows:
        window.deleteLater()  # destroyed on this thread now, as app.py does at exit
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(scope="session")
def hint_model():
    """A tiny hint network trained (about 10 s) to follow colour hints, see tests/hint_model.py."""
    from hint_model import train_tiny_hint_model

    return train_tiny_hint_model()
