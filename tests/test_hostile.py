"""The engine under hostile input (issue 13): each test stands for a family of inputs that used to
stop a whole batch, hang, exhaust memory, or write garbage while reporting success."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from photos import save_photo
from PIL import Image

from colorize_app import cli
from colorize_app.core import atomic, batch, weights
from colorize_app.core.batch import plan_batch, run_batch
from colorize_app.core.errors import ColorizeError, ImageReadError, WeightsError
from colorize_app.core.imageio import read_image
from colorize_app.core.model import ColorizerNet

NAME_MAX = 255


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def sepia(pixels, options, hints):
    """A stand-in network: the same warm (a, b) everywhere, at a small size."""
    return np.full((4, 4, 2), (12.0, 30.0), np.float32)


def cli_command(*argv) -> list[str]:
    return [sys.executable, "-m", "colorize_app.cli", *map(str, argv)]


# --- 1. one long name must not stop everything -------------------------------------------------


def test_a_name_whose_result_would_be_too_long_fails_alone(tmp_path, tiny_weights, capsys):
    long_name = "x" * (NAME_MAX - 3 - 4) + ".jpg"  # 252 bytes: fine itself, its result is not
    save_photo(tmp_path / long_name)
    save_photo(tmp_path / "good.jpg")
    items = plan_batch([tmp_path])
    by_name = {item.source.name: item for item in items}
    assert by_name["good.jpg"].status == "waiting"
    assert by_name[long_name].status == "failed"
    assert "too long" in by_name[long_name].reason

    status, out, err = run(capsys, tmp_path, "--weights", tiny_weights, "--render-size", 32)
    assert status == 1
    assert "Colorized 1, skipped 0, failed 1." in out
    assert (tmp_path / "good_colorized.jpg").is_file()
    assert "Traceback" not in out + err


def test_a_suffix_that_makes_every_name_too_long_fails_each_photo(tmp_path):
    save_photo(tmp_path / "a.jpg")
    save_photo(tmp_path / "b.png")
    items = plan_batch([tmp_path], suffix="_" + "s" * 299)
    assert [item.status for item in items] == ["failed", "failed"]
    assert all("too long" in item.reason for item in items)


def test_a_tree_deeper_than_path_max_is_planned_as_far_as_it_goes(tmp_path):
    save_photo(tmp_path / "top.jpg")
    jpeg = (tmp_path / "top.jpg").read_bytes()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(20):  # 20 x 201 bytes: deeper than Linux's PATH_MAX of 4096
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
            photo = os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(photo, jpeg)
            os.close(photo)
    finally:
        os.close(fd)
    items = plan_batch([tmp_path], recursive=True)  # used to raise ENAMETOOLONG
    waiting = [item for item in items if item.status == "waiting"]
    failed = [item for item in items if item.status == "failed"]
    assert any(item.source.name == "top.jpg" for item in waiting)
    assert len(waiting) > 5  # the deep photos whose path still fits
    assert failed and all("too long" in item.reason for item in failed)


# --- 2. named pipes and devices must not hang; Ctrl-C ends a run -------------------------------


def test_a_named_pipe_among_photos_fails_alone_and_does_not_hang(tmp_path, tiny_weights):
    save_photo(tmp_path / "good.jpg")
    os.mkfifo(tmp_path / "p.jpg")
    command = cli_command(tmp_path, "--weights", tiny_weights, "--render-size", 32)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("colorize hung on a named pipe")
    assert result.returncode == 1
    assert "p.jpg" in result.stdout and "not a regular file" in result.stdout
    assert (tmp_path / "good_colorized.jpg").is_file()


def test_a_link_to_a_device_is_refused_without_reading_it(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.png")
    with pytest.raises(ImageReadError, match="zero.png.*not a regular file"):
        read_image(tmp_path / "zero.png")


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_or_terminate_ends_a_run_promptly_and_leaves_nothing_partial(
    tmp_path, tiny_weights, signum, code
):
    for i in range(6):
        save_photo(tmp_path / f"p{i}.png", size=(600, 800))
    # As from a terminal: a test run started in the background (`make test &`) hands its children
    # SIGINT ignored, and Python then leaves it ignored.
    child = subprocess.Popen(cli_command(tmp_path, "--weights", tiny_weights),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("*_colorized.png")) and time.monotonic() < deadline:
            assert child.poll() is None, "the batch ended before it could be interrupted"
            time.sleep(0.01)
        child.send_signal(signum)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == code
    assert "interrupted" in err or "stopped" in err
    assert "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX)]


# --- 3. sizes checked before reading the whole file --------------------------------------------


def test_a_small_image_padded_to_a_huge_file_is_refused_from_its_size(tmp_path):
    path = save_photo(tmp_path / "padded.png", size=(100, 100))
    with open(path, "r+b") as f:
        f.truncate(600 * 2**20)  # sparse: 600 MB of zeros after the image, costing no disk
    with pytest.raises(ImageReadError, match="padded.png.*too large"):
        read_image(path)


# --- 4. garbage must not be reported as success ------------------------------------------------


@pytest.mark.parametrize("option, value", [
    ("--saturation", "inf"), ("--saturation", "1e308"), ("--saturation", "nan"),
    ("--render-size", "100000"), ("--max-megapixels", "1000000000"),
])  # fmt: skip
def test_numeric_options_must_be_finite_and_in_range(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as caught:
        cli.main([str(tmp_path), option, value])
    assert caught.value.code == 2
    assert option in capsys.readouterr().err


def rewrite_metadata(path, change):
    """Rewrite the JSON header of a safetensors file: ``change(header)`` edits it in place."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    change(header)
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + size :])


