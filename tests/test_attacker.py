"""What an attacker found (issue 24): hostile hints files, weights, file names and outputs. Each test
stands for a class of inputs; the single-instance socket and the Ray manifest have files of their own."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest
import torch
from photos import save_photo
from safetensors.torch import load_file, save_file

from colorize_app import cli
from colorize_app.core import atomic, weights
from colorize_app.core.errors import WeightsError
from colorize_app.core.job import Job, JobOptions, with_hints
from colorize_app.core.sidecar import HintsFileError, read_hints_file, sidecar_path

NAME_MAX = 255
HUGE = "1" + "0" * 400  # a JSON integer no float holds


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def hints_document(**point) -> bytes:
    return json.dumps({"format": "colorize-hints", "version": 1,
                       "points": [{"x": 0.5, "y": 0.5, "color": "#b03a2e", **point}]}).encode()


# --- 3. numbers a hints file may hold ----------------------------------------------------------


@pytest.mark.parametrize("document", [
    hints_document().replace(b'"x": 0.5', b'"x": ' + HUGE.encode()),
    hints_document().replace(b'"y": 0.5', b'"y": -' + HUGE.encode()),
    hints_document().replace(b'"x": 0.5', b'"x": 1e400'),  # inf
    hints_document(x=True),
    hints_document(color=123456),
    hints_document().replace(b'"version": 1', b'"version": true'),
    hints_document().replace(b'"version": 1', b'"version": 1.0'),
    hints_document().replace(b'"version": 1', b'"version": ' + HUGE.encode()),
], ids=["huge x", "huge y", "inf", "x true", "colour a number", "version true", "version 1.0",
        "huge version"])
def test_a_hints_file_with_numbers_out_of_kind_is_a_hints_file_error(tmp_path, document):
    path = tmp_path / "p.jpg.colorize.json"
    path.write_bytes(document)
    with pytest.raises(HintsFileError, match="p.jpg.colorize.json"):
        read_hints_file(path)


def test_a_sidecar_with_a_huge_number_colorizes_the_photo_without_hints(tmp_path, tiny_weights, capsys):
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    sidecar_path(photo).write_bytes(hints_document().replace(b'"x": 0.5', b'"x": ' + HUGE.encode()))
    status, out, err = run(capsys, photo, "--weights", tiny_weights, "--render-size", 32)
    assert status == 0, out + err
    assert (tmp_path / "p_colorized.jpg").is_file()
    assert "p.jpg.colorize.json" in out + err and "without hints" in out + err
    assert "Traceback" not in out + err


def test_hints_given_with_a_huge_number_stop_the_run_with_exit_2(tmp_path, tiny_weights, capsys):
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    hints = tmp_path / "album.colorize.json"
    hints.write_bytes(hints_document().replace(b'"x": 0.5', b'"x": ' + HUGE.encode()))
    status, out, err = run(capsys, photo, "--weights", tiny_weights, "--hints", hints)
    assert status == 2
    assert "album.colorize.json" in err and "Traceback" not in out + err


# --- 4. files that block or never end -----------------------------------------------------------


def _kernel_log_readable() -> bool:
    try:
        os.close(os.open("/proc/kmsg", os.O_RDONLY | os.O_NONBLOCK))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _kernel_log_readable(), reason="needs a readable /proc/kmsg (root on Linux)")
@pytest.mark.parametrize("role", ["sidecar", "hints", "weights"])
def test_a_file_that_blocks_when_read_is_refused_without_waiting(tmp_path, tiny_weights, role):
    """/proc/kmsg passes is_file() and blocks on read: a hints file or weights linked to it must be
    refused at once, never wait (the command line hung)."""
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    argv = [photo, "--weights", tiny_weights, "--render-size", "32"]
    if role == "sidecar":
        sidecar_path(photo).symlink_to("/proc/kmsg")
    elif role == "hints":
        (tmp_path / "h.colorize.json").symlink_to("/proc/kmsg")
        argv += ["--hints", tmp_path / "h.colorize.json"]
    else:
        (tmp_path / "w.safetensors").symlink_to("/proc/kmsg")
        argv[2] = tmp_path / "w.safetensors"
    done = subprocess.run([sys.executable, "-m", "colorize_app.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == (0 if role == "sidecar" else 2), done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_resolving_a_sidecar_never_raises_for_the_file(tmp_path):
    photo = tmp_path / "p.jpg"
    sidecar_path(photo).write_bytes(hints_document(x=float("nan")).replace(b"NaN", HUGE.encode()))
    job, note = with_hints(Job(photo, None, JobOptions()))
    assert job.hints == () and "p.jpg.colorize.json" in note


# --- 7. weights of a kind the network cannot use -----------------------------------------------


def _with_dtype(source, target, dtype, only_floats=True):
    tensors = load_file(str(source))
    converted = {name: (t.to(dtype) if t.is_floating_point() or not only_floats else t)
                 for name, t in tensors.items()}
    with open(source, "rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    save_file(converted, str(target), metadata=header["__metadata__"])
    return target


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2, torch.int64, torch.bool,
                                   torch.uint8, torch.complex64],
                         ids=str)
def test_weights_of_a_type_the_network_cannot_use_are_refused_up_front(tiny_weights, tmp_path, dtype,
                                                                        capsys):
    crafted = _with_dtype(tiny_weights, tmp_path / "crafted.safetensors", dtype)
    with pytest.raises(WeightsError, match="crafted.safetensors"):
        weights.load_model(crafted)
    photo = save_photo(tmp_path / "p.jpg", mode="L")
    status, out, err = run(capsys, photo, "--weights", crafted)
    assert status == 2, out + err
    assert not (tmp_path / "p_colorized.jpg").exists()
    assert "Traceback" not in out + err


def test_half_precision_weights_still_load(tiny_weights, tmp_path):
    half = _with_dtype(tiny_weights, tmp_path / "half.safetensors", torch.float16)
    model = weights.load_model(half)
    assert next(model.parameters()).dtype == torch.float32


def test_a_format_version_of_true_is_not_version_1(tiny_weights, tmp_path):
    from test_hostile import rewrite_metadata

    def version_true(header):
        meta = json.loads(header["__metadata__"]["colorize"])
        meta["format_version"] = True
        header["__metadata__"]["colorize"] = json.dumps(meta)

    crafted = tmp_path / "v.safetensors"
    crafted.write_bytes(tiny_weights.read_bytes())
    rewrite_metadata(crafted, version_true)
    with pytest.raises(WeightsError, match="version"):
        weights.read_metadata(crafted)


# --- 8. temporary names within the file system's limit -------------------------------------------


def test_a_legal_name_whose_result_is_near_the_limit_is_saved(tmp_path, tiny_weights, capsys):
    name = "n" * (240 - 4) + ".jpg"  # 240 bytes; its result 250, its temporary file over 255
    photo = save_photo(tmp_path / name, mode="L")
    status, out, err = run(capsys, photo, "--weights", tiny_weights, "--render-size", 32)
    assert status == 0, out + err
    result = tmp_path / ("n" * 236 + "_colorized.jpg")
    assert result.is_file() and len(os.fsencode(result.name)) == 250
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name", ["é" * 125 + ".jpg", "x" * 255])
def test_temporary_names_fit_and_are_known_as_the_targets_own(tmp_path, name, monkeypatch):
    target = tmp_path / name
    seen = []
    real_fsync = os.fsync

    def watch(fd):  # while the bytes are written
        seen.extend(p.name for p in tmp_path.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX))
        assert atomic.temp_key(name) in atomic.live_writes(tmp_path)  # another run sees it
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watch)
    atomic.write_bytes_atomic(target, b"data")
    assert target.read_bytes() == b"data"
    assert len(os.fsencode(seen[0])) <= NAME_MAX
    seen[0].encode("utf-8")  # cut on a character boundary, not inside one


def test_a_temporary_file_left_by_a_dead_writer_of_a_long_name_is_removed(tmp_path):
    name = "y" * 250
    temp, fd = atomic._create_locked(tmp_path, atomic.temp_prefix(name))
    os.close(fd)  # the writer died: its lock is gone
    atomic.write_bytes_atomic(tmp_path / name, b"new")
    assert not temp.exists() and (tmp_path / name).read_bytes() == b"new"


def test_saved_weights_with_a_long_name_fit_too(tiny_model, tmp_path):
    path = tmp_path / ("w" * (NAME_MAX - len(".safetensors")) + ".safetensors")
    assert weights.save_weights(path, tiny_model).is_file()


# --- 9. nothing could start ---------------------------------------------------------------------


def test_every_result_refused_up_front_is_exit_2(tmp_path, capsys):
    save_photo(tmp_path / "a.jpg")
    save_photo(tmp_path / "b.png")
    status, out, err = run(capsys, tmp_path, "--suffix=", "-o", tmp_path)
    assert status == 2, out + err
    assert "would replace the original" in out + err


def test_some_results_refused_and_others_done_is_exit_1(tmp_path, tiny_weights, capsys):
    save_photo(tmp_path / "a.jpg")
    save_photo(tmp_path / "sub" / "a.jpg")
    photos = [tmp_path / "a.jpg", tmp_path / "sub" / "a.jpg"]
    status, out, err = run(capsys, *photos, "-o", tmp_path / "out", "--weights", tiny_weights,
                           "--render-size", 32)
    assert status == 1, out + err  # the second would have the first one's result name
    assert "Colorized 1" in out


def test_a_full_disk_at_planning_is_still_exit_2(tmp_path, capsys, monkeypatch):
    save_photo(tmp_path / "a.jpg")

    def full(folder, prefix):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_create_locked", full)
    status, out, err = run(capsys, tmp_path / "a.jpg")
    assert status == 2 and "disk space" in out + err


# --- 5. file names that carry terminal controls ---------------------------------------------------

HOSTILE = "esc\x1b]0;PWNED\x07\x1b[2J\nFAKE: Colorized 99\u202egpj.exe.jpg"


def _no_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert not any(line.startswith("FAKE:") for line in text.splitlines()), text


def test_a_name_with_terminal_controls_is_printed_escaped(tmp_path, tiny_weights, capsys):
    (tmp_path / HOSTILE).write_bytes(b"\xff\xd8 damaged")
    save_photo(tmp_path / "good.jpg")
    status, out, err = run(capsys, tmp_path, "--weights", tiny_weights, "--render-size", 32, "-v")
    assert status == 1
    _no_controls(out)
    _no_controls(err)
    assert "esc\\x1b]0;PWNED\\x07\\x1b[2J\\x0aFAKE" in out  # the name is still there, readable


def test_a_name_with_terminal_controls_is_logged_escaped_by_the_window(tmp_path):
    code = ("import logging, sys; from pathlib import Path; from colorize_app.app import setup_logging; "
            "setup_logging(Path(sys.argv[1])); "
            "logging.getLogger('colorize_app.ui').info('Not opened: %s', sys.argv[2])")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path), HOSTILE],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    _no_controls(done.stderr)
    _no_controls((tmp_path / "colorize.log").read_text())
    assert "Not opened: esc\\x1b]0;PWNED" in done.stderr
