import numpy as np
import pytest

from colorize_app.core.chroma import compose
from colorize_app.core.colour import lightness, rgb_to_lab
from colorize_app.core.errors import Cancelled
from colorize_app.core.pipeline import colorize, predict_chroma


def _photo(height=90, width=130, channels=None, dtype=np.uint8):
    """A smooth gradient with some structure, like a small scan."""
    y, x = np.mgrid[0:height, 0:width]
    gray = 0.5 + 0.4 * np.sin(x / 9.0) * np.cos(y / 13.0)
    peak = np.iinfo(dtype).max
    img = (gray * peak).astype(dtype)
    if channels:
        img = np.repeat(img[:, :, None], channels, axis=2)
    return img


@pytest.mark.parametrize(
    ("channels", "dtype"), [(None, np.uint8), (3, np.uint8), (3, np.uint16), (None, np.uint16)]
)
def test_output_has_input_size_and_keeps_lightness(tiny_model, channels, dtype):
    img = _photo(channels=channels, dtype=dtype)
    out = colorize(img, tiny_model)
    assert out.shape == (*img.shape[:2], 3) and out.dtype == dtype
    assert np.abs(lightness(out) - lightness(img)).max() < 0.6
    # Colour everywhere, not in one pixel: the tiny model's prediction averages 17 ab units.
    lab = rgb_to_lab(out if dtype == np.uint8 else (out >> 8).astype(np.uint8))
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    assert chroma.mean() > 5 and (chroma > 1).mean() > 0.9


def test_alpha_is_kept(tiny_model):
    img = _photo(channels=4)
    img[..., 3] = np.arange(img.shape[1], dtype=np.uint8)[None, :]
    out = colorize(img, tiny_model)
    assert out.shape == img.shape
    np.testing.assert_array_equal(out[..., 3], img[..., 3])


def test_colour_input_is_treated_as_its_gray(tiny_model):
    gray = _photo(channels=3)
    tinted = gray.copy()
    tinted[..., 0] = np.clip(tinted[..., 0].astype(int) + 40, 0, 255)
    tinted[..., 2] = np.clip(tinted[..., 2].astype(int) - 40, 0, 255)
    a = predict_chroma(gray, tiny_model)
    b = predict_chroma(tinted, tiny_model)
    # Same lightness in, nearly the same colour out: the tint itself is ignored.
    assert np.abs(a - b).mean() < np.abs(a).mean() * 0.5 + 1


def test_cpu_result_is_deterministic(tiny_model):
    img = _photo(channels=3)
    np.testing.assert_array_equal(colorize(img, tiny_model), colorize(img, tiny_model))


def test_saturation_zero_gives_gray_and_larger_gives_more_colour(tiny_model):
    img = _photo(channels=3)
    ab = predict_chroma(img, tiny_model)
    gray = compose(img, ab, saturation=0.0)
    assert np.abs(gray[..., 0].astype(int) - gray[..., 2]).max() <= 1
    spread = [np.std(compose(img, ab, saturation=s).astype(float), axis=2).mean() for s in (0.5, 1.0, 2.0)]
    assert spread[0] < spread[1] < spread[2]


def test_progress_reaches_one_and_cancel_stops(tiny_model):
    seen = []
    colorize(_photo(), tiny_model, on_progress=seen.append)
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    with pytest.raises(Cancelled):
        colorize(_photo(), tiny_model, is_cancelled=lambda: True)


def test_large_image_is_composed_in_strips_without_seams(tiny_model, monkeypatch):
    import colorize_app.core.chroma as chroma

    img = _photo(400, 300, channels=3)
    ab = predict_chroma(img, tiny_model)
    whole = compose(img, ab)
    monkeypatch.setattr(chroma, "STRIP_PIXELS", 300 * 7)
    strips = compose(img, ab)
    assert np.abs(whole.astype(int) - strips).max() <= 1


def test_strips_coloured_side_by_side_give_the_same_photo_and_progress_in_order(tiny_model, monkeypatch):
    import colorize_app.core.chroma as chroma

    img = _photo(400, 300, channels=3)
    ab = predict_chroma(img, tiny_model)
    monkeypatch.setattr(chroma, "STRIP_PIXELS", 300 * 7)  # dozens of strips
    monkeypatch.setattr(chroma, "STRIP_THREADS", 1)
    strips = []
    one_by_one = compose(img, ab, on_progress=strips.append)
    monkeypatch.setattr(chroma, "STRIP_THREADS", 3)
    seen = []
    side_by_side = compose(img, ab, on_progress=seen.append)
    np.testing.assert_array_equal(one_by_one, side_by_side)
    assert seen == strips and len(seen) > 30 and seen[-1] == 1.0


