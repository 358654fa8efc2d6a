"""One notion of "up to date": a result saved with other hints, settings or model, or whose
original changed since, is named and kept, and redone with --update; results made before records
existed count as current, said once."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from photos import digest, opened, save_photo

from colorize_app import cli
from colorize_app.core.batch import plan_batch
from colorize_app.core.freshness import Freshness, judge
from colorize_app.core.hints import Hint
from colorize_app.core.job import Job, JobOptions, existing_result, wanted_recipe
from colorize_app.core.provenance import RecordState, read_provenance
from colorize_app.core.sidecar import write_hints
from colorize_app.core.vocabulary import Status


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_newcomers_hint_is_not_silently_lost(tmp_path, tiny_weights, capsys):
    """The issue's scenario: colour a photo, place a hint afterwards (the window writes the hints
    file), run colorize again. It used to skip the photo as done; now it names it out of date,
    keeps the result the person may like, and --update redoes it with the hint."""
    photo = save_photo(tmp_path / "grandma.jpg", size=(60, 80))
    result = tmp_path / "grandma_colorized.jpg"
    common = ("--weights", tiny_weights, "--render-size", 64)
    assert run(capsys, photo, *common)[0] == 0
    first = digest(result)
    write_hints(photo, [Hint(0.3, 0.2, "#3b7dd8")])  # the sky, blue

    status, out, _ = run(capsys, photo, *common)
    assert status == 0
    assert "out of date: saved with other hints (grandma_colorized.jpg)" in out
    assert ("1 out of date (saved with other hints, settings or model, or their original changed "
            "since): --update redoes them.") in out
    assert digest(result) == first  # never replaced unasked

    status, out, _ = run(capsys, photo, *common, "--update")
    assert status == 0 and "Colorized 1, skipped 0, failed 0." in out
    assert digest(result) != first
    assert read_provenance(result)[1].hints_count == 1

    status, out, _ = run(capsys, photo, *common)
    assert "skipped 1" in out and "already colorized (grandma_colorized.jpg exists)" in out
    assert "out of date" not in out


def test_other_settings_or_another_model_make_a_result_out_of_date(tmp_path, tiny_weights, capsys):
    photo = save_photo(tmp_path / "p.png")
    assert run(capsys, photo, "--weights", tiny_weights, "--render-size", 64)[0] == 0
    _, out, _ = run(capsys, photo, "--weights", tiny_weights, "--render-size", 64, "--saturation", 0.5)
    assert "out of date: saved with other settings" in out
    other = tmp_path / "other.safetensors"
    shutil.copy(tiny_weights, other)
    with open(other, "ab") as fh:  # a different file, whatever it holds
        fh.write(b" ")
    _, out, _ = run(capsys, photo, "--weights", other, "--render-size", 64, "--saturation", 0.5)
    assert "out of date: saved with other settings and model" in out


def test_results_without_a_record_count_as_current_and_it_is_said_once(tmp_path, tiny_weights, capsys):
    for name in ("a", "b"):
        save_photo(tmp_path / f"{name}.jpg")
        save_photo(tmp_path / f"{name}_colorized.jpg")  # made by an older Colorize: no record
    write_hints(tmp_path / "a.jpg", [Hint(0.5, 0.5, "#ff0000")])
    status, out, _ = run(capsys, tmp_path, "--weights", tiny_weights, "--update")
    assert status == 0 and "Colorized 0, skipped 2, failed 0." in out
    assert out.count("made before Colorize recorded how results are made") == 1
    assert "2 made before Colorize recorded" in out


def test_the_rule_is_the_same_for_the_plan_and_the_job(tmp_path):
    photo = save_photo(tmp_path / "p.png")
    options = JobOptions(render_size=64)
    from test_provenance import warm

    from colorize_app.core.job import run_job

    assert run_job(Job(photo, tmp_path / "p_colorized.png", options), warm).status == Status.DONE
    later = JobOptions(render_size=96)
    [item] = plan_batch([photo], options=later)
    assert item.status == Status.SKIPPED and item.skip == Freshness.OUT_OF_DATE.value
    [item] = plan_batch([photo], options=JobOptions(render_size=96, update=True))
    assert item.status == Status.WAITING
    assert existing_result(Job(photo, item.output, later)).differences == ("settings",)
    assert existing_result(Job(photo, item.output, options)).freshness is Freshness.CURRENT


def test_a_damaged_record_counts_as_current_and_is_never_replaced(tmp_path):
    from PIL import Image, PngImagePlugin

    from colorize_app.core.provenance import NAMESPACE

    photo = save_photo(tmp_path / "p.png")
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", f"<x {NAMESPACE} broken", zip=False)
    Image.open(photo).save(tmp_path / "p_colorized.png", pnginfo=info)
    job = Job(photo, tmp_path / "p_colorized.png", JobOptions(update=True))
    assert read_provenance(job.output)[0] is RecordState.UNKNOWN
    assert judge(job.output, wanted_recipe(job)).freshness is Freshness.UNKNOWN
    [item] = plan_batch([photo], options=job.options)
    assert item.status == Status.SKIPPED and "damaged or from a newer Colorize" in item.reason


@pytest.mark.timeout(300)
def test_ray_uses_the_same_rule(tmp_path, tiny_weights, capsys):
    ray = pytest.importorskip("ray", reason="the archive extra (ray[data]) is not installed")
    photo = save_photo(tmp_path / "photos" / "p.jpg")
    common = ("--weights", tiny_weights, "--render-size", 64, "--engine", "ray", "--workers", 1)
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        assert run(capsys, photo, *common)[0] == 0
        first = digest(photo.with_name("p_colorized.jpg"))
        write_hints(photo, [Hint(0.5, 0.5, "#2e8b57")])
        _, out, _ = run(capsys, photo, *common)
        assert "out of date: saved with other hints" in out
        assert digest(photo.with_name("p_colorized.jpg")) == first
        _, out, _ = run(capsys, photo, *common, "--update")
        assert "Colorized 1, skipped 0, failed 0." in out
        assert read_provenance(photo.with_name("p_colorized.jpg"))[1].hints_count == 1
        given = write_hints(tmp_path / "given.png", [Hint(0.2, 0.2, "#c0392b"), Hint(0.8, 0.8, "#2e86c1")])
        _, out, _ = run(capsys, photo, *common, "--update", "--hints", given)  # every photo's job's
        assert "Colorized 1, skipped 0, failed 0." in out
        assert read_provenance(photo.with_name("p_colorized.jpg"))[1].hints_count == 2
        save_photo(photo, size=(90, 120))  # rescanned: the workers compare the original too
        _, out, _ = run(capsys, photo, *common, "--hints", given)
        assert "out of date: its original has changed since it was made" in out
        _, out, _ = run(capsys, photo, *common, "--update", "--hints", given)
        assert "Colorized 1, skipped 0, failed 0." in out
    finally:
        ray.shutdown()


def _retime(path, seconds: float) -> None:
    """Move ``path``'s modification time by ``seconds``, its bytes untouched."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + round(seconds * 1e9)))


