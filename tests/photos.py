"""Helpers shared by the image IO, batch and command-line tests: photos made on the fly, and a
folder that refuses writes even when the tests run as root."""

from __future__ import annotations

import errno
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def gradient(height: int = 48, width: int = 64, channels: int = 3, dtype=np.uint8) -> np.ndarray:
    """A smooth, asymmetric test pattern: every flip and rotation of it is distinguishable."""
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width]
    planes = [x / (width - 1), y / (height - 1), (x + 2 * y) / (width + 2 * height - 3)]
    planes.append(1 - x / (width - 1))
    stack = np.stack(planes[:channels], axis=-1)
    pixels = np.round(stack * top).astype(dtype)
    return pixels[..., 0] if channels == 1 else pixels


def sepia_print(height: int = 48, width: int = 64) -> np.ndarray:
    """A sepia-toned print of a gradient: black and white to Colorize (its tint follows its
    lightness), its channels still distinct (a swap of red and blue shows)."""
    y, x = np.mgrid[0:height, 0:width]
    gray = (x + 2 * y) / (width + 2 * height - 3)
    return np.round(np.stack([gray, 0.88 * gray, 0.7 * gray], axis=-1) * 255).astype(np.uint8)


def save_photo(path: Path, *, size=(48, 64), mode="RGB", colour: bool = False, **save_options) -> Path:
    """Write a small JPEG/PNG/... photo (format from the extension) and return its path: an old
    sepia print, or with ``colour`` a colour photograph (which Colorize skips unless asked)."""
    height, width = size
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = gradient(height, width) if colour else sepia_print(height, width)
    image = Image.fromarray(pixels).convert(mode)
    image.save(path, **save_options)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_unwritable(folder: Path, monkeypatch) -> None:
    """Make ``folder`` refuse new files, like a read-only folder does for a normal user.

    chmod is the real thing, but root ignores it; then creating files in the folder is refused at
    the os level instead (the same PermissionError the kernel would raise), so the code under
    test runs its normal path up to the refused system call.
    """
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    probe = folder / ".probe"
    try:
        probe.touch()
    except PermissionError:
        return  # chmod works: not running as root
    probe.unlink()
    root = str(folder.resolve())

    def inside(path) -> bool:
        parent = os.path.dirname(os.path.abspath(os.fspath(path)))
        return os.path.realpath(parent) == root

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))

    real_open, real_replace, real_mkdir = os.open, os.replace, os.mkdir

    def guarded_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and inside(path):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def guarded_replace(src, dst, *args, **kwargs):
        if inside(dst):
            refuse(dst)
        return real_replace(src, dst, *args, **kwargs)

    def guarded_mkdir(path, *args, **kwargs):
        if inside(path):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "replace", guarded_replace)
    monkeypatch.setattr(os, "mkdir", guarded_mkdir)


def opened(path) -> Image.Image:
    """``Image.open(path)``, decoded and with the file closed again (no ResourceWarning)."""
    with Image.open(path) as image:
        image.load()
    return image


def s15(value: float) -> bytes:
    """An ICC s15Fixed16 number."""
    return struct.pack(">i", round(value * 65536))


def gray_profile(gamma: float, description: str = "") -> bytes:
    """An ICC v2 gray profile with a plain gamma curve and a D50 white, as Mac-era scanners
    embedded ("Gray Gamma 1.8"); written out here so the tests do not use the code they test."""
    text = (description or f"Gray Gamma {gamma}").encode() + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78
    tags = [(b"desc", desc), (b"wtpt", b"XYZ \0\0\0\0" + s15(0.9642) + s15(1.0) + s15(0.8249)),
            (b"kTRC", b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0")]
    return _profile(b"GRAY", tags)


def _profile(space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """An ICC v2 display profile of ``space`` (D50 white) holding ``tags``."""
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", 132 + 12 * len(tags) + len(body), len(data))
        body += data
    header = (b"none" + bytes([2, 0x10, 0, 0]) + b"mntr" + space + b"XYZ " + b"\0" * 12 + b"acsp"
              + b"\0" * 28 + s15(0.9642) + s15(1.0) + s15(0.8249))
    return struct.pack(">I", 128 + len(table) + len(body)) + header.ljust(124, b"\0") + table + body


# Adobe RGB (1998)'s red, green and blue in the D50 connection space, and its 563/256 gamma
ADOBE_RGB_PRIMARIES = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))


def adobe_rgb_profile() -> bytes:
    """An ICC v2 matrix profile with Adobe RGB (1998)'s primaries and tone curve, written out here
    so the tests do not use the code they test."""
    text = b"Adobe RGB (1998) lookalike\0"
    tags = [(b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78),
            (b"wtpt", b"XYZ \0\0\0\0" + s15(0.9642) + s15(1.0) + s15(0.8249))]
    for name, xyz in zip((b"rXYZ", b"gXYZ", b"bXYZ"), ADOBE_RGB_PRIMARIES):
        tags.append((name, b"XYZ \0\0\0\0" + b"".join(s15(v) for v in xyz)))
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"
    tags += [(name, curve) for name in (b"rTRC", b"gTRC", b"bTRC")]
    return _profile(b"RGB ", tags)
