"""Planning and running batches: the files a user expects, in order, and one bad file costs one."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from photos import digest, gradient, make_unwritable, opened, save_photo, sepia_print
from PIL import Image

from colorize_app.core import job as job_module
from colorize_app.core.batch import (
    BatchItem,
    is_own_output,
    output_path_for,
    photos_in_subfolders,
    plan_batch,
    run_batch,
)
from colorize_app.core.errors import Cancelled, ColorizeError, ImageReadError
from colorize_app.core.job import Job, JobOptions, run_job
from colorize_app.core.vocabulary import Status


def sepia(pixels, options, hints):
    """A stand-in network: the same warm (a, b) everywhere, at a small size, like predict_chroma."""
    return np.full((4, 4, 2), (12.0, 30.0), np.float32)


def names(items):
    return [item.source.name for item in items]


# --- naming --------------------------------------------------------------------------------


def test_output_goes_next_to_the_original_with_the_suffix(tmp_path):
    assert output_path_for(tmp_path / "a" / "cat.JPG") == tmp_path / "a" / "cat_colorized.JPG"
    assert output_path_for(tmp_path / "cat.png", suffix="-colour").name == "cat-colour.png"


def test_output_folder_keeps_the_sub_folders(tmp_path):
    source = tmp_path / "album" / "1950s" / "beach.tif"
    out = output_path_for(source, output_dir=tmp_path / "out", relative_to=tmp_path / "album")
    assert out == tmp_path / "out" / "1950s" / "beach_colorized.tif"
    assert (
        output_path_for(source, output_dir=tmp_path / "out")
        == tmp_path / "out" / "beach_colorized.tif"
    )


def test_own_outputs_are_recognised():
    assert is_own_output("cat_colorized.jpg")
    assert is_own_output("cat-c.jpg", suffix="-c")
    assert not is_own_output("cat.jpg")
    assert not is_own_output("cat_colorized_edit.jpg")
    assert not is_own_output("cat.jpg", suffix="")


# --- planning ------------------------------------------------------------------------------


@pytest.fixture
def album(tmp_path):
    root = tmp_path / "album"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden_dir").mkdir()
    for name in ["img10.jpg", "img2.JPG", "img1.png", "Scan.TIFF", "old.webp", "pic.bmp",
                 "sub/b.jpeg", "sub/deeper/c.png", ".hidden_dir/d.jpg"]:  # fmt: skip
        save_photo(root / name)
    save_photo(root / "img1_colorized.png")
    save_photo(root / ".hidden.jpg")
    (root / "notes.txt").write_text("not a photo")
    (root / "anim.gif").write_bytes(b"GIF89a")
    return root


def test_plan_a_folder_in_natural_order_ignoring_outputs_hidden_and_other_files(album):
    items = plan_batch([album])
    assert names(items) == ["img1.png", "img2.JPG", "img10.jpg", "old.webp", "pic.bmp", "Scan.TIFF"]
    assert [item.status for item in items] == ["skipped"] + ["waiting"] * 5  # img1 has a result
    assert items[1].output == album / "img2_colorized.JPG"


def test_plan_recursively_keeps_sub_folders_in_the_output_folder(album, tmp_path):
    items = plan_batch([album], recursive=True, output_dir=tmp_path / "out")
    by_name = {item.source.name: item.output for item in items}
    assert set(by_name) == {"img1.png", "img2.JPG", "img10.jpg", "old.webp", "pic.bmp",
                            "Scan.TIFF", "b.jpeg", "c.png"}  # fmt: skip
    assert by_name["c.png"] == tmp_path / "out" / "sub" / "deeper" / "c_colorized.png"
    assert by_name["img1.png"] == tmp_path / "out" / "img1_colorized.png"


def test_output_folder_inside_the_album_is_not_planned_again(album):
    out = album / "colour"
    save_photo(out / "img1_colorized.png")
    items = plan_batch([album], recursive=True, output_dir=out, suffix="")
    assert all(out not in item.source.parents for item in items)


def test_mixed_files_and_folders_without_repeats(album):
    items = plan_batch([album / "sub" / "b.jpeg", album, album / "img2.JPG"])
    assert names(items)[0] == "b.jpeg"
    assert names(items).count("img2.JPG") == 1


def test_explicit_unusable_files_are_listed_as_skipped_with_a_reason(album):
    items = plan_batch([album / "notes.txt", album / "img1_colorized.png"])
    assert [item.status for item in items] == ["skipped", "skipped"]
    assert "JPEG, PNG" in items[0].reason
    assert "already a Colorize result" in items[1].reason


def test_existing_output_is_skipped_unless_overwrite(album):
    item = next(i for i in plan_batch([album]) if i.source.name == "img1.png")
    assert item.status == "skipped" and "already colorized" in item.reason
    item = next(i for i in plan_batch([album], overwrite=True) if i.source.name == "img1.png")
    assert item.status == "waiting"


def test_two_sources_with_the_same_output_name(tmp_path):
    save_photo(tmp_path / "a" / "x.jpg")
    save_photo(tmp_path / "b" / "x.jpg")
    items = plan_batch([tmp_path / "a", tmp_path / "b"], output_dir=tmp_path / "out")
    assert [item.status for item in items] == ["waiting", "failed"]
    assert "same name" in items[1].reason


def test_a_result_never_replaces_another_original_of_the_batch(tmp_path):
    # No suffix, results beside the originals as PNG: a.jpg's result would be a.png, which is
    # another photo of the album; with overwrite it was written over, without it "already done".
    save_photo(tmp_path / "a.jpg")
    other = save_photo(tmp_path / "a.png", colour=True)
    before = digest(other)
    for overwrite in (False, True):
        options = JobOptions(overwrite=overwrite, format="PNG")
        items = plan_batch([tmp_path], suffix="", output_dir=tmp_path, format="PNG",
                           overwrite=overwrite, options=options)  # fmt: skip
        first = items[0]
        assert (first.source.name, first.status) == ("a.jpg", "failed")
        assert "replace the original a.png" in first.reason
        run_batch(items, sepia, options)
        assert digest(other) == before


def test_missing_path_is_an_error_naming_it(tmp_path):
    with pytest.raises(ImageReadError, match="nowhere.jpg does not exist"):
        plan_batch([tmp_path / "nowhere.jpg"])


def test_empty_suffix_needs_an_output_folder(tmp_path):
    with pytest.raises(ColorizeError, match="replace the originals"):
        plan_batch([tmp_path], suffix="")


# --- running -------------------------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = save_photo(folder / "a_good.jpg", size=(120, 160))
    save_photo(folder / "b_good.png")
    data = good.read_bytes()
    (folder / "c_truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "d_empty.jpg").write_bytes(b"")
    (folder / "e_text.png").write_text("definitely not a PNG")
    (folder / "f_garbage.tif").write_bytes(bytes(range(256)) * 40)
    save_photo(folder / "g_good.webp")
    return folder


def test_bad_files_fail_with_reasons_and_the_rest_completes(mixed_folder):
    before = {p.name: digest(p) for p in mixed_folder.iterdir()}
    seen = []
    items = plan_batch([mixed_folder])
    summary = run_batch(items, sepia, on_item=seen.append)
    status = {item.source.name: item.status for item in summary.items}
    assert status == {"a_good.jpg": "done", "b_good.png": "done", "c_truncated.jpg": "failed",
                      "d_empty.jpg": "failed", "e_text.png": "failed", "f_garbage.tif": "failed",
                      "g_good.webp": "done"}  # fmt: skip
    assert (summary.done, summary.failed, summary.skipped) == (3, 4, 0)
    for item in summary.failures:
        assert item.source.name in item.reason
    assert "empty" in next(i for i in summary.failures if i.source.name == "d_empty.jpg").reason
    assert len(seen) == len(items)
    for item in items:
        assert item.output.exists() == (item.status == "done")
    assert {p.name: digest(p) for p in mixed_folder.iterdir() if p.name in before} == before


def test_re_run_skips_what_is_done_and_finishes_the_rest(mixed_folder):
    first = run_batch(plan_batch([mixed_folder]), sepia)
    lost = next(item.output for item in first.items if item.status == "done")
    lost.unlink()
    again = run_batch(plan_batch([mixed_folder]), sepia)
    assert again.done == 1 and again.skipped == 2 and again.failed == 4
    assert lost.exists()


def test_an_unexpected_error_costs_only_that_photo(tmp_path):
    for name in ["1.png", "2.png", "3.png"]:
        save_photo(tmp_path / name)

    def flaky(pixels, options, hints):
        flaky.calls += 1
        if flaky.calls == 2:
            raise RuntimeError("boom")
        return sepia(pixels, options, hints)

    flaky.calls = 0
    summary = run_batch(plan_batch([tmp_path]), flaky)
    assert [item.status for item in summary.items] == ["done", "failed", "done"]
    assert "boom" in summary.items[1].reason


def test_cancelling_stops_between_photos_and_leaves_the_rest_waiting(tmp_path):
    for name in ["1.png", "2.png", "3.png", "4.png"]:
        save_photo(tmp_path / name)
    done = []
    summary = run_batch(plan_batch([tmp_path]), sepia, on_item=done.append,
                        is_cancelled=lambda: len(done) >= 2)  # fmt: skip
    assert summary.cancelled
    assert [item.status for item in summary.items] == ["done", "done", "waiting", "waiting"]
    assert not summary.items[2].output.exists()


def test_cancel_raised_inside_a_photo_writes_nothing(tmp_path):
    for name in ["1.png", "2.png"]:
        save_photo(tmp_path / name)

    def cancelled_midway(pixels, options, hints):
        raise Cancelled("Cancelled.")

    summary = run_batch(plan_batch([tmp_path]), cancelled_midway)
    assert summary.cancelled and summary.done == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.png", "2.png"]


def test_next_photo_is_decoded_and_predicted_while_the_current_one_is_saved(tmp_path, monkeypatch):
    for name in ["1.png", "2.png", "3.png"]:
        save_photo(tmp_path / name)
    predicting = [threading.Event() for _ in range(3)]
    calls = []

    def predict(pixels, options, hints):
        predicting[len(calls)].set()
        calls.append(threading.current_thread().name)
        return sepia(pixels, options, hints)

    real_write = job_module.write_image
    overlapped = []

    def spy_write(path, pixels, **kwargs):
        following = len(overlapped) + 1
        if following < 3:  # wait (bounded) for the next photo's network while this one is saved
            overlapped.append(predicting[following].wait(10))
        return real_write(path, pixels, **kwargs)

    monkeypatch.setattr(job_module, "write_image", spy_write)
    summary = run_batch(plan_batch([tmp_path]), predict)
    assert overlapped == [True, True]
    assert summary.done == 3 and len(calls) == 3  # each photo predicted once


def test_hints_saved_after_the_photo_was_predicted_ahead_are_not_lost(tmp_path):
    from colorize_app.core.batch import BatchRunner
    from colorize_app.core.hints import Hint
    from colorize_app.core.sidecar import write_hints

    photo = tmp_path / "1.png"
    save_photo(photo)
    hint = Hint(0.5, 0.5, "#c81e1e")
    seen, predicted = [], threading.Event()

    def predict(pixels, options, hints):
        seen.append(tuple(hints))
        predicted.set()
        return sepia(pixels, options, hints)

    job = Job(photo, tmp_path / "1_colorized.png", JobOptions())
    with BatchRunner(predict) as runner:
        runner.prefetch([job])  # predicted ahead, without hints
        assert predicted.wait(10)
        write_hints(photo, [hint])  # the user adds a hint while the photo waits its turn
        result = runner.run(job)
    assert result.status == Status.DONE
    assert seen == [(), (hint,)]


def test_unwritable_output_folder_fails_each_photo_with_a_clear_reason(tmp_path, monkeypatch):
    save_photo(tmp_path / "in" / "1.png")
    locked = tmp_path / "locked"
    make_unwritable(locked, monkeypatch)
    summary = run_batch(plan_batch([tmp_path / "in"], output_dir=locked), sepia)
    assert summary.failed == 1
    assert "permission denied" in summary.items[0].reason
    assert str(locked) in summary.items[0].reason


# --- the single-file job, with the real network (a tiny model) -----------------------------


def test_a_job_keeps_size_alpha_bit_depth_and_orientation(tmp_path, tiny_weights):
    from colorize_app.core.engine import Engine

    exif = Image.Exif()
    exif[0x0112] = 6
    save_photo(tmp_path / "portrait.jpg", size=(40, 70), mode="L", exif=exif.tobytes())
    Image.fromarray(np.dstack([sepia_print(), gradient(channels=4)[..., 3]])).save(tmp_path / "logo.png")
    cv2.imwrite(str(tmp_path / "scan16.png"), gradient(channels=1, dtype=np.uint16))
    predict, options = Engine(tiny_weights).predict, JobOptions(render_size=64)

    def run(source, output):
        result = run_job(Job(tmp_path / source, tmp_path / output, options), predict)
        assert result.status == Status.DONE, result.reason
        assert result.chroma.shape[2] == 2 and result.pixels is not None
        return result.output

    out = opened(run("portrait.jpg", "p_c.jpg"))
    assert out.size == (40, 70) and out.mode == "RGB"  # upright: 40 wide, 70 high
    out = np.asarray(opened(run("logo.png", "l_c.png")))
    np.testing.assert_array_equal(out[..., 3], gradient(channels=4)[..., 3])
    out = cv2.imread(str(run("scan16.png", "s_c.png")), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape == (48, 64, 3)


def test_a_job_never_writes_over_the_original(tmp_path):
    source = save_photo(tmp_path / "x.png")
    before = digest(source)
    result = run_job(Job(source, source, JobOptions(overwrite=True)), sepia)
    assert result.status == Status.FAILED and "original" in result.reason
    assert digest(source) == before


def test_a_job_with_an_existing_result_is_skipped_and_the_file_kept(tmp_path):
    source = save_photo(tmp_path / "a.png")
    (tmp_path / "a_c.png").write_bytes(b"from an earlier run")
    result = run_job(Job(source, tmp_path / "a_c.png"), sepia)
    assert result.status == Status.SKIPPED and "a_c.png" in result.reason
    assert (tmp_path / "a_c.png").read_bytes() == b"from an earlier run"


def test_a_job_that_cannot_save_keeps_its_colour_and_says_why(tmp_path, monkeypatch):
    source = save_photo(tmp_path / "a.png", size=(30, 40), mode="L")
    locked = tmp_path / "locked"
    make_unwritable(locked, monkeypatch)
    result = run_job(Job(source, locked / "a_c.png"), sepia)
    assert result.status == Status.FAILED and str(locked) in result.reason
    assert result.pixels.shape == (30, 40, 3)  # shown in the window; Save As can still write it
    assert result.pixels[..., 0].mean() > result.pixels[..., 2].mean()  # warm, as predicted


def test_a_cancelled_job_raises_and_writes_nothing(tmp_path):
    source = save_photo(tmp_path / "a.png", size=(300, 400))
    checks = []

    def cancel_while_composing():
        checks.append(1)
        return len(checks) > 3

    with pytest.raises(Cancelled):
        run_job(Job(source, tmp_path / "a_c.png"), sepia, is_cancelled=cancel_while_composing)
    assert len(checks) == 4  # it got as far as saving, and stopped there
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_item_progress_reaches_the_caller_and_ends_at_one(tmp_path):
    save_photo(tmp_path / "1.png")
    fractions = []
    run_batch([BatchItem(tmp_path / "1.png", tmp_path / "1_c.png")], sepia,
              on_progress=lambda item, f: fractions.append((item.source.name, f)))
    assert {name for name, _ in fractions} == {"1.png"}
    values = [f for _, f in fractions]
    assert values == sorted(values) and values[-1] == 1.0 and len(values) >= 3


def test_a_folder_tree_deeper_than_pythons_recursion_limit_is_planned(tmp_path):
    import os
    import sys

    save_photo(tmp_path / "top.jpg")
    levels = sys.getrecursionlimit() + 50  # os.walk of Python 3.11 recursed once per level
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(levels):  # relative to each folder: no path length limit in the way
        os.mkdir("d", dir_fd=fd)
        fd, parent = os.open("d", os.O_RDONLY, dir_fd=fd), fd
        os.close(parent)
    os.close(fd)
    deepest = tmp_path.joinpath(*["d"] * levels)
    save_photo(deepest / "bottom.jpg")
    try:
        items = plan_batch([tmp_path], recursive=True)
        assert sorted(item.source.name for item in items) == ["bottom.jpg", "top.jpg"]
        assert photos_in_subfolders([tmp_path]) == 1
    finally:  # shutil.rmtree recurses too
        (deepest / "bottom.jpg").unlink()
        for level in range(levels, 0, -1):
            tmp_path.joinpath(*["d"] * level).rmdir()
