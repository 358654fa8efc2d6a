"""Ray's cost on one machine: the same folder through the local engine and through `--engine ray`
with 2 local workers. Prints photos/s and their ratio; asserts nothing.

    .venv/bin/python benchmarks/archive_bench.py [--photos 30] [--size 1600x1200]

Photos are gray JPEGs made from training photos (pipeline_bench.make_photo) in a temporary folder.
The model is the shipped one. Also printed, for the GPU estimate in docs/archive.md: the
network's share of a photo's time on one CPU thread (what a GPU would take over), the model's
floating-point operations per photo, and how many manifest rows the driver commits per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
sys.path.insert(0, str(Path(__file__).parent))

from pipeline_bench import make_photo, sources  # noqa: E402

from colorize_app.core.batch import plan_batch, run_batch  # noqa: E402
from colorize_app.core.job import JobOptions  # noqa: E402


def local_rate(folder: Path, out: Path) -> tuple[float, int]:
    from colorize_app.core.engine import Engine, default_threads

    engine = Engine(threads=default_threads())
    engine.load("cpu")
    items = plan_batch([folder], output_dir=out)
    start = time.perf_counter()
    summary = run_batch(items, engine.predict, JobOptions(device="cpu"))
    seconds = time.perf_counter() - start
    return summary.done / seconds, summary.done


def ray_rate(folder: Path, out: Path, workers: int, batch_size: int) -> tuple[float, float, float, int]:
    """photos/s from submitting to the last result; seconds until the first result (the
    workers' start-up: a Python process each, torch, the model); photos/s after that."""
    import ray

    from colorize_app.archive.manifest import Manifest
    from colorize_app.archive.runner import run_archive

    ray.init(num_cpus=workers, include_dashboard=False, logging_level="WARNING")
    items = plan_batch([folder], output_dir=out)
    heard: list[float] = []
    start = time.perf_counter()
    with Manifest(out / "manifest.sqlite") as manifest:
        run_archive(items, manifest, options=JobOptions(device="cpu"), workers=workers,
                    batch_size=batch_size, on_result=lambda _item: heard.append(time.perf_counter()))  # fmt: skip
    seconds = time.perf_counter() - start
    ray.shutdown()
    done = sum(item.status == "done" for item in items)
    # after start-up: the photos that came after the first batch, over the time they took
    later = [t for t in heard if t > heard[0] + 0.001]
    steady = len(later) / (heard[-1] - heard[0]) if later else float("nan")
    return done / seconds, heard[0] - start, steady, done


def network_share(photo: Path) -> tuple[float, float, float]:
    """(network seconds, whole-photo seconds) on one torch thread, and GFLOPs of the network."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from colorize_app.core.engine import Engine
    from colorize_app.core.imageio import read_image
    from colorize_app.core.job import Job, run_job

    torch.set_num_threads(1)
    engine = Engine()
    engine.load("cpu")
    options = JobOptions(device="cpu", overwrite=True)
    pixels = read_image(photo).pixels
    engine.predict(pixels, options)
    net = min(_timed(lambda: engine.predict(pixels, options)) for _ in range(3))
    out = photo.with_name("share_colorized.jpg")
    whole = min(_timed(lambda: run_job(Job(photo, out, options), engine.predict)) for _ in range(3))
    with FlopCounterMode(display=False) as counter:
        engine.predict(pixels, options)
    return net, whole, counter.get_total_flops() / 1e9


def manifest_rate(folder: Path, rows: int = 5000) -> float:
    from colorize_app.archive.manifest import Manifest, Row

    with Manifest(folder / "rate.sqlite") as manifest:
        start = time.perf_counter()
        for i in range(rows):
            manifest.record(Row(f"/archive/box/{i:07}.jpg", "done", "", 0.5, f"/out/{i:07}.jpg"))
        return rows / (time.perf_counter() - start)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--size", default="1600x1200", help="WxH of each photo")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "photos")
        folder.mkdir()
        for i, source in enumerate(sources(args.photos)):
            make_photo(source, folder / f"scan{i:04}.jpg", size, seed=i)
        print(f"{args.photos} photos of {size[0]}x{size[1]} (gray JPEG), shipped model, render 256, CPU; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        local, done = local_rate(folder, Path(tmp, "local"))
        print(f"local engine:              {local:6.2f} photos/s ({done} photos)")
        remote, startup, steady, done = ray_rate(folder, Path(tmp, "ray"), args.workers,
                                                 args.batch_size)
        print(f"ray, {args.workers} local workers:       {remote:6.2f} photos/s ({done} photos, "
              f"first result after {startup:.1f} s)")  # fmt: skip
        print(f"ratio ray / local:         {remote / local:6.2f}")
        print(f"ray after start-up:        {steady:6.2f} photos/s (ratio {steady / local:.2f})")
        net, whole, gflops = network_share(folder / "scan0000.jpg")
        print(f"one photo, 1 CPU thread:   {whole:6.3f} s, of which the network {net:.3f} s "
              f"({100 * net / whole:.0f} %), {gflops:.1f} GFLOP")  # fmt: skip
        print(f"manifest commits:          {manifest_rate(Path(tmp)):6.0f} rows/s")
        print(f"load average after:        {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
