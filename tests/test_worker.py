"""The worker threads, driven through their signals as the window drives them."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gui_thread import heard
from photos import save_photo
from PIL import Image

from colorize_app.jobs import ColorizeJob, RecomposeRequest, ShowRequest
from colorize_app.worker import WorkerHost

TIMEOUT = 60_000  # ms; generous because the test machine is shared


@pytest.fixture
def host(qtbot, tiny_weights):
    host = WorkerHost(weights=tiny_weights)
    yield host
    host.shut_down()


def _colourfulness(pixels: np.ndarray) -> float:
    rgb = pixels[..., :3].astype(np.float32)
    return float(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean())


def test_a_job_reports_progress_and_saves_next_to_the_original(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "scan.jpg", size=(60, 80), mode="L")
    output = tmp_path / "scan_colorized.jpg"
    progress = []
    host.colorizer.job_progress.connect(lambda job_id, fraction: progress.append(fraction))
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as finished:
        host.colorize([ColorizeJob(id=1, source=str(source), output=str(output))])
    job_id, payload = finished.args
    assert job_id == 1
    assert payload["saved_to"] == str(output)
    with Image.open(output) as saved:
        assert saved.size == (80, 60) and saved.mode == "RGB"
    assert payload["chroma"].ndim == 3 and payload["chroma"].shape[2] == 2
    assert payload["display"][0].shape == (60, 80, 4)  # ready to wrap as a QImage
    assert progress and progress == sorted(progress) and progress[-1] == 1.0


def test_an_unreadable_file_fails_with_a_sentence_naming_it(qtbot, host, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with heard(qtbot, host.colorizer.job_failed, timeout=TIMEOUT) as failed:
        host.colorize([ColorizeJob(id=7, source=str(broken))])
    job_id, message = failed.args
    assert job_id == 7
    assert "broken.jpg" in message and "Traceback" not in message


def test_an_existing_result_is_skipped_not_overwritten(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "a.png")
    output = tmp_path / "a_colorized.png"
    output.write_bytes(b"from an earlier run")
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as finished:
        host.colorize([ColorizeJob(id=1, source=str(source), output=str(output))])
    assert finished.args[1]["skipped"] is True
    assert output.read_bytes() == b"from an earlier run"


def test_stop_cancels_the_queue_and_leaves_no_partial_files(qtbot, host, tmp_path):
    sources = [save_photo(tmp_path / f"p{i}.png", size=(120, 160)) for i in range(8)]
    jobs = [ColorizeJob(id=i, source=str(s), output=str(tmp_path / f"p{i}_colorized.png"))
            for i, s in enumerate(sources)]
    cancelled, finished = [], []
    host.colorizer.job_cancelled.connect(cancelled.append)
    host.colorizer.job_finished.connect(lambda job_id, payload: finished.append(job_id))
    # A plain callable runs in the emitting (worker) thread, so this Stop lands before job 1 passes
    # its first checkpoint, however busy the machine; stop() is safe from any thread.
    host.colorizer.job_started.connect(lambda job_id: host.stop() if job_id == 1 else None)
    with heard(qtbot, host.colorizer.idle, timeout=TIMEOUT):
        host.colorize(jobs)
    assert cancelled, "stop cancelled nothing"
    assert len(finished) + len(cancelled) == len(jobs)
    written = sorted(p.name for p in tmp_path.iterdir() if "_colorized" in p.name)
    assert written == sorted(f"p{i}_colorized.png" for i in finished)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
    # After a stop, new work runs normally.
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT):
        host.colorize([ColorizeJob(id=99, source=str(sources[-1]))])


def test_saving_from_a_cached_prediction_does_not_run_the_network(qtbot, host, tmp_path,
                                                                  monkeypatch):
    source = save_photo(tmp_path / "a.png", size=(40, 50), mode="L")
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as first:
        host.colorize([ColorizeJob(id=1, source=str(source))])
    chroma = first.args[1]["chroma"]

    import colorize_app.core.pipeline as pipeline

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran again")

    monkeypatch.setattr(pipeline, "predict_chroma", no_network)
    output = tmp_path / "gray.png"
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as saved:
        host.colorize([ColorizeJob(id=1, source=str(source), output=str(output), saturation=0.0,
                                   overwrite=True, chroma=chroma)])
    assert saved.args[1]["saved_to"] == str(output)
    assert _colourfulness(np.asarray(Image.open(output))) < 1.0  # saturation 0: gray again


def test_no_model_installed_says_how_to_get_one(qtbot, tmp_path, monkeypatch):
    import colorize_app.core.weights as weights

    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "missing.safetensors")
    host = WorkerHost(weights=None)
    try:
        source = save_photo(tmp_path / "a.png")
        with heard(qtbot, host.colorizer.model_failed, timeout=TIMEOUT) as failed:
            host.colorize([ColorizeJob(id=1, source=str(source))])
        message = failed.args[0]
        assert "No colorization model is installed" in message and "--weights" in message
    finally:
        host.shut_down()


def test_shutting_down_mid_batch_leaves_no_thread_behind(qtbot, tiny_weights, tmp_path):
    # A thread left behind would keep the program from exiting after its window closed.
    before = set(threading.enumerate())
    host = WorkerHost(weights=tiny_weights)
    sources = [save_photo(tmp_path / f"p{i}.png", size=(120, 160)) for i in range(4)]
    with heard(qtbot, host.colorizer.job_started, timeout=TIMEOUT):  # the next one is being read
        host.colorize([ColorizeJob(id=i, source=str(s)) for i, s in enumerate(sources)])
    host.shut_down()
    host.shut_down()  # app.py does it again after the window's closeEvent did: nothing happens
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()
            and t.name.startswith("colorize-read")]
    assert left == []


def test_out_of_gpu_memory_falls_back_to_the_cpu_and_says_so(qtbot, host, tmp_path, monkeypatch):
    import torch

    import colorize_app.core.device as device
    import colorize_app.core.pipeline as pipeline

    worker = host.colorizer
    monkeypatch.setattr(device, "describe", lambda d: "CPU" if d.type == "cpu" else "GPU (fake)")
    # Pretend the model sits on a GPU that runs out of memory once.
    monkeypatch.setattr(worker, "_torch_device",
                        lambda choice: "cpu" if worker._cpu_fallback else "cuda")
    monkeypatch.setattr(worker, "_move_model",
                        lambda device: setattr(worker, "_device", torch.device(device)))
    real = pipeline.predict_chroma
    calls = []

    def flaky(image, model, **kwargs):
        calls.append(str(worker._device))
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(image, model, **kwargs)

    monkeypatch.setattr(pipeline, "predict_chroma", flaky)
    source = save_photo(tmp_path / "a.png")
    notices = []
    worker.notice.connect(notices.append)
    with heard(qtbot, worker.job_finished, timeout=TIMEOUT) as finished:
        host.colorize([ColorizeJob(id=1, source=str(source), device="gpu")])
    assert finished.args[1]["device"] == "CPU"
    assert calls == ["cuda", "cpu"]
    assert any("CPU" in n for n in notices)


def test_the_preview_worker_recolours_without_the_network(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "a.png", size=(64, 96), mode="L")
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as done:
        host.colorize([ColorizeJob(id=1, source=str(source), saturation=2.0)])
    chroma = done.args[1]["chroma"]
    previewer = host.previewer
    with heard(qtbot, [previewer.original_loaded, previewer.result_loaded], timeout=TIMEOUT):
        _call = QueuedCall(previewer.request_show, ShowRequest(1, str(source), chroma, 2.0))
    with heard(qtbot, previewer.result_loaded, timeout=TIMEOUT) as gray:
        _call = QueuedCall(previewer.request_recompose, RecomposeRequest(2, str(source), chroma, 0.0))
    assert gray.args[0] == 2
    assert _colourfulness(gray.args[1][0]) < 1.0


class QueuedCall:
    """Call a worker slot in the worker's thread, as the window does, through a queued signal."""

    def __init__(self, slot, argument) -> None:
        from PySide6.QtCore import QObject, Signal

        class Sender(QObject):
            fire = Signal(object)

        self.sender = Sender()
        self.sender.fire.connect(slot)
        self.sender.fire.emit(argument)
