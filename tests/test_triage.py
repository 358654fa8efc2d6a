"""Triage before colour: photos already in colour are reported and skipped, monochrome prints of
any tone are coloured, faded colour still counts as colour."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photos import save_photo, sepia_print

from colorize_app import cli
from colorize_app.core.triage import is_colour


def scene(height: int = 120, width: int = 160) -> np.ndarray:
    """A colour photo in miniature: a blue sky, a green field, a red barn, all of similar lightness."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[: height // 2] = (110, 150, 200)
    rgb[height // 2 :] = (90, 140, 60)
    rgb[height // 3 : 2 * height // 3, width // 4 : width // 2] = (170, 50, 40)
    noise = np.random.default_rng(0).normal(0, 4, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def lab_tint(gray: np.ndarray, a, b) -> np.ndarray:
    light = gray.astype(np.float32) * (100 / 255)
    lab = np.dstack([light, np.broadcast_to(a, light.shape), np.broadcast_to(b, light.shape)]).astype(np.float32)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


def textured_gray(height: int = 120, width: int = 160) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return (128 + 80 * np.sin(x / 9.0) * np.cos(y / 13.0)).astype(np.uint8)


def faded(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    lab[..., 1:] = lab[..., 1:] * 0.4 + (6, 10)  # a third of the colour left, a warm cast
    lab[..., 0] = 15 + lab[..., 0] * 0.8  # lifted blacks
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


def test_colour_photos_and_faded_ones_are_in_colour():
    assert is_colour(scene())
    assert is_colour(faded(scene()))
    assert is_colour(scene().astype(np.uint16) * 257)  # 16-bit too
    assert is_colour(np.dstack([scene(), np.full((120, 160), 255, np.uint8)]))  # and with alpha


@pytest.mark.parametrize("width", [4000, 12000])
def test_a_colour_panorama_is_in_colour_and_a_sepia_one_is_not(width):
    # At 10:1 the small copy measured was all border: a 360-degree colour panorama counted as
    # black and white, and was coloured again from its lightness.
    panorama = cv2.resize(scene(), (width, 1000), interpolation=cv2.INTER_NEAREST)
    assert is_colour(panorama)
    gray = cv2.resize(textured_gray(), (width, 1000))
    t = gray / 255.0
    assert not is_colour(lab_tint(gray, 8 * 4 * t * (1 - t), 18 * 4 * t * (1 - t)))


@pytest.mark.parametrize("kind", ["gray", "stored gray", "sepia", "selenium", "cyanotype", "noisy scan"])
def test_monochrome_prints_of_any_tone_are_black_and_white(kind):
    gray = textured_gray()
    t = gray / 255.0
    pixels = {
        "gray": lambda: np.dstack([gray] * 3),
        "stored gray": lambda: gray,
        "sepia": lambda: lab_tint(gray, 8 * 4 * t * (1 - t), 18 * 4 * t * (1 - t)),
        "selenium": lambda: lab_tint(gray, 12 * (1 - t) ** 2, 4 * (1 - t) ** 2),
        "cyanotype": lambda: lab_tint(gray, -6 * (1 - t), -40 * (1 - t)),
        "noisy scan": lambda: np.clip(np.dstack([gray] * 3) + np.random.default_rng(1).normal(0, 6, (120, 160, 3)),
                                      0, 255).astype(np.uint8),
    }[kind]()  # fmt: skip
    assert not is_colour(pixels)


def test_a_mixed_album_colours_only_its_black_and_white_prints(tmp_path, tiny_weights, capsys):
    album = tmp_path / "album"
    save_photo(album / "1 sepia print.jpg")
    cv2.imwrite(str(album / "2 holiday.jpg"), cv2.cvtColor(scene(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(album / "3 cyanotype.png"), cv2.cvtColor(lab_tint(textured_gray(), -6, -30), cv2.COLOR_RGB2BGR))
    status = cli.main([str(album), "--weights", str(tiny_weights), "--render-size", "64"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Colorized 2, skipped 1, failed 0." in out
    assert "2 holiday.jpg: already in colour" in out
    assert "1 already in colour: --include-colour colours them anyway" in out
    assert not (album / "2 holiday_colorized.jpg").exists()

    status = cli.main([str(album), "--weights", str(tiny_weights), "--render-size", "64", "--include-colour"])
    out = capsys.readouterr().out
    assert "Colorized 1, skipped 2, failed 0." in out
    assert (album / "2 holiday_colorized.jpg").exists()


def test_the_test_photos_are_black_and_white_prints():
    assert not is_colour(sepia_print(480, 640))


def faded_coat(height: int = 120, width: int = 160) -> np.ndarray:
    """A faded colour print: a coat on a wall of the same lightness, both under one warm cast, their
    colours now only 5.5 Lab units apart (what a third of a dull green coat's colour leaves)."""
    light = textured_gray(height, width) * (0.4 * 100 / 255) + 35  # low contrast, lifted blacks
    coat = np.zeros((height, width), bool)
    coat[30:90, 60:100] = True  # an eighth of the photo
    a = np.where(coat, 6 - 4.0, 6.0)
    b = np.where(coat, 10 - 3.8, 10.0)
    lab = np.dstack([light, a, b]).astype(np.float32)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


def misregistered_scan(height: int = 240, width: int = 320) -> np.ndarray:
    """A brown-toned print scanned with its red channel two pixels off, the fringes following
    every slope of its lightness."""
    y, x = np.mgrid[0:height, 0:width]
    gray = (128 + 90 * np.sin(x / 10 + 0.5 * np.sin(y / 20))).astype(np.uint8)
    rgb = lab_tint(gray, 9.0, 20.0)
    rgb[..., 0] = np.roll(rgb[..., 0], 2, axis=1)
    return rgb


def scan_with_its_bed_showing(height: int = 240, width: int = 320) -> np.ndarray:
    """A faintly toned print scanned with the scanner's dark bed along its right side and the red
    channel four pixels off, so that the red of the bed's edge lands on the print's left side."""
    y, x = np.mgrid[0:height, 0:width]
    gray = (128 + 60 * np.sin(x / 14 + 0.5 * np.sin(y / 25))).astype(np.uint8)
    gray[:, -12:] = 20
    rgb = lab_tint(gray, 1.2, 4.0)
    rgb[..., 0] = np.roll(rgb[..., 0], 4, axis=1)
    return rgb


def blown_sepia_print(height: int = 240, width: int = 320) -> np.ndarray:
    """A sepia print (the classic matrix) whose highlights clip, as a JPEG at quality 90."""
    y, x = np.mgrid[0:height, 0:width]
    gray = np.clip(210 + 90 * np.sin(x / 10 + 0.5 * np.sin(y / 20)), 0, 255).astype(np.float32)
    matrix = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    rgb = np.clip(np.dstack([gray] * 3) @ matrix.T, 0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return np.ascontiguousarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1])


def test_a_faded_print_with_faint_colours_is_still_in_colour():
    assert is_colour(faded_coat())


def test_a_scan_with_a_misregistered_channel_is_black_and_white():
    assert not is_colour(misregistered_scan())


def test_a_scan_with_a_coloured_stripe_along_its_edge_is_black_and_white():
    assert not is_colour(scan_with_its_bed_showing())


def test_a_sepia_print_with_blown_highlights_is_black_and_white():
    assert not is_colour(blown_sepia_print())