def change_config(**settings):
    def change(header):
        meta = json.loads(header["__metadata__"]["colorize"])
        meta["model_config"].update(settings)
        header["__metadata__"]["colorize"] = json.dumps(meta)

    return change


def test_weights_with_nan_values_are_not_usable(tiny_model, tmp_path):
    broken = ColorizerNet(tiny_model.config)
    broken.load_state_dict(tiny_model.state_dict())
    with torch.no_grad():
        broken.head.weight[0, 0] = float("nan")
    path = weights.save_weights(tmp_path / "nan.safetensors", broken)
    with pytest.raises(WeightsError, match="nan.safetensors.*not usable"):
        weights.load_model(path)


@pytest.mark.parametrize("setting", [
    {"chroma_gain": float("nan")}, {"chroma_gain": float("inf")}, {"temperature": 0},
    {"temperature": -1.0}, {"chroma_gain": "1.0"}, {"bin_grid": 0},
])  # fmt: skip
def test_weights_with_absurd_numbers_are_not_usable(tiny_weights, tmp_path, setting):
    path = tmp_path / "odd.safetensors"
    path.write_bytes(tiny_weights.read_bytes())
    rewrite_metadata(path, change_config(**setting))
    with pytest.raises(WeightsError, match="odd.safetensors.*not usable"):
        weights.load_model(path)


def test_a_network_that_outputs_nan_is_an_error_not_a_white_photo(tiny_model, tmp_path):
    from colorize_app.core.pipeline import colorize

    broken = ColorizerNet(tiny_model.config).eval()
    broken.load_state_dict(tiny_model.state_dict())
    with torch.no_grad():
        broken.head.bias.fill_(float("nan"))
    with pytest.raises(ColorizeError, match="not finite|invalid"):
        colorize(np.full((40, 50), 128, np.uint8), broken, render_size=32)


# --- 5. transparency by colour key -------------------------------------------------------------


