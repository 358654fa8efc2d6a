"""Evaluate models on colour photos exactly as ../shared/docs/metrics.md says.

    python -m training.evaluate --weights colorize_app/weights/colorizer.safetensors \
        --data ../shared/data/train --split val --out runs/eval

    python -m training.evaluate --weights A.safetensors B.safetensors --data DIR... --hints 10 --degrade

Each photo's grayscale version goes through the application's own ``colorize`` at default
settings; PSNR, SSIM, AuC, CF, ΔE00 and hue accuracy are computed per image and averaged, ΔCF
over the set. The gray baseline (the input itself) and the lightness-prior baseline are always
reported beside the models; with ``--hints N`` each photo gets N simulated hints (metrics.md) and
the inverse-distance baseline joins them. ``--degrade`` evaluates on old-scan versions of the
photos (training.degrade, all five degradations, a fixed seed per photo), the truth unchanged.
Writes ``per_image.csv``, ``summary.json``, ``table.md`` (overall and per category; with two or
more models, each one's per-photo difference from the first, with its standard error) and
``contact_sheet.png`` (input | each model | truth).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from fnmatch import fnmatch
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from colorize_app.core.colour import grayscale_of
from colorize_app.core.pipeline import DEFAULT_RENDER_SIZE, colorize
from colorize_app.core.weights import load_model

from . import baselines
from .batches import centre_crops
from .categories import category_of
from .data import build_cache, find_images, load_rgb, seen_in_training, split_of, spread
from .degrade import old_scan
from .metrics import colourfulness, image_metrics, summarize

SHEET_ROW_HEIGHT = 160


PRIOR_PHOTOS = 2000


def photos_for(data: list[Path], split: str) -> list[Path]:
    """Every photo of a split (nearly colourless ones too: the training cache drops those, but a
    model's stray tint on them is an error a user sees), or every photo with split "all"."""
    if split == "all":
        return [p for root in data for p in find_images(root)]
    if any(Path(root).is_file() for root in data):  # packs for a GPU machine: the photos they hold
        cache = build_cache(data)
        photos = [Path(cache.files[i]) for i in cache.indices(split)]
    else:
        photos = [p for root in data for p in find_images(root) if split_of(p.relative_to(root).as_posix()) == split]
    return [p for p in photos if not seen_in_training(p)] if split == "foreign" else photos


def prior_table(data: list[Path]) -> np.ndarray:
    """The lightness-prior baseline's table, from training-split photos spread over the set."""
    cache = build_cache(data)
    train = cache.indices("train")
    if not len(train):
        train = np.arange(len(cache.paths))
    pick = train[np.linspace(0, len(train) - 1, min(PRIOR_PHOTOS, len(train))).astype(int)]
    return baselines.lightness_prior(centre_crops(cache.pixels, pick, 64))


def model_input(truth: np.ndarray, name: str, degrade: bool) -> np.ndarray:
    """What the application is given: the truth's grayscale, or an old-scan version of it."""
    if not degrade:
        return grayscale_of(truth)
    seed = int.from_bytes(name.encode("utf-8")[:8].ljust(8, b"\0"), "big") ^ 2026
    return old_scan(truth, np.random.default_rng(seed))


def evaluate(models: dict[str, torch.nn.Module], photos: list[Path], *, render_size: int = DEFAULT_RENDER_SIZE,
             saturation: float = 1.0, sheet_rows: int = 12, sheet_patterns: list[str] | None = None,
             hints: int = 0, degrade: bool = False, prior: np.ndarray | None = None):
    """Per-image rows, a summary per model (baselines first) and contact-sheet rows.

    ``sheet_patterns`` (shell patterns on file names) restricts which photos may appear on the
    contact sheet, e.g. only those whose licence allows publishing them.
    """
    rows: list[dict] = []
    truth_cf: list[float] = []
    sheet: list[list[np.ndarray]] = []
    allowed = [p for p in photos if not sheet_patterns or any(fnmatch(p.name, pat) for pat in sheet_patterns)]
    # Spread the sheet's rows over the allowed photos, so it shows every source, not the first.
    on_sheet = {allowed[i * len(allowed) // sheet_rows] for i in range(min(sheet_rows, len(allowed)))}
    for path in tqdm(photos, unit="photo"):
        truth = load_rgb(path)
        if truth is None:
            continue
        given = model_input(truth, path.name, degrade)
        points = baselines.protocol_hints(truth, hints, path.name)
        truth_cf.append(colourfulness(truth))
        preds = {"gray baseline": grayscale_of(given)}
        if prior is not None:
            preds["lightness prior"] = baselines.prior_prediction(given, prior)
        if points:
            preds["inverse distance"] = baselines.inverse_distance_prediction(given, points)
        for name, model in models.items():
            preds[name] = colorize(given, model, render_size=render_size, saturation=saturation,
                                   hints=points if model.config.takes_hints else None)
        for name, pred in preds.items():
            rows.append({"photo": path.name, "file": str(path), "category": category_of(path.name), "model": name,
                         **image_metrics(truth, pred), "truth_cf": truth_cf[-1]})
        if path in on_sheet:
            sheet.append([preds["gray baseline"]] + [preds[n] for n in models] + [truth])
    names = list(dict.fromkeys(r["model"] for r in rows))
    summary = {n: summarize([r for r in rows if r["model"] == n], truth_cf) for n in names}
    summary["truth"] = {"cf": float(np.mean(truth_cf)), "images": len(truth_cf)}
    categories = {}
    for cat in sorted({r["category"] for r in rows}):
        cat_rows = [r for r in rows if r["category"] == cat]
        cat_cf = [r["truth_cf"] for r in cat_rows if r["model"] == names[0]]
        categories[cat] = {n: summarize([r for r in cat_rows if r["model"] == n], cat_cf) for n in names}
        categories[cat]["truth"] = {"cf": float(np.mean(cat_cf)), "images": len(cat_cf)}
    summary["categories"] = categories
    return rows, summary, sheet


def contact_sheet(sheet: list[list[np.ndarray]]) -> np.ndarray:
    """Rows of equally tall tiles: grayscale | model(s) | truth."""
    lines = []
    for tiles in sheet:
        scaled = [cv2.resize(t, (round(t.shape[1] * SHEET_ROW_HEIGHT / t.shape[0]), SHEET_ROW_HEIGHT),
                             interpolation=cv2.INTER_AREA) for t in tiles]
        gap = np.full((SHEET_ROW_HEIGHT, 4, 3), 255, np.uint8)
        lines.append(np.hstack([x for t in scaled for x in (t, gap)][:-1]))
    width = max(line.shape[1] for line in lines)
    padded = [np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)), constant_values=255) for line in lines]
    return np.vstack(padded)


