"""Build the extra training photos from source folders, reproducibly, outside the repository.

    python -m training.build_data --out ~/.cache/colorize/data/extra \
        --dedup-against ../shared/data/train \
        --source intel=SRC/intel --source room=SRC/room:12000 --source utkf=SRC/utkf:8000

Each ``--source PREFIX=FOLDER[:QUOTA]`` is searched recursively. Photos are processed the way
``../shared/data/train/SOURCES.md`` describes its own set: dropped when the short side is under
128 px, when nearly grayscale (Lab chroma: 95th percentile under 5 or mean under 1.5), when any
pixel is transparent, when an exact or near duplicate (256-bit difference hash within Hamming
distance 12) of a photo already kept or of one in ``--dedup-against``, and when the held-out
benchmark check (``../shared/tools/holdout_check.py``: its hash, within its distance) flags it.
Kept photos are resized (long side at most 384 px, Lanczos) and written as JPEG quality 90,
``<prefix>_<number>.jpg``. Where a source has more usable photos than its quota, they are taken
in a fixed random order (seed 1234). ``manifest.tsv`` maps each file to its source, and
``build.json`` counts what each source gave and why the rest was dropped, held-out hits included.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .data import find_images

log = logging.getLogger(__name__)

MIN_SHORT_SIDE = 128
MAX_LONG_SIDE = 384
JPEG_QUALITY = 90
NEAR_DUPLICATE = 12
SEED = 1234
DEFAULT_HOLDOUT_TOOL = Path(__file__).resolve().parents[2] / "shared" / "tools" / "holdout_check.py"


@dataclass
class Source:
    prefix: str
    folder: Path
    quota: int | None = None


@dataclass
class Tally:
    candidates: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


def parse_source(text: str) -> Source:
    """``PREFIX=FOLDER[:QUOTA]`` -> Source."""
    prefix, sep, rest = text.partition("=")
    if not sep or not prefix.isalnum():
        raise argparse.ArgumentTypeError(f"{text!r}: expected PREFIX=FOLDER[:QUOTA]")
    folder, _, quota = rest.rpartition(":") if rest.rpartition(":")[2].isdigit() else (rest, "", "")
    return Source(prefix, Path(folder).expanduser(), int(quota) if quota else None)


def load_holdout_tool(path: Path):
    """Import ``holdout_check.py`` from its path (it lives in shared/, outside any package)."""
    spec = importlib.util.spec_from_file_location("holdout_check", path)
    if spec is None or spec.loader is None or not Path(path).is_file():
        raise SystemExit(f"{path}: the held-out check tool is missing; pass --holdout-tool")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so worker processes can unpickle its dhash function
    spec.loader.exec_module(module)
    return module


def hash_words(value: int) -> np.ndarray:
    """A 256-bit hash as four uint64 words, for vectorised Hamming distances."""
    return np.array([(value >> (64 * k)) & (2**64 - 1) for k in range(4)], dtype=np.uint64)


class HashIndex:
    """Hashes seen so far; ``near(h, limit)`` says whether any is within Hamming distance ``limit``."""

    def __init__(self, values: list[int] | None = None) -> None:
        self._words = np.zeros((0, 4), np.uint64)
        self._pending: list[np.ndarray] = [hash_words(v) for v in values or []]

    def add(self, value: int) -> None:
        self._pending.append(hash_words(value))

    def near(self, value: int, limit: int) -> bool:
        if self._pending:
            self._words = np.vstack([self._words, *self._pending])
            self._pending = []
        if not len(self._words):
            return False
        distance = np.bitwise_count(self._words ^ hash_words(value)).sum(axis=1)
        return bool((distance <= limit).any())


def is_nearly_gray(bgr: np.ndarray) -> bool:
    """SOURCES.md's grayscale rule: Lab chroma 95th percentile under 5 or mean under 1.5."""
    lab = cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    return bool(np.percentile(chroma, 95) < 5 or chroma.mean() < 1.5)


