"""Hint attention: the bottleneck takes colour from the hinted places it resembles."""

import json

import pytest
import torch
from conftest import TINY_CONFIG

from colorize_app.core import weights
from colorize_app.core.hint_attention import HintAttention
from colorize_app.core.hints import Hint, hint_planes
from colorize_app.core.model import ColorizerNet, ModelConfig
from training.warm_start import copy_compatible

ATTENTION_CONFIG = {**TINY_CONFIG, "head": "regression", "in_channels": 4, "hint_attention": True}
RED = "#c0281e"


def _light(height=64, width=80) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return (torch.sin(x / 5.0) * torch.cos(y / 4.0))[None, None].float()


def _planes(hints, height=64, width=80) -> torch.Tensor:
    return torch.from_numpy(hint_planes(hints, height, width))[None]


def _awake(module: torch.nn.Module) -> torch.nn.Module:
    """The block as after training: every weight non-zero, its output projection included."""
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0, 0.3)
    return module


def test_a_network_warm_started_with_hint_attention_first_colours_as_its_parent_did(hint_model):
    child = ColorizerNet(ModelConfig(**{**hint_model.config.to_dict(), "hint_attention": True})).eval()
    copy_compatible(child, hint_model)
    light, planes = _light(), _planes([Hint(0.2, 0.3, RED), Hint(0.8, 0.7, "#2040c0")])
    with torch.no_grad():
        torch.testing.assert_close(child(light, planes), hint_model(light, planes))
        torch.testing.assert_close(child(light), hint_model(light))


def test_without_hints_the_block_changes_nothing_whatever_it_learned():
    block = _awake(HintAttention(64)).eval()
    features = torch.randn(2, 64, 6, 7)
    with torch.no_grad():
        assert torch.equal(block(features, torch.zeros(2, 3, 6, 7)), features)


def test_a_hint_reaches_places_far_from_it_through_the_block():
    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(**ATTENTION_CONFIG)).eval()
    _awake(model.hint_attention)
    light = _light()
    with torch.no_grad():
        alone = model(light)
        hinted = model(light, _planes([Hint(0.05, 0.05, RED)]))
    # The far corner is beyond the tiny network's convolutions (stride 4, two stages) ...
    plain = ColorizerNet(ModelConfig(**{**ATTENTION_CONFIG, "hint_attention": False})).eval()
    copy_compatible(plain, model)
    with torch.no_grad():
        assert torch.equal(plain(light)[..., 48:, 64:], plain(light, _planes([Hint(0.05, 0.05, RED)]))[..., 48:, 64:])
    # ... and the block carries the hint there.
    assert (hinted - alone)[..., 48:, 64:].abs().max() > 1e-3


def test_a_photo_without_hints_is_coloured_the_same_in_a_batch_beside_hinted_ones():
    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(**ATTENTION_CONFIG)).eval()
    _awake(model.hint_attention)
    light = _light().repeat(3, 1, 1, 1)
    planes = torch.cat([_planes([Hint(0.3, 0.3, RED)]), torch.zeros(1, 3, 64, 80),
                        _planes([Hint(0.1, 0.9, RED), Hint(0.6, 0.2, "#20a040"), Hint(0.9, 0.9, "#2040c0")])])
    with torch.no_grad():
        together = model(light, planes)
        for k in range(3):
            # (batched convolutions add in another order: a thousandth of an ab unit apart at most)
            torch.testing.assert_close(together[k:k + 1], model(light[k:k + 1], planes[k:k + 1]), atol=1e-3, rtol=0)


def test_odd_sizes_run():
    model = ColorizerNet(ModelConfig(**ATTENTION_CONFIG)).eval()
    with torch.no_grad():
        out = model(_light(61, 97), _planes([Hint(0.5, 0.5, RED)], 61, 97))
    assert out.shape == (1, 2, 61, 97)


def test_a_file_with_hint_attention_is_format_4_and_one_without_it_stays_format_3(tmp_path):
    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(**ATTENTION_CONFIG)).eval()
    _awake(model.hint_attention)
    path = weights.save_weights(tmp_path / "attention.safetensors", model)
    assert weights.read_metadata(path)["format_version"] == 4
    loaded = weights.load_model(path)
    light, planes = _light(), _planes([Hint(0.2, 0.2, RED)])
    with torch.no_grad():
        assert torch.equal(loaded(light, planes), model(light, planes))

    plain = weights.save_weights(tmp_path / "plain.safetensors",
                                 ColorizerNet(ModelConfig(**{**ATTENTION_CONFIG, "hint_attention": False})))
    meta = weights.read_metadata(plain)
    assert meta["format_version"] == 3 and "hint_attention" not in meta["model_config"]


@pytest.mark.parametrize("settings", [{"hint_attention": "yes"}, {"hint_attention": True, "in_channels": 1}])
def test_a_weights_file_asking_for_hint_attention_it_cannot_have_is_refused(tmp_path, settings):
    from safetensors.torch import save_file

    header = {"format_version": 4, "model_config": {**ATTENTION_CONFIG, **settings}, "training": {}}
    path = tmp_path / "bad.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={weights.METADATA_KEY: json.dumps(header)})
    with pytest.raises(weights.WeightsError, match="model description is invalid"):
        weights.load_model(path)
