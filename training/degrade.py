"""Old-scan degradations: what album scans look like, applied to the network's input only.

Real scans are not clean grayscale conversions: prints fade (low contrast, lifted blacks), are
toned sepia or cool, carry film grain, are slightly soft and are saved as low-quality JPEGs. The
training loader degrades a share of its inputs this way (the target colour stays the clean truth),
and ``training.evaluate --degrade`` builds a fixed old-scan version of a validation set with all
five. The result is a colour (tinted) sRGB image; the app, and so training, reduce it to its
lightness.
"""

from __future__ import annotations

import cv2
import numpy as np

SEPIA = np.array([1.07, 0.95, 0.74], np.float32)   # RGB multipliers of a warm, brown print tone
COOL = np.array([0.92, 0.98, 1.08], np.float32)    # a cyanotype-like cool tone


def tint(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A monochrome print toned sepia (two times in three) or cool, at a random strength."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None]
    tone = SEPIA if rng.random() < 2 / 3 else COOL
    strength = rng.uniform(0.4, 1.0)
    toned = gray * (1 + strength * (tone - 1))
    return np.clip(toned, 0, 255).astype(np.uint8)


def fade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lower contrast around a mid level and lift the blacks, as an aged print does."""
    contrast = rng.uniform(0.5, 0.85)
    level = rng.uniform(110, 170)
    faded = (rgb.astype(np.float32) - level) * contrast + level + rng.uniform(0, 25)
    return np.clip(faded, 0, 255).astype(np.uint8)


def blur(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slight softness: a Gaussian blur of sigma 0.4..1.3 px."""
    return cv2.GaussianBlur(rgb, (0, 0), rng.uniform(0.4, 1.3))


def grain(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Monochrome film grain: Gaussian noise of sigma 3..12 levels, slightly clumped."""
    noise = rng.normal(0, rng.uniform(3, 12), rgb.shape[:2]).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
    return np.clip(rgb.astype(np.float32) + noise[..., None], 0, 255).astype(np.uint8)


def jpeg(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A low-quality JPEG round trip (quality 15..50)."""
    quality = int(rng.integers(15, 51))
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) if ok else rgb


STEPS = (tint, fade, blur, grain, jpeg)


def old_scan(rgb: np.ndarray, rng: np.random.Generator, *, each: float = 1.0) -> np.ndarray:
    """Apply each of the five degradations with probability ``each`` (all of them at 1.0), in order."""
    out = np.ascontiguousarray(rgb)
    for step in STEPS:
        if rng.random() < each:
            out = step(out, rng)
    return out
