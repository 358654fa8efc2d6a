"""Which hints a photo is colorized with: its job's own, else its hints file's; damaged files noted.
A photo's hints are its job's alone: the options of a batch carry none, and no photo's hints reach
another's."""

from __future__ import annotations

import dataclasses

import numpy as np
from photos import digest, save_photo

from colorize_app.core.batch import BatchItem, plan_batch, run_batch
from colorize_app.core.hints import Hint
from colorize_app.core.job import Job, JobOptions, run_job
from colorize_app.core.sidecar import sidecar_path, write_hints
from colorize_app.core.vocabulary import Status

RED, BLUE, GREEN = Hint(0.1, 0.1, "#c0392b"), Hint(0.9, 0.9, "#2e86c1"), Hint(0.5, 0.5, "#27ae60")


def _heard(job):
    given = []

    def predict(pixels, options, hints):
        given.append(hints)
        return np.zeros((4, 4, 2), np.float32)

    result = run_job(job, predict)
    return result, given[0]


def test_a_jobs_own_hints_win_over_the_photos_file(tmp_path):
    photo = save_photo(tmp_path / "a.png")
    write_hints(photo, [GREEN])
    assert _heard(Job(photo))[1] == (GREEN,)
    assert _heard(Job(photo, hints=(RED,)))[1] == (RED,)
    assert _heard(Job(photo, hints=()))[1] == ()  # the window's "no hints" is no hints
    assert _heard(Job(photo, options=JobOptions(sidecars=False)))[1] == ()


def test_the_result_tells_the_hints_its_job_ran_with(tmp_path):
    photo = save_photo(tmp_path / "a.png")
    write_hints(photo, [GREEN])
    result, _ = _heard(Job(photo))
    assert result.job.hints == (GREEN,) and result.job.source == photo


def test_the_options_of_a_batch_carry_no_hints():
    assert "hints" not in {f.name for f in dataclasses.fields(JobOptions)}


def test_a_damaged_file_means_no_hints_a_note_naming_it_and_the_file_untouched(tmp_path):
    photo = save_photo(tmp_path / "a.png")
    sidecar_path(photo).write_text("{not json")
    before = digest(sidecar_path(photo))
    result, given = _heard(Job(photo))
    assert result.status == Status.DONE and given == ()
    assert str(sidecar_path(photo)) in result.note and "without hints" in result.note
    assert digest(sidecar_path(photo)) == before


def _batch(paths, **kwargs):
    given = {}

    def predict(pixels, options, hints):
        given[len(given)] = hints
        return np.zeros((4, 4, 2), np.float32)

    summary = run_batch(plan_batch(paths, **kwargs), predict, **kwargs)
    return summary, [given[i] for i in sorted(given)]


def test_a_photos_hints_are_not_seen_by_the_next_photo_of_the_batch(tmp_path):
    first, second, third = (save_photo(tmp_path / f"{n}.png") for n in ("1", "2", "3"))
    write_hints(second, [RED])
    summary, given = _batch([tmp_path])
    assert given == [(), (RED,), ()]
    assert summary.done == 3 and summary.hinted == 1


def test_hints_given_for_the_batch_go_to_every_photos_job_instead_of_their_files(tmp_path):
    photos = [save_photo(tmp_path / f"{n}.png") for n in ("1", "2")]
    write_hints(photos[0], [RED])
    summary, given = _batch([tmp_path], hints=(BLUE,))
    assert given == [(BLUE,), (BLUE,)]
    assert summary.hinted == 2


def test_only_photos_done_with_hints_count_as_hinted(tmp_path):
    photo = save_photo(tmp_path / "a.png")
    write_hints(photo, [RED])
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a_c.png").mkdir()  # a folder where its result would go: it fails

    def predict(pixels, options, hints):
        return np.zeros((4, 4, 2), np.float32)

    summary = run_batch([BatchItem(photo, tmp_path / "locked" / "a_c.png")], predict)
    assert summary.failed == 1 and summary.hinted == 0
