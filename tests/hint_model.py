"""A tiny hint network trained in seconds on photos whose colour cannot be guessed from lightness.

Each synthetic photo is a textured gray pattern painted in one random colour, so the only way the
network can get the colour right is to read the hints: what it learns is to follow them.
"""

from __future__ import annotations

import numpy as np
import torch

from colorize_app.core.colour import AB_SCALE, normalize_l
from colorize_app.core.model import ColorizerNet, ModelConfig
from training.batches import simulated_hints
from training.losses import huber_loss

SIZE = 48


def random_photos(rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised L and ab (natural units) of ``count`` one-colour textured photos."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    light, ab = [], []
    for _ in range(count):
        fx, fy, phase = rng.uniform(2, 6), rng.uniform(2, 6), rng.uniform(0, 6.3)
        lum = 55 + 20 * np.sin(2 * np.pi * fx * x + phase) * np.cos(2 * np.pi * fy * y)
        hue = rng.uniform(0, 2 * np.pi)
        light.append(normalize_l(lum.astype(np.float32))[None])
        ab.append(np.stack([np.full_like(lum, 45 * np.cos(hue)), np.full_like(lum, 45 * np.sin(hue))]))
    return torch.from_numpy(np.stack(light)).float(), torch.from_numpy(np.stack(ab)).float()


def train_tiny_hint_model(steps: int = 150, seed: int = 0) -> ColorizerNet:
    """The same network whatever ran before it: its own random state, one thread (the sums of a
    different thread count, set by an earlier test's engine, would start another trajectory)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng():
            return _train(steps, seed)
    finally:
        torch.set_num_threads(threads)


def _train(steps: int, seed: int) -> ColorizerNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = ColorizerNet(ModelConfig(cut_after=2, decoder_width=32, head="regression", in_channels=4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(steps):
        light, ab = random_photos(rng, 8)
        hints = simulated_hints(ab, rng, none_share=0.1, p=1 / 4)
        loss = huber_loss(model.head_output(model.network_input(light, hints)), ab)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


if __name__ == "__main__":
    import time

    start = time.time()
    model = train_tiny_hint_model()
    print(f"trained in {time.time() - start:.1f} s")
    light, ab = random_photos(np.random.default_rng(5), 1)
    light = torch.cat([light, light], dim=3)  # 48 x 96: hint on the left half only
    hints = torch.zeros(1, 3, SIZE, 2 * SIZE)
    hints[0, 0, 20:23, 10:13] = 40 / AB_SCALE
    hints[0, 1, 20:23, 10:13] = 30 / AB_SCALE
    hints[0, 2, 20:23, 10:13] = 1
    with torch.no_grad():
        free, hinted = model(light), model(light, hints)
    print("near", free[0, :, 21, 11], hinted[0, :, 21, 11])
    print("far", free[0, :, 21, 90], hinted[0, :, 21, 90])