def test_a_rescanned_original_makes_its_result_out_of_date(tmp_path, tiny_weights, capsys):
    """The archivist rescans a damaged negative over the old scan: a plain run names the result
    out of date and keeps it; --update redoes it from the new scan."""
    photo = save_photo(tmp_path / "negative.jpg", size=(60, 80))
    result = tmp_path / "negative_colorized.jpg"
    common = ("--weights", tiny_weights, "--render-size", 64)
    assert run(capsys, photo, *common)[0] == 0
    first, size = digest(result), photo.stat().st_size
    save_photo(photo, size=(90, 120))  # the rescan, at a higher resolution
    assert photo.stat().st_size != size

    status, out, _ = run(capsys, photo, *common)
    assert status == 0 and "Colorized 0, skipped 1, failed 0." in out
    assert "out of date: its original has changed since it was made (negative_colorized.jpg)" in out
    assert "--update redoes them" in out
    assert digest(result) == first  # never replaced unasked

    status, out, _ = run(capsys, photo, *common, "--update")
    assert status == 0 and "Colorized 1, skipped 0, failed 0." in out
    assert digest(result) != first
    assert read_provenance(result)[1].original_sha256 == digest(photo)
    _, out, _ = run(capsys, photo, *common)
    assert "already colorized (negative_colorized.jpg exists)" in out


def test_a_same_size_retouch_is_caught_and_a_copy_with_new_times_is_not(tmp_path, tiny_weights, capsys):
    """An uncompressed TIFF keeps its size whatever its pixels: a retouch shows only in its time,
    which a copy that did not keep times changes too. The bytes decide."""
    from PIL import Image

    photo = tmp_path / "plate.tif"
    pixels = np.asarray(Image.open(save_photo(tmp_path / "plate.png", size=(60, 80))))
    Image.fromarray(pixels).save(photo)  # uncompressed
    result = tmp_path / "plate_colorized.tif"
    common = ("--weights", tiny_weights, "--render-size", 64)
    assert run(capsys, photo, *common)[0] == 0
    first, size = digest(result), photo.stat().st_size

    _retime(photo, 3600)  # copied to a new disk without its times: the same bytes
    status, out, _ = run(capsys, photo, *common, "--update")
    assert status == 0 and "Colorized 0, skipped 1, failed 0." in out
    assert "already colorized (plate_colorized.tif exists)" in out and "out of date" not in out

    retouched = pixels.copy()
    retouched[10:20, 10:30] = pixels[40:50, 40:60]  # a scratch cloned out
    Image.fromarray(retouched).save(photo)
    _retime(photo, 7)
    assert photo.stat().st_size == size
    _, out, _ = run(capsys, photo, *common)
    assert "out of date: its original has changed since it was made (plate_colorized.tif)" in out
    assert digest(result) == first
    _, out, _ = run(capsys, photo, *common, "--update")
    assert "Colorized 1, skipped 0, failed 0." in out and digest(result) != first


