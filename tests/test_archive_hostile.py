"""The Ray engine when things go wrong (issue 24, item 6): a manifest that is not one, a SIGTERM,
and a driver killed outright must each end in a sentence, a status, and nothing left running."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from photos import save_photo

from colorize_app import cli
from colorize_app.core import atomic
from colorize_app.core.imageio import read_image

pytest.importorskip("ray", reason="the archive extra (ray[data]) is not installed")

from colorize_app.archive.manifest import Manifest, ManifestError, Row  # noqa: E402

AS_ROOT = hasattr(os, "getuid") and os.getuid() == 0


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _truncated(path: Path) -> None:
    with Manifest(path.with_suffix(".whole")) as whole:
        for i in range(2000):
            whole.record(Row(f"/photos/p{i}.jpg", "done"))
    data = path.with_suffix(".whole").read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _wrong_schema(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (name TEXT, size INTEGER)")
        db.execute("INSERT INTO photos VALUES ('a', 1)")
    db.close()


def _a_folder(path: Path) -> None:
    path.mkdir()


def _a_named_pipe(path: Path) -> None:
    os.mkfifo(path)


def _read_only_file(path: Path) -> None:
    with Manifest(path):
        pass
    path.chmod(0o444)


def _in_a_read_only_folder(path: Path) -> None:
    path.parent.chmod(0o555)


CASES = {"random bytes": _random_bytes, "truncated": _truncated, "wrong schema": _wrong_schema,
         "a folder": _a_folder, "a named pipe": _a_named_pipe, "read-only file": _read_only_file,
         "read-only folder": _in_a_read_only_folder}  # fmt: skip
NEEDS_PERMISSIONS = {"read-only file", "read-only folder"}  # root writes anyway


@pytest.mark.parametrize("case", CASES)
def test_a_manifest_that_cannot_be_used_is_a_sentence_and_exit_2(tmp_path, tiny_weights, capsys,
                                                                 case):
    if case in NEEDS_PERMISSIONS and AS_ROOT:
        pytest.skip("root writes to read-only files and folders")
    save_photo(tmp_path / "photos" / "a.jpg")
    where = tmp_path / "records"
    where.mkdir()
    manifest = where / "run.sqlite"
    CASES[case](manifest)
    output = tmp_path / "out"
    try:
        status = cli.main([str(tmp_path / "photos"), "--engine", "ray", "--weights", str(tiny_weights),
                           "--manifest", str(manifest), "-o", str(output)])
    finally:
        where.chmod(0o755)
    out, err = capsys.readouterr()
    assert status == 2, out + err
    assert "run.sqlite" in err and "Traceback" not in out + err
    assert not output.exists()  # no empty output folder left behind


@pytest.mark.parametrize("case", CASES)
def test_opening_a_manifest_that_cannot_be_used_raises_a_manifest_error(tmp_path, case):
    if case in NEEDS_PERMISSIONS and AS_ROOT:
        pytest.skip("root writes to read-only files and folders")
    where = tmp_path / "records"
    where.mkdir()
    CASES[case](where / "run.sqlite")
    try:
        with pytest.raises(ManifestError, match="run.sqlite"):
            Manifest(where / "run.sqlite")
    finally:
        where.chmod(0o755)


def test_a_manifest_failing_mid_run_is_a_manifest_error(tmp_path):
    with Manifest(tmp_path / "m.sqlite") as manifest:
        manifest._db.close()  # as if the disk went away
        with pytest.raises(ManifestError, match="m.sqlite"):
            manifest.record(Row("/photos/a.jpg", "done"))


# --- SIGTERM and SIGKILL of a driver that started Ray itself -------------------------------------


def _start(tmp_path: Path, tiny_weights) -> tuple[subprocess.Popen, Path]:
    photos = tmp_path / "photos"
    for i in range(60):
        save_photo(photos / f"p{i:02}.jpg", size=(600, 800))
    command = [sys.executable, "-m", "colorize_app.cli", str(photos), "--engine", "ray", "--weights",
               str(tiny_weights), "--workers", "1", "--batch-size", "1"]  # fmt: skip
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while not list(photos.glob("*_colorized.jpg")):
        assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
        time.sleep(0.2)
    return driver, photos


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except OSError:
            pass
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux signals and /proc")
def test_sigterm_stops_a_ray_run_as_it_stops_a_local_one(tmp_path, tiny_weights):
    driver, photos = _start(tmp_path, tiny_weights)
    started = _descendants(driver.pid)
    driver.send_signal(signal.SIGTERM)
    out, err = driver.communicate(timeout=120)
    assert driver.returncode == 143, err[-3000:]
    assert "stopped" in err and "SIGTERM received" not in err
    deadline = time.monotonic() + 15
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(started)
    for result in photos.glob("*_colorized.jpg"):  # whole, or not there
        read_image(result)
    assert atomic.live_writes(photos) == set()  # a worker's temporary file: the next run removes it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux signals and /proc")
def test_a_killed_driver_leaves_no_ray_process_running(tmp_path, tiny_weights):
    driver, _ = _start(tmp_path, tiny_weights)
    time.sleep(2)  # every agent of Ray's is up by now
    started = _descendants(driver.pid)
    assert len(started) >= 4  # gcs, raylet, agents, a worker
    driver.kill()
    driver.communicate(timeout=30)
    deadline = time.monotonic() + 15  # Ray's agents stayed 37 s and more
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(started), [Path(f"/proc/{p}/cmdline").read_bytes()[:80] for p in _alive(started)]


@pytest.mark.skipif(sys.platform == "win32", reason="no advisory locks on Windows")
def test_a_second_run_on_a_manifest_in_use_is_refused_and_the_first_goes_on(tmp_path):
    path = tmp_path / "out" / "colorize-manifest.sqlite"
    with Manifest(path) as first:
        with pytest.raises(ManifestError, match="in use by another Colorize run"):
            Manifest(path)
        first.record(Row("/a.jpg", "done"))  # the first run's file is untouched by the refusal
    with Manifest(path) as again:  # once the first is over, the next run takes it
        assert again.run == 2 and set(again.rows()) == {"/a.jpg"}
