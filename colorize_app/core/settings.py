"""Every setting a person can choose, once: its type, default, limits, check and help text.

The command line's arguments (colorize_app.cli), the window's stored settings (ui/settings.py)
and its Preferences and controls are all built from this table, so a limit or a check cannot
differ between them. No Qt, no torch, nothing heavy: `colorize --help` imports it.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from colorize_app.core.errors import ColorizeError
from colorize_app.core.vocabulary import (
    DEFAULT_DEVICE,
    DEFAULT_EXPORT_FORMAT,
    DEFAULT_JPEG_QUALITY,
    DEFAULT_MAX_PIXELS,
    DEFAULT_RENDER_SIZE,
    DEFAULT_SATURATION,
    DEFAULT_SUFFIX,
    DEVICES,
    EXPORT_FORMATS,
)


def check_suffix(suffix: str) -> None:
    """Raise ColorizeError unless ``suffix`` is a plain fragment of a file name: no folder
    separator, no NUL and no control character, so a result can never land outside its folder."""
    separators = {"/", os.sep, os.altsep or "/"}
    if any(ch in separators or unicodedata.category(ch) == "Cc" for ch in suffix):
        raise ColorizeError(
            f"The suffix {suffix!r} is not a plain name fragment: it may not contain "
            "'/', a folder separator or a control character."
        )


@dataclass(frozen=True)
class Setting:
    """One choice. ``key`` is where the window keeps it ("" : the command line's only); ``flag``
    is the command line's option ("" : the window's only)."""

    name: str
    type: type
    default: Any
    help: str
    key: str = ""
    flag: str = ""
    metavar: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    check: Callable[[Any], None] | None = None  # raises ColorizeError with the reason
    aliases: tuple[tuple[str, str], ...] = ()  # old stored values and what they mean now

    def parse(self, raw: Any) -> Any:
        """``raw`` (typed text, or what QSettings returns) as this setting's value; raises
        ValueError with a sentence saying why it is refused."""
        if self.type is bool:
            return raw.strip().lower() in ("1", "true", "yes") if isinstance(raw, str) else bool(raw)
        if self.type is str and not isinstance(raw, str):  # an INI line with a comma: a list
            raise ValueError(f"{raw!r} is not {_A[str]}")
        try:
            value = self.type(raw.strip() if isinstance(raw, str) and self.type is not str else raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not {_A[self.type]}") from None
        value = dict(self.aliases).get(value, value)
        if self.choices:
            value = next((c for c in self.choices if str(c).lower() == str(value).lower()), value)
        problem = self.problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def problem(self, value: Any) -> str:
        """Why ``value`` is refused ("" when it is fine), as a sentence a person can act on."""
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(map(str, self.choices))}, not {value}"
        if self.minimum is not None and self.maximum is not None and not (
                isinstance(value, (int, float)) and math.isfinite(value)
                and self.minimum <= value <= self.maximum):  # fmt: skip
            return f"must be from {self.minimum:g} to {self.maximum:g}, not {value}"
        if self.check is not None:
            try:
                self.check(value)
            except ColorizeError as exc:
                return str(exc)
        return ""


_A = {int: "a whole number", float: "a number", str: "text", bool: "yes or no"}

SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("render_size", int, DEFAULT_RENDER_SIZE, "long side in pixels of the copy the network "
            "sees", key="colorize/render_size", flag="--render-size", metavar="N", minimum=1,
            maximum=4096),  # 16 MP through the network already needs several GB
    Setting("saturation", float, DEFAULT_SATURATION, "colour strength: 0 is gray, 1 as "
            "predicted, 2 twice as strong", key="colorize/saturation", flag="--saturation",
            metavar="X", minimum=0.0, maximum=2.0),
    Setting("device", str, DEFAULT_DEVICE, "where the network runs", key="colorize/device",
            flag="--device", choices=DEVICES,
            # the first window's "gpu" meant any GPU, CUDA or Apple's: the GPU there is, if any
            aliases=(("gpu", DEFAULT_DEVICE),)),
    Setting("output_dir", str, "", "save results here (sub-folders are kept) instead of next to "
            "originals", key="export/output_dir", flag="--output-dir", metavar="DIR"),
    Setting("suffix", str, DEFAULT_SUFFIX, "added to each result's name", key="export/suffix",
            flag="--suffix", metavar="S", check=check_suffix),
    Setting("export_format", str, DEFAULT_EXPORT_FORMAT, "the results' format; same keeps each "
            "original's", key="export/format", flag="--format", choices=EXPORT_FORMATS),
    Setting("jpeg_quality", int, DEFAULT_JPEG_QUALITY, "quality of JPEG results, 1 to 100",
            key="export/jpeg_quality", flag="--jpeg-quality", metavar="Q", minimum=1, maximum=100),
    Setting("max_megapixels", int, DEFAULT_MAX_PIXELS // 1_000_000, "refuse larger images, "
            "against decompression bombs", flag="--max-megapixels", metavar="N", minimum=1,
            maximum=10_000),
    Setting("recursive", bool, False, "include sub-folders", key="paths/recursive",
            flag="--recursive"),
    Setting("auto_save", bool, True, "save each result as it is done", key="colorize/auto_save"),
    Setting("ask_before_replacing", bool, True, "ask before a saved result is replaced",
            key="export/ask_before_replacing"),
    # On unless turned off: --no-provenance, or unticked in Preferences (core.provenance)
    Setting("provenance", bool, True, "do not write into each result what made it (XMP: "
            "machine-made colour, the model, settings, hints and original)",
            key="export/provenance", flag="--no-provenance"),
    Setting("compare_mode", bool, False, "show the before/after divider", key="window/compare_mode"),
)}  # fmt: skip
