"""Where Colorize's non-code assets are: the icon, the sample photo and its credits.

They live in the top-level `resources/` folder of the source tree, installed as the package
`colorize_app.resources`. The shipped weights are in the package (`default_weights_path`), found
here without importing torch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # colorize_app/
DEFAULT_WEIGHTS_NAME = "colorizer.safetensors"


def default_weights_path() -> Path:
    """Where the shipped model lives inside the installed package."""
    return PACKAGE / "weights" / DEFAULT_WEIGHTS_NAME


def cache_dir() -> Path:
    """Where Colorize keeps what it can always rebuild (the colour table): ``$COLORIZE_CACHE_DIR``
    if set, else the user's cache folder (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on
    Windows) / colorize."""
    if os.environ.get("COLORIZE_CACHE_DIR"):
        return Path(os.environ["COLORIZE_CACHE_DIR"])
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "colorize"


@cache
def resources_dir() -> Path:
    """The folder holding the assets, wherever Colorize runs from.

    A wheel and the PyInstaller bundle have it inside the package (`colorize_app/resources`); a
    source checkout, installed editable or not, has it beside the package; any other install
    is asked where it mapped `colorize_app.resources`.
    """
    for candidate in (PACKAGE / "resources", PACKAGE.parent / "resources"):
        if (candidate / "__init__.py").is_file():
            return candidate
    try:
        spec = importlib.util.find_spec("colorize_app.resources")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    return PACKAGE / "resources"  # missing: callers name this path in their message


def resource(name: str) -> Path:
    """The path of the asset ``name`` (it may not exist: callers say what is missing)."""
    return resources_dir() / name


@cache
def model_card_path() -> Path | None:
    """training/MODEL_CARD.md, the shipped model described, where this install has it: the
    source tree, or the copy installed with the `training` package; None when neither is there."""
    candidates = [PACKAGE.parent / "training" / "MODEL_CARD.md"]
    try:
        spec = importlib.util.find_spec("training")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "MODEL_CARD.md" for p in spec.submodule_search_locations]
    return next((path for path in candidates if path.is_file()), None)


def user_guide_path() -> Path | None:
    """docs/user-guide.md beside the package (a source checkout), or None (a wheel has no docs)."""
    path = PACKAGE.parent / "docs" / "user-guide.md"
    return path if path.is_file() else None
