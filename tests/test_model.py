import pytest
import torch

from colorize_app.core.model import ColorizerNet, ModelConfig


@pytest.mark.parametrize("size", [(37, 53), (64, 64), (1, 1), (130, 7)])
def test_any_input_size_gives_ab_of_the_same_size(tiny_model, size):
    with torch.no_grad():
        ab = tiny_model(torch.zeros(1, 1, *size))
    assert ab.shape == (1, 2, *size)


@pytest.mark.parametrize("head", ["bins", "regression"])
def test_extreme_inputs_and_weights_give_finite_colours_in_the_lab_range(head):
    # Weights blown up 20x make logits in the millions: a softmax, annealed mean or tanh that is
    # not written stably turns them into inf or nan, which would paint a photo black or fail it.
    torch.manual_seed(1)
    net = ColorizerNet(ModelConfig(cut_after=1, decoder_width=32, head=head)).eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.mul_(20)
        for x in (-torch.ones(1, 1, 40, 40), torch.ones(1, 1, 40, 40),
                  torch.randn(1, 1, 40, 40) * 5):
            ab = net(x)
            assert torch.isfinite(ab).all()
            assert ab.abs().max() <= 128


@pytest.mark.parametrize("settings", [{"cut_after": 0}, {"cut_after": 5}, {"out_stride": 3},
                                      {"cut_after": 1, "out_stride": 8}, {"backbone": "vgg16"}])
def test_a_config_that_cannot_be_built_is_refused_up_front(settings):
    # A weights file carries its config: a bad one must fail as a ValueError the loader turns
    # into "the model description in the file is invalid", not deep inside torch.
    with pytest.raises(ValueError):
        ModelConfig(**settings)


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


def test_a_dual_head_blends_its_bins_and_regression_colours():
    import dataclasses

    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(cut_after=2, decoder_width=32, head="dual")).eval()
    light = torch.randn(1, 1, 32, 32)
    outputs = {}
    for blend in (0.0, 0.3, 1.0):
        model.config = dataclasses.replace(model.config, blend=blend)
        with torch.no_grad():
            outputs[blend] = model(light)
    assert not torch.allclose(outputs[0.0], outputs[1.0])
    assert torch.allclose(outputs[0.3], 0.3 * outputs[1.0] + 0.7 * outputs[0.0], atol=1e-4)


def test_a_regression_model_warm_starts_the_regression_half_of_a_dual_head():
    from training.warm_start import copy_compatible

    torch.manual_seed(0)
    regression = ColorizerNet(ModelConfig(cut_after=2, decoder_width=32, head="regression")).eval()
    dual = ColorizerNet(ModelConfig(cut_after=2, decoder_width=32, head="dual", blend=0.0)).eval()
    copy_compatible(dual, regression)
    light = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(dual(light), regression(light), atol=1e-5)
