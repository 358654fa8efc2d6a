"""The engine the runners share: the model loaded once, predictions for a job's options."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colorize_app.core import engine as engine_module
from colorize_app.core.engine import Engine
from colorize_app.core.errors import ModelNotInstalledError
from colorize_app.core.job import JobOptions


def test_predict_gives_colour_at_the_render_size(tiny_weights):
    engine = Engine(tiny_weights)
    gray = np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (200, 1))
    ab = engine.predict(gray, JobOptions(render_size=96))
    assert ab.shape == (64, 96, 2) and ab.dtype == np.float32
    assert engine.device_name() == "CPU"
    assert np.abs(ab).max() > 0.5  # the random tiny model does predict some colour


def test_no_model_raises_the_sentence_that_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module.weights, "default_weights_path",
                        lambda: tmp_path / "missing.safetensors")
    with pytest.raises(ModelNotInstalledError, match="--weights"):
        Engine().load()


class FakeGpuModel:
    """Stands in for a model on a GPU: remembers where it was moved."""

    def __init__(self) -> None:
        self.moves: list[str] = []

    def to(self, device):
        self.moves.append(str(device))
        return self


def test_out_of_gpu_memory_falls_back_to_the_cpu_and_stays_there(monkeypatch):
    model = FakeGpuModel()
    monkeypatch.setattr(engine_module, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(engine_module.weights, "load_model", lambda path, device: model)
    calls = []

    def predict_chroma(pixels, model, render_size, hints=None):
        calls.append(engine.device.type)
        if engine.device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return np.zeros((4, 4, 2), np.float32)

    monkeypatch.setattr(engine_module, "predict_chroma", predict_chroma)
    notices = []
    engine = Engine(on_notice=notices.append)
    pixels = np.zeros((8, 8), np.uint8)
    assert engine.predict(pixels, JobOptions(device="cuda")).shape == (4, 4, 2)
    engine.predict(pixels, JobOptions(device="cuda"))  # asked for the GPU again: stays on the CPU
    assert calls == ["cuda", "cpu", "cpu"]
    assert model.moves == ["cpu"]
    assert engine.device_name() == "CPU"
    assert notices == [engine_module.FALLBACK_NOTICE]


def test_other_gpu_errors_are_not_hidden(monkeypatch):
    monkeypatch.setattr(engine_module, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(engine_module.weights, "load_model", lambda path, device: FakeGpuModel())

    def broken(pixels, model, render_size, hints=None):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(engine_module, "predict_chroma", broken)
    with pytest.raises(RuntimeError, match="illegal memory access"):
        Engine().predict(np.zeros((8, 8), np.uint8), JobOptions())


def test_running_out_of_memory_on_the_cpu_is_said_as_such(tiny_weights, tmp_path, monkeypatch,
                                                         capsys):
    # PyTorch says it with a RuntimeError: the photo failed as an "Unexpected error".
    from photos import save_photo

    from colorize_app import cli

    def too_big(pixels, model, render_size, hints=None):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           "68719476736 bytes. Error code 12 (Cannot allocate memory)")  # fmt: skip

    monkeypatch.setattr(engine_module, "predict_chroma", too_big)
    save_photo(tmp_path / "poster.png")
    assert cli.main([str(tmp_path / "poster.png"), "--weights", str(tiny_weights)]) == 1
    out = capsys.readouterr().out
    assert "Not enough memory to colorize poster.png" in out and "Unexpected" not in out


def test_hints_reach_the_network_and_a_model_without_hint_input_says_so_once(tiny_weights):
    from colorize_app.core.hints import Hint

    notices = []
    engine = Engine(tiny_weights, on_notice=notices.append)
    options, hints = JobOptions(render_size=32), (Hint(0.5, 0.5, "#c0392b"),)
    pixels = np.zeros((16, 16), np.uint8)
    plain = engine.predict(pixels, options)
    assert np.array_equal(engine.predict(pixels, options, hints), plain)  # ignored, not an error
    engine.predict(pixels, options, hints)
    assert notices == [engine_module.NO_HINTS_NOTICE]
    assert engine.describe()["takes_hints"] is False


def test_predictions_asked_from_two_threads_take_turns(tiny_weights, monkeypatch):
    import threading
    import time

    engine = Engine(tiny_weights)
    real = engine_module.predict_chroma
    running, overlaps = [], []

    def watched(*args, **kwargs):
        overlaps.append(bool(running))
        running.append(1)
        time.sleep(0.05)  # long enough for the other thread to arrive meanwhile
        try:
            return real(*args, **kwargs)
        finally:
            running.pop()

    monkeypatch.setattr(engine_module, "predict_chroma", watched)
    photo = np.full((32, 32), 128, np.uint8)
    threads = [threading.Thread(target=engine.predict, args=(photo, JobOptions())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [False] * 4
