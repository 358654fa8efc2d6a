"""`colorize --engine ray`: the archive engine on a local Ray instance gives the local engine's
results, records every photo in its manifest, and a killed run resumes without redoing work."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from photos import digest, save_photo

from colorize_app import cli

ray = pytest.importorskip("ray", reason="the archive extra (ray[data]) is not installed")

from colorize_app.archive.runner import plan_cluster  # noqa: E402
from colorize_app.core.imageio import read_image  # noqa: E402
from colorize_app.core.job import JobOptions  # noqa: E402
from colorize_app.core.sidecar import sidecar_path  # noqa: E402

GOOD, BROKEN = 26, 4


@pytest.fixture(scope="module")
def ray_address():
    """One local Ray instance (2 CPUs) for the whole module: starting one costs seconds."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def make_archive(root: Path) -> Path:
    """30 small photos in two folders, four of them broken in different ways."""
    photos = root / "archive"
    for i in range(GOOD):
        sub = photos / ("box-a" if i % 2 else "box-b")
        if i % 3 == 0:
            save_photo(sub / f"scan{i:02}.png", size=(40 + i, 56), mode="L")
        else:
            save_photo(sub / f"scan{i:02}.jpg", size=(48, 40 + 2 * i))
    (photos / "box-a" / "empty.jpg").write_bytes(b"")
    (photos / "box-a" / "truncated.jpg").write_bytes((photos / "box-a" / "scan01.jpg").read_bytes()[:200])
    (photos / "box-b" / "text.png").write_text("not a photo")
    (photos / "box-b" / "garbage.tif").write_bytes(b"II*\x00" + bytes(64))
    # a Latin-1 name, as an old scanner wrote it: not UTF-8, so neither Arrow nor SQLite takes
    # it as it is
    os.replace(photos / "box-b" / "scan00.png", photos / "box-b" / os.fsdecode(b"sc\xe9n00.png"))
    return photos


def manifest_rows(path: Path) -> dict[str, tuple]:
    with sqlite3.connect(path) as db:
        cursor = db.execute("SELECT path, status, reason, output, run FROM photos")
        return {Path(row[0]).name: row[1:] for row in cursor}


def colorize(capsys, *argv) -> tuple[int, str]:
    status = cli.main([str(a) for a in argv])
    out, _ = capsys.readouterr()
    return status, out


