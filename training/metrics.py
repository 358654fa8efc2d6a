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


def _ab(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab[:, :, 1:]


def auc(truth: np.ndarray, pred: np.ndarray) -> float:
    """Zhang et al.'s raw accuracy: mean over t = 0..150 of the share of pixels with ab error <= t, in %."""
    dist = np.linalg.norm(_ab(truth) - _ab(pred), axis=2).ravel()
    counts = np.searchsorted(np.sort(dist), AUC_THRESHOLDS, side="right")
    return float(np.mean(counts / dist.size) * 100.0)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003) colourfulness of an 8-bit sRGB image."""
    r, g, b = (rgb[:, :, i].astype(np.float64) for i in range(3))
    rg = np.abs(r - g)
    yb = np.abs(0.5 * (r + g) - b)
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def image_metrics(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """PSNR, SSIM, AuC and CF of one prediction against its truth."""
    return {
        "psnr": psnr(truth, pred),
        "ssim": ssim(truth, pred),
        "auc": auc(truth, pred),
        "cf": colourfulness(pred),
    }


def summarize(rows: list[dict[str, float]], truth_cf: list[float]) -> dict[str, float]:
    """Means over images, and ΔCF = |mean CF of predictions - mean CF of truths| over the set."""
    keys = ("psnr", "ssim", "auc", "cf")
    out = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    out["delta_cf"] = abs(out["cf"] - float(np.mean(truth_cf)))
    out["images"] = len(rows)
    return out
