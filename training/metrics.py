"""Colorization quality metrics, exactly as ../shared/docs/metrics.md defines them.

Every report in the project (evaluation, model card, tests) uses these functions, so figures from
different runs can be set side by side. Inputs are 8-bit sRGB HxWx3 arrays of the same size.
"""

from __future__ import annotations

import cv2
import numpy as np

PSNR_CAP = 60.0
AUC_THRESHOLDS = np.arange(0, 151)


def psnr(truth: np.ndarray, pred: np.ndarray) -> float:
    """PSNR on 8-bit sRGB, all channels together, peak 255, capped at 60 dB."""
    mse = np.mean((truth.astype(np.float64) - pred.astype(np.float64)) ** 2)
    if mse == 0:
        return PSNR_CAP
    return float(min(PSNR_CAP, 10 * np.log10(255.0**2 / mse)))


def ssim(truth: np.ndarray, pred: np.ndarray) -> float:
    """scikit-image's structural similarity over the three channels, data range 255."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(truth, pred, channel_axis=2, data_range=255))


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _ab(rgb: np.ndarray) -> np.ndarray:
    return _lab(rgb)[:, :, 1:]


def auc(truth: np.ndarray, pred: np.ndarray) -> float:
    """Zhang et al.'s raw accuracy: mean over t = 0..150 of the share of pixels with ab error <= t, in %."""
    dist = np.linalg.norm(_ab(truth) - _ab(pred), axis=2).ravel()
    counts = np.searchsorted(np.sort(dist), AUC_THRESHOLDS, side="right")
    return float(np.mean(counts / dist.size) * 100.0)


def delta_e00(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference over the pixels (skimage, on OpenCV float32 Lab)."""
    from skimage.color import deltaE_ciede2000

    return float(np.mean(deltaE_ciede2000(_lab(truth), _lab(pred))))


HUE_TRUTH_CHROMA = 15.0   # a truth pixel counts as colourful from this chroma on
HUE_PRED_CHROMA = 5.0     # a predicted colour counts as a colour (not gray) from this chroma on
HUE_TOLERANCE = 45.0      # degrees


def hue_accuracy(truth: np.ndarray, pred: np.ndarray) -> float | None:
    """Share (%) of the truth's colourful pixels whose prediction has the right colour family.

    None when the truth has no colourful pixel (the image is left out of the mean).
    """
    t, p = _ab(truth), _ab(pred)
    colourful = np.hypot(t[..., 0], t[..., 1]) >= HUE_TRUTH_CHROMA
    if not colourful.any():
        return None
    t, p = t[colourful], p[colourful]
    diff = np.abs(np.arctan2(t[:, 1], t[:, 0]) - np.arctan2(p[:, 1], p[:, 0]))
    diff = np.degrees(np.minimum(diff, 2 * np.pi - diff))
    right = (np.hypot(p[:, 0], p[:, 1]) >= HUE_PRED_CHROMA) & (diff <= HUE_TOLERANCE)
    return float(right.mean() * 100.0)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003) colourfulness of an 8-bit sRGB image."""
    r, g, b = (rgb[:, :, i].astype(np.float64) for i in range(3))
    rg = np.abs(r - g)
    yb = np.abs(0.5 * (r + g) - b)
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def image_metrics(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """PSNR, SSIM, AuC, CF, ΔE00 and hue accuracy (None: no colourful pixel) of one prediction."""
    return {
        "psnr": psnr(truth, pred),
        "ssim": ssim(truth, pred),
        "auc": auc(truth, pred),
        "cf": colourfulness(pred),
        "delta_e00": delta_e00(truth, pred),
        "hue_accuracy": hue_accuracy(truth, pred),
    }


def summarize(rows: list[dict[str, float]], truth_cf: list[float]) -> dict[str, float]:
    """Means over images, and ΔCF = |mean CF of predictions - mean CF of truths| over the set.

    Hue accuracy is averaged over the images that have colourful pixels.
    """
    keys = ("psnr", "ssim", "auc", "cf", "delta_e00")
    out = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    hue = [r["hue_accuracy"] for r in rows if r.get("hue_accuracy") is not None]
    out["hue_accuracy"] = float(np.mean(hue)) if hue else float("nan")
    out["delta_cf"] = abs(out["cf"] - float(np.mean(truth_cf)))
    out["images"] = len(rows)
    return out