def test_cancelling_side_by_side_strips_stops_between_them_and_leaves_none_running(tiny_model, monkeypatch):
    import time

    import colorize_app.core.chroma as chroma

    img = _photo(400, 300, channels=3)
    ab = predict_chroma(img, tiny_model)
    monkeypatch.setattr(chroma, "STRIP_PIXELS", 300 * 7)
    monkeypatch.setattr(chroma, "STRIP_THREADS", 2)
    coloured = []  # one entry per strip coloured, whichever thread coloured it
    rows_between = chroma._rows_between

    def counting(*args):
        time.sleep(0.01)  # strips take a while, as a real photo's do
        coloured.append(1)
        return rows_between(*args)

    monkeypatch.setattr(chroma, "_rows_between", counting)
    seen = []
    with pytest.raises(Cancelled):
        compose(img, ab, on_progress=seen.append, is_cancelled=lambda: len(seen) >= 3)
    assert 3 <= len(seen) < 30
    done = len(coloured)
    time.sleep(0.3)
    assert len(coloured) == done < 30  # none was left running or queued once Cancelled was raised


@pytest.mark.parametrize("channels, saturation", [(None, 1.0), (3, 1.0), (4, 2.5), (3, 0.3)])
def test_the_lookup_table_shortcut_gives_the_same_colours(monkeypatch, channels, saturation):
    from colorize_app.core import chroma

    img = _photo(300, 400, channels=channels)
    if channels == 4:
        img[..., 3] = np.arange(400, dtype=np.uint8)[None, :] // 2
    rng = np.random.default_rng(1)
    ab = np.stack([np.full((24, 32), 30.0), np.full((24, 32), -50.0)], axis=-1).astype(np.float32)
    ab += rng.normal(0, 25, ab.shape).astype(np.float32)
    chroma.srgb_table(1 if channels is None else 3)  # built: the shortcut is taken whatever the size
    fast = compose(img, ab, saturation=saturation)
    monkeypatch.setattr(chroma, "_tables", {})
    monkeypatch.setattr(chroma, "TABLE_MIN_PIXELS", 10**12)
    slow = compose(img, ab, saturation=saturation)
    assert fast.shape == slow.shape
    diff = np.abs(fast.astype(int) - slow)
    # The shortcut rounds a and b to whole units on the small planes before upsampling them in 8
    # bits: one unit off at most, a few levels of RGB where the colour is strong.
    assert diff.mean() < 0.5 and np.mean(diff > 2) < 0.02 and np.mean(diff > 4) < 0.001
    assert np.abs(lightness(fast) - lightness(img)).max() < 0.6
    if channels == 4:
        np.testing.assert_array_equal(fast[..., 3], img[..., 3])


def test_the_shortcut_upsamples_colour_as_plain_bilinear_arithmetic_whatever_opencv_does_inside():
    # The colours must not move with the OpenCV release: the 8-bit upsampling of a and b equals
    # numpy's bilinear reading of the rounded small planes (cv2.resize's pixel mapping) within
    # the one unit its fixed-point rounding may take.
    from colorize_app.core import chroma

    rng = np.random.default_rng(3)
    planes = [rng.uniform(-100, 100, (12, 16)).astype(np.float32) for _ in range(2)]
    levels = chroma._ab_levels(planes, 123, 97)
    assert levels.shape == (97, 123, 2) and levels.dtype == np.uint8
    for channel, plane in enumerate(planes):
        small = np.clip(np.rint(plane) + 128, 0, 255)
        ys = np.clip((np.arange(97) + 0.5) * 12 / 97 - 0.5, 0, 11)
        xs = np.clip((np.arange(123) + 0.5) * 16 / 123 - 0.5, 0, 15)
        y0, x0 = ys.astype(int), xs.astype(int)
        y1, x1 = np.minimum(y0 + 1, 11), np.minimum(x0 + 1, 15)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        top = small[y0][:, x0] * (1 - fx) + small[y0][:, x1] * fx
        bottom = small[y1][:, x0] * (1 - fx) + small[y1][:, x1] * fx
        expected = top * (1 - fy) + bottom * fy
        assert np.abs(levels[..., channel] - expected).max() <= 1.0
    assert chroma._ab_levels([planes[0] * 2, planes[1]], 123, 97) is None  # past +-127: per strip


def test_a_scan_too_big_for_whole_photo_levels_is_coloured_strip_by_strip_alike(monkeypatch):
    # Memory stays flat for huge scans: past LEVELS_MAX_PIXELS a and b are upsampled per strip,
    # with the same colours within the one unit of rounding.
    from colorize_app.core import chroma

    img = _photo(300, 400)
    ab = np.stack([np.full((24, 32), 30.0), np.full((24, 32), -50.0)], axis=-1).astype(np.float32)
    ab += np.random.default_rng(4).normal(0, 10, ab.shape).astype(np.float32)
    chroma.srgb_table(1)
    whole = compose(img, ab)
    monkeypatch.setattr(chroma, "LEVELS_MAX_PIXELS", 300 * 400 - 1)
    monkeypatch.setattr(chroma, "STRIP_PIXELS", 400 * 16)
    assert chroma._ab_levels([ab[..., 0], ab[..., 1]], 400, 300) is None
    strips = compose(img, ab)
    # Rounding a and b before or after upsampling: one unit apart at most, which at the edge of
    # sRGB (this blue) can move a channel by several levels.
    diff = np.abs(whole.astype(int) - strips)
    assert diff.mean() < 0.5 and np.mean(diff > 2) < 0.03 and np.mean(diff > 4) < 0.005
