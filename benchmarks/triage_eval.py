"""How well does the triage tell colour photos from black-and-white ones, and how fast? Prints figures.

    .venv/bin/python benchmarks/triage_eval.py [--train /work/shared/data/train]
                                               [--cache ~/.cache/colorize/triage-set]

Builds (once, into the cache folder, never into the repository) a labelled set of 360 files from
colour training photos, with a fixed seed:
  colour     the photo itself (JPEG)
  faded      colour faded as old prints fade: saturation down to 30-55 %, a warm, magenta or
             yellow cast, lifted blacks, less contrast
  gray       its lightness alone (RGB JPEG or 8-bit gray PNG)
  sepia      the classic sepia matrix, mixed with gray
  brown      lightness kept, a brown tint strongest in the midtones (sepia toner on a print)
  selenium   purple-brown shadows, neutral highlights
  cyanotype  Prussian blue to paper white
  split      split toning: cool shadows, warm highlights (gold and sepia)
  scan       a gray or lightly toned print scanned: colour noise, paper tint, JPEG, and for some a
             one-pixel misregistration of a colour channel
Then runs ``core.triage`` the way a job does (on the decoded photo) and prints, per class, how many
were judged right; per label, the accuracy (targets: 99 % monochrome, 98 % colour); the time per
photo, on these files and on a 12-megapixel photo; and the load average beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colorize_app.core.imageio import read_image
from colorize_app.core.triage import colour_share, is_colour

SEED = 20
RECIPES = {  # name: (label, how many)
    "colour": ("colour", 120), "faded": ("colour", 60), "gray": ("mono", 40), "sepia": ("mono", 20),
    "brown": ("mono", 20), "selenium": ("mono", 20), "cyanotype": ("mono", 20), "split": ("mono", 20),
    "scan": ("mono", 40),
}  # fmt: skip


def lab_of(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def rgb_of(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def tinted(light: np.ndarray, a, b) -> np.ndarray:
    return rgb_of(np.dstack([light, np.broadcast_to(a, light.shape), np.broadcast_to(b, light.shape)]))


def gray_of(rgb: np.ndarray) -> np.ndarray:
    return lab_of(rgb)[..., 0]


def make(recipe: str, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    light = gray_of(rgb)
    t = light / 100.0
    if recipe == "colour":
        return rgb
    if recipe == "faded":
        lab = lab_of(rgb)
        lab[..., 1:] *= rng.uniform(0.30, 0.55)
        cast = [(6, 12), (10, 2), (2, 14), (8, 8)][rng.integers(4)]
        lab[..., 1] += cast[0] * rng.uniform(0.5, 1.0)
        lab[..., 2] += cast[1] * rng.uniform(0.5, 1.0)
        lift = rng.uniform(8, 20)
        lab[..., 0] = lift + lab[..., 0] * (1 - lift / 100) * rng.uniform(0.85, 1.0)
        return rgb_of(lab)
    if recipe == "gray":
        return np.dstack([rgb_of(np.dstack([light, 0 * light, 0 * light]))[..., 0]] * 3)
    if recipe == "sepia":
        gray = np.dstack([rgb_of(np.dstack([light, 0 * light, 0 * light]))[..., 0]] * 3).astype(np.float32)
        matrix = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
        sep = np.clip(gray @ matrix.T, 0, 255)
        mix = rng.uniform(0.6, 1.0)
        return np.clip(mix * sep + (1 - mix) * gray, 0, 255).astype(np.uint8)
    if recipe == "brown":
        strength = rng.uniform(8, 22)
        peak = 4 * t * (1 - t)
        return tinted(light, strength * 0.45 * peak, strength * peak)
    if recipe == "selenium":
        strength = rng.uniform(6, 14) * (1 - t) ** 2
        return tinted(light, strength, strength * 0.3)
    if recipe == "cyanotype":
        strength = rng.uniform(25, 45) * (1 - t) ** 0.8
        return tinted(light * rng.uniform(0.8, 1.0) + 5, -0.15 * strength, -strength)
    if recipe == "split":
        shadow, highlight = rng.uniform(4, 10), rng.uniform(5, 12)
        return tinted(light, -shadow * 0.3 * (1 - t) + highlight * 0.3 * t, -shadow * (1 - t) + highlight * t)
    if recipe == "scan":
        tint = rng.uniform(0, 8)
        base = tinted(light, tint * 0.3, tint).astype(np.float32)
        base += rng.normal(0, rng.uniform(2, 7), base.shape)  # colour noise: each channel its own
        if rng.random() < 0.4:
            channel = rng.integers(3)
            base[..., channel] = np.roll(base[..., channel], 1, axis=int(rng.integers(2)))
        return np.clip(base, 0, 255).astype(np.uint8)
    raise ValueError(recipe)


def several_hues(rgb: np.ndarray) -> bool:
    """True for a photo with colours of more than one family: at least 10 % of it colourful
    (chroma >= 15) and at least 5 % colourful and over 60 degrees of hue from the commonest hue.
    A scene of one hue (a black shirt on beige tiles) is, pixel for pixel, a toned print: no
    triage can tell them apart, so such photos are not labelled colour in this set."""
    lab = lab_of(rgb).reshape(-1, 3)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    hue = np.degrees(np.arctan2(lab[chroma >= 15, 2], lab[chroma >= 15, 1])) % 360
    if hue.size < 0.10 * len(lab):
        return False
    centre = (np.argmax(np.bincount((hue // 30).astype(int), minlength=12)) + 0.5) * 30
    apart = np.abs((hue - centre + 180) % 360 - 180) > 60
    return apart.sum() >= 0.05 * len(lab)


def build(train: Path, cache: Path, seed: int = SEED) -> list[tuple[Path, str, str]]:
    """The set's files, (path, recipe, label); made once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    sources = sorted(train.glob("*.jpg"))
    rng = np.random.default_rng(seed)
    order = iter(rng.permutation(len(sources)))
    entries, at = [], 0
    for recipe, (label, count) in RECIPES.items():
        for i in range(count):
            source = sources[next(order)]
            while label == "colour" and not several_hues(np.asarray(Image.open(source).convert("RGB"))):
                source = sources[next(order)]
            at += 1
            gray_png = recipe == "gray" and i % 2 == 1
            path = cache / f"{recipe}_{i:03d}{'.png' if gray_png else '.jpg'}"
            if not path.exists():
                photo_rng = np.random.default_rng([seed, at])
                rgb = np.asarray(Image.open(source).convert("RGB"))
                made = make(recipe, rgb, photo_rng)
                if gray_png:
                    Image.fromarray(made[..., 0], "L").save(path)
                else:
                    quality = int(photo_rng.integers(70, 96)) if recipe == "scan" else 90
                    Image.fromarray(made).save(path, quality=quality)
            entries.append((path, recipe, label))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=Path("/work/shared/data/train"))
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/colorize/triage-set")
    parser.add_argument("--seed", type=int, default=SEED,
                        help="another seed builds another set (the rule was chosen on 20-22)")  # fmt: skip
    parser.add_argument("--show", action="store_true", help="print each wrong file with its share")
    args = parser.parse_args()
    if args.seed != SEED:
        args.cache = args.cache.with_name(f"{args.cache.name}-seed{args.seed}")
    entries = build(args.train, args.cache, args.seed)
    right: dict[str, list[bool]] = {}
    by_label: dict[str, list[bool]] = {"mono": [], "colour": []}
    times = []
    for path, recipe, label in entries:
        pixels = read_image(path).pixels
        started = time.perf_counter()
        verdict = is_colour(pixels)
        times.append(time.perf_counter() - started)
        ok = verdict == (label == "colour")
        right.setdefault(recipe, []).append(ok)
        by_label[label].append(ok)
        if args.show and not ok:
            print(f"  wrong: {path.name} share {colour_share(pixels):.3f}")
    load = os.getloadavg()
    print(f"Labelled set: {len(entries)} files in {args.cache} (seed {args.seed})")
    for recipe, oks in right.items():
        print(f"  {recipe:10s} {RECIPES[recipe][0]:6s} {sum(oks):3d}/{len(oks):3d} right")
    for label, oks in by_label.items():
        print(f"{label:6s}: {100 * sum(oks) / len(oks):.1f} % right ({sum(oks)}/{len(oks)})")
    print(f"time per photo (these, up to 384 px): median {1e3 * statistics.median(times):.2f} ms, "
          f"max {1e3 * max(times):.2f} ms")
    big = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    runs = []
    for _ in range(20):
        started = time.perf_counter()
        is_colour(big)
        runs.append(time.perf_counter() - started)
    print(f"time per photo (12 MP, 8-bit RGB): median {1e3 * statistics.median(runs):.2f} ms")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
