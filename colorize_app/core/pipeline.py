"""colorize(): the one function the window, the command line, the evaluation and the tests share.

The network sees a small copy of the photo's lightness (``render_size`` on the long side); its
(a, b) prediction is then laid over the original's full-resolution lightness by ``chroma.compose``,
so sharpness never depends on the network.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .chroma import compose, network_copy
from .colour import L_CENTER, L_RANGE, lightness, normalize_l
from .errors import stop_if_cancelled
from .hints import Hint, follow_hints, hint_planes
from .model import ColorizerNet
from .vocabulary import DEFAULT_RENDER_SIZE, NETWORK_SHARE


def network_input(image: np.ndarray, render_size: int) -> np.ndarray:
    """Normalised lightness (float32, h x w) of the photo resized for the network."""
    return normalize_l(lightness(network_copy(image, render_size)))


def predict_chroma(
    image: np.ndarray,
    model: ColorizerNet,
    *,
    render_size: int = DEFAULT_RENDER_SIZE,
    hints: list[Hint] | None = None,
) -> np.ndarray:
    """The network's (a, b) for ``image`` at render size: float32 h x w x 2, natural Lab units.
    The network runs where ``model`` is (the caller places it: ``core.engine.Engine``).

    ``hints`` (colour points) steer a hint-capable model, and its prediction is then corrected to
    meet them exactly (``hints.follow_hints``); a model without hint input ignores them (callers
    say so to the user: ``model.config.takes_hints``).
    """
    target = next(model.parameters()).device
    lightness = torch.from_numpy(network_input(image, render_size))[None, None].to(target)
    planes = None
    if hints and model.config.takes_hints:
        planes = torch.from_numpy(hint_planes(hints, *lightness.shape[-2:]))[None].to(target)
    with torch.inference_mode():
        if target.type == "cuda":
            with torch.autocast("cuda", dtype=torch.float16):
                ab = model(lightness, planes)
        else:
            ab = model(lightness, planes)
    ab = ab[0].float().permute(1, 2, 0).contiguous().cpu().numpy()
    if planes is not None:
        ab = follow_hints(ab, hints, lightness[0, 0].float().cpu().numpy() * L_RANGE + L_CENTER)
    return ab


def colorize(
    image: np.ndarray,
    model: ColorizerNet,
    *,
    render_size: int = DEFAULT_RENDER_SIZE,
    saturation: float = 1.0,
    hints: list[Hint] | None = None,
    on_progress: Callable[[float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Colour a photo (HxW, HxWx3 or HxWx4; uint8 or uint16, RGB order) at full resolution.

    Colour input is treated as its grayscale. Returns HxWx3 (HxWx4 with alpha kept) of the input's
    dtype; its Lab lightness equals the input's up to rounding. ``on_progress`` receives 0..1,
    ``is_cancelled`` is polled between stages and raises ``Cancelled`` when it returns true.
    ``hints`` are colour points (see ``core.hints``) for a hint-capable model. Deterministic on
    the CPU.
    """
    stop_if_cancelled(is_cancelled)
    ab_small = predict_chroma(image, model, render_size=render_size, hints=hints)
    if on_progress is not None:
        on_progress(NETWORK_SHARE)

    def composing(fraction: float) -> None:
        if on_progress is not None:
            on_progress(NETWORK_SHARE + (1 - NETWORK_SHARE) * fraction)

    return compose(image, ab_small, saturation=saturation, on_progress=composing, is_cancelled=is_cancelled)
