"""The lanes and their handlers, driven through their signals as the window drives them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from gui_thread import heard
from photos import opened, save_photo
from PIL import Image

from colorize_app.core.errors import Cancelled
from colorize_app.core.job import Job, JobOptions
from colorize_app.core.vocabulary import Status
from colorize_app.workers.host import WorkerHost
from colorize_app.workers.lane import Lane
from colorize_app.workers.requests import FindRequest, RecomposeRequest

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
    host.network.progress.connect(lambda ticket, fraction: progress.append(fraction))
    with heard(qtbot, host.network.finished, timeout=TIMEOUT) as finished:
        ticket = host.network.submit("colorize", Job(source, output))
    answered, finished = finished.args
    assert answered == ticket
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
    with heard(qtbot, host.network.failed, timeout=TIMEOUT) as failed:
        ticket = host.network.submit("colorize", Job(broken))
    answered, message = failed.args
    assert answered == ticket
    assert "broken.jpg" in message and "Traceback" not in message


def test_an_existing_result_is_skipped_not_overwritten(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "a.png")
    output = tmp_path / "a_colorized.png"
    output.write_bytes(b"from an earlier run")
    with heard(qtbot, host.network.finished, timeout=TIMEOUT) as finished:
        host.network.submit("colorize", Job(source, output))
    assert finished.args[1].result.status == Status.SKIPPED
    assert output.read_bytes() == b"from an earlier run"


def test_stop_cancels_the_queue_and_leaves_no_partial_files(qtbot, host, tmp_path):
    sources = [save_photo(tmp_path / f"p{i}.png", size=(120, 160)) for i in range(8)]
    jobs = [Job(s, tmp_path / f"p{i}_colorized.png") for i, s in enumerate(sources)]
    cancelled, finished, tickets = [], [], []
    host.network.cancelled.connect(cancelled.append)
    host.network.finished.connect(lambda ticket, payload: finished.append(ticket))
    # A plain callable runs in the emitting (lane's) thread, so this Stop lands before the second
    # job passes its first checkpoint, however busy the machine; cancel() is thread-safe.
    started = []
    host.network.started.connect(lambda ticket: started.append(ticket) or (
        host.network.cancel() if len(started) == 2 else None))
    tickets.extend(host.network.submit("colorize", job) for job in jobs)
    qtbot.waitUntil(lambda: len(finished) + len(cancelled) == len(jobs), timeout=TIMEOUT)
    assert cancelled, "stop cancelled nothing"
    written = sorted(p.name for p in tmp_path.iterdir() if "_colorized" in p.name)
    assert written == sorted(f"p{tickets.index(t)}_colorized.png" for t in finished)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
    # After a stop, new work runs normally.
    with heard(qtbot, host.network.finished, timeout=TIMEOUT):
        host.network.submit("colorize", Job(sources[-1]))


def test_saving_from_a_cached_prediction_does_not_run_the_network(qtbot, host, tmp_path,
                                                                  monkeypatch):
    source = save_photo(tmp_path / "a.png", size=(40, 50), mode="L")
    with heard(qtbot, host.network.finished, timeout=TIMEOUT) as first:
        host.network.submit("colorize", Job(source))
    chroma = first.args[1].result.chroma

    import colorize_app.core.engine as engine

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran again")

    monkeypatch.setattr(engine, "predict_chroma", no_network)
    output = tmp_path / "gray.png"
    with heard(qtbot, host.network.finished, timeout=TIMEOUT) as saved:
        host.network.submit("colorize", Job(source, output, JobOptions(saturation=0.0, overwrite=True),
                                            chroma=chroma))
    assert saved.args[1].result.output == output and not saved.args[1].predicted
    assert _colourfulness(np.asarray(opened(output))) < 1.0  # saturation 0: gray again


def test_no_model_installed_says_how_to_get_one(qtbot, tmp_path, monkeypatch):
    import colorize_app.core.weights as weights

    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "missing.safetensors")
    host = WorkerHost(weights=None)
    try:
        source = save_photo(tmp_path / "a.png")
        with heard(qtbot, host.colorizer.model_failed, timeout=TIMEOUT) as failed:
            host.network.submit("colorize", Job(source))
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
host.network.started.connect(started.append)  # runs on the lane's thread
for p in sorted(folder.glob("p*.png")):
    host.network.submit("colorize", Job(p, p.with_name(p.stem + "_c.png")))
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


MANY_SIGNALS = """
import colorize_app.workers.lane  # what every window's host imports first
from PySide6.QtCore import QObject, Signal

