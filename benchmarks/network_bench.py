"""What does the network itself cost for one photo? Prints a table; asserts nothing.

    .venv/bin/python benchmarks/network_bench.py [--weights FILE ...] [--runs 20] [--threads 1 2]

The network's input for a 256 px photo (256 x 192 lightness, the default render size), timed as
``pipeline.predict_chroma`` runs it on the CPU: without hints and with 10 hints (which adds the
hint planes and ``hints.follow_hints``). Best and median of ``--runs`` after two warm-up runs,
per thread count. The issue's budget: at most 150 ms on the development machine's 2 cores.
Run it on a quiet machine (pause training runs), and read the load average printed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from colorize_app.core.hints import Hint
from colorize_app.core.pipeline import predict_chroma
from colorize_app.core.weights import default_weights_path, load_model

HEIGHT, WIDTH = 192, 256


def _photo() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return (128 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0)).astype(np.uint8)


def _hints(count: int) -> list[Hint]:
    rng = np.random.default_rng(0)
    return [Hint(float(rng.random()), float(rng.random()), "#c0392b") for _ in range(count)]


def time_ms(model, photo, hints, runs: int) -> tuple[float, float]:
    for _ in range(2):
        predict_chroma(photo, model, hints=hints)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        predict_chroma(photo, model, hints=hints)
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, nargs="+", default=[default_weights_path()])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores; torch {torch.__version__}")
    print("| weights | parameters | threads | hints | best ms | median ms |")
    print("|---|---|---|---|---|---|")
    photo = _photo()
    for path in args.weights:
        model = load_model(path).eval()
        hint_counts = (0, 10) if model.config.takes_hints else (0,)
        for threads in args.threads:
            torch.set_num_threads(threads)
            for count in hint_counts:
                best, median = time_ms(model, photo, _hints(count) or None, args.runs)
                print(f"| {path.name} | {model.num_parameters:,} | {threads} | {count} | {best:.1f} | {median:.1f} |")
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