def prepare(args: tuple[str, object]) -> tuple[str, bytes | None, int]:
    """Decode, filter and resize one candidate: (reason or "ok", JPEG bytes, difference hash)."""
    path, dhash = args
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        return "unreadable", None, 0
    if image.ndim == 3 and image.shape[2] == 4:
        if (image[..., 3] < 255).any():
            return "transparent", None, 0
        image = image[..., :3]
    if image.ndim == 2:
        return "grayscale", None, 0
    # Decoded again for the pixels kept: IMREAD_COLOR applies the EXIF orientation, as the app
    # shows the photo (IMREAD_UNCHANGED, needed above to see the alpha channel, does not).
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    if min(h, w) < MIN_SHORT_SIDE:
        return "small", None, 0
    if max(h, w) > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / max(h, w)
        image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LANCZOS4)
    if is_nearly_gray(image):
        return "grayscale", None, 0
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        return "unreadable", None, 0
    # Hashed as written: a later build reads this file back for --dedup-against, and JPEG alone can
    # move a flat sky's difference hash by 20+ bits, past the near-duplicate distance.
    return "ok", jpeg.tobytes(), dhash(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))


def _hash_file(args: tuple[str, object]) -> int | None:
    path, dhash = args
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if image is None else dhash(image)


def build(sources: list[Source], out: Path, *, dedup_against: list[Path], holdout_hashes: list[int],
          dhash, holdout_limit: int, workers: int | None = None) -> dict:
    """Write the kept photos of every source into ``out`` (replacing it); returns the counts."""
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    held_out = HashIndex(holdout_hashes)
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        reference = [str(p) for root in dedup_against for p in find_images(root)]
        seen = HashIndex([h for h in pool.map(_hash_file, [(p, dhash) for p in reference], chunksize=64)
                          if h is not None])
        log.info("deduplicating against %d photos already in the training set", len(reference))
        report: dict[str, dict] = {}
        manifest = ["file\tsource\tpath_in_source"]
        for source in sources:
            files = find_images(source.folder)
            order = np.random.default_rng(SEED).permutation(len(files))
            tally = Tally(candidates=len(files))
            jobs = ((str(files[i]), dhash) for i in order)
            for i, (reason, jpeg, value) in zip(order, pool.map(prepare, jobs, chunksize=32)):
                if source.quota is not None and tally.kept >= source.quota:
                    tally.drop("over quota")
                    continue
                if reason != "ok":
                    tally.drop(reason)
                elif held_out.near(value, holdout_limit):
                    tally.drop("held-out benchmark")
                    log.info("dropped %s: near-duplicate of a held-out benchmark photo", files[i])
                elif seen.near(value, NEAR_DUPLICATE):
                    tally.drop("duplicate")
                else:
                    seen.add(value)
                    tally.kept += 1
                    name = f"{source.prefix}_{tally.kept:05d}.jpg"
                    (tmp / name).write_bytes(jpeg)
                    manifest.append(f"{name}\t{source.prefix}\t{files[i].relative_to(source.folder).as_posix()}")
            report[source.prefix] = {"folder": str(source.folder), "quota": source.quota,
                                     "candidates": tally.candidates, "kept": tally.kept,
                                     "dropped": dict(sorted(tally.dropped.items()))}
            log.info("%s: kept %d of %d (%s)", source.prefix, tally.kept, tally.candidates, tally.dropped)
    (tmp / "manifest.tsv").write_text("\n".join(manifest) + "\n")
    summary = {"sources": report, "kept": sum(r["kept"] for r in report.values()),
               "held_out_dropped": sum(r["dropped"].get("held-out benchmark", 0) for r in report.values())}
    (tmp / "build.json").write_text(json.dumps(summary, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder to write (replaced as a whole)")
    p.add_argument("--source", type=parse_source, action="append", required=True, metavar="PREFIX=FOLDER[:QUOTA]")
    p.add_argument("--dedup-against", type=Path, action="append", default=[],
                   help="folders already trained on; near duplicates of their photos are dropped")
    p.add_argument("--holdout-tool", type=Path, default=DEFAULT_HOLDOUT_TOOL)
    p.add_argument("--holdout-hashes", type=Path, help="hash list to use instead of the tool's own")
    p.add_argument("--workers", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    tool = load_holdout_tool(args.holdout_tool)
    if args.holdout_hashes:
        lines = args.holdout_hashes.read_text().splitlines()
        hashes = [int(x.split()[0], 16) for x in lines if x.strip() and not x.startswith("#")]
    else:
        hashes = tool._listed()
    summary = build(args.source, args.out.expanduser(), dedup_against=args.dedup_against,
                    holdout_hashes=hashes, dhash=tool.dhash, holdout_limit=tool.LIMIT,
                    workers=args.workers or None)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