@pytest.mark.parametrize("mode, key", [("L", 0), ("RGB", (0, 0, 0)), ("I;16", 0)])
@pytest.mark.parametrize("size", [(48, 64), (1, 1)])
def test_a_png_with_a_transparent_colour_keeps_its_transparency(tmp_path, mode, key, size):
    height, width = size
    values = (np.arange(height * width) % 256).reshape(height, width)
    if mode == "I;16":
        image = Image.fromarray((values * 257).astype(np.uint16))
    else:
        image = Image.fromarray(values.astype(np.uint8)).convert(mode)
    path = tmp_path / "key.png"
    image.save(path, transparency=key)
    pixels = read_image(path).pixels
    assert pixels.ndim == 3 and pixels.shape[2] == 4
    np.testing.assert_array_equal(pixels[..., 3] == 0, values == 0)


# --- 6. any name a file system can hold can be printed -----------------------------------------


def test_names_that_are_not_utf8_are_printed(tmp_path, tiny_weights, capsys):
    folder = tmp_path / "album"
    save_photo(folder / os.fsdecode(b"caf\xe9.jpg"))  # Latin-1, as old Windows or a camera wrote it
    (folder / os.fsdecode(b"\xff\xfe.png")).write_bytes(b"\x89PNG broken")
    status, out, _ = run(capsys, folder, "--weights", tiny_weights, "--render-size", 32)
    assert status == 1
    assert "Colorized 1, skipped 0, failed 1." in out
    assert "\\xff\\xfe.png" in out
    status, out, _ = run(capsys, folder, "--weights", tiny_weights, "--render-size", 32)
    assert "caf\\xe9_colorized.jpg" in out  # the skip note names it


# --- 7. crafted weights are "not usable", before anything is built -----------------------------


@pytest.fixture
def no_model_built(monkeypatch):
    def refuse(self, config=None):
        raise AssertionError("a model was built from invalid weights")

    monkeypatch.setattr(ColorizerNet, "__init__", refuse)


@pytest.mark.parametrize("crafted", [
    lambda h: h.__setitem__("__metadata__", ["not", "an", "object"]),
    lambda h: h.__setitem__("__metadata__", "text"),
    lambda h: h["__metadata__"].__setitem__("colorize", json.dumps([1, 2])),
    lambda h: h["__metadata__"].__setitem__("colorize", "[" * 200_000 + "]" * 200_000),
    lambda h: h["__metadata__"].__setitem__("colorize", json.dumps({"format_version": 1, "model_config": [1]})),
    change_config(decoder_width=2_000_000),
    change_config(cut_after=True),
    change_config(out_stride=3.5),
])  # fmt: skip
def test_crafted_metadata_is_not_usable(tiny_weights, tmp_path, no_model_built, crafted):
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(tiny_weights.read_bytes())
    rewrite_metadata(path, crafted)
    with pytest.raises(WeightsError, match="crafted.safetensors.*not usable"):
        weights.load_model(path)


def test_a_header_nested_200000_deep_is_not_usable(tmp_path):
    path = tmp_path / "deep.safetensors"
    text = b"[" * 200_000 + b"]" * 200_000
    path.write_bytes(len(text).to_bytes(8, "little") + text)
    with pytest.raises(WeightsError, match="deep.safetensors"):
        weights.load_model(path)


# --- 8. the suffix is a plain name fragment ----------------------------------------------------


@pytest.mark.parametrize("suffix", ["/../../../esc/escaped", "/x", "a/b", "x\0y", "new\nline"])
def test_a_suffix_with_a_path_in_it_is_refused_up_front(tmp_path, capsys, suffix):
    save_photo(tmp_path / "in" / "a.jpg")
    with pytest.raises(SystemExit) as caught:
        cli.main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--suffix", suffix])
    assert caught.value.code == 2
    assert "--suffix" in capsys.readouterr().err
    with pytest.raises(ColorizeError, match="suffix"):
        plan_batch([tmp_path / "in"], suffix=suffix, output_dir=tmp_path / "out")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.jpg", "in"]


# --- 9. two runs on one folder -----------------------------------------------------------------


