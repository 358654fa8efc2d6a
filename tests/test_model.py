import pytest
import torch

from colorize_app.core.model import ColorizerNet, ModelConfig


@pytest.mark.parametrize("size", [(37, 53), (64, 64), (1, 1), (130, 7)])
def test_any_input_size_gives_ab_of_the_same_size(tiny_model, size):
    with torch.no_grad():
        ab = tiny_model(torch.zeros(1, 1, *size))
    assert ab.shape == (1, 2, *size)


@pytest.mark.parametrize("head", ["bins", "regression"])
def test_output_stays_in_the_lab_range(head):
    torch.manual_seed(1)
    net = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head=head)).eval()
    with torch.no_grad():
        ab = net(torch.randn(2, 1, 40, 40) * 5)
    assert ab.abs().max() <= 128


def test_parameter_count_grows_with_depth():
    small = ColorizerNet(ModelConfig(cut_after=2)).num_parameters
    large = ColorizerNet(ModelConfig(cut_after=4)).num_parameters
    assert 0 < small < large


def test_config_rejects_nonsense():
    with pytest.raises(ValueError):
        ModelConfig(head="magic")
    with pytest.raises(ValueError):
        ModelConfig.from_dict({"backbone": "resnet18", "layers": 7})


def test_config_round_trips_through_a_dict():
    config = ModelConfig(backbone="resnet34", cut_after=2, head="regression")
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_chroma_gain_scales_the_predicted_colour():
    torch.manual_seed(2)
    plain = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression")).eval()
    boosted = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head="regression", chroma_gain=1.5)).eval()
    boosted.load_state_dict(plain.state_dict())
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(boosted(x), plain(x) * 1.5)
