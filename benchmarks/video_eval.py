"""How steady and how right is a colorized film? The metrics' "Video" section, on real clips.

    .venv/bin/python benchmarks/video_eval.py [--frames 150] [--clips DIR] [--variants NAME ...]

For each clip (OpenCV's sample videos from Debian's opencv-doc: vtest.avi, tree.avi, Megamind.avi,
and a clip made here: a camera panning over one training photo, then a cut to another), the true
colour frames are made gray as the metrics define (Lab L, a = b = 0, back to sRGB), kept
losslessly (FFV1), and colorized through ``core.film.run_film_job``, exactly as the command line
does, once per design. The written films are decoded and compared with the truth:

- per-frame quality on every 10th frame: ΔE00, hue accuracy, CF (the truth's CF beside it);
- the (a, b) warp error: flow from frame t+1 back to t on the truth's lightness (DIS, MEDIUM, L
  scaled to 0..255), frame t's prediction warped onto t+1, the mean (a, b) distance over the
  pixels where the truth's warped lightness is within 2 L of frame t+1's and the source is inside
  the frame; reported as a ratio to the same number for the truth.

A last row per clip, "truth through the app's H.264", is the true colour film written by the
app's own encoder (4:2:0 chroma, CRF 18): the floor no written film can go below. On a clean,
noiseless clip (the one made here) 4:2:0 chroma alone moves (a, b) about twice as much as the
truth does, so there the ratio says more beside its floor than on its own.

Prints one table row per clip and design. Asserts nothing; the figures chose core.steady's design.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from colorize_app.core import film_io
from colorize_app.core.colour import grayscale_of
from colorize_app.core.engine import Engine, batch_threads
from colorize_app.core.film import run_film_job
from colorize_app.core.job import Job, JobOptions
from colorize_app.core.steady import FRAME_BY_FRAME, SteadyParams
from training.metrics import colourfulness, delta_e00, hue_accuracy

OPENCV_CLIPS = Path("/usr/share/doc/opencv-doc/examples/data")
CLIPS = ("vtest.avi", "tree.avi", "Megamind.avi")
TRAIN = Path(os.environ.get("COLORIZE_TRAIN_DIR", "/work/shared/data/train"))
VARIANTS = {
    "frame by frame": FRAME_BY_FRAME,
    "every frame, carry 0.8": SteadyParams(keyframe_every=1, carry=0.8),
    "key 4, carry 0.6": SteadyParams(keyframe_every=4, carry=0.6),
    "key 4, carry 0.8": SteadyParams(keyframe_every=4, carry=0.8),
    "key 4, carry 0.95": SteadyParams(keyframe_every=4, carry=0.95),
    "key 8, carry 0.8": SteadyParams(keyframe_every=8, carry=0.8),
}
RELIABLE_L = 2.0  # L units
SAMPLE_EVERY = 10


def truth_frames(path: Path, limit: int):
    """The first ``limit`` frames of a colour clip as 8-bit sRGB, and its frame rate."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.guessed_rate or 25)
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) >= limit:
                break
    return frames, rate


def made_clip(limit: int, size=(480, 320)) -> list[np.ndarray]:
    """A camera panning across one training photo, then a cut to a pan across another."""
    photos = sorted(p for p in TRAIN.rglob("*.jpg"))[:2] if TRAIN.is_dir() else []
    if len(photos) < 2:
        return []
    frames = []
    half = limit // 2
    for photo in photos:
        image = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
        scale = (size[1] * 1.25) / image.shape[0]
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        room_x, room_y = image.shape[1] - size[0], image.shape[0] - size[1]
        for i in range(half):
            x = room_x * i / max(half - 1, 1)
            y = room_y * 0.5 * (1 + np.sin(i / 15))
            shift = np.float32([[1, 0, -x], [0, 1, -y]])
            frames.append(cv2.warpAffine(image, shift, size, flags=cv2.INTER_LINEAR))
    return frames


def write_gray(frames: list[np.ndarray], rate: Fraction, path: Path) -> None:
    """The metrics' grayscale of each frame, losslessly (FFV1, 8-bit gray)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=rate)
        height, width = frames[0].shape[:2]
        stream.width, stream.height, stream.pix_fmt = width, height, "gray"
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(grayscale_of(rgb)[:, :, 0]), format="gray")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def write_through_encoder(frames: list[np.ndarray], rate: Fraction, path: Path) -> Path:
    """The true colour frames written by the app's own encoder (film_io.PartWriter)."""
    height, width = frames[0].shape[:2]
    info = film_io.FilmInfo(width=width, height=height, time_base=1 / rate, rate=rate,
                            frames=len(frames), rotation=0, sample_aspect=None,
                            pixel_format="yuv420p", bits=8)  # fmt: skip
    writer = film_io.PartWriter(path, info, width & ~1, height & ~1)
    for index, rgb in enumerate(frames):
        writer.write(index, np.ascontiguousarray(rgb[: height & ~1, : width & ~1]))
    writer.close()
    return path


def decoded(path: Path):
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


