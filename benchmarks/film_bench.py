"""How fast is colouring a film end to end, and does memory stay flat? Prints figures; asserts nothing.

    .venv/bin/python benchmarks/film_bench.py [--seconds 8] [--long 60]

Films are made here, in a temporary folder: a camera panning across a training photo, made gray,
H.264 with an AAC sound track, at 480p (854 x 480) and 1080p (1920 x 1080), 25 fps. Each is
colorized by ``core.film.run_film_job`` exactly as ``colorize film.mp4`` does (decode, network on
keyframes, flow, compose, encode, join with the sound), with the shipped model on the CPU and the
command line's thread count. Peak memory (RSS high-water mark) is measured in a fresh child
process for a short and a long 1080p film: flat means the long one needs no more.
Targets on 2 CPU cores: 480p at least 12 frames per second, 1080p at least 4; 1080p under 2 GB.
The load average is printed beside every figure: the machine may be shared.
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

import av
import cv2
import numpy as np

from colorize_app.core.colour import grayscale_of

TRAIN = Path(os.environ.get("COLORIZE_TRAIN_DIR", "/work/shared/data/train"))
SIZES = {"480p": (854, 480), "1080p": (1920, 1080)}
RATE = 25


def make_film(path: Path, size: tuple[int, int], frames: int) -> Path:
    """A gray pan across a training photo (or a synthetic picture), with a sine sound track."""
    photos = sorted(TRAIN.glob("*.jpg"))[:1] if TRAIN.is_dir() else []
    width, height = size
    if photos:
        picture = cv2.cvtColor(cv2.imread(str(photos[0])), cv2.COLOR_BGR2RGB)
    else:
        y, x = np.mgrid[0:600, 0:800]
        picture = np.dstack([128 + 100 * np.sin(x / 17.0) * np.cos(y / 23.0)] * 3).astype(np.uint8)
    scale = max(height * 1.2 / picture.shape[0], width * 1.3 / picture.shape[1])
    picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = grayscale_of(picture)[:, :, 0]
    room = gray.shape[1] - width
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=RATE, options={"crf": "20", "preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "mono"
        for index in range(frames):
            x = room * (0.5 + 0.5 * np.sin(index / 40.0))
            crop = cv2.warpAffine(gray, np.float32([[1, 0, -x], [0, 1, -4]]), (width, height))
            frame = av.VideoFrame.from_ndarray(crop, format="gray").reformat(format="yuv420p")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = int(48000 * frames / RATE)
        tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 48000)).astype(np.float32)
        for start in range(0, samples, 1024):
            piece = tone[start : start + 1024][None, :]
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece), format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    return path


def colorize(source: Path) -> dict:
    """Colorize ``source`` once; frames per second end to end and the peak memory of this process."""
    from colorize_app.core.engine import Engine, default_threads
    from colorize_app.core.film import run_film_job
    from colorize_app.core.job import Job, JobOptions

    engine = Engine(threads=default_threads())
    engine.load("cpu")
    output = source.with_name(source.stem + "_colorized.mp4")
    with av.open(str(source)) as container:
        frames = container.streams.video[0].frames
    started = time.perf_counter()
    result = run_film_job(Job(source, output, JobOptions(device="cpu")), engine.predict)
    seconds = time.perf_counter() - started
    output.unlink(missing_ok=True)
    return {"status": str(result.status), "reason": result.reason, "frames": frames,
            "fps": frames / seconds, "seconds": seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def in_child(source: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(source)], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the speed films")
    parser.add_argument("--long", type=float, default=60.0, help="length of the long 1080p film")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(colorize(args.child)))
        return 0
    print(f"CPU cores: {os.cpu_count()}; load average at start: {load()}")
    print("| film | frames | frames/s end to end | peak memory | load average (1, 5, 15 min) |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        runs = [(name, size, args.seconds) for name, size in SIZES.items()]
        runs.append(("1080p long", SIZES["1080p"], args.long))
        for name, size, seconds in runs:
            source = make_film(Path(scratch) / f"{name.replace(' ', '_')}.mp4", size, int(seconds * RATE))
            figures = in_child(source)
            if figures["reason"]:
                print(f"{name}: {figures['status']} {figures['reason']}", file=sys.stderr)
            print(f"| {name} ({size[0]} x {size[1]}, {seconds:g} s) | {figures['frames']} | "
                  f"{figures['fps']:.1f} | {figures['peak_mb']:.0f} MB | {load()} |", flush=True)  # fmt: skip
            source.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
