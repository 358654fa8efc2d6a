"""Do hints placed on one frame of a film's shot help that whole shot, and leave the others alone?

    .venv/bin/python benchmarks/film_hints_eval.py [--frames 150] [--counts 0 3 10]

The clip is video_eval's "pan + cut": a camera panning across one training photo, then a cut to
a pan across another (half the frames each), made gray as the metrics define and kept
losslessly. Hints are simulated from the truth as the metrics' "With colour hints" section says
(N points at uniformly random places, fixed seed, each the truth's mean colour over a 5 x 5
patch), all placed on **one frame in the middle of the second shot**, and given as the film's
hints file (``clip.mkv.colorize.json``, with their frame), the path a user's hints take. Each
run goes through ``core.film.run_film_job`` with the shipped model and steady design; the written
film is decoded and compared with the truth on every 5th frame:

- ΔE00 and hue accuracy of the first shot (no hints there: it must not change), of the second
  shot's frames *before* the hinted frame (reached only by carrying the hints back to the shot's
  start) and of those from it on;
- the largest mean |difference| of a first-shot frame from the run without hints (8-bit RGB).

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from video_eval import decoded, made_clip, write_gray  # noqa: E402

from colorize_app.core.engine import Engine, batch_threads  # noqa: E402
from colorize_app.core.film import run_film_job  # noqa: E402
from colorize_app.core.hints import Hint, hex_color  # noqa: E402
from colorize_app.core.job import Job, JobOptions  # noqa: E402
from colorize_app.core.sidecar import write_hints  # noqa: E402
from training.metrics import delta_e00, hue_accuracy  # noqa: E402

SAMPLE_EVERY = 5
PATCH = 5


def simulated_hints(truth: np.ndarray, count: int, frame: int, seed: int = 0) -> list[Hint]:
    """``count`` hints at random places of ``truth`` (one frame), the true colour there."""
    rng = np.random.default_rng(seed)
    height, width = truth.shape[:2]
    hints = []
    for _ in range(count):
        x, y = rng.uniform(0, 1), rng.uniform(0, 1)
        row = min(height - PATCH, max(0, int(y * height) - PATCH // 2))
        col = min(width - PATCH, max(0, int(x * width) - PATCH // 2))
        colour = truth[row : row + PATCH, col : col + PATCH].reshape(-1, 3).mean(axis=0)
        hints.append(Hint(x, y, hex_color(colour), frame))
    return hints


def scores(truth: list[np.ndarray], path: Path, frames: list[int]) -> dict[int, tuple[float, float | None]]:
    """(ΔE00, hue accuracy) of the written film at each of ``frames``."""
    wanted, found = set(frames), {}
    for index, picture in enumerate(decoded(path)):
        if index in wanted:
            found[index] = (delta_e00(truth[index], picture), hue_accuracy(truth[index], picture),
                            picture)  # fmt: skip
    return found


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


def _row(found: dict, frames: list[int]) -> str:
    return f"{mean(found[i][0] for i in frames):.2f} | {mean(found[i][1] for i in frames):.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=150, help="frames in the clip (default: %(default)s)")
    parser.add_argument("--counts", type=int, nargs="*", default=[0, 3, 10], help="hints per run")
    args = parser.parse_args(argv)
    truth = made_clip(args.frames)
    if not truth:
        print("No training photos to make the clip from (COLORIZE_TRAIN_DIR).", file=sys.stderr)
        return 1
    cut = args.frames // 2
    hinted_frame = cut + (args.frames - cut) // 2
    engine = Engine(threads=batch_threads())
    engine.load("cpu")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"clip: pan + cut, {args.frames} frames ({truth[0].shape[1]} x {truth[0].shape[0]}), "
          f"cut at frame {cut}, hints on frame {hinted_frame}")  # fmt: skip
    print("| hints | shot 1 ΔE00 | shot 1 hue % | shot 2 before the hinted frame ΔE00 | hue % "
          "| shot 2 from it ΔE00 | hue % | shot 1 changed (max mean abs, 8-bit) | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    sampled = list(range(0, args.frames, SAMPLE_EVERY))
    first = [i for i in sampled if i < cut]
    before = [i for i in sampled if cut <= i < hinted_frame]
    after = [i for i in sampled if i >= hinted_frame]
    plain = None
    with tempfile.TemporaryDirectory() as scratch:
        gray = Path(scratch) / "clip.mkv"
        write_gray(truth, Fraction(25), gray)
        for count in args.counts:
            hints = simulated_hints(truth[hinted_frame], count, hinted_frame)
            write_hints(gray, hints)  # clip.mkv.colorize.json, as the window writes it
            out = Path(scratch) / f"clip-{count}_colorized.mkv"
            started = time.perf_counter()
            result = run_film_job(Job(gray, out, JobOptions(device="cpu")), engine.predict)
            seconds = time.perf_counter() - started
            if result.reason or result.note:
                print(f"{count} hints: {result.status} {result.reason} {result.note}", file=sys.stderr)
            found = scores(truth, out, sampled)
            if plain is None:
                plain = found
            changed = max(float(np.abs(found[i][2].astype(int) - plain[i][2]).mean()) for i in first)
            first_row, before_row, after_row = (_row(found, frames) for frames in (first, before, after))
            print(f"| {count} | {first_row} | {before_row} | {after_row} | {changed:.3f} | "
                  f"{seconds:.1f} |", flush=True)  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