def markdown_table(summary: dict) -> str:
    """The overall table, then one per category."""
    header = ["| model | PSNR (dB) | SSIM | AuC (%) | CF | ΔCF | ΔE00 | hue acc. (%) |",
              "|---|---|---|---|---|---|---|---|"]

    def rows(part: dict) -> list[str]:
        out = [f"| {name} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['auc']:.2f} | {s['cf']:.2f} | "
               f"{s['delta_cf']:.2f} | {s['delta_e00']:.2f} | {s['hue_accuracy']:.1f} |"
               for name, s in part.items() if name not in ("truth", "categories")]
        return out + [f"| (truth, {part['truth']['images']} photos) | | | | {part['truth']['cf']:.2f} | | | |"]

    lines = header + rows(summary)
    for cat, part in summary.get("categories", {}).items():
        lines += ["", f"**{cat}**", "", *header, *rows(part)]
    return "\n".join(lines)


PAIRED_METRICS = (("delta_e00", "ΔE00"), ("hue_accuracy", "hue acc. (%)"), ("cf", "CF"), ("auc", "AuC (%)"),
                  ("psnr", "PSNR (dB)"))


def paired_table(rows: list[dict], reference: str, models: list[str]) -> str:
    """Each model's mean per-photo difference from ``reference`` ± its standard error.

    Two models' means on a few hundred photos differ by noise as large as the gains a recipe
    makes (hue accuracy by about a point on 300); the difference photo by photo tells a gain
    from noise, where two means side by side cannot.
    """
    by_photo: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_photo.setdefault(r.get("file", r["photo"]), {})[r["model"]] = r  # names repeat across folders
    lines = [f"| minus {reference}, per photo (± standard error) | "
             + " | ".join(label for _, label in PAIRED_METRICS) + " |",
             "|---" * (len(PAIRED_METRICS) + 1) + "|"]
    for name in models:
        cells = []
        for key, _ in PAIRED_METRICS:
            diffs = np.array([m[name][key] - m[reference][key] for m in by_photo.values()
                              if name in m and reference in m
                              and m[name][key] is not None and m[reference][key] is not None])
            error = diffs.std(ddof=1) / np.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
            cells.append(f"{diffs.mean():+.3f} ± {error:.3f}" if len(diffs) else "")
        lines.append(f"| {name} (n {len(by_photo)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, nargs="+", required=True)
    p.add_argument("--names", nargs="+", help="a name per weights file for the table")
    p.add_argument("--data", type=Path, nargs="+", required=True)
    p.add_argument("--split", default="val", choices=["val", "foreign", "train", "all"],
                   help="val: hashed photos of the training sources; foreign: whole sources never trained on")
    p.add_argument("--limit", type=int, default=0, help="evaluate N photos spread evenly over the split")
    p.add_argument("--offset", type=int, default=0,
                   help="with --limit: the photo K places after each of those (a second set, to check "
                        "a choice made on the first)")
    p.add_argument("--out", type=Path, default=Path("runs/eval"))
    p.add_argument("--render-size", type=int, default=DEFAULT_RENDER_SIZE)
    p.add_argument("--saturation", type=float, default=1.0)
    p.add_argument("--temperature", type=float, help="override the annealed-mean temperature of bins models")
    p.add_argument("--blend", type=float, help="override the dual head's blend of bins and regression")
    p.add_argument("--chroma-gain", type=float, help="override the models' colour calibration gain")
    p.add_argument("--hints", type=int, default=0, help="simulated colour hints per photo (metrics.md)")
    p.add_argument("--degrade", action="store_true", help="evaluate on old-scan versions of the photos")
    p.add_argument("--no-prior", action="store_true", help="leave out the lightness-prior baseline")
    p.add_argument("--sheet-from", nargs="+", metavar="PATTERN",
                   help="only photos whose names match may appear on the contact sheet (e.g. 'sky_*')")
    args = p.parse_args(argv)

    names = args.names or [w.stem for w in args.weights]
    models = {}
    for name, path in zip(names, args.weights):
        model = load_model(path)
        overrides = {k: v for k, v in (("temperature", args.temperature), ("chroma_gain", args.chroma_gain),
                                                 ("blend", args.blend))
                     if v is not None}
        model.config = dataclasses.replace(model.config, **overrides)
        models[name] = model
    photos = photos_for(args.data, args.split)
    if args.limit and args.limit < len(photos):
        photos = spread(photos, args.limit, args.offset)
    prior = None if args.no_prior or args.split == "all" else prior_table(args.data)
    rows, summary, sheet = evaluate(models, photos, render_size=args.render_size, saturation=args.saturation,
                                    sheet_patterns=args.sheet_from, hints=args.hints, degrade=args.degrade,
                                    prior=prior)

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "per_image.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    table = markdown_table(summary)
    if len(models) > 1:
        first, *others = list(models)
        table += "\n\n" + paired_table(rows, first, others)
    (args.out / "table.md").write_text(table + "\n")
    cv2.imwrite(str(args.out / "contact_sheet.png"), cv2.cvtColor(contact_sheet(sheet), cv2.COLOR_RGB2BGR))
    print(table)
    print(f"\n{len(photos)} photos; per-image CSV, summary and contact sheet in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
