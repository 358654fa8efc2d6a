"""The `colorize` command: exit statuses, the summary, and surviving a kill."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from photos import digest, make_unwritable, opened, save_photo
from PIL import Image

from colorize_app import cli
from colorize_app.core import job as job_module
from colorize_app.core import weights


@pytest.fixture
def folder(tmp_path):
    photos = tmp_path / "photos"
    save_photo(photos / "one.jpg", size=(60, 80))
    save_photo(photos / "two.png", mode="L")
    return photos


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_colours_a_folder_and_exits_zero(folder, tiny_weights, capsys):
    status, out, err = run(capsys, folder, "--weights", tiny_weights, "--render-size", 64)
    assert status == 0
    assert "Colorized 2, skipped 0, failed 0." in out
    assert "photo/s" in err  # the progress bar, with its rate, goes to stderr
    assert opened(folder / "one_colorized.jpg").size == (80, 60)
    assert opened(folder / "two_colorized.png").mode == "RGB"


def test_bad_files_make_the_exit_status_non_zero_and_are_explained(folder, tiny_weights, capsys):
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (folder / "empty.png").write_bytes(b"")
    before = {p.name: digest(p) for p in folder.iterdir()}
    status, out, _ = run(capsys, folder, "--weights", tiny_weights, "--render-size", 64)
    assert status == 1
    assert "Colorized 2, skipped 0, failed 2." in out
    assert "broken.jpg" in out and "empty.png is empty" in out
    assert {p.name: digest(p) for p in folder.iterdir() if p.name in before} == before


def test_the_report_is_the_batchs_own_count(folder, tiny_weights, capsys, monkeypatch):
    # One count: what the batch runner counted is what the command line says, not a recount.
    from colorize_app.core import batch

    real = batch.run_batch

    def counted(items, *args, **kwargs):
        summary = real(items, *args, **kwargs)
        summary.hinted = 2  # as if both photos had had hints
        return summary

    monkeypatch.setattr(batch, "run_batch", counted)
    status, out, _ = run(capsys, folder, "--weights", tiny_weights, "--render-size", 64)
    assert status == 0
    assert "Colorized 2, skipped 0, failed 0.\n2 of them with colour hints." in out


def test_re_run_skips_finished_photos_without_even_loading_a_model(folder, tiny_weights, capsys):
    assert run(capsys, folder, "--weights", tiny_weights, "--render-size", 64)[0] == 0
    status, out, _ = run(capsys, folder, "--weights", folder / "no-such-model.safetensors",
                         "--render-size", 64)
    assert status == 0
    assert "Colorized 0, skipped 2, failed 0." in out
    assert "already colorized" in out


def test_output_dir_and_suffix(folder, tmp_path, tiny_weights, capsys):
    (folder / "sub").mkdir()
    save_photo(folder / "sub" / "three.tif")
    out_dir = tmp_path / "out"
    status, *_ = run(capsys, folder, "-r", "--output-dir", out_dir, "--suffix=-c",
                     "--weights", tiny_weights, "--render-size", 64)  # fmt: skip
    assert status == 0
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.*")) == [
        "one-c.jpg", "sub/three-c.tif", "two-c.png"]  # fmt: skip


def test_non_ascii_names(tmp_path, tiny_weights, capsys):
    save_photo(tmp_path / "Großmutter 1952 – 祖母.jpg")
    assert run(capsys, tmp_path, "--weights", tiny_weights, "--render-size", 64)[0] == 0
    assert (tmp_path / "Großmutter 1952 – 祖母_colorized.jpg").is_file()


def test_missing_path_is_a_clear_error(tmp_path, capsys):
    status, out, err = run(capsys, tmp_path / "nowhere.jpg")
    assert status == 2
    assert "nowhere.jpg does not exist" in err
    assert "Traceback" not in err + out


def test_no_model_installed_says_how_to_get_one(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(weights, "default_weights_path", lambda: tmp_path / "none.safetensors")
    status, _, err = run(capsys, folder)
    assert status == 2
    assert "Training your own model" in err and "--weights" in err
    assert "Traceback" not in err
    assert not (folder / "one_colorized.jpg").exists()


def test_damaged_weights_file_is_a_clear_error(folder, tmp_path, capsys):
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    status, _, err = run(capsys, folder, "--weights", tmp_path / "bad.safetensors")
    assert status == 2
    assert "bad.safetensors" in err and "Traceback" not in err


def test_unwritable_output_folder_fails_the_photos_with_the_reason(folder, tmp_path,
                                                                   tiny_weights, monkeypatch,
                                                                   capsys):  # fmt: skip
    locked = tmp_path / "locked"
    make_unwritable(locked, monkeypatch)
    status, out, _ = run(capsys, folder, "--output-dir", locked, "--weights", tiny_weights)
    assert status == 2  # nothing could start: the README's "a folder that cannot be written"
    assert "failed 2" in out and "permission denied" in out and str(locked) in out
    assert list(locked.iterdir()) == []


def test_output_folder_that_cannot_be_created_is_a_clear_error(folder, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status, _, err = run(capsys, folder, "--output-dir", blocker / "out")
    assert status == 2
    assert "Cannot create the output folder" in err and "Traceback" not in err


def test_asking_for_a_missing_gpu_is_a_clear_error(folder, tiny_weights, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU, so asking for one is not an error")
    status, _, err = run(capsys, folder, "--device", "cuda", "--weights", tiny_weights)
    assert status == 2
    assert "CUDA" in err and "Traceback" not in err


def test_bad_option_values_are_refused(folder, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main([str(folder), "--saturation", "-1"])
    assert caught.value.code == 2
    assert "--saturation" in capsys.readouterr().err


def test_an_empty_output_folder_name_is_refused_as_such(tmp_path, capsys):
    # `-o "$OUT"` with OUT unset: "Cannot create the output folder : No such file or directory."
    with pytest.raises(SystemExit) as caught:
        cli.main([str(tmp_path), "-o", ""])
    assert caught.value.code == 2
    assert "--output-dir needs a folder" in capsys.readouterr().err


def test_help_does_not_import_torch():
    code = "import sys; from colorize_app import cli; cli.build_parser().format_help(); " \
           "print('torch' in sys.modules, 'cv2' in sys.modules)"  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_an_interrupted_overwrite_says_how_to_finish_without_redoing_what_is_done(
        tmp_path, tiny_weights, capsys, monkeypatch):  # fmt: skip
    # "Run the same command to do the rest" with --overwrite made every photo again.
    for i in range(4):
        save_photo(tmp_path / f"p{i}.png")
    assert run(capsys, tmp_path, "--weights", tiny_weights)[0] == 0
    real, calls = job_module.compose, []

    def interrupted_at_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(job_module, "compose", interrupted_at_the_third)
    status, _, err = run(capsys, tmp_path, "--weights", tiny_weights, "--overwrite")
    assert status == 130
    assert "run the same command with --update instead of --overwrite" in err


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path, tiny_weights, capsys):
    # `colorize album | head -1`: the report met a closed pipe and ended in a traceback, with
    # the exit status that means a photo failed.
    for i in range(30):
        save_photo(tmp_path / f"p{i:02}.png")
    assert run(capsys, tmp_path, "--weights", tiny_weights)[0] == 0  # a long report: 30 skips
    command = [sys.executable, "-m", "colorize_app.cli", str(tmp_path), "--weights", str(tiny_weights)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        child.stdout.close()  # as `head` does once it has its lines: here, before the first
        err = child.stderr.read().decode()
        status = child.wait(timeout=120)
    assert status == 141, err
    assert "Traceback" not in err and "output was closed" in err


def test_killed_run_leaves_no_partial_output_and_a_re_run_finishes(tmp_path, tiny_weights, capsys):
    photos = tmp_path / "photos"
    count = 8
    for i in range(count):
        save_photo(photos / f"p{i:02}.png", size=(600, 800))
    originals = {p.name: digest(p) for p in photos.iterdir()}
    command = [
        sys.executable,
        "-m",
        "colorize_app.cli",
        str(photos),
        "--weights",
        str(tiny_weights),
    ]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(photos.glob("*_colorized.png")) and time.monotonic() < deadline:
            assert child.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    finished = sorted(photos.glob("*_colorized.png"))
    assert 0 < len(finished) < count, "the kill did not land mid-batch"
    for out in finished:  # whatever exists is whole: a viewer opens it at full size
        with Image.open(out) as image:
            image.load()
            assert image.size == (800, 600)

    status, out, _ = run(capsys, *command[3:])  # the same command, in-process: quicker
    assert status == 0
    assert f"Colorized {count - len(finished)}, skipped {len(finished)}, failed 0." in out
    expected = set(originals) | {f"p{i:02}_colorized.png" for i in range(count)}
    assert {p.name for p in photos.iterdir()} == expected  # no temporary files left either
    assert {name: digest(photos / name) for name in originals} == originals


def _bar_frames(err: str) -> list[tuple[int, int, int]]:
    """(percent, done, total) of every progress bar line the command line drew."""
    frames = []
    for frame in re.split(r"[\r\n]", err):
        found = re.search(r"(\d+)%\|.*\| (\d+)/(\d+) ", frame)
        if found:
            frames.append(tuple(int(g) for g in found.groups()))
    return frames


@pytest.mark.parametrize("count", [1, 3])
def test_the_progress_bar_agrees_with_itself_and_ends_once(tmp_path, tiny_weights, capsys, count):
    for i in range(count):
        save_photo(tmp_path / f"p{i}.jpg", size=(1000, 1500))  # long enough for frames mid-photo
    status, out, err = run(capsys, tmp_path, "--weights", tiny_weights, "--render-size", 32)
    assert status == 0, out + err
    frames = _bar_frames(err)
    assert frames, err
    for percent, done, total in frames:  # "12%| 2/20" and "95%| 1/1" are what a user doubts
        assert total == count and percent == round(100 * done / total), frames
    assert [frame for frame in frames if frame[0] == 100] == [(100, count, count)], frames


def test_a_file_named_that_cannot_be_colorized_is_a_failure(tmp_path, tiny_weights, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    status, out, err = run(capsys, notes)
    assert status == 1, out + err
    assert "failed 1" in out and "notes.txt" in out
    save_photo(tmp_path / "p.jpg")
    status, out, err = run(capsys, tmp_path, "--weights", tiny_weights, "--render-size", 32)
    assert status == 0, out + err  # in a folder, other files are left alone quietly
    assert "notes.txt" not in out + err and "failed 0" in out


@pytest.mark.parametrize("mode, layout", [("L", 1), ("RGB", 3)])
def test_the_command_line_starts_the_first_big_photos_colour_table_from_its_header(tmp_path, monkeypatch,
                                                                                    mode, layout):
    from types import SimpleNamespace

    from colorize_app.cli import _warm_table_for
    from colorize_app.core import chroma

    monkeypatch.setattr(chroma, "_tables", {})
    monkeypatch.setattr(chroma, "TABLE_MIN_PIXELS", 48 * 64)  # this photo counts as big
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo")
    _warm_table_for([SimpleNamespace(source=notes)])  # unreadable: nothing started, nothing raised
    assert chroma._tables == {}
    _warm_table_for([SimpleNamespace(source=save_photo(tmp_path / "a.png", mode=mode))])
    deadline = time.monotonic() + 60
    while layout not in chroma._tables and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(chroma._tables) == [layout]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="names there are always Unicode")
def test_a_scan_with_a_latin1_name_records_how_it_was_made_so_update_redoes_it(tmp_path, tiny_weights, capsys):
    photos = tmp_path / "photos"
    save_photo(photos / "x.jpg", size=(40, 48))
    os.replace(photos / "x.jpg", os.path.join(os.fsencode(photos), b"caf\xe9.jpg"))  # an old scanner's name
    common = [photos, "--weights", tiny_weights, "--render-size", 64]
    status, out, err = run(capsys, *common)
    assert status == 0 and "provenance" not in out + err

    status, out, err = run(capsys, *common, "--saturation", 0.5, "--update")
    assert status == 0
    assert "Colorized 1, skipped 0, failed 0." in out  # its record says it was made at 1.0


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_a_recursive_run_says_which_linked_folders_it_leaves_alone(tmp_path, tiny_weights, capsys):
    photos = tmp_path / "archive"
    save_photo(photos / "box 1" / "a.jpg", size=(40, 48))
    save_photo(tmp_path / "elsewhere" / "box 2" / "b.jpg", size=(40, 48))
    (photos / "box 2").symlink_to(tmp_path / "elsewhere" / "box 2")  # an archive laid out by links
    status, out, err = run(capsys, photos, "-r", "--weights", tiny_weights, "--render-size", 64)
    assert status == 0 and "Colorized 1, skipped 0, failed 0." in out
    assert "left 1 linked folder(s) alone: links to folders are not followed" in err
