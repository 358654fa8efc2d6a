import numpy as np
import pytest

from colorize_app.core import colour


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),  # CIE values of sRGB red under D65
    ],
)
def test_golden_lab_values(rgb, lab):
    got = colour.rgb_to_lab(np.array([[rgb]], dtype=np.uint8))[0, 0]
    np.testing.assert_allclose(got, lab, atol=0.05)


def test_round_trip_is_lossless_for_8_bit():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    back = colour.from_unit_float(colour.lab_to_rgb(colour.rgb_to_lab(rgb)), np.uint8)
    assert np.abs(back.astype(int) - rgb).max() <= 1


def test_network_scaling_maps_l_range_to_unit_interval():
    l_values = np.linspace(0, 100, 101, dtype=np.float32)
    scaled = colour.normalize_l(l_values)
    np.testing.assert_allclose(scaled, l_values / 50 - 1, atol=1e-6)  # linear, -1 at 0, 1 at 100
    # What the network is actually given for a black and a white photo, 8 and 16 bit:
    from colorize_app.core.pipeline import network_input

    for dtype in (np.uint8, np.uint16):
        top = np.iinfo(dtype).max
        np.testing.assert_allclose(network_input(np.zeros((20, 30), dtype), 16), -1, atol=1e-3)
        np.testing.assert_allclose(network_input(np.full((20, 30), top, dtype), 16), 1, atol=1e-3)


def test_grayscale_keeps_lightness_and_drops_colour():
    rgb = np.array([[[200, 40, 90], [10, 180, 60]]], dtype=np.uint8)
    gray = colour.grayscale_of(rgb)
    assert np.all(gray[..., 0] == gray[..., 1]) and np.all(gray[..., 1] == gray[..., 2])
    np.testing.assert_allclose(colour.lightness(gray), colour.lightness(rgb), atol=0.3)


def test_gamut_bins_are_real_colours_and_cover_saturated_red():
    bins = colour.ab_gamut_bins(10)
    assert 200 < len(bins) < 330
    red_ab = colour.rgb_to_lab(np.array([[[255, 0, 0]]], np.uint8))[0, 0, 1:]
    assert np.min(np.linalg.norm(bins - red_ab, axis=1)) <= 10


def test_fit_to_gamut_keeps_lightness_and_hue():
    l_channel = np.array([[5.0, 50.0, 95.0]], np.float32)
    a = np.array([[100.0, 100.0, -100.0]], np.float32)
    b = np.array([[100.0, 0.0, 100.0]], np.float32)
    hue_before = np.arctan2(b, a)
    colour.fit_to_gamut(l_channel, a, b)
    lab = np.dstack([l_channel, a, b])
    assert colour.in_gamut(lab, tolerance=1e-3).all()
    np.testing.assert_allclose(np.arctan2(b, a), hue_before, atol=1e-5)
    assert np.hypot(a, b)[0, 1] > 50  # a mid-grey red keeps most of its chroma
