"""Colour hints: the network follows them where they are given and nowhere else; old models still work."""

import numpy as np
import pytest
import torch

from colorize_app.core import weights
from colorize_app.core.colour import rgb_to_lab
from colorize_app.core.hints import Hint, hint_planes
from colorize_app.core.model import ColorizerNet, ModelConfig
from colorize_app.core.pipeline import colorize

RED = "#c0392b"


def _ab_at(image: np.ndarray, row: int, col: int) -> np.ndarray:
    return rgb_to_lab(image[row:row + 1, col:col + 1])[0, 0, 1:]


def _textured_gray(height=96, width=480) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    lum = 120 + 50 * np.sin(x / 4.0) * np.cos(y / 5.0)
    return np.repeat(lum[..., None], 3, axis=2).astype(np.uint8)


def test_hint_planes_put_the_colours_chroma_where_the_point_is():
    planes = hint_planes([Hint(0.5, 0.25, RED)], 40, 60)
    assert planes[2].sum() == 9  # a 3 x 3 patch
    rows, cols = np.nonzero(planes[2])
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (9, 11, 29, 31)
    a, b = Hint(0.5, 0.25, RED).ab
    assert a > 40 and b > 20  # red
    assert planes[0, 10, 30] * 128 == pytest.approx(a) and planes[1, 10, 30] * 128 == pytest.approx(b)


@pytest.mark.parametrize("bad", [dict(x=1.2, y=0.5, color=RED), dict(x=0.5, y=0.5, color="red")])
def test_a_hint_outside_the_photo_or_without_a_hex_colour_is_refused(bad):
    with pytest.raises(ValueError):
        Hint(**bad)


def test_a_hint_turns_the_colour_near_it_towards_the_hinted_colour_and_leaves_far_regions(hint_model):
    photo = _textured_gray()
    hint = Hint(0.05, 0.5, RED)
    free = colorize(photo, hint_model)
    hinted = colorize(photo, hint_model, hints=[hint])
    target = np.asarray(hint.ab)
    near_before = np.linalg.norm(_ab_at(free, 48, 24) - target)
    near_after = np.linalg.norm(_ab_at(hinted, 48, 24) - target)
    assert near_after < 0.5 * near_before
    # 370 px away: outside the network's reach, and both of follow_hints' moves have faded to a few
    # per cent. Measured in (a, b), where about 2.3 is the least difference one can see; near the
    # gamut's edge one RGB channel can swing by tens of levels for a change no one can see. Once
    # a large photo has built the 8-bit table, (a, b) are rounded to whole units there, which can
    # add up to 0.7 on each side.
    far = np.linalg.norm(rgb_to_lab(free[:, 400:])[..., 1:] - rgb_to_lab(hinted[:, 400:])[..., 1:], axis=-1)
    assert far.max() < 3.5


def test_without_hints_a_hint_network_is_the_automatic_colorizer(hint_model):
    photo = _textured_gray()
    assert np.array_equal(colorize(photo, hint_model), colorize(photo, hint_model, hints=[]))


def test_a_model_of_the_first_format_loads_and_ignores_hints(tiny_model, tmp_path):
    from old_weights import write_old_weights

    # A file as the first Colorize wrote it: format 1, a model config without in_channels.
    old = write_old_weights(tmp_path / "v1.safetensors", tiny_model, 1)
    assert weights.read_metadata(old)["format_version"] == 1
    loaded = weights.load_model(old)
    assert not loaded.config.takes_hints and loaded.config.in_channels == 1
    photo = _textured_gray(64, 64)
    assert np.array_equal(colorize(photo, loaded, hints=[Hint(0.5, 0.5, RED)]), colorize(photo, loaded))


def test_hint_networks_round_trip_through_a_weights_file(hint_model, tmp_path):
    path = weights.save_weights(tmp_path / "hint.safetensors", hint_model)
    loaded = weights.load_model(path)
    assert loaded.config.in_channels == 4 and weights.read_metadata(path)["format_version"] == 3
    light, planes = torch.zeros(1, 1, 32, 32), torch.from_numpy(hint_planes([Hint(0.5, 0.5, RED)], 32, 32))[None]
    with torch.no_grad():
        assert torch.equal(loaded(light, planes), hint_model(light, planes))


def test_a_warm_started_hint_network_colours_exactly_as_the_model_it_came_from(tiny_model):
    from training.warm_start import copy_compatible

    hinted = ColorizerNet(ModelConfig(**{**tiny_model.config.to_dict(), "in_channels": 4})).eval()
    assert copy_compatible(hinted, tiny_model) == len(tiny_model.state_dict())
    light = torch.randn(1, 1, 48, 64)
    with torch.no_grad():
        assert torch.allclose(hinted(light), tiny_model(light), atol=1e-5)


def test_a_hinted_point_gets_the_hinted_colour_not_only_a_step_towards_it(hint_model):
    from colorize_app.core.pipeline import predict_chroma

    photo = _textured_gray()
    hints = [Hint(0.05, 0.5, RED), Hint(0.5, 0.5, "#2e86c1")]
    ab = predict_chroma(photo, hint_model, hints=hints)
    for hint in hints:
        row, col = int(hint.y * ab.shape[0]), int(hint.x * ab.shape[1])
        # The chroma laid over the photo; its lightness stays the photo's (so may the gamut limit).
        around = ab[row - 1:row + 2, col - 1:col + 2].reshape(-1, 2).mean(axis=0)
        assert np.linalg.norm(around - np.asarray(hint.ab)) < 1


def test_a_hints_correction_stops_at_an_edge_in_lightness():
    from colorize_app.core.hints import follow_hints

    light = np.full((60, 60), 30.0, np.float32)
    light[:, 30:] = 80.0  # a dark object on the left, a bright one on the right
    ab = np.zeros((60, 60, 2), np.float32)
    corrected = follow_hints(ab, [Hint(20 / 60, 0.5, RED)], light)
    same_side, across = np.linalg.norm(corrected[30, 2]), np.linalg.norm(corrected[30, 38])
    assert np.allclose(corrected[30, 20], Hint(0, 0, RED).ab, atol=0.5)
    assert across < 0.1 * same_side  # both 18 px from the hint; only one is the same object


def test_follow_hints_without_hints_is_the_prediction():
    from colorize_app.core.hints import follow_hints

    ab = np.random.default_rng(0).normal(size=(8, 8, 2)).astype(np.float32)
    assert follow_hints(ab, [], np.zeros((8, 8), np.float32)) is ab
