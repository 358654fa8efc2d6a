"""A photo's colour hints, kept in a small file next to it: ``grandma.jpg.colorize.json``.

    {"format": "colorize-hints", "version": 1,
     "points": [{"x": 0.25, "y": 0.40, "color": "#b03a2e"}]}

``x`` and ``y`` are relative to the photo as displayed (after EXIF orientation; 0..1 from the
top-left), ``color`` is sRGB hex; only its chroma is used. The file is written atomically whenever
the hints change, so a crash never leaves half of one. A damaged, unreadable or future-version
file raises ``HintsFileError`` naming it, and is never rewritten by this module on its own: the
caller colorizes without hints and leaves the file as it is.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from .atomic import write_bytes_atomic
from .errors import ColorizeError
from .files import UnreadableFile, read_bounded
from .hints import Hint

SIDECAR_SUFFIX = ".colorize.json"
FORMAT_NAME = "colorize-hints"
FORMAT_VERSION = 1
MAX_BYTES = 1_000_000   # a hints file is a few hundred bytes; anything this big is not one
MAX_POINTS = 1000


class HintsFileError(ColorizeError):
    """A hints file exists but cannot be used (damaged, unreadable, or from a newer Colorize)."""


def sidecar_path(photo: str | os.PathLike) -> Path:
    """Where ``photo``'s hints live: the same folder, ``<file name>.colorize.json``."""
    photo = Path(photo)
    return photo.with_name(photo.name + SIDECAR_SUFFIX)


def read_hints_file(path: str | os.PathLike) -> list[Hint]:
    """The hints in a hints file; HintsFileError with a sentence naming the file if unusable.

    The file is read without waiting and only up to MAX_BYTES (see files.read_bounded), and every
    value must be of its kind: numbers that are real numbers (not true/false, not a 400-digit
    integer no float holds), a colour that is text, a version that is the integer 1.
    """
    path = Path(path)
    try:
        data = json.loads(read_bounded(path, MAX_BYTES))
    except UnreadableFile as exc:
        what = "too large to be" if exc.errno == errno.EFBIG else "not"
        raise HintsFileError(f"{path}: {what} a Colorize hints file ({exc.strerror}).") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not valid JSON"
        raise HintsFileError(f"{path}: the hints file cannot be read ({reason}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise HintsFileError(f"{path}: not a Colorize hints file.")
    version = data.get("version")
    if type(version) is not int or version != FORMAT_VERSION:  # true == 1 and 1.0 == 1 in Python
        raise HintsFileError(f"{path}: hints file version {_shown(version)}; this Colorize reads "
                             f"version {FORMAT_VERSION}. Update Colorize to use it.")  # fmt: skip
    points = data.get("points")
    if not isinstance(points, list) or len(points) > MAX_POINTS:
        raise HintsFileError(f"{path}: the hints file is damaged (no list of points).")
    try:
        return [_point(p) for p in points]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise HintsFileError(f"{path}: the hints file is damaged ({_shown(exc)}).") from None


def _point(point) -> Hint:
    x, y, color = point["x"], point["y"], point["color"]
    for name, value in (("x", x), ("y", y)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} is not a number: {value!r}")
    if not isinstance(color, str):
        raise TypeError(f"color is not text: {color!r}")
    return Hint(float(x), float(y), color)  # OverflowError for an integer no float holds


def _shown(value, limit: int = 80) -> str:
    """``value``'s repr, cut short: a 400-digit number must not fill the message."""
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_hints(photo: str | os.PathLike) -> list[Hint]:
    """The hints saved for ``photo``: [] when it has none; HintsFileError when its file is unusable."""
    path = sidecar_path(photo)
    if not os.path.lexists(path):
        return []
    return read_hints_file(path)


def write_hints(photo: str | os.PathLike, hints: list[Hint]) -> Path | None:
    """Save ``photo``'s hints atomically; with no hints the file is removed. Returns its path."""
    path = sidecar_path(photo)
    if not hints:
        path.unlink(missing_ok=True)
        return None
    document = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                "points": [{"x": round(h.x, 6), "y": round(h.y, 6), "color": h.color.lower()} for h in hints]}
    return write_bytes_atomic(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"), overwrite=True)
