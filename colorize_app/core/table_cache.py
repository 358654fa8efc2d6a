"""The colour table (``chroma.srgb_table``) kept on disk between runs.

Building it costs half a second of CPU, which a command line colouring one photo pays every time
(beside torch's import, which holds the GIL, it barely progresses). Here it is saved once in the
user's cache folder (``assets.cache_dir``) and read back in a few dozen milliseconds. The caller
checks what it reads against a slice it computes anew, so a table made by other colour maths (an
older Colorize, another OpenCV) is rebuilt, never used. Nothing here is needed: an unreadable,
damaged or unwritable cache only means building the table as before.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from colorize_app.core.assets import cache_dir
from colorize_app.core.atomic import write_bytes_atomic
from colorize_app.core.errors import ImageWriteError

logger = logging.getLogger(__name__)

SHAPE = (256, 256, 256, 4)  # [b, a, v, RGB0], as chroma.srgb_table builds it


def path_for(channels: int) -> Path | None:
    """The table's file for lightness taken from ``channels`` (1 or 3); None when there is no
    home folder to find the cache in (a service account, a bare container)."""
    try:
        return cache_dir() / f"colour-table-{channels}.npy"
    except (RuntimeError, KeyError) as exc:  # Path.home() with no HOME and no passwd entry
        logger.info("No cache folder for the colour table: %s", exc)
        return None


def load(channels: int) -> np.ndarray | None:
    """The saved table, or None when there is none or it is damaged."""
    path = path_for(channels)
    if path is None:
        return None
    try:
        table = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError) as exc:
        logger.info("Ignoring the saved colour table %s: %s", path, exc)
        return None
    if table.shape != SHAPE or table.dtype != np.uint8:
        logger.info("Ignoring the saved colour table %s: shape %s", path, table.shape)
        return None
    return table


def store(channels: int, table: np.ndarray) -> None:
    """Save ``table`` for later runs, atomically (core.atomic: a run reading it meanwhile sees the
    old file or the new one, and a killed write leaves no lasting temporary file); a folder that
    cannot be written is logged and left alone."""
    path = path_for(channels)
    if path is None:
        return
    data = io.BytesIO()
    np.save(data, table, allow_pickle=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data.getbuffer(), overwrite=True)
    except (OSError, ImageWriteError) as exc:
        logger.info("Could not save the colour table in %s: %s", path.parent, exc)
