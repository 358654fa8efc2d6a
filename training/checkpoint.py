"""Training state on disk: model, optimizer, step, RNG, written atomically, loadable with weights_only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from colorize_app.core.atomic import temp_prefix


def save_checkpoint(path: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    step: int, rng: np.random.Generator, extra: dict) -> None:
    """Write everything ``--resume`` needs to continue exactly, via a temporary file and os.replace."""
    state = {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "step": step,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": _plain(rng.bit_generator.state),
        **extra,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)


def restore_rng(state: dict) -> np.random.Generator:
    torch.set_rng_state(state["torch_rng"])
    rng = np.random.default_rng()
    rng.bit_generator.state = state["numpy_rng"]
    return rng


def _plain(value):
    """numpy's RNG state as plain ints and dicts, which weights_only loading accepts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    return value
