"""Pack the training photos into one small file that travels to a GPU machine.

    python -m training.pack --data ../shared/data/train ~/.cache/colorize/data/extra \
        --out .gpu/photos.colorize-pack --size 112 --budget-mb 56

A GPU machine lent for a few minutes gets only what is sent with the working tree (tens of MB),
so the pre-decoded squares of the photo cache are re-encoded as small JPEGs (``--size`` px,
quality 88) into one ``.npz``, taken in a fixed spread over the set until ``--budget-mb`` is
reached; the split of every photo is kept, so the validation photos stay out of training there
too. ``training.data.build_cache`` reads such a file as it reads a folder (``data.unpack``:
the reader lives with the cache, so this module imports data and never the other way round).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from .data import DEFAULT_CACHE, build_cache

PACK_SUFFIX = ".colorize-pack"
QUALITY = 88


def pack(data: list[Path], out: Path, *, size: int, budget_bytes: int, cache_dir: Path = DEFAULT_CACHE) -> int:
    """Write the pack; returns how many photos went in (validation photos first, then training)."""
    cache = build_cache(data, cache_dir=cache_dir)
    order = np.concatenate([cache.indices("val"), np.random.default_rng(0).permutation(cache.indices("train"))])
    blobs, names, splits, used = [], [], [], 0
    for i in order:
        small = cv2.resize(np.ascontiguousarray(cache.pixels[i]), (size, size), interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        if not ok or used + jpeg.size > budget_bytes:
            break
        blobs.append(jpeg.ravel())
        names.append(cache.paths[i])
        splits.append(cache.splits[i])
        used += jpeg.size
    offsets = np.cumsum([0] + [b.size for b in blobs]).astype(np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, blob=np.concatenate(blobs), offsets=offsets, paths=np.array(names), splits=np.array(splits))
    tmp.replace(out)
    return len(blobs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, nargs="+", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--budget-mb", type=float, default=56)
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = p.parse_args(argv)
    count = pack(args.data, args.out, size=args.size, budget_bytes=int(args.budget_mb * 2**20), cache_dir=args.cache_dir)
    print(f"packed {count} photos into {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
