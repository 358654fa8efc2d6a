"""The words every layer shares: devices, statuses, defaults, file types. No torch, no Qt.

The command line, the window (which may not import torch) and the engine all read these names
from here, so a choice offered in one place is understood in every other.
"""

from __future__ import annotations

from enum import Enum

# Where the network runs. "auto" takes a GPU when PyTorch sees one (CUDA, then Apple's MPS).
DEVICES = ("auto", "cpu", "cuda", "mps")
GPU_DEVICES = ("cuda", "mps")
DEFAULT_DEVICE = "auto"

DEFAULT_RENDER_SIZE = 256  # pixels on the long side of the copy the network sees
RENDER_SIZES = (256, 384, 512, 768)  # the window's choices; the command line takes any size
DEFAULT_SATURATION = 1.0  # 0 is gray, 1 the colour as predicted
DEFAULT_SUFFIX = "_colorized"  # photo.jpg -> photo_colorized.jpg
DEFAULT_MAX_PIXELS = 250_000_000  # larger images are refused before decoding (bombs)
NETWORK_SHARE = 0.5  # a photo's progress when the network is done; composing takes the rest

FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")  # Pillow's names
EXTENSIONS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG", ".tif": "TIFF",
    ".tiff": "TIFF", ".bmp": "BMP", ".webp": "WEBP",
}  # fmt: skip

# Films (the command line colours them; core.film). Out in the same container where it holds
# H.264 and the source's streams, else Matroska (core.film_io.output_extension).
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm")
FILM_KEPT_CONTAINERS = (".mp4", ".m4v", ".mov", ".mkv")  # hold H.264 and what came with it
FILM_FALLBACK_EXTENSION = ".mkv"  # AVI (no B-frame timing) and WebM (no H.264) become Matroska

# Export settings, the same for the command line (--format, --jpeg-quality, --suffix, -o) and the
# window's Preferences. "same": each result in its original's format.
EXPORT_FORMATS = ("same", "JPEG", "PNG", "TIFF")
DEFAULT_EXPORT_FORMAT = "same"
DEFAULT_JPEG_QUALITY = 95
FORMAT_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp"}


class Status(str, Enum):
    """Where a photo stands. A job ends DONE, SKIPPED or FAILED; the window's list also shows
    WORKING while the network is on it and SAVED once the result is on disk."""

    WAITING = "waiting"  # not colorized (or stopped before its turn)
    WORKING = "working"  # being colorized now (the window's list)
    DONE = "done"  # colorized (the window: the result is only in memory)
    SAVED = "saved"  # the window: the result is on disk next to the original, or was already
    SKIPPED = "skipped"  # not colorized: its result exists already, or it is not a photo we read
    FAILED = "failed"  # could not be read, colorized or written; the reason says why

    def __str__(self) -> str:  # f"{status}" reads "done", as the plain strings did
        return self.value
