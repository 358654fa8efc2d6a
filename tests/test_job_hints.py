"""Which hints a job uses: its own, then the options', then the photo's file; damaged files noted."""

from __future__ import annotations

import numpy as np
from photos import digest, save_photo

from colorize_app.core.hints import Hint
from colorize_app.core.job import Job, JobOptions, run_job
from colorize_app.core.sidecar import sidecar_path, write_hints
from colorize_app.core.vocabulary import Status

RED, BLUE, GREEN = Hint(0.1, 0.1, "#c0392b"), Hint(0.9, 0.9, "#2e86c1"), Hint(0.5, 0.5, "#27ae60")


def _heard(job):
    given = []

    def predict(pixels, options):
        given.append(options.hints)
        return np.zeros((4, 4, 2), np.float32)

    result = run_job(job, predict)
    return result, given[0]


def test_explicit_hints_win_over_the_options_and_the_photos_file(tmp_path):
    photo = save_photo(tmp_path / "a.png")
    write_hints(photo, [GREEN])
    assert _heard(Job(photo))[1] == (GREEN,)
    assert _heard(Job(photo, options=JobOptions(hints=(BLUE,))))[1] == (BLUE,)
    assert _heard(Job(photo, options=JobOptions(hints=(BLUE,)), hints=(RED,)))[1] == (RED,)
    assert _heard(Job(photo, hints=()))[1] is None  # the window's "no hints" is no hints
    assert _heard(Job(photo, options=JobOptions(sidecars=False)))[1] is None


def test_a_damaged_file_means_no_hints_a_note_naming_it_and_the_file_untouched(tmp_path):
    photo = save_photo(tmp_path / "a.png")
    sidecar_path(photo).write_text("{not json")
    before = digest(sidecar_path(photo))
    result, given = _heard(Job(photo))
    assert result.status == Status.DONE and given is None
    assert str(sidecar_path(photo)) in result.note and "without hints" in result.note
    assert digest(sidecar_path(photo)) == before
