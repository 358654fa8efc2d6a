"""Hints on films: a hint placed on any frame colours its whole shot (the frames before it too),
follows the motion, stops at the cuts; the film's hints file keeps the frames; a resumed run keeps
the hints' plan and a change of hints starts afresh."""

from __future__ import annotations

import json

import films
import numpy as np
import pytest

from colorize_app.core import film
from colorize_app.core.errors import Cancelled
from colorize_app.core.hints import Hint
from colorize_app.core.job import Job, JobOptions
from colorize_app.core.shot_hints import plan_hints
from colorize_app.core.sidecar import HintsFileError, read_hints, sidecar_path, write_hints
from colorize_app.core.steady import SteadyColour, SteadyParams
from colorize_app.core.vocabulary import Status

pytest.importorskip("av")

RED = "#c0392b"


class Network:
    """Stands in for the network (one colour everywhere); records the hints of each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Hint, ...]] = []

    def __call__(self, gray: np.ndarray, hints) -> np.ndarray:
        self.calls.append(tuple(hints))
        return np.zeros((*gray.shape, 2), np.float32)


EVERY_FRAME = SteadyParams(keyframe_every=1, carry=0.8)  # the network sees (and records) each frame


def run_steady(pictures, hints, params=EVERY_FRAME) -> Network:
    network = Network()
    steady = SteadyColour(params, plan=plan_hints(tuple(hints), iter(pictures), params))
    for gray in pictures:
        steady.colour(gray, network)
    return network


def test_a_hint_placed_mid_shot_starts_on_the_shots_first_frame_and_ends_at_its_cut():
    pictures = films.frames(20, cut_at=8, step=3)  # the picture moves 3 pixels left a frame
    width = pictures[0].shape[1]
    placed = Hint(40 / width, 0.5, RED, frame=12)  # on the second shot's fifth frame
    early = Hint(60 / width, 0.4, "#2e86c1", frame=5)  # on the first shot's sixth frame
    calls = run_steady(pictures, [placed, early]).calls
    assert [[h.color for h in c] for c in calls[:8]] == [["#2e86c1"]] * 8  # the first shot: only its own
    assert all([h.color for h in c] == [RED] for c in calls[8:])  # the second: only its own
    xs = [c[0].x * width for c in calls[8:13]]
    # On the shot's first frame the spot was 4 frames x 3 pixels to the right; then it follows.
    assert xs[0] == pytest.approx(40 + 12, abs=1.5)
    assert np.allclose(np.diff(xs), -3, atol=0.75)
    assert calls[12][0] == placed  # where it was placed, on the frame it was placed on
    assert [c[0].x * width for c in calls[:6]][0] == pytest.approx(60 + 15, abs=1.5)


def test_a_spot_that_comes_into_view_mid_shot_is_hinted_from_when_it_came_in():
    pictures = films.frames(16, step=3)
    width = pictures[0].shape[1]
    # At x 80 on frame 15: out of view on the first frame (at 125 of 96), in view from frame 10
    calls = run_steady(pictures, [Hint(80 / width, 0.5, RED, frame=15)]).calls
    hinted = [i for i, c in enumerate(calls) if c]
    assert 9 <= hinted[0] <= 11 and hinted == list(range(hinted[0], 16))
    assert calls[hinted[0]][0].x * width > 90  # it starts at the edge it comes in by


def test_a_films_hints_file_keeps_the_frames_and_reads_photo_files_as_before(tmp_path):
    source = tmp_path / "reel.mp4"
    hints = [Hint(0.25, 0.5, RED, frame=120), Hint(0.75, 0.125, "#2e86c1")]
    write_hints(source, hints)
    document = json.loads(sidecar_path(source).read_text())
    assert document["version"] == 2 and document["points"][0]["frame"] == 120
    assert "frame" not in document["points"][1]
    assert read_hints(source) == hints
    write_hints(source, [Hint(0.25, 0.5, RED)])  # no frames (a photo's): version 1, as ever
    assert json.loads(sidecar_path(source).read_text())["version"] == 1
    assert read_hints(source) == [Hint(0.25, 0.5, RED)]


@pytest.mark.parametrize("frame", ["-1", "1.5", "true", '"12"', "1" + "0" * 12])
def test_a_malformed_frame_in_a_films_hints_file_is_a_sentence(tmp_path, frame):
    source = tmp_path / "reel.mp4"
    sidecar_path(source).write_text('{"format": "colorize-hints", "version": 2, "points": '
                                    f'[{{"x": 0.5, "y": 0.5, "color": "#c0392b", "frame": {frame}}}]}}')
    with pytest.raises(HintsFileError, match=r"reel.mp4.colorize.json: the hints file is damaged \(frame"):
        read_hints(source)


def _predict(model):
    from colorize_app.core.pipeline import predict_chroma

    def predict(pixels, options, hints):
        return predict_chroma(pixels, model, render_size=options.render_size, hints=list(hints) or None)

    return predict


def _hinted_spot(pictures, first: int, placed: int, step: int) -> tuple[int, int]:
    """(x, y) on frame ``placed`` of a flat mid-gray spot that is in view from frame ``first``
    (the scene pans ``step`` pixels a frame)."""
    shift = step * (placed - first)
    height, width = pictures[placed].shape
    for y in range(8, height - 8, 2):
        for x in range(8, width - 8 - shift):
            patch = pictures[placed][y - 3 : y + 4, x - 3 : x + 4].astype(float)
            if 70 < patch.mean() < 200 and np.ptp(patch) < 6:
                return x, y
    raise AssertionError("no flat spot in the test scene")


def _redness(picture, x: int, y: int, colour: str) -> float:
    from colorize_app.core.colour import rgb_to_lab

    ab = rgb_to_lab(picture[y - 2 : y + 3, x - 2 : x + 3]).reshape(-1, 3)[:, 1:].mean(0)
    return -float(np.linalg.norm(ab - np.asarray(Hint(0, 0, colour).ab)))


def test_a_hint_in_a_films_file_colours_its_shot_from_the_first_frame_and_not_the_other(tmp_path, hint_model):
    pictures = films.frames(34, cut_at=14, step=2)
    source = films.make_film(tmp_path / "cut.mp4", pictures, audio=None)
    x, y = _hinted_spot(pictures, 14, 26, 2)
    options = JobOptions(render_size=96, device="cpu")
    predict = _predict(hint_model)

    def colorize(name: str) -> list[np.ndarray]:
        result = film.run_film_job(Job(source, tmp_path / name, options), predict)
        assert result.status == Status.DONE, result.reason
        return films.decoded(tmp_path / name)

    plain = colorize("plain.mp4")
    write_hints(source, [Hint(x / films.WIDTH, y / films.HEIGHT, RED, frame=26)])
    hinted = colorize("hinted.mp4")
    at_first = x + 2 * 12  # the spot on the second shot's first frame (the camera pans 2 a frame)
    seen = {"hinted 14": _redness(hinted[14], at_first, y, RED), "plain 14": _redness(plain[14], at_first, y, RED),
            "hinted 26": _redness(hinted[26], x, y, RED)}  # fmt: skip
    assert seen["hinted 14"] > -12, seen  # red from the shot's first frame
    assert seen["hinted 14"] > seen["plain 14"] + 15, seen
    assert seen["hinted 26"] > -12, seen
    first_shot = np.abs(np.stack(hinted[:14]).astype(int) - np.stack(plain[:14])).mean()
    assert first_shot < 0.5  # the other shot is as it was without the hint


def test_a_resumed_film_keeps_its_hints_plan_and_new_hints_start_afresh(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setattr(film, "PART_SECONDS", 0.4)  # 10 frames a part at 25 fps
    pictures = films.frames(40, cut_at=20, step=2)
    source = films.make_film(tmp_path / "long.mp4", pictures, audio=None)
    write_hints(source, [Hint(0.5, 0.5, RED, frame=30)])
    output = tmp_path / "long_colorized.mp4"
    job = Job(source, output, JobOptions(render_size=64, device="cpu"))
    seen, hinted = [], []

    def predict(pixels, options, hints):
        hinted.append(bool(hints))
        from colorize_app.core.pipeline import predict_chroma

        return predict_chroma(pixels, tiny_model, render_size=options.render_size)

    def stop_in_the_third_part():
        if not (film.parts_folder(output) / film.PLAN_FILE).exists():
            return False  # the first pass: let it finish
        seen.append(1)
        return len(seen) > 25  # the 26th frame coloured: in the third part

    with pytest.raises(Cancelled):
        film.run_film_job(job, predict, is_cancelled=stop_in_the_third_part)
    parts = film.parts_folder(output)
    assert (parts / film.PLAN_FILE).is_file() and len(list(parts.glob("part-*.nut"))) == 2
    # Keyframes every 4th frame: frames 0-16 (the first shot) without the hint, 20 (the second
    # shot's first, 10 before the hint's frame) with it.
    assert hinted[:6] == [False] * 5 + [True]
    fractions = []
    result = film.run_film_job(job, predict, on_progress=fractions.append)
    assert result.status == Status.DONE, result.reason
    assert fractions[0] > 0.45  # resumed: no second first pass, the finished parts kept
    assert hinted[-1]  # the second shot's frames were given the hint
    assert films.video_times(output) == films.video_times(source)

    output.unlink()
    hinted.clear()
    seen.clear()
    with pytest.raises(Cancelled):
        film.run_film_job(job, predict, is_cancelled=stop_in_the_third_part)
    write_hints(source, [Hint(0.5, 0.5, RED, frame=5)])  # the hint moved to the first shot
    fractions.clear()
    hinted.clear()
    result = film.run_film_job(job, predict, on_progress=fractions.append)
    assert result.status == Status.DONE, result.reason
    assert fractions[0] < 0.2 and hinted[0]  # started afresh, with the hint from frame 0


def test_a_damaged_films_hints_file_is_a_note_and_the_film_is_colorized_without(tmp_path, tiny_model):
    source = films.make_film(tmp_path / "reel.mp4", films.frames(6), audio=None)
    sidecar_path(source).write_text('{"format": "colorize-hints", "version": 2, "points": '
                                    '[{"x": 0.5, "y": 0.5, "color": "#c0392b", "frame": -3}]}')
    result = film.run_film_job(Job(source, tmp_path / "out.mp4", JobOptions(render_size=64)),
                               _predict(tiny_model))  # fmt: skip
    assert result.status == Status.DONE and result.job.hints == ()
    assert "reel.mp4.colorize.json: the hints file is damaged (frame" in result.note
    assert result.note.endswith("Colorized without hints.")


def test_a_colorized_film_records_its_hints_and_is_out_of_date_when_they_change(tmp_path, tiny_model):
    from colorize_app.core.freshness import Freshness, judge
    from colorize_app.core.job import wanted_recipe

    source = films.make_film(tmp_path / "reel.mov", films.frames(6), audio=None)
    write_hints(source, [Hint(0.5, 0.5, RED, frame=3)])
    job = Job(source, tmp_path / "reel_colorized.mov", JobOptions(render_size=64))
    assert film.run_film_job(job, _predict(tiny_model)).status == Status.DONE
    assert judge(job.output, wanted_recipe(job)).freshness is Freshness.CURRENT
    again = film.run_film_job(job, _predict(tiny_model))
    assert again.status == Status.SKIPPED and again.reason == "already colorized (reel_colorized.mov exists)"

    write_hints(source, [Hint(0.5, 0.5, RED, frame=4)])  # the same point, placed on another frame
    stale = film.run_film_job(job, _predict(tiny_model))
    assert stale.status == Status.SKIPPED and stale.skip == Freshness.OUT_OF_DATE.value
    assert stale.reason == "out of date: saved with other hints (reel_colorized.mov)"
    updating = Job(source, job.output, JobOptions(render_size=64, update=True))
    assert film.run_film_job(updating, _predict(tiny_model)).status == Status.DONE
    assert judge(job.output, wanted_recipe(job)).freshness is Freshness.CURRENT