def test_a_record_without_the_originals_size_does_not_compare_it(tmp_path, tiny_weights, capsys, monkeypatch):
    """Results recorded before Colorize wrote the original's size and time (an older Colorize)
    keep counting as current when their original changes; those recorded since do not."""
    from colorize_app.core import job

    common = ("--weights", tiny_weights, "--render-size", 64)
    old, new = save_photo(tmp_path / "old.png"), save_photo(tmp_path / "new.png")
    with monkeypatch.context() as older:
        # the record as Colorize wrote it before it recorded the original's size and time
        older.setattr(job, "stamp_of", lambda _path: None, raising=False)
        assert run(capsys, old, *common)[0] == 0
    assert run(capsys, new, *common)[0] == 0
    for photo in (old, new):
        save_photo(photo, size=(90, 120))  # both rescanned

    _, out, _ = run(capsys, tmp_path, *common)
    assert "already colorized (old_colorized.png exists)" in out
    assert "out of date: its original has changed since it was made (new_colorized.png)" in out
    _, out, _ = run(capsys, tmp_path, *common, "--update")
    assert "Colorized 1, skipped 1, failed 0." in out
    assert b"OriginalBytes" not in opened(tmp_path / "old_colorized.png").info["xmp"]


def test_a_film_replaced_by_another_of_its_name_is_out_of_date(tmp_path, tiny_model):
    """A film records its size and time (not a digest of its gigabytes): another film in its
    place makes the result out of date; a film only touched does not."""
    import films
    from test_film_hints import _predict

    from colorize_app.core.film import run_film_job

    source = films.make_film(tmp_path / "reel.mp4", films.frames(4), audio=None)
    job = Job(source, tmp_path / "reel_colorized.mp4", JobOptions(render_size=64))
    assert run_film_job(job, _predict(tiny_model)).status == Status.DONE
    _retime(source, 60)
    assert run_film_job(job, _predict(tiny_model)).reason == "already colorized (reel_colorized.mp4 exists)"

    films.make_film(source, films.frames(6), audio=None)  # the reel telecined again, longer
    stale = run_film_job(job, _predict(tiny_model))
    assert stale.status == Status.SKIPPED and stale.skip == Freshness.OUT_OF_DATE.value
    assert stale.reason == "out of date: its original has changed since it was made (reel_colorized.mp4)"
    updating = Job(source, job.output, JobOptions(render_size=64, update=True))
    assert run_film_job(updating, _predict(tiny_model)).status == Status.DONE
    assert existing_result(job).freshness is Freshness.CURRENT


def test_the_sentence_names_the_original_beside_the_recipe():
    from colorize_app.core.freshness import Judgement

    both = Judgement(Freshness.OUT_OF_DATE, ("hints", "settings", "original"))
    assert both.sentence() == "out of date: saved with other hints and settings, and its original has changed since"


def test_a_touched_original_is_read_once_while_its_size_and_times_stay(tmp_path, monkeypatch):
    """Opening a folder in the window, then Colorize All (or the command line's plan, then each
    job) asks about the same original in turn: one whose times changed (bytes the same) was read
    in full each time. It is read once, and again only when it changes."""
    from test_provenance import warm

    from colorize_app.core import freshness
    from colorize_app.core.finder import find
    from colorize_app.core.job import run_job, skip_reason

    photo, options = save_photo(tmp_path / "scan.jpg"), JobOptions(render_size=64)
    result = tmp_path / "scan_colorized.jpg"
    assert run_job(Job(photo, result, options), warm).status == Status.DONE
    read, real = [], freshness._digest
    monkeypatch.setattr(freshness, "_digest", lambda path, size: read.append(path) or real(path, size))
    _retime(photo, 3600)  # copied to a new disk without its times: the same bytes

    [found] = find([tmp_path])  # the window opens the folder
    assert [i.status for i in found.items] == [Status.SKIPPED] and not found.changed
    assert skip_reason(Job(photo, result, options))[1] == Freshness.CURRENT.value  # Colorize All
    assert len(read) == 1

    retouched = bytearray(photo.read_bytes())  # a same-size retouch
    retouched[-10] ^= 1
    photo.write_bytes(bytes(retouched))
    _retime(photo, 7)
    update = JobOptions(render_size=64, update=True)
    [item] = plan_batch([photo], options=update)
    assert item.status == Status.WAITING  # out of date: --update redoes it
    assert skip_reason(Job(photo, result, update)) is None  # its job, as run_batch runs it
    assert len(read) == 2
