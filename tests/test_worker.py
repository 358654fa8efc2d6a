"""The worker threads, driven through their signals as the window drives them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from gui_thread import heard
from photos import opened, save_photo
from PIL import Image

from colorize_app.core.job import Job, JobOptions
from colorize_app.core.vocabulary import Status
from colorize_app.workers.host import WorkerHost
from colorize_app.workers.requests import RecomposeRequest, ShowRequest

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
        host.colorize([Job(source, output, id=1)])
    job_id, finished = finished.args
    assert job_id == 1
    assert finished.result.status == Status.DONE and finished.result.output == output
    with Image.open(output) as saved:
        assert saved.size == (80, 60) and saved.mode == "RGB"
    assert finished.result.chroma.ndim == 3 and finished.result.chroma.shape[2] == 2
    assert finished.thumbnail.shape[:2] == (60, 80)  # small already: shown as it is
    assert finished.predicted and finished.device == "CPU"
    assert progress and progress == sorted(progress) and progress[-1] == 1.0


def test_an_unreadable_file_fails_with_a_sentence_naming_it(qtbot, host, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with heard(qtbot, host.colorizer.job_failed, timeout=TIMEOUT) as failed:
        host.colorize([Job(broken, id=7)])
    job_id, message = failed.args
    assert job_id == 7
    assert "broken.jpg" in message and "Traceback" not in message


def test_an_existing_result_is_skipped_not_overwritten(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "a.png")
    output = tmp_path / "a_colorized.png"
    output.write_bytes(b"from an earlier run")
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as finished:
        host.colorize([Job(source, output, id=1)])
    assert finished.args[1].result.status == Status.SKIPPED
    assert output.read_bytes() == b"from an earlier run"


def test_stop_cancels_the_queue_and_leaves_no_partial_files(qtbot, host, tmp_path):
    sources = [save_photo(tmp_path / f"p{i}.png", size=(120, 160)) for i in range(8)]
    jobs = [Job(s, tmp_path / f"p{i}_colorized.png", id=i) for i, s in enumerate(sources)]
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
        host.colorize([Job(sources[-1], id=99)])


def test_saving_from_a_cached_prediction_does_not_run_the_network(qtbot, host, tmp_path,
                                                                  monkeypatch):
    source = save_photo(tmp_path / "a.png", size=(40, 50), mode="L")
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as first:
        host.colorize([Job(source, id=1)])
    chroma = first.args[1].result.chroma

    import colorize_app.core.engine as engine

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran again")

    monkeypatch.setattr(engine, "predict_chroma", no_network)
    output = tmp_path / "gray.png"
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as saved:
        host.colorize([Job(source, output, JobOptions(saturation=0.0, overwrite=True),
                           chroma=chroma, id=1)])
    assert saved.args[1].result.output == output and not saved.args[1].predicted
    assert _colourfulness(np.asarray(opened(output))) < 1.0  # saturation 0: gray again


def test_no_model_installed_says_how_to_get_one(qtbot, tmp_path, monkeypatch):
    import colorize_app.core.weights as weights

    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "missing.safetensors")
    host = WorkerHost(weights=None)
    try:
        source = save_photo(tmp_path / "a.png")
        with heard(qtbot, host.colorizer.model_failed, timeout=TIMEOUT) as failed:
            host.colorize([Job(source, id=1)])
        message = failed.args[0]
        assert "No colorization model is installed" in message and "--weights" in message
    finally:
        host.shut_down()


SHUT_DOWN_MID_BATCH = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from colorize_app.core.job import Job
from colorize_app.workers.host import WorkerHost

app = QCoreApplication([])
folder, weights = Path(sys.argv[1]), sys.argv[2]
host = WorkerHost(weights=weights)
started = []
host.colorizer.job_started.connect(started.append)  # runs on the worker's thread
host.colorize([Job(p, p.with_name(p.stem + "_c.png"), id=i)
               for i, p in enumerate(sorted(folder.glob("p*.png")))])
while not started:
    time.sleep(0.01)
host.shut_down()
host.shut_down()  # app.py does it again after the window's closeEvent did: nothing happens
print("written at shut-down:", len(list(folder.glob("*_c.png"))), flush=True)
"""


def test_shutting_down_mid_batch_stops_the_work_and_lets_the_program_exit(tmp_path, tiny_weights):
    # A worker or reader thread left running would keep the program from exiting after its
    # window closed, or go on writing results nobody asked for any more.
    for i in range(6):
        save_photo(tmp_path / f"p{i}.png", size=(300, 400))
    root = Path(__file__).resolve().parents[1]
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(SHUT_DOWN_MID_BATCH),
                            str(tmp_path), str(tiny_weights)], capture_output=True, text=True,
                           timeout=120, cwd=root,
                           env={**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"})
    assert child.returncode == 0, child.stderr
    written = int(child.stdout.split(":")[-1])
    assert written < 6  # stopped mid-batch
    assert len(list(tmp_path.glob("*_c.png"))) == written  # and nothing written after it


def test_the_preview_worker_recolours_without_the_network(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "a.png", size=(64, 96), mode="L")
    with heard(qtbot, host.colorizer.job_finished, timeout=TIMEOUT) as done:
        host.colorize([Job(source, options=JobOptions(saturation=2.0), id=1)])
    chroma = done.args[1].result.chroma
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
