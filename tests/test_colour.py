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


@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (3, 1), (4, 1), (1, 4), (37, 53)])
def test_fit_to_gamut_works_in_place_on_planes_of_any_size(shape):
    # OpenCV 5 wrote cv2.min/multiply results for 1 x 1 to 4 x 1 planes to new arrays (it read
    # them as scalars), so a single hint colour at white kept its chroma and left the gamut.
    rng = np.random.default_rng(1)
    l_channel = rng.uniform(0, 100, shape).astype(np.float32)
    l_channel.flat[0] = 100.0
    a, b = (rng.uniform(-120, 120, shape).astype(np.float32) for _ in range(2))
    colour.fit_to_gamut(l_channel, a, b)
    assert colour.in_gamut(np.dstack([l_channel, a, b]), tolerance=1e-3).all()
    assert np.hypot(a, b).flat[0] < 0.01  # nothing at pure white has chroma


def _reference_limit(l_channel: np.ndarray, hue_degrees: np.ndarray) -> np.ndarray:
    """The chroma limit table read by plain numpy: bilinear, coordinates in 1/32 of a cell."""
    table = colour.chroma_limit_table().astype(np.float64)
    x = np.round(hue_degrees.astype(np.float64) * 32) / 32
    y = np.round(l_channel.astype(np.float64) * 32) / 32
    x0 = np.clip(np.floor(x).astype(int), 0, table.shape[1] - 1)
    y0 = np.clip(np.floor(y).astype(int), 0, table.shape[0] - 1)
    x1, y1 = np.minimum(x0 + 1, table.shape[1] - 1), np.minimum(y0 + 1, table.shape[0] - 1)
    fx, fy = x - np.floor(x), y - np.floor(y)
    top = table[y0, x0] * (1 - fx) + table[y0, x1] * fx
    bottom = table[y1, x0] * (1 - fx) + table[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def test_gamut_fitting_is_the_same_arithmetic_whatever_opencv_does_inside():
    # The app's colours must not move with the OpenCV release (OpenCV 5 changed remap's float
    # precision and the in-place writes of small planes): fit_to_gamut equals a numpy reading of
    # its table, to the 0.3 degree accuracy of OpenCV's hue angle (cartToPolar).
    rng = np.random.default_rng(2)
    l_channel = rng.uniform(0, 100, (64, 64)).astype(np.float32)
    a, b = (rng.uniform(-110, 110, (64, 64)).astype(np.float32) for _ in range(2))
    hue = np.degrees(np.arctan2(b, a)) % 360
    chroma = np.hypot(a, b)
    expected = np.minimum(1.0, _reference_limit(l_channel, hue) / chroma) * chroma
    colour.fit_to_gamut(l_channel, a, b)
    np.testing.assert_allclose(np.hypot(a, b), expected, atol=2e-3, rtol=3e-3)


def exact_lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L of 16-bit sRGB in float64, from the definitions (sRGB curve, luminance, cube root)."""
    c = rgb.astype(np.float64) / 65535
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = linear @ [0.212671, 0.715160, 0.072169]
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f - 16


def test_a_sixteen_bit_colour_scan_of_a_sky_keeps_its_smooth_lightness():
    # OpenCV's float RGB2Lab gives L in about 512 levels (steps of 0.195): an overcast sky
    # scanned in 16-bit RGB came out of Colorize in bands, where the gray scan stayed smooth.
    from colorize_app.core.chroma import compose

    sky = np.round(np.linspace(0.50, 0.53, 512) * 65535).astype(np.uint16)
    scan = np.dstack([np.tile(sky, (8, 1))] * 3)
    ab = np.dstack([np.full((4, 4), 5.0, np.float32), np.full((4, 4), 12.0, np.float32)])
    result = compose(scan, ab)
    assert np.abs(exact_lightness(result) - exact_lightness(scan)).max() < 0.01
    np.testing.assert_allclose(colour.lightness(scan), exact_lightness(scan), atol=1e-3)
