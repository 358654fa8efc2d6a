"""Training throughput on this machine: images per second at 128 and 256 px crops, with and
without bf16 autocast (channels_last throughout). Prints a table; asserts nothing.

    .venv/bin/python benchmarks/training_bench.py [--steps 12] [--batch-size 16] [--threads 0]
"""

from __future__ import annotations

import argparse
import time

import torch

from colorize_app.core.model import ColorizerNet, ModelConfig
from training.losses import BinsLoss, mse_loss
from training.train import HeadOnly, autocast_for

WARMUP_STEPS = 3  # with 1, bf16 looked slower than fp32 at 128 px: its kernels were still being picked


def throughput(loss_name: str, crop: int, bf16: bool, steps: int, batch: int) -> float:
    torch.manual_seed(0)
    model = ColorizerNet(ModelConfig(head="bins" if loss_name == "bins" else "regression"))
    model = model.to(memory_format=torch.channels_last).train()
    net = HeadOnly(model)
    loss_fn = BinsLoss(model.bin_centres) if loss_name == "bins" else mse_loss
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    light = torch.randn(batch, 1, crop, crop).contiguous(memory_format=torch.channels_last)
    ab = torch.randn(batch, 2, crop, crop) * 30
    device = torch.device("cpu")
    for i in range(steps + WARMUP_STEPS):
        if i == WARMUP_STEPS:  # the first steps pay for allocations and oneDNN's kernel selection
            start = time.perf_counter()
        with autocast_for(device, bf16):
            out = net(light)
        loss = loss_fn(out, ab)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--loss", default="bins", choices=["bins", "mse"])
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, loss {args.loss}, "
          f"default ColorizerNet ({ColorizerNet().num_parameters / 1e6:.2f} M parameters)")
    print("| crop | fp32 img/s | bf16 img/s | speed-up |")
    print("|---|---|---|---|")
    for crop in (128, 256):
        fp32 = throughput(args.loss, crop, False, args.steps, args.batch_size)
        bf16 = throughput(args.loss, crop, True, args.steps, args.batch_size)
        print(f"| {crop} | {fp32:.1f} | {bf16:.1f} | {bf16 / fp32:.2f}x |")


if __name__ == "__main__":
    main()
