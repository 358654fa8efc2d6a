"""Colour hints on the command line: sidecars applied, --no-hints, --hints FILE, damaged files."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
from photos import digest, save_photo
from PIL import Image

from colorize_app import cli
from colorize_app.core.batch import plan_batch
from colorize_app.core.colour import rgb_to_lab
from colorize_app.core.hints import Hint
from colorize_app.core.sidecar import read_hints, sidecar_path, write_hints
from colorize_app.core.vocabulary import Status
from colorize_app.core.weights import save_weights

RED = "#c0392b"


@pytest.fixture(scope="module")
def hint_weights(hint_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("hint-weights") / "hint.safetensors"
    return save_weights(path, hint_model, metadata={"note": "tiny hint network for tests"})


def _textured_gray(path, size=96):
    y, x = np.mgrid[0:size, 0:size]
    lum = 120 + 50 * np.sin(x / 4.0) * np.cos(y / 5.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(lum.astype(np.uint8), "L").save(path)
    return path


def _centre_ab(path) -> np.ndarray:
    pixels = np.asarray(Image.open(path).convert("RGB"))
    h, w = pixels.shape[:2]
    return rgb_to_lab(pixels[h // 2 - 4:h // 2 + 4, w // 2 - 4:w // 2 + 4]).reshape(-1, 3)[:, 1:].mean(0)


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _distance_to_red(path) -> float:
    return float(np.linalg.norm(_centre_ab(path) - np.asarray(Hint(0.5, 0.5, RED).ab)))


def test_a_photos_sidecar_is_applied_and_no_hints_ignores_it(tmp_path, hint_weights, capsys):
    photo = _textured_gray(tmp_path / "grandma.png")
    write_hints(photo, [Hint(0.5, 0.5, RED)])
    common = ("--weights", hint_weights, "--render-size", 96, "--overwrite")
    status, out, _ = run(capsys, photo, *common)
    assert status == 0 and "1 of them with colour hints." in out
    hinted = _distance_to_red(tmp_path / "grandma_colorized.png")
    status, out, _ = run(capsys, photo, *common, "--no-hints")
    assert status == 0 and "colour hints" not in out
    free = _distance_to_red(tmp_path / "grandma_colorized.png")
    assert hinted < 0.6 * free  # 42 against 80 with the tiny network
    assert read_hints(photo) == [Hint(0.5, 0.5, RED)]  # only read


def test_hints_file_applies_to_every_photo_given(tmp_path, hint_weights, capsys):
    photos = [_textured_gray(tmp_path / "album" / f"{name}.png") for name in ("a", "b")]
    shared = write_hints(tmp_path / "dress.png", [Hint(0.5, 0.5, RED)])
    status, out, _ = run(capsys, tmp_path / "album", "--weights", hint_weights, "--render-size", 96,
                         "--hints", shared)
    assert status == 0 and "2 of them with colour hints." in out
    for photo in photos:
        assert _distance_to_red(photo.with_name(photo.stem + "_colorized.png")) < 50  # 80 without


def test_a_damaged_hints_file_gives_a_note_naming_it_and_is_left_untouched(tmp_path, tiny_weights,
                                                                          capsys):
    photo = save_photo(tmp_path / "one.jpg")
    broken = sidecar_path(photo)
    broken.write_text('{"format": "colorize-hints", "version": 1, "points": [{"x": ')
    before = digest(broken)
    status, out, err = run(capsys, photo, "--weights", tiny_weights, "--render-size", 64)
    assert status == 0 and "Colorized 1, skipped 0, failed 0." in out
    assert str(broken) in out and "without hints" in out
    assert str(broken) in err  # told as it happens too
    assert (tmp_path / "one_colorized.jpg").is_file()
    assert digest(broken) == before


def test_a_note_naming_a_photo_the_console_cannot_spell_ends_in_the_summary(tmp_path, tiny_weights,
                                                                            monkeypatch):
    # A Windows console or a log file in cp1252, a Cyrillic name, a damaged hints file: the run
    # saved everything, then ended in a UnicodeEncodeError instead of its summary.
    photo = save_photo(tmp_path / "бабушка.jpg")
    sidecar_path(photo).write_text('{"format": "colorize-hints", "version": 1, "points": [{"x": ')
    console = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", console)
    status = cli.main([str(photo), "--weights", str(tiny_weights), "--render-size", "64"])
    console.flush()
    out = console.buffer.getvalue().decode("cp1252")
    assert status == 0 and "Colorized 1, skipped 0, failed 0." in out
    assert "Notes:" in out and "without hints" in out
    assert (tmp_path / "бабушка_colorized.jpg").is_file()


def test_a_future_version_hints_file_given_with_hints_is_an_error_naming_it(tmp_path, tiny_weights,
                                                                           capsys):
    photo = save_photo(tmp_path / "one.jpg")
    future = tmp_path / "new.colorize.json"
    future.write_text(json.dumps({"format": "colorize-hints", "version": 7, "points": []}))
    status, _, err = run(capsys, photo, "--weights", tiny_weights, "--hints", future)
    assert status == 2
    assert str(future) in err and "version 7" in err
    assert not (tmp_path / "one_colorized.jpg").exists()


def test_a_model_without_hint_input_says_so_once_and_colorizes_anyway(tmp_path, tiny_weights,
                                                                     capsys):
    for name in ("a.jpg", "b.jpg"):
        write_hints(save_photo(tmp_path / name), [Hint(0.5, 0.5, RED)])
    status, out, err = run(capsys, tmp_path, "--weights", tiny_weights, "--render-size", 64)
    assert status == 0 and "Colorized 2, skipped 0, failed 0." in out
    assert err.count("does not take colour hints") == 1


def test_the_planner_never_takes_a_hints_file_for_a_photo(tmp_path):
    photo = save_photo(tmp_path / "grandma.jpg")
    write_hints(photo, [Hint(0.5, 0.5, RED)])
    (tmp_path / "odd.jpg.colorize.json.jpg").write_bytes(b"")  # a photo, oddly named: still one
    planned = plan_batch([tmp_path])
    assert [item.source.name for item in planned] == ["grandma.jpg", "odd.jpg.colorize.json.jpg"]
    [explicit] = plan_batch([sidecar_path(photo)])
    assert explicit.status == Status.SKIPPED and "hints file" in explicit.reason
