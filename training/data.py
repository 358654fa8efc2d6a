"""Training data: scan a folder of photos, split it, and cache pre-decoded, pre-resized pixels.

Any folder works, searched recursively, so a flat folder and the Places365 layout
(``<split>/<category>/*.jpg``) alike; several folders (the shared set and the extra photos that
``training.build_data`` writes) are read as one set. Photos that are grayscale or nearly colourless teach the
network nothing but grey, so they are skipped (colourfulness as in the metrics doc). Decoding JPEGs
would starve the model on two cores, so every photo is decoded once into a uint8 memory-mapped
array of square crops; the scan and the array are cached and reused by later runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from .metrics import colourfulness

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
DEFAULT_CACHE = Path(os.environ.get("COLORIZE_CACHE", Path.home() / ".cache" / "colorize"))


def find_images(root: Path) -> list[Path]:
    """All image files under ``root``, recursively, in a stable order."""
    return sorted(
        p for p in Path(root).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )


# Whole sources held out of training: the "foreign" split measures how well the model colours
# photos unlike any it learned from (the held-out benchmark is such photos), where the hashed
# "val" split holds more photos of the training sources. ImageNet's one photo per class,
# DreamBooth's objects and pets, and three scene sets of other photographers.
FOREIGN_SOURCES = ("inet", "dbth", "bsds", "sunhays", "urban")


# ImageNet classes a training source holds (Imagenette, `inette` in extra6b; DATA.md): the one
# photo of each in `inet` was no longer foreign once that source was trained on.
TRAINED_IMAGENET_CLASSES = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn", "n03417042": "garbage truck",
    "n03425413": "gas pump", "n03445777": "golf ball", "n03888605": "parachute",
}


@cache
def _original_names(folder: Path) -> dict[str, str]:
    """``manifest.tsv`` beside the shared photos: each file's name in the repository it came from."""
    manifest = folder / "manifest.tsv"
    if not manifest.is_file():
        return {}
    lines = manifest.read_text(encoding="utf-8").splitlines()[1:]
    return {f[0]: f[2].rsplit("/", 1)[-1] for f in (line.split("\t") for line in lines) if len(f) >= 3}


def seen_in_training(path: Path) -> bool:
    """Whether a photo of a foreign source shows a class that a training source holds."""
    original = _original_names(Path(path).parent).get(Path(path).name, "")
    return original.split("_", 1)[0] in TRAINED_IMAGENET_CLASSES


def source_of(relative_path: str) -> str:
    """The source prefix of ``<prefix>_<number>.jpg`` (SOURCES.md), from the file name."""
    return relative_path.rsplit("/", 1)[-1].split("_", 1)[0]


def split_of(relative_path: str, val_fraction: float = 0.05) -> str:
    """"foreign" for a held-out source, else "train" or "val" by a hash of the path, so it
    never changes between runs."""
    if source_of(relative_path) in FOREIGN_SOURCES:
        return "foreign"
    digest = hashlib.sha1(relative_path.encode("utf-8")).digest()
    return "val" if int.from_bytes(digest[:4], "big") / 2**32 < val_fraction else "train"


