"""How fast and how lean is colouring a big photo? Prints a table; asserts nothing.

    .venv/bin/python benchmarks/pipeline_bench.py [--photos 20] [--repeat 3]

Test photos are made from real training photos (upscaled to 4000x3000 with a little film grain so
the JPEG has a realistic size, then turned gray as an old print would be) in a temporary folder,
never in the repository. The model is the shipped one if installed, else a randomly initialised
model of the default size (speed does not depend on the weights' values).

Rows: the decode+encode floor (read_image + write_image, the cost no colorizer can avoid), the
end-to-end time of one photo (best of --repeat runs) at render sizes 256 and 512 and its ratio to the floor, photos per
second for a folder through run_batch (decoding the next photo while colouring this one), and the
peak memory (RSS high-water mark, measured in a fresh child process) for a 50-megapixel photo.
Targets on 2 CPU cores: end-to-end at 256 within 2x the floor; 50 MP under 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from colorize_app.core.batch import plan_batch, run_batch
from colorize_app.core.engine import batch_threads
from colorize_app.core.imageio import read_image, write_image
from colorize_app.core.job import Job, JobOptions, run_job

TRAIN = Path(os.environ.get("COLORIZE_TRAIN_DIR", "/work/shared/data/train"))
SIZE_12MP = (4000, 3000)
SIZE_50MP = (8660, 5774)


def make_photo(source: Path, target: Path, size: tuple[int, int], seed: int) -> Path:
    """A photo-like gray JPEG of ``size`` (w, h) made from a real photo."""
    small = cv2.imread(str(source), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    grain = np.random.default_rng(seed).standard_normal(big.shape, dtype=np.float32) * 5
    pixels = np.clip(big + grain, 0, 255).astype(np.uint8)
    rgb = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)  # stored as a colour JPEG, as most scans are
    cv2.imwrite(str(target), rgb, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return target


def sources(count: int) -> list[Path]:
    photos = sorted(TRAIN.glob("*.jpg"))
    if not photos:
        sys.exit(f"No training photos in {TRAIN}; set COLORIZE_TRAIN_DIR.")
    step = max(1, len(photos) // count)
    return photos[::step][:count]


def load_model():
    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import default_weights_path, load_model

    if default_weights_path().is_file():
        return load_model(device="cpu"), "shipped weights"
    import torch

    torch.manual_seed(0)
    return ColorizerNet(ModelConfig()).eval(), "random ModelConfig() defaults"


def network(model):
    """``predict(pixels, options, hints)`` for run_job: the engine's call, on an already-built model."""
    from colorize_app.core.pipeline import predict_chroma

    def predict(pixels, options, hints):
        return predict_chroma(pixels, model, render_size=options.render_size)

    return predict


def colorize_file(photo: Path, out: Path, model, render_size: int, overwrite: bool = False):
    result = run_job(Job(photo, out, JobOptions(render_size=render_size, overwrite=overwrite)),
                     network(model))
    assert result.status == "done", result.reason


def best_time(fn, repeat: int) -> float:
    """Best of ``repeat`` timed runs after a warm-up: on a shared machine other work only ever
    adds time, so the minimum is the closest to the pipeline's own cost."""
    fn()  # warm-up: first-call allocations and lazy initialisation
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor_time(photo: Path, out: Path, repeat: int) -> float:
    def decode_encode():
        image = read_image(photo)
        write_image(out, image.pixels, like=image, overwrite=True)

    return best_time(decode_encode, repeat)


def end_to_end_time(photo: Path, out: Path, model, render_size: int, repeat: int) -> float:
    return best_time(lambda: colorize_file(photo, out, model, render_size, overwrite=True), repeat)


def stage_times(photo: Path, model, render_size: int, repeat: int) -> tuple[float, float]:
    """Seconds of the two stages of colorize(): the network, and laying colour over L."""
    from colorize_app.core.chroma import compose
    from colorize_app.core.pipeline import predict_chroma

    pixels = read_image(photo).pixels
    ab = predict_chroma(pixels, model, render_size=render_size)
    network = best_time(lambda: predict_chroma(pixels, model, render_size=render_size), repeat)
    return network, best_time(lambda: compose(pixels, ab), repeat)