@pytest.fixture
def slow_write(monkeypatch):
    """Start a write of a path that stays in flight (between its temp file and its rename)."""
    release, inside = threading.Event(), threading.Event()
    real_fsync = os.fsync
    threads, errors = [], []

    def held_fsync(fd):
        if threading.current_thread().name == "slow-writer":
            inside.set()
            release.wait(30)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", held_fsync)

    def start(path, data=b"first"):
        def write():
            try:
                atomic.write_bytes_atomic(path, data)
            except Exception as e:  # pragma: no cover - what the test looks for
                errors.append(e)

        threads.append(threading.Thread(target=write, name="slow-writer"))
        threads[-1].start()
        assert inside.wait(30)

    def finish():
        release.set()
        for thread in threads:
            thread.join(30)
        return errors

    yield start, finish
    release.set()


def test_a_second_writer_leaves_the_first_ones_temporary_file_alone(tmp_path, slow_write):
    start, finish = slow_write
    target = tmp_path / "r_colorized.jpg"
    start(target)
    atomic.write_bytes_atomic(tmp_path / "r_colorized.jpg", b"second", overwrite=True)
    assert finish() == []  # the first writer's temporary file was still there to rename
    assert target.read_bytes() in (b"first", b"second")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX)]


def test_a_temporary_file_of_a_dead_writer_is_removed(tmp_path):
    stale = tmp_path / f".r.jpg.12345-deadbeef{atomic.TEMP_SUFFIX}"
    stale.write_bytes(b"half")
    atomic.write_bytes_atomic(tmp_path / "r.jpg", b"whole")
    assert not stale.exists()


def test_a_photo_another_run_is_saving_is_skipped_with_a_note(tmp_path, slow_write):
    start, finish = slow_write
    save_photo(tmp_path / "a.jpg")
    save_photo(tmp_path / "b.jpg")
    start(tmp_path / "a_colorized.jpg")
    items = plan_batch([tmp_path])
    summary = run_batch(items, sepia)
    finish()
    by_name = {item.source.name: item for item in summary.items}
    assert by_name["a.jpg"].status == "skipped"
    assert "another" in by_name["a.jpg"].reason
    assert by_name["b.jpg"].status == "done"


def test_a_result_another_run_finished_meanwhile_is_skipped_not_failed(tmp_path):
    save_photo(tmp_path / "a.jpg")

    def other_run_finishes_first(pixels, options, hints):
        (tmp_path / "a_colorized.jpg").write_bytes((tmp_path / "a.jpg").read_bytes())
        return sepia(pixels, options, hints)

    summary = run_batch(plan_batch([tmp_path]), other_run_finishes_first)
    assert summary.items[0].status == "skipped", summary.items[0].reason
    assert summary.failed == 0


# --- 10. stray bytes between JPEG markers ------------------------------------------------------


@pytest.mark.parametrize("junk", [b"\x00", b"\x00\x01\x02\x03junk", b"\xfe\xfe"])
def test_a_jpeg_with_stray_bytes_between_markers_is_read(tmp_path, junk):
    buffer = io.BytesIO()
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))).save(buffer, "JPEG")
    data = buffer.getvalue()
    at = data.index(b"\xff\xdb")  # before the quantisation table, after the JFIF segment
    path = tmp_path / "junk.jpg"
    path.write_bytes(data[:at] + junk + data[at:])
    with Image.open(path) as im:
        im.load()  # Pillow decodes all of it, so must we
        expected = np.asarray(im)
    pixels = read_image(path).pixels
    assert pixels.shape == expected.shape
    assert np.abs(pixels.astype(int) - expected).max() <= 2


def test_a_cut_jpeg_is_still_called_truncated(tmp_path):
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[:-2000])
    with pytest.raises(ImageReadError, match="cut.jpg is truncated"):
        read_image(path)


# --- smaller, same pass ------------------------------------------------------------------------


def test_log_lines_carry_no_traceback_unless_verbose():
    import logging

    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "Could not %s", ("do it",),
                                   sys.exc_info())  # fmt: skip
    assert "Traceback" not in cli._Formatter(verbose=False).format(record)
    assert "Traceback" in cli._Formatter(verbose=True).format(record)


