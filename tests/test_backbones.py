"""The app's written-out ResNet and MobileNetV2 are torchvision's: same weights, same outputs."""

import pytest
import torch
import torchvision

from colorize_app.core.backbones import ResNet, mobilenet_v2_features


def _same_modules(ours: torch.nn.Module, theirs: torch.nn.Module, x: torch.Tensor) -> None:
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert {k: v.shape for k, v in mine.items()} == {k: v.shape for k, v in reference.items()}
    ours.load_state_dict(reference)  # a torchvision-trained file loads key for key
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


@pytest.mark.parametrize("name", ["resnet18", "resnet34"])
def test_the_resnet_trunk_is_torchvisions(name):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)(weights=None)
    trunk = torch.nn.Sequential(theirs.conv1, theirs.bn1, theirs.relu, theirs.maxpool,
                                theirs.layer1, theirs.layer2, theirs.layer3, theirs.layer4)
    ours = ResNet(name)
    ours_trunk = torch.nn.Sequential(ours.conv1, ours.bn1, ours.relu, ours.maxpool,
                                     ours.layer1, ours.layer2, ours.layer3, ours.layer4)
    _same_modules(ours_trunk, trunk, torch.randn(2, 3, 64, 80))


def test_the_mobilenet_v2_features_are_torchvisions():
    torch.manual_seed(0)
    _same_modules(mobilenet_v2_features(), torchvision.models.mobilenet_v2(weights=None).features,
                  torch.randn(2, 3, 96, 64))


def test_the_application_loads_a_model_and_colours_a_photo_without_importing_torchvision(tmp_path):
    # torchvision imports torch._dynamo: 1.5 s of CPU before the first photo, for nothing.
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "from colorize_app.core.model import ColorizerNet, ModelConfig\n"
        "from colorize_app.core.pipeline import colorize\n"
        "from colorize_app.core.weights import load_model, save_weights\n"
        "net = ColorizerNet(ModelConfig(in_channels=4, head='regression', semantic='mobilenet_v2')).eval()\n"
        "colorize(np.full((40, 60), 128, np.uint8), net)\n"
        f"save_weights({str(tmp_path / 'm.safetensors')!r}, net)\n"
        f"colorize(np.full((40, 60), 128, np.uint8), load_model({str(tmp_path / 'm.safetensors')!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torchvision', 'torch._dynamo'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