def folder_rate(folder: Path, model, render_size: int, prefetch: int) -> float:
    items = plan_batch([folder], overwrite=True)
    start = time.perf_counter()
    summary = run_batch(items, network(model), JobOptions(render_size=render_size, overwrite=True),
                        prefetch=prefetch)  # fmt: skip
    elapsed = time.perf_counter() - start
    assert summary.failed == 0, [item.reason for item in summary.failures]
    return len(items) / elapsed


def max_rss_bytes() -> int:
    """This process's resident-memory high-water mark in bytes."""
    # Linux's ru_maxrss survives exec, so a child would report its parent's peak: read VmHWM,
    # which belongs to this process's own address space.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS bytes, elsewhere KiB


def peak_child(photo: Path, out: Path, render_size: int) -> None:
    """Run in a fresh process: colour one photo and print the RSS high-water marks as JSON."""
    if os.environ.get("COLORIZE_BENCH_THREADS"):
        import torch

        torch.set_num_threads(int(os.environ["COLORIZE_BENCH_THREADS"]))
    model, _ = load_model()
    baseline = max_rss_bytes()  # interpreter, torch and the model: the app's idle footprint
    colorize_file(photo, out, model, render_size)
    print(json.dumps({"baseline": baseline, "peak": max_rss_bytes()}))


def peak_memory(photo: Path, out: Path, render_size: int) -> dict:
    command = [sys.executable, __file__, "--peak-child", str(photo), str(out), str(render_size)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20, help="photos in the folder run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure (best)")
    parser.add_argument("--threads", type=int, default=batch_threads(),
                        help="torch threads (default: what `colorize` uses, %(default)s)")  # fmt: skip
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    os.environ["COLORIZE_BENCH_THREADS"] = str(args.threads)  # for the memory child

    model, model_label = load_model()
    rows = []
    with tempfile.TemporaryDirectory(prefix="colorize-bench-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "folder"
        folder.mkdir()
        photos = [make_photo(src, folder / f"photo{i:02}.jpg", SIZE_12MP, i)
                  for i, src in enumerate(sources(args.photos))]  # fmt: skip
        one = photos[0]
        floor = floor_time(one, tmp / "floor.jpg", args.repeat)
        rows.append(("decode + encode (floor), 12 MP", f"{floor:.3f} s", "1.00x"))
        for size in (256, 512):
            t = end_to_end_time(one, tmp / f"e2e{size}.jpg", model, size, args.repeat)
            rows.append((f"end-to-end, render size {size}", f"{t:.3f} s", f"{t / floor:.2f}x"))
            network, composing = stage_times(one, model, size, args.repeat)
            rows.append(("  of which network", f"{network:.3f} s", f"{network / floor:.2f}x"))
            rows.append(("  of which colour over full-res L", f"{composing:.3f} s",
                         f"{composing / floor:.2f}x"))  # fmt: skip
        for prefetch in (1, 0):
            rate = folder_rate(folder, model, 256, prefetch)
            label = f"folder of {len(photos)}, size 256, " + (
                "prefetch" if prefetch else "no prefetch"
            )
            rows.append((label, f"{rate:.2f} photos/s", f"{1 / rate / floor:.2f}x per photo"))
        for path in photos:
            path.unlink()
        big = make_photo(sources(1)[0], tmp / "big50.jpg", SIZE_50MP, 99)
        mem = peak_memory(big, tmp / "big50_colorized.jpg", 256)
        rows.append(("peak RSS, 50 MP photo, size 256", f"{mem['peak'] / 2**30:.2f} GiB",
                     f"+{(mem['peak'] - mem['baseline']) / 2**30:.2f} GiB over idle"))  # fmt: skip

    print(f"\nColorize pipeline benchmark: {model_label}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"  {name:<{width}}  {value:>16}  {ratio}")
    print("  targets: end-to-end at 256 within 2.00x the floor; 50 MP peak under 1.50 GiB")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--peak-child":
        peak_child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