class WarpError:
    """Accumulates the metrics' (a, b) warp error of one prediction along the truth's flow."""

    def __init__(self) -> None:
        self.total, self.pairs, self.previous = 0.0, 0, None

    def add(self, pred_lab: np.ndarray, map_x, map_y, reliable) -> None:
        if self.previous is not None and reliable is not None and reliable.any():
            warped = cv2.remap(self.previous[:, :, 1:], map_x, map_y, cv2.INTER_LINEAR)
            distance = np.linalg.norm(warped - pred_lab[:, :, 1:], axis=2)
            self.total += float(distance[reliable].mean())
            self.pairs += 1
        self.previous = pred_lab

    @property
    def value(self) -> float:
        return self.total / max(self.pairs, 1)


def evaluate_clip(name: str, truth: list[np.ndarray], outputs: dict[str, Path]) -> dict[str, dict]:
    """Per-frame quality and warp error of each design's film against ``truth``."""
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    streams = {key: decoded(path) for key, path in outputs.items()}
    errors = {key: WarpError() for key in ["truth", *outputs]}
    quality = {key: {"delta_e00": [], "hue": [], "cf": []} for key in outputs}
    truth_cf = []
    previous_l = None
    height, width = truth[0].shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    for index, rgb in enumerate(truth):
        truth_lab = lab(rgb)
        l8 = np.clip(truth_lab[:, :, 0] * 2.55, 0, 255).astype(np.uint8)
        if previous_l is not None:
            motion = flow.calc(l8, previous_l[1], None)  # from frame t+1 back to frame t
            map_x, map_y = grid_x + motion[..., 0], grid_y + motion[..., 1]
            warped_l = cv2.remap(previous_l[0], map_x, map_y, cv2.INTER_LINEAR)
            inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
            reliable = inside & (np.abs(warped_l - truth_lab[:, :, 0]) <= RELIABLE_L)
        else:
            map_x = map_y = reliable = None
        errors["truth"].add(truth_lab, map_x, map_y, reliable)
        for key, stream in streams.items():
            pred = next(stream)
            pred_lab = lab(pred)
            errors[key].add(pred_lab, map_x, map_y, reliable)
            if index % SAMPLE_EVERY == 0:
                quality[key]["delta_e00"].append(delta_e00(rgb, pred))
                hue = hue_accuracy(rgb, pred)
                if hue is not None:
                    quality[key]["hue"].append(hue)
                quality[key]["cf"].append(colourfulness(pred))
        if index % SAMPLE_EVERY == 0:
            truth_cf.append(colourfulness(rgb))
        previous_l = (truth_lab[:, :, 0], l8)
    truth_error = errors["truth"].value
    rows = {}
    for key in outputs:
        q = quality[key]
        rows[key] = {
            "warp_ratio": errors[key].value / truth_error if truth_error else float("nan"),
            "delta_e00": float(np.mean(q["delta_e00"])),
            "hue": float(np.mean(q["hue"])) if q["hue"] else float("nan"),
            "cf": float(np.mean(q["cf"])),
            "truth_cf": float(np.mean(truth_cf)),
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=150, help="frames per clip (default: %(default)s)")
    parser.add_argument("--clips", type=Path, default=OPENCV_CLIPS, help="folder of opencv-doc's sample videos")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--only", nargs="*", help="clip names to run (default: all)")
    args = parser.parse_args(argv)
    engine = Engine(threads=batch_threads())
    engine.load("cpu")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| clip | design | warp-error ratio | ΔE00 | hue % | CF (truth) | fps |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    sources = [(name, *truth_frames(args.clips / name, args.frames)) for name in CLIPS
               if (args.clips / name).is_file()]  # fmt: skip
    made = made_clip(args.frames)
    if args.only:
        sources = [source for source in sources if source[0] in args.only]
        made = made if "made" in args.only else []
    if made:
        sources.append(("pan + cut (made)", made, Fraction(25)))
    if not sources:
        print("No clips: install opencv-doc (apt-get install opencv-doc) or pass --clips.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for name, truth, rate in sources:
            gray = scratch / f"{Path(name).stem.replace(' ', '_')}.mkv"
            write_gray(truth, rate, gray)
            outputs, speed = {}, {}
            for key in args.variants:
                out = scratch / f"{gray.stem}-{len(outputs)}_colorized.mkv"
                started = time.perf_counter()
                result = run_film_job(Job(gray, out, JobOptions(device="cpu")), engine.predict,
                                      steady=VARIANTS[key])  # fmt: skip
                speed[key] = len(truth) / (time.perf_counter() - started)
                if result.reason:
                    print(f"{name} / {key}: {result.status} {result.reason}", file=sys.stderr)
                outputs[key] = out
            floor = "truth through the app's H.264"
            outputs[floor] = write_through_encoder(truth, rate, scratch / f"{gray.stem}-truth.nut")
            speed[floor] = float("nan")
            for key, row in evaluate_clip(name, truth, outputs).items():
                print(f"| {name} ({len(truth)} frames) | {key} | {row['warp_ratio']:.3f} | "
                      f"{row['delta_e00']:.2f} | {row['hue']:.1f} | {row['cf']:.1f} ({row['truth_cf']:.1f}) | "
                      f"{speed[key]:.1f} |", flush=True)  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
