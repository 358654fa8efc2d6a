"""Shared fixtures. Qt must be told to run offscreen before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

TINY_CONFIG = {"backbone": "resnet18", "cut_after": 1, "decoder_width": 32, "out_stride": 4}


@pytest.fixture(scope="session")
def tiny_model():
    """A tiny, randomly initialised ColorizerNet (fast, deterministic, colourful enough to see)."""
    import torch

    from colorize_app.core.model import ColorizerNet, ModelConfig

    torch.manual_seed(0)
    return ColorizerNet(ModelConfig(**TINY_CONFIG)).eval()


@pytest.fixture(scope="session")
def tiny_weights(tiny_model, tmp_path_factory):
    """Path to a .safetensors file holding ``tiny_model``."""
    from colorize_app.core.weights import save_weights

    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    return save_weights(path, tiny_model, metadata={"note": "random weights for tests"})