def test_ray_run_gives_the_local_engines_images_and_a_full_manifest(ray_address, tmp_path,
                                                                   tiny_weights, capsys):  # fmt: skip
    photos = make_archive(tmp_path)
    damaged = sidecar_path(photos / "box-a" / "scan05.jpg")  # its photo is done without hints,
    damaged.write_text('{"format": "colorize-hints", "version": 1, "points": [')  # with a note
    originals = {p: digest(p) for p in photos.rglob("*") if p.is_file()}
    common = [photos, "-r", "--weights", tiny_weights, "--render-size", 64]
    local_status, local_out = colorize(capsys, *common, "-o", tmp_path / "local")
    status, out = colorize(capsys, *common, "-o", tmp_path / "ray", "--engine", "ray",
                           "--batch-size", 4, "--workers", 2)  # fmt: skip

    assert (status, local_status) == (1, 1)  # the broken photos failed, the rest did not stop
    summary = f"Colorized {GOOD}, skipped 0, failed {BROKEN}."
    assert summary in out and summary in local_out
    assert str(damaged) in local_out.split("Notes:")[1] and str(damaged) in out.split("Notes:")[1]
    local = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*_colorized.*"))
    remote = sorted(p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray").rglob("*_colorized.*"))
    assert len(local) == GOOD and remote == local
    for name in local:
        expected = read_image(tmp_path / "local" / name).pixels
        np.testing.assert_array_equal(read_image(tmp_path / "ray" / name).pixels, expected)
    assert {p: digest(p) for p in originals} == originals  # originals only read

    rows = manifest_rows(tmp_path / "ray" / "colorize-manifest.sqlite")
    assert len(rows) == GOOD + BROKEN
    assert rows["sc\\xe9n00.png"][0] == "done"  # the undecodable byte written as \xe9
    failed = {name for name, row in rows.items() if row[0] == "failed"}
    assert failed == {"empty.jpg", "truncated.jpg", "text.png", "garbage.tif"}
    assert "empty.jpg is empty" in rows["empty.jpg"][1]
    for name, (state, reason, output, _run) in rows.items():
        if state == "done":
            assert reason == ""
            assert Path(output).name == name.replace(".", "_colorized.")
            if "\\x" not in name:
                assert Path(output).is_file()
        else:
            assert state == "failed" and output is None and reason in local_out

    # the same command again: nothing to do (the broken ones are not retried unless asked), and
    # the manifest keeps its rows
    status, out = colorize(capsys, *common, "-o", tmp_path / "ray", "--engine", "ray")
    assert f"Colorized 0, skipped {GOOD}, failed {BROKEN}." in out
    again = manifest_rows(tmp_path / "ray" / "colorize-manifest.sqlite")
    assert {n: r[0] for n, r in again.items()} == {n: r[0] for n, r in rows.items()}
    assert {r[3] for n, r in again.items() if r[0] == "done"} == {1}  # done rows: still run 1


KILLED_RUN = """
import os, signal, sys
from colorize_app.archive.manifest import Manifest
from colorize_app.archive.runner import run_archive
from colorize_app.core.batch import plan_batch
from colorize_app.core.job import JobOptions

photos, weights, manifest, address, after = sys.argv[1:]
heard = []

def on_result(item):
    heard.append(item)
    if len(heard) == int(after):
        os.kill(os.getpid(), signal.SIGKILL)  # the row is committed: a kill, not a clean stop

with Manifest(manifest) as m:
    run_archive(plan_batch([photos]), m, weights=weights, options=JobOptions(render_size=64),
                address=address, workers=2, batch_size=2, on_result=on_result)
print("finished without being killed")
"""


def test_a_killed_run_resumes_and_writes_nothing_twice(ray_address, tmp_path, tiny_weights, capsys):
    photos = tmp_path / "photos"
    count, after = 30, 6
    for i in range(count):
        save_photo(photos / f"p{i:02}.jpg", size=(120, 160))
    manifest = tmp_path / "manifest.sqlite"
    script = tmp_path / "killed_run.py"
    script.write_text(textwrap.dedent(KILLED_RUN))
    child = subprocess.run(
        [sys.executable, script, photos, tiny_weights, manifest, ray_address, str(after)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert child.returncode == -9, child.stdout + child.stderr[-3000:]
    first = manifest_rows(manifest)
    assert len(first) == after and {row[0] for row in first.values()} == {"done"}

    # the dead driver's workers go with it; until then they may still be finishing a photo
    deadline = time.monotonic() + 60
    while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    written = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in photos.glob("*_colorized.jpg")}
    assert after <= len(written) < count, "the kill did not land mid-run"

    status, out = colorize(capsys, photos, "--weights", tiny_weights, "--render-size", 64,
                           "--engine", "ray", "--manifest", manifest, "--batch-size", 2)  # fmt: skip
    assert status == 0
    # A photo that a dying worker of the killed run finished while this run started is skipped
    # ("saved meanwhile"), not written again: so at least the photos already there are skipped.
    done, skipped = map(int, re.search(r"Colorized (\d+), skipped (\d+), failed 0\.", out).groups())
    assert done + skipped == count and skipped >= len(written)
    outputs = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in photos.glob("*_colorized.jpg")}
    assert len(outputs) == count
    assert {name: outputs[name] for name in written} == written  # none of them written again
    rows = manifest_rows(manifest)
    assert len(rows) == count
    assert all(rows[name][:1] == ("done",) and rows[name][3] == 1 for name in first)
    assert {row[0] for row in rows.values()} <= {"done", "skipped"}
    assert not [p for p in photos.iterdir() if p.name.endswith(".colorize-tmp")]


def test_the_attempts_actor_keeps_only_what_batches_in_flight_need(ray_address, tmp_path,
                                                                   tiny_weights, monkeypatch):  # fmt: skip
    # An archive of millions: the actor kept every photo's key and result row for the whole run
    # (~0.6 GiB a million photos), and a failure fetched all of it at once.
    from colorize_app.archive import runner
    from colorize_app.archive.manifest import Manifest
    from colorize_app.core.batch import plan_batch

    photos = tmp_path / "photos"
    count = 12
    for i in range(count):
        save_photo(photos / f"p{i:02}.jpg", size=(40, 48))
    monkeypatch.setattr(runner, "FORGET_EVERY", 2)
    held, kill = [], ray.kill

    def kill_after_counting(actor, **kwargs):  # the run's end: how much the actor still holds
        held.append(ray.get(actor.held.remote()))
        kill(actor, **kwargs)

    monkeypatch.setattr(ray, "kill", kill_after_counting)
    with Manifest(tmp_path / "manifest.sqlite") as manifest:
        runner.run_archive(plan_batch([photos]), manifest, weights=tiny_weights,
                           options=JobOptions(render_size=64), workers=2, batch_size=2)  # fmt: skip
        assert manifest.counts() == {"done": count}
    assert held and held[-1] < runner.FORGET_EVERY  # not one per photo of the run


def test_without_ray_the_engine_says_how_to_install_it(tmp_path, tiny_weights, capsys, monkeypatch):
    save_photo(tmp_path / "one.jpg")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as when not installed
    status = cli.main([str(tmp_path / "one.jpg"), "--weights", str(tiny_weights), "--engine", "ray"])
    assert status == 2
    assert "pip install 'colorize[archive]'" in capsys.readouterr().err
    assert not (tmp_path / "one_colorized.jpg").exists()


def test_workers_share_the_gpus_when_the_cluster_has_them_else_take_a_cpu_each():
    gpus = plan_cluster({"CPU": 64, "GPU": 8}, JobOptions())
    assert (gpus.workers, gpus.gpus_per_worker, gpus.cpus_per_worker) == (32, 0.25, 2.0)
    whole = plan_cluster({"CPU": 64, "GPU": 8}, JobOptions(), gpus_per_worker=1)
    assert (whole.workers, whole.gpus_per_worker) == (8, 1.0)
    on_cpu = plan_cluster({"CPU": 64, "GPU": 8}, JobOptions(device="cpu"), cpus_per_worker=4)
    assert (on_cpu.workers, on_cpu.gpus_per_worker) == (16, 0.0)
    assert plan_cluster({"CPU": 2}, JobOptions()) == plan_cluster({"CPU": 2}, JobOptions(), workers=2)
    assert plan_cluster({"CPU": 2}, JobOptions(), workers=5).workers == 5


# Fault injection for the test below: in Ray's worker processes only, reading a photo whose name
# says so ends the process at once, as the system's out-of-memory killer or a crashing decoder
# would: no exception, nothing a job could catch.
KILLER_SITECUSTOMIZE = """
import importlib.abc, importlib.machinery, os, sys

class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "colorize_app.core.imageio" or not any("default_worker" in a for a in sys.argv):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            real = module.read_image

            def read_image(path, *args, **kwargs):
                if "kills-its-worker" in os.fspath(path):
                    os._exit(139)
                return real(path, *args, **kwargs)

            module.read_image = read_image

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Finder())
"""


def test_a_photo_that_kills_its_worker_fails_alone_and_the_run_finishes(tmp_path, tiny_weights):
    photos = tmp_path / "photos"
    for i in range(5):
        save_photo(photos / f"p{i}.jpg", size=(40, 48))
    save_photo(photos / "p2-kills-its-worker.jpg", size=(40, 48))
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(KILLER_SITECUSTOMIZE)
    # its own local Ray instance (whose workers get the injection), stopped by its reaper
    command = [sys.executable, "-m", "colorize_app.cli", photos, "--engine", "ray", "--weights",
               tiny_weights, "--render-size", "64", "--workers", "1", "--batch-size", "3"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "inject"), *sys.path]),
           "RAY_DATA_DISABLE_PROGRESS_BARS": "1"}  # fmt: skip
    child = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)

    said = child.stdout + child.stderr[-3000:]
    assert child.returncode == 1, said
    assert "Colorized 5, skipped 0, failed 1." in child.stdout, said  # each done once, none redone
    assert "p2-kills-its-worker.jpg stopped the worker colorizing it" in child.stderr
    rows = manifest_rows(photos / "colorize-manifest.sqlite")
    assert rows["p2-kills-its-worker.jpg"][0] == "failed"
    done = sorted(name for name, row in rows.items() if row[0] == "done")
    assert done == [f"p{i}.jpg" for i in range(5)]
    assert len(list(photos.glob("*_colorized.jpg"))) == 5