class Talker(QObject):
    said = Signal(int)

talker = Talker()
for i in range(200_000):  # a long session's worth: progress, thumbnails, hints files
    talker.said.emit(i)
print("still here", flush=True)
"""


def test_a_long_sessions_signals_never_abort_the_program():
    # PySide6 6.12.0's emit() hands back True without a reference of its own: the interpreter
    # aborts ("deallocating True or False") after a few thousand signals. The lock takes 6.11.3
    # and pyproject refuses 6.12.0; this catches a release with the same fault.
    child = subprocess.run([sys.executable, "-c", MANY_SIGNALS], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert child.returncode == 0, child.stderr[-2000:]
    assert "still here" in child.stdout


def test_the_preview_lane_recolours_without_the_network(qtbot, host, tmp_path):
    source = save_photo(tmp_path / "a.png", size=(64, 96), mode="L")
    with heard(qtbot, host.network.finished, timeout=TIMEOUT) as done:
        host.network.submit("colorize", Job(source, options=JobOptions(saturation=2.0)))
    chroma = done.args[1].result.chroma
    with heard(qtbot, host.preview.finished, timeout=TIMEOUT) as shown:
        ticket = host.preview.submit("show", str(source))
    assert shown.args[0] == ticket and shown.args[1][0].shape[:2] == (64, 96)
    with heard(qtbot, host.preview.finished, timeout=TIMEOUT) as gray:
        ticket = host.preview.submit("compose", RecomposeRequest(str(source), chroma, 0.0))
    assert gray.args[0] == ticket
    assert _colourfulness(gray.args[1][0]) < 1.0


def test_a_films_frame_decoded_late_leaves_the_photo_on_screen_recolourable(qtbot, host, tmp_path,
                                                                            monkeypatch):
    # Arrowing from two films to a photo: the second film's frame ran after the photo's show and
    # dropped the photo's copy, so the saturation slider, hints and the finished colour never
    # reached the pane (it said "Not colorized yet").
    import films

    from colorize_app.core import film_io
    from colorize_app.workers.requests import FilmFrameRequest

    real = film_io.picture_at
    monkeypatch.setattr(film_io, "picture_at", lambda *a: time.sleep(0.3) or real(*a))
    reels = [films.make_film(tmp_path / f"reel{i}.mp4", films.frames(4), audio=None) for i in (1, 2)]
    photo = save_photo(tmp_path / "a.png", size=(64, 96), mode="L")
    chroma = np.full((64, 96, 2), 20, np.float32)
    answers = []
    host.preview.finished.connect(lambda ticket, answer: answers.append((ticket, answer)))
    asked = [host.preview.submit("film_frame", FilmFrameRequest(str(reels[0]), None, 0))]
    time.sleep(0.1)  # the first film's frame is being decoded; the second waits its turn
    asked += [host.preview.submit("film_frame", FilmFrameRequest(str(reels[1]), None, 0)),
              host.preview.submit("show", str(photo))]
    qtbot.waitUntil(lambda: {t for t, _ in answers} >= set(asked), timeout=TIMEOUT)
    ticket = host.preview.submit("compose", RecomposeRequest(str(photo), chroma, 1.5))
    qtbot.waitUntil(lambda: any(t == ticket for t, _ in answers), timeout=TIMEOUT)
    assert dict(answers)[ticket] is not None  # the photo's colour, re-composed


def test_the_opening_lane_finds_photos_and_says_how_far_it_got(qtbot, host, tmp_path):
    save_photo(tmp_path / "album" / "sub" / "p.jpg", mode="L")
    request = FindRequest((str(tmp_path / "album"),), recursive=True, export={})
    with heard(qtbot, [host.finder.looked, host.opening.finished], timeout=TIMEOUT) as news:
        ticket = host.opening.submit("find", request)
    looked, done = news
    assert looked.args == [ticket, 1, 0]  # the first folder is told at once: the album's top
    assert done.args[0] == ticket
    [found] = done.args[1]
    assert [item.source.name for item in found.items] == ["p.jpg"]


def test_a_new_kind_of_work_is_one_handler_and_one_submit(qtbot):
    lane = Lane("test")
    try:
        lane.handle("double", lambda number, task: 2 * number)
        with heard(qtbot, lane.finished, timeout=TIMEOUT) as done:
            ticket = lane.submit("double", 21)
        assert done.args == [ticket, 42]
    finally:
        lane.shut_down()


def test_a_newer_request_replaces_one_not_started_and_stop_drops_the_queue(qtbot):
    from threading import Event

    lane, release, answered = Lane("test"), Event(), []
    try:
        lane.handle("block", lambda _request, task: release.wait(TIMEOUT / 1000), latest=True)
        lane.handle("latest", lambda request, task: request, latest=True)
        lane.handle("queued", lambda request, task: request)
        lane.finished.connect(lambda ticket, result: answered.append(result))
        lane.cancelled.connect(lambda ticket: answered.append("cancelled"))
        lane.submit("block", None)  # holds the lane while the others arrive
        first, second = lane.submit("latest", "old"), lane.submit("latest", "new")
        lane.submit("queued", "dropped")
        lane.cancel()
        with heard(qtbot, lane.idle, timeout=TIMEOUT):
            release.set()
        # every ticket answered once: the replaced one and the dropped one cancelled
        assert sorted(answered, key=str) == [True, "cancelled", "cancelled", "new"] and first < second
    finally:
        lane.shut_down()


def test_a_newer_request_ends_the_running_one_of_its_kind(qtbot):
    # A film's hint track reads the film once or twice: when its points change again, the pass
    # for the old points stops at its next check instead of running to the end first.
    import time

    lane, answered = Lane("test"), []

    def until_cancelled(request, task):
        if request == "old":
            deadline = time.monotonic() + TIMEOUT / 1000
            while not task.is_cancelled() and time.monotonic() < deadline:
                time.sleep(0.005)
            if task.is_cancelled():
                raise Cancelled
        return request

    try:
        lane.handle("track", until_cancelled, latest=True)
        lane.finished.connect(lambda ticket, result: answered.append((ticket, result)))
        lane.cancelled.connect(lambda ticket: answered.append((ticket, "cancelled")))
        with heard(qtbot, lane.started, timeout=TIMEOUT):
            old = lane.submit("track", "old")
        with heard(qtbot, lane.finished, timeout=TIMEOUT):
            new = lane.submit("track", "new")
        assert answered == [(old, "cancelled"), (new, "new")]
        # and quitting does not wait for one to run to its end
        with heard(qtbot, lane.started, timeout=TIMEOUT):
            lane.submit("track", "old")
        start = time.monotonic()
        lane.shut_down()
        assert time.monotonic() - start < TIMEOUT / 2000
    finally:
        lane.shut_down()


def test_a_lane_that_finishes_its_queue_runs_everything_submitted_before_it_shuts_down(qtbot):
    # The files lane: a hint changed just before the window closes must still reach its file.
    import time

    lane, written = Lane("test"), []
    lane.handle("write", lambda name, task: time.sleep(0.05) or written.append(name))
    for name in "abc":
        lane.submit("write", name)
    lane.shut_down(finish_queue=True)
    assert written == ["a", "b", "c"]
    assert lane.submit("write", "late") == 0  # nothing is taken after


def test_showing_a_big_photo_builds_its_colour_table_before_it_is_coloured(qtbot, host, tmp_path, monkeypatch):
    from colorize_app.core import chroma

    monkeypatch.setattr(chroma, "_tables", {})
    monkeypatch.setattr(chroma, "TABLE_MIN_PIXELS", 64 * 96)  # this photo counts as big
    source = save_photo(tmp_path / "a.png", size=(64, 96), mode="L")
    with heard(qtbot, host.preview.finished, timeout=TIMEOUT):
        host.preview.submit("show", str(source))
    qtbot.waitUntil(lambda: 1 in chroma._tables, timeout=TIMEOUT)  # built on a thread of its own
