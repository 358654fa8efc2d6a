"""`--self-test`: a packager's check that an installation colorizes, from the source install."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np

from colorize_app.core.imageio import read_image
from colorize_app.selftest import FAILED, NO_MODEL, PASSED, SAMPLE_PHOTO, run_self_test


def run(**kwargs) -> tuple[int, str]:
    out = io.StringIO()
    status = run_self_test(out=out, **kwargs)
    return status, out.getvalue()


def test_passes_with_a_working_model(tiny_weights):
    status, text = run(weights=tiny_weights, device="cpu")
    assert status == PASSED, text
    assert "device:  CPU" in text
    assert "tiny.safetensors" in text
    height, width = read_image(SAMPLE_PHOTO).pixels.shape[:2]
    assert f"sample.jpg {width}x{height} -> {width}x{height} RGB" in text
    assert text.rstrip().splitlines()[-1].startswith("PASS")


def test_no_model_installed_is_exit_status_2(monkeypatch, tmp_path):
    monkeypatch.setattr("colorize_app.core.weights.default_weights_path",
                        lambda: tmp_path / "colorizer.safetensors")
    status, text = run(device="cpu")
    assert status == NO_MODEL == 2
    assert "no model installed" in text
    assert "PASS" not in text


def test_a_model_that_paints_everything_gray_fails(tmp_path):
    import torch

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    model = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression"))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    path = save_weights(tmp_path / "gray.safetensors", model)
    status, text = run(weights=path, device="cpu")
    assert status == FAILED
    assert "FAIL: the result is barely coloured" in text


def test_a_bundle_without_the_sample_fails_and_says_so(tiny_weights, tmp_path):
    status, text = run(weights=tiny_weights, device="cpu", sample=tmp_path / "sample.jpg")
    assert status == FAILED
    assert "sample photo is missing" in text


def test_a_damaged_weights_file_fails_with_the_reason(tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 4)
    status, text = run(weights=broken, device="cpu")
    assert status == FAILED
    assert "FAIL: WeightsError" in text and "broken.safetensors" in text


def test_a_result_that_loses_the_lightness_fails(tiny_weights, monkeypatch):
    def darkened(image, model, **kwargs):
        out = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image.copy()
        return (out * 0.8).astype(image.dtype)

    monkeypatch.setattr("colorize_app.core.pipeline.colorize", darkened)
    status, text = run(weights=tiny_weights, device="cpu")
    assert status == FAILED
    assert "lightness differs" in text


def test_the_sample_ships_in_grayscale_next_to_its_credits():
    pixels = read_image(SAMPLE_PHOTO).pixels
    assert pixels.ndim == 2 or np.ptp(pixels.astype(int), axis=2).max() <= 1
    credits = (SAMPLE_PHOTO.parent / "SAMPLE_CREDITS.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in credits and "Ajayi" in credits and "grayscale" in credits
    about_line = SAMPLE_PHOTO.with_suffix(".txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in about_line.splitlines()[0]


def test_runs_as_a_program_in_a_fresh_interpreter(tiny_weights):
    done = subprocess.run([sys.executable, "-m", "colorize_app.selftest", str(tiny_weights)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout



def test_colorize_app_self_test_flag_runs_it(tiny_weights, capsys):
    from colorize_app.app import main

    assert main(["--self-test", "--weights", str(tiny_weights)]) == PASSED
    assert "PASS" in capsys.readouterr().out


def test_colorize_app_self_test_flag_says_when_no_model_is_installed(monkeypatch, tmp_path, capsys):
    from colorize_app.app import main

    monkeypatch.setattr("colorize_app.core.weights.default_weights_path",
                        lambda: tmp_path / "colorizer.safetensors")
    assert main(["--self-test"]) == NO_MODEL
    assert "no model installed" in capsys.readouterr().out