def test_a_rerun_tries_again_what_failed_for_the_run_and_not_for_the_file(ray_address, tmp_path,
                                                                        tiny_weights, capsys):  # fmt: skip
    photos = tmp_path / "photos"
    save_photo(photos / "big.jpg", size=(1000, 1200))  # 1.2 MP
    save_photo(photos / "small.jpg", size=(40, 48))
    (photos / "empty.jpg").write_bytes(b"")
    common = [photos, "--weights", tiny_weights, "--render-size", 64, "--engine", "ray"]
    status, out = colorize(capsys, *common, "--max-megapixels", 1)
    assert status == 1 and "Colorized 1, skipped 0, failed 2." in out

    # the limit raised: the photo too large for the first run is colorized; the empty file, whose
    # cause is its own, is not tried again, and the summary says how to try it
    status, out = colorize(capsys, *common)
    assert status == 1 and "Colorized 1, skipped 1, failed 1." in out
    assert "1 of the failed were not tried again" in out and "--retry-failed" in out
    rows = manifest_rows(photos / "colorize-manifest.sqlite")
    assert rows["big.jpg"][:1] == ("done",) and rows["empty.jpg"][:1] == ("failed",)
    assert (photos / "big_colorized.jpg").is_file()


def test_a_manifest_from_before_lasting_failures_opens_and_keeps_its_failures_untried(tmp_path):
    from colorize_app.archive.manifest import Manifest

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # the table as Colorize wrote it before
        db.execute("CREATE TABLE photos (path TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT "
                   "NOT NULL DEFAULT '', seconds REAL NOT NULL DEFAULT 0, output TEXT, run "
                   "INTEGER NOT NULL, finished REAL NOT NULL)")  # fmt: skip
        db.execute("INSERT INTO photos VALUES ('/a.jpg', 'failed', 'damaged', 0, NULL, 1, 0)")
    with Manifest(path) as manifest:
        assert manifest.failed() == {"/a.jpg": "damaged"}
        assert manifest.run == 2


