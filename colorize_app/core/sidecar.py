"""A photo's colour hints, kept in a small file next to it: ``grandma.jpg.colorize.json``.

    {"format": "colorize-hints", "version": 1,
     "points": [{"x": 0.25, "y": 0.40, "color": "#b03a2e"}]}

``x`` and ``y`` are relative to the photo as displayed (after EXIF orientation; 0..1 from the
top-left), ``color`` is sRGB hex; only its chroma is used. A film's file (``reel.mp4.colorize.json``)
is version 2 when its points say on which frame each was placed (``"frame": 120``, counted from 0;
a point without one is on the first frame); version 1 files, which have no frames, are read as
before, and a file without frames is still written as version 1. The file is written atomically whenever
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
FORMAT_VERSION = 1  # written when no point has a frame (photos): older Colorize reads it
FILM_VERSION = 2  # points may say on which frame of a film they were placed
VERSIONS = (FORMAT_VERSION, FILM_VERSION)
MAX_FRAME = 10**9  # a frame number past this is not one (a 90-minute film has about 10**5)
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
    integer no float holds), a colour that is text, a version that is the integer 1 or 2, a
    frame (version 2 only) that is a whole number from 0 to MAX_FRAME.
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
    if type(version) is not int or version not in VERSIONS:  # true == 1 and 1.0 == 1 in Python
        raise HintsFileError(f"{path}: hints file version {_shown(version)}; this Colorize reads "
                             f"versions 1 and 2. Update Colorize to use it.")  # fmt: skip
    points = data.get("points")
    if not isinstance(points, list) or len(points) > MAX_POINTS:
        raise HintsFileError(f"{path}: the hints file is damaged (no list of points).")
    try:
        return [_point(p, frames=version >= FILM_VERSION) for p in points]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise HintsFileError(f"{path}: the hints file is damaged ({_shown(exc)}).") from None


def _point(point, *, frames: bool) -> Hint:
    x, y, color = point["x"], point["y"], point["color"]
    frame = point.get("frame") if frames else None
    if frame is not None and (type(frame) is not int or not 0 <= frame <= MAX_FRAME):
        raise ValueError(f"frame is not a frame number: {_shown(frame)}")
    for name, value in (("x", x), ("y", y)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} is not a number: {value!r}")
    if not isinstance(color, str):
        raise TypeError(f"color is not text: {color!r}")
    return Hint(float(x), float(y), color, frame)  # OverflowError for an integer no float holds


def _record(hint: Hint) -> dict:
    point = {"x": round(hint.x, 6), "y": round(hint.y, 6), "color": hint.color.lower()}
    if hint.frame is not None:
        point["frame"] = hint.frame
    return point


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
    on_frames = any(h.frame is not None for h in hints)
    document = {"format": FORMAT_NAME, "version": FILM_VERSION if on_frames else FORMAT_VERSION,
                "points": [_record(h) for h in hints]}
    return write_bytes_atomic(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"), overwrite=True)