def load_rgb(path: Path) -> np.ndarray | None:
    """8-bit RGB with EXIF orientation applied (cv2 applies it by default), or None if unreadable."""
    data = np.fromfile(str(path), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def square_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` and take the centre square."""
    h, w = rgb.shape[:2]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(rgb, (nw, nh), interpolation=interp)
    top, left = (nh - size) // 2, (nw - size) // 2
    return resized[top : top + size, left : left + size]


def _decode(args: tuple[str, int]) -> tuple[np.ndarray | None, float]:
    path, size = args
    rgb = load_rgb(Path(path))
    if rgb is None or min(rgb.shape[:2]) < 32:
        return None, 0.0
    crop = square_crop(rgb, size)
    return crop, colourfulness(crop)


@dataclass
class PhotoCache:
    """Pre-decoded square photos (N x S x S x 3 uint8, memory-mapped) and their paths and splits."""

    pixels: np.ndarray
    paths: list[str]          # relative to their folder: the split is a hash of this
    splits: list[str]
    colourfulness: list[float]
    files: list[str]          # absolute paths, to read the original photo again

    def indices(self, split: str) -> np.ndarray:
        return np.array([i for i, s in enumerate(self.splits) if s == split], dtype=np.int64)


def build_cache(
    roots: Path | list[Path],
    *,
    size: int = 176,
    min_colourfulness: float = 8.0,
    val_fraction: float = 0.05,
    cache_dir: Path = DEFAULT_CACHE,
    workers: int | None = None,
) -> PhotoCache:
    """Scan ``roots`` and decode every usable photo once; a second call with the same files is instant."""
    roots = [Path(r).resolve() for r in (roots if isinstance(roots, (list, tuple)) else [roots])]
    if any(r.is_file() for r in roots):
        return _cache_from_packs(roots, size=size, cache_dir=Path(cache_dir), val_fraction=val_fraction)
    files, relative = [], []
    for root in roots:
        found = find_images(root)
        if not found:
            raise FileNotFoundError(f"{root}: no images found (looked for {sorted(IMAGE_EXTENSIONS)}).")
        files += found
        relative += [p.relative_to(root).as_posix() for p in found]
    # Keyed by path and size, not modification time: the shared photos are copied afresh for each
    # session (new mtimes, same bytes), and decoding 40,000 of them again costs minutes.
    stamp = hashlib.sha1()
    for p in files:
        stamp.update(f"{p}|{p.stat().st_size}\n".encode())
    stamp.update(f"{size}|{min_colourfulness}|{val_fraction}|{','.join(FOREIGN_SOURCES)}".encode())
    key = stamp.hexdigest()[:16]
    cache_dir = Path(cache_dir)
    index_path, pixels_path = cache_dir / f"photos-{key}.json", cache_dir / f"photos-{key}.u8"
    if index_path.is_file() and pixels_path.is_file():
        return _open_cache(index_path, pixels_path, size)

    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("decoding %d photos from %s into %s", len(files), ", ".join(map(str, roots)), pixels_path)
    tmp = pixels_path.with_suffix(".tmp")
    out = np.memmap(tmp, np.uint8, "w+", shape=(len(files), size, size, 3))
    kept, kept_files, cfs = [], [], []
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        decoded = pool.map(_decode, [(str(p), size) for p in files], chunksize=64)
        for path, rel, (crop, cf) in zip(files, relative, decoded):
            if crop is None or cf < min_colourfulness:
                continue
            out[len(kept)] = crop
            kept.append(rel)
            kept_files.append(str(path))
            cfs.append(round(cf, 3))
    out.flush()
    del out
    # Trim to the photos kept, then publish atomically: index last, so a crash leaves no half cache.
    with open(tmp, "r+b") as fh:
        fh.truncate(len(kept) * size * size * 3)
    os.replace(tmp, pixels_path)
    splits = [split_of(p, val_fraction) for p in kept]
    index_tmp = index_path.with_suffix(".tmp")
    index_tmp.write_text(json.dumps({"roots": [str(r) for r in roots], "paths": kept, "splits": splits,
                                     "colourfulness": cfs, "files": kept_files}))
    os.replace(index_tmp, index_path)
    log.info("kept %d of %d photos (skipped %d nearly colourless or unreadable)", len(kept), len(files), len(files) - len(kept))
    pixels = np.memmap(pixels_path, np.uint8, "r", shape=(len(kept), size, size, 3))
    return PhotoCache(pixels, kept, splits, cfs, kept_files)


def _cache_from_packs(packs: list[Path], *, size: int, cache_dir: Path, val_fraction: float) -> PhotoCache:
    """The cache of photos shipped as ``training.pack`` files (for a GPU machine): decoded once."""

    stamp = hashlib.sha1(f"{size}|{val_fraction}".encode())
    for pack in packs:
        st = pack.stat()
        stamp.update(f"{pack}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    key = stamp.hexdigest()[:16]
    index_path, pixels_path = cache_dir / f"pack-{key}.json", cache_dir / f"pack-{key}.u8"
    if not (index_path.is_file() and pixels_path.is_file()):
        cache_dir.mkdir(parents=True, exist_ok=True)
        paths, squares, cfs, files = [], [], [], []
        for pack in packs:
            names, _, images = unpack(pack)
            for name, rgb in zip(names, images):
                squares.append(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_CUBIC))
                paths.append(name)
                files.append(f"{pack}:{name}")
                cfs.append(round(colourfulness(squares[-1]), 3))
        np.stack(squares).tofile(pixels_path)
        index_path.write_text(json.dumps({"paths": paths, "splits": [split_of(p, val_fraction) for p in paths],
                                          "colourfulness": cfs, "files": files}))
    return _open_cache(index_path, pixels_path, size)


def _open_cache(index_path: Path, pixels_path: Path, size: int) -> PhotoCache:
    """A published cache: its JSON index and its memory-mapped squares."""
    index = json.loads(index_path.read_text())
    pixels = np.memmap(pixels_path, np.uint8, "r", shape=(len(index["paths"]), size, size, 3))
    files = index.get("files") or [str(Path(index["root"]) / p) for p in index["paths"]]  # older caches
    return PhotoCache(pixels, index["paths"], index["splits"], index["colourfulness"], files)


def unpack(path: Path):
    """(paths, splits, iterator of RGB squares) of a pack written by ``training.pack``."""
    with np.load(path) as pack_file:
        blob, offsets = pack_file["blob"], pack_file["offsets"]
        paths, splits = [str(p) for p in pack_file["paths"]], [str(s) for s in pack_file["splits"]]

    def images():
        for k in range(len(paths)):
            bgr = cv2.imdecode(blob[offsets[k]:offsets[k + 1]], cv2.IMREAD_COLOR)
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return paths, splits, images()


def spread(items: list, limit: int, offset: int = 0) -> list:
    """``limit`` items evenly spaced over ``items``, so a subset covers every source folder rather
    than the first one; ``offset`` takes the item that many places after each, a set with none of
    the first's items while offset < len(items) / limit."""
    return [items[min(i * len(items) // limit + offset, len(items) - 1)] for i in range(limit)]