def test_the_ray_engine_says_which_films_it_leaves_alone(ray_address, tmp_path, tiny_weights, capsys):
    from films import make_film

    photos = tmp_path / "photos"
    save_photo(photos / "scan.jpg", size=(40, 48))
    (photos / "box").mkdir()
    make_film(photos / "reel.mp4", [np.full((32, 48), 128, np.uint8)] * 3)
    make_film(photos / "box" / "home movie.mkv", [np.full((32, 48), 90, np.uint8)] * 3)
    status = cli.main([str(photos), "-r", "--weights", str(tiny_weights), "--render-size", "64",
                       "--engine", "ray"])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0 and "Colorized 1, skipped 0, failed 0." in out
    assert "left 2 film(s) alone: the Ray engine colours photos only; --engine local" in err


def test_the_ray_engine_walks_the_archive_once(tmp_path, tiny_weights, capsys, monkeypatch):
    # Saying how many films it leaves alone walked the whole tree again after the plan had: on a
    # network share, twice the minutes before the first photo.
    from colorize_app.core import tree

    photos = tmp_path / "photos"
    for box in range(3):
        for folder in range(2):
            save_photo(photos / f"box{box}" / f"f{folder}" / "scan.jpg", size=(8, 8))
            save_photo(photos / f"box{box}" / f"f{folder}" / "scan_colorized.jpg", size=(8, 8))
    walked, real = [], tree.walk
    monkeypatch.setattr(tree, "walk", lambda top, *a, **k: walked.append(top) or real(top, *a, **k))
    # every result there already: planned, reported, and Ray never started
    status, out = colorize(capsys, photos, "-r", "--engine", "ray", "--weights", tiny_weights)
    assert status == 0 and "Colorized 0, skipped 6, failed 0." in out
    assert walked == [photos]