def test_a_damaged_exif_block_is_dropped_with_a_warning_naming_the_file(tmp_path, monkeypatch,
                                                                       caplog):  # fmt: skip
    from colorize_app.core import metadata

    exif = Image.Exif()
    exif[0x010F] = "Camera"
    path = save_photo(tmp_path / "exif.jpg", exif=exif.tobytes())

    def damaged(block):
        raise ValueError("damaged")

    monkeypatch.setattr(metadata, "reset_orientation", damaged)
    assert read_image(path).exif is None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and all("exif.jpg" in message for message in warnings)
    # and a block too short to hold a TIFF header is no reason for a warning at all
    monkeypatch.undo()
    assert metadata.reset_orientation(b"Exif\x00\x00II*") == b"Exif\x00\x00II*"


def test_a_probe_left_by_a_killed_run_is_removed(tmp_path):
    left = tmp_path / f"{atomic.PROBE_PREFIX}999-0badf00d{atomic.TEMP_SUFFIX}"
    left.write_bytes(b"")
    atomic.probe_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_fails_the_photos_before_any_is_coloured(tmp_path, monkeypatch):
    save_photo(tmp_path / "a.jpg")
    monkeypatch.setattr(atomic, "free_bytes", lambda folder: 10)
    monkeypatch.setattr(batch, "free_bytes", lambda folder: 10)
    items = plan_batch([tmp_path])
    batch.check_output_folders(items)
    assert items[0].status == "failed" and "disk space" in items[0].reason


def test_an_unreadable_sub_folder_is_a_failure_naming_it(tmp_path, monkeypatch):
    save_photo(tmp_path / "a.jpg")
    save_photo(tmp_path / "locked" / "b.jpg")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = plan_batch([tmp_path], recursive=True)
    failed = [item for item in items if item.status == "failed"]
    assert len(failed) == 1 and "locked" in failed[0].reason and "permission" in failed[0].reason.lower()
    assert [item.source.name for item in items if item.status == "waiting"] == ["a.jpg"]


def test_a_device_as_weights_is_not_called_a_folder():
    with pytest.raises(WeightsError, match="not a regular file"):
        weights.load_model("/dev/zero")


def test_an_empty_file_where_the_result_goes_is_redone(tmp_path):
    save_photo(tmp_path / "a.jpg")
    (tmp_path / "a_colorized.jpg").write_bytes(b"")
    summary = run_batch(plan_batch([tmp_path]), sepia)
    assert summary.done == 1
    with Image.open(tmp_path / "a_colorized.jpg") as result:
        assert result.size == (64, 48)


def test_a_folder_where_the_result_goes_is_a_failure_not_already_colorized(tmp_path):
    save_photo(tmp_path / "a.jpg")
    (tmp_path / "a_colorized.jpg").mkdir()
    (item,) = plan_batch([tmp_path])
    assert item.status == "failed" and "folder" in item.reason


def test_a_multi_page_file_says_only_the_first_page_is_used(tmp_path, caplog):
    path = tmp_path / "pages.tif"
    pages = [Image.new("L", (20, 10), v) for v in (0, 128, 255)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    assert read_image(path).pixels.shape == (10, 20)
    assert any("3 images" in r.getMessage() and "pages.tif" in r.getMessage() for r in caplog.records)


def test_c_libraries_warnings_do_not_reach_the_terminal_unless_verbose(tmp_path, tiny_weights):
    buffer = io.BytesIO()
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))).save(buffer, "JPEG")
    data = buffer.getvalue()
    at = data.index(b"\xff\xdb")
    (tmp_path / "junk.jpg").write_bytes(data[:at] + b"\x00junk" + data[at:])  # libjpeg warns
    command = cli_command(tmp_path, "--weights", tiny_weights, "--render-size", 32)
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "Corrupt JPEG" not in quiet.stderr
    loud = subprocess.run([*command, "--overwrite", "-v"], capture_output=True, text=True, timeout=120)
    assert "INFO: Corrupt JPEG data" in loud.stderr