@pytest.mark.skipif(sys.platform == "win32", reason="no advisory locks on Windows")
def test_a_second_run_on_a_manifest_in_use_stops_before_it_walks_the_archive(tmp_path, tiny_weights,
                                                                          capsys, monkeypatch):  # fmt: skip
    # It stopped only after its plan (minutes of walking a network share) and the model's load.
    from colorize_app.archive.manifest import Manifest
    from colorize_app.core import tree

    photos = tmp_path / "photos"
    save_photo(photos / "box" / "scan.jpg", size=(40, 48))
    walked, real = [], tree.walk
    monkeypatch.setattr(tree, "walk", lambda top, *a, **k: walked.append(top) or real(top, *a, **k))
    with Manifest(photos / "colorize-manifest.sqlite"):  # the first run, still going
        status = cli.main([str(photos), "-r", "--engine", "ray", "--weights", str(tiny_weights)])
    assert status == 2 and "is in use by another Colorize run" in capsys.readouterr().err
    assert walked == [] and not (photos / "box" / "scan_colorized.jpg").exists()


def test_the_ray_summary_counts_the_photos_done_with_colour_hints(ray_address, tmp_path,
                                                                  tiny_weights, capsys):  # fmt: skip
    from colorize_app.core.hints import Hint
    from colorize_app.core.sidecar import write_hints

    photos = tmp_path / "photos"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        save_photo(photos / name, size=(40, 48))
    for name in ("a.jpg", "c.jpg"):  # the hints files a person saved in the window
        write_hints(photos / name, [Hint(0.5, 0.5, "#cc2222")])
    status, out = colorize(capsys, photos, "--weights", tiny_weights, "--render-size", 64,
                           "--engine", "ray")  # fmt: skip
    assert status == 0
    assert "Colorized 3, skipped 0, failed 0.\n2 of them with colour hints." in out


def test_a_worker_death_that_ends_the_run_after_one_try_is_tried_again_and_fails_that_photo_alone(
        tmp_path, monkeypatch):  # fmt: skip
    # Under load Ray can end a run with "actor temporarily unavailable" (a dead worker restarting)
    # before it retried the batch: the photo was started once only, and the whole run stopped.
    import ray

    from colorize_app.archive import runner
    from colorize_app.archive.manifest import Manifest
    from colorize_app.core.batch import BatchItem
    from colorize_app.core.vocabulary import Status

    killer = runner._key(tmp_path / "p2.jpg")

    def stream(pending, manifest, options, hints, weights, on_result, plan, attempts):
        if killer in pending:
            raise ray.exceptions.ActorUnavailableError("The actor is temporarily unavailable", None)
        for key in list(pending):
            item = pending.pop(key)
            item.status = Status.DONE
            runner._record(manifest, item, None, 0.0, None)

    class Call:  # an actor method whose .remote() answers at once
        def __init__(self, value):
            self.remote = lambda *args: value

    class Attempts:  # each stream's actor heard the photo started once: Ray never retried it
        @staticmethod
        def remote():
            return type("Handle", (), {"finished": Call({}), "unfinished": Call({killer: 1})})()

    monkeypatch.setattr(runner, "_stream", stream)
    monkeypatch.setattr(runner, "Attempts", Attempts)
    monkeypatch.setattr(ray, "get", lambda refs, timeout=None: refs)
    monkeypatch.setattr(ray, "kill", lambda actor: None)
    items = {runner._key(tmp_path / f"p{i}.jpg"): BatchItem(tmp_path / f"p{i}.jpg", tmp_path / f"p{i}-c.jpg")
             for i in range(4)}  # fmt: skip
    manifest = Manifest(tmp_path / "m.sqlite")
    runner._run_on_ray(dict(items), manifest, None, None, None, None, runner.ClusterPlan(1, 1.0, 0.0, 3))
    manifest.close()
    rows = manifest_rows(tmp_path / "m.sqlite")
    assert rows["p2.jpg"][0] == "failed" and "stopped the worker colorizing it" in rows["p2.jpg"][1]
    assert {name: row[0] for name, row in rows.items() if name != "p2.jpg"} == dict.fromkeys(
        ["p0.jpg", "p1.jpg", "p3.jpg"], "done")  # fmt: skip
