"""The whole "colour one file and save it" step, shared by the command line, the window and tests.

The colorizing itself is passed in as ``colorize_fn(pixels, on_progress, is_cancelled) ->
pixels`` (usually ``pipeline.colorize`` with a model bound), which keeps this module free of torch.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np

from colorize_app.core.atomic import write_error
from colorize_app.core.batch import SKIPPED, BatchItem
from colorize_app.core.errors import Cancelled, ImageWriteError
from colorize_app.core.imageio import DEFAULT_MAX_PIXELS, ImageData, read_image, write_image

Progress = Callable[[float], None]
CancelCheck = Callable[[], bool]
ColorizeFn = Callable[[np.ndarray, "Progress | None", "CancelCheck | None"], np.ndarray]


def colorize_file(source, output, colorize_fn: ColorizeFn, *, image: ImageData | None = None,
                  overwrite: bool = False, on_progress: Progress | None = None,
                  is_cancelled: CancelCheck | None = None,
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> Path:  # fmt: skip
    """Read ``source`` (unless its decoded ``image`` is given), colour it, save it to ``output``.

    The output has the source's format, bit depth, EXIF and ICC profile, and appears atomically;
    its folder is created if needed. Raises ImageReadError, ImageWriteError, Cancelled (nothing is
    written then) or whatever ``colorize_fn`` raises. The source is only ever read.
    """
    return colorize_then_save(source, output, colorize_fn, image=image, overwrite=overwrite,
                              on_progress=on_progress, is_cancelled=is_cancelled,
                              max_pixels=max_pixels)()  # fmt: skip


def colorize_then_save(source, output, colorize_fn: ColorizeFn, *, image: ImageData | None = None,
                       overwrite: bool = False, on_progress: Progress | None = None,
                       is_cancelled: CancelCheck | None = None,
                       max_pixels: int = DEFAULT_MAX_PIXELS) -> Callable[[], Path]:  # fmt: skip
    """``colorize_file`` in two steps: colour now, and return the ``save()`` that writes the
    result (and returns its path), which may run on another thread while the next photo is
    coloured (encoding releases the GIL)."""
    source, output = Path(source), Path(output)
    if _same_file(source, output):
        raise ImageWriteError(f"Refusing to write over the original {source}.")
    if image is None:
        image = read_image(source, max_pixels=max_pixels)
    result = colorize_fn(image.pixels, on_progress, is_cancelled)
    if is_cancelled is not None and is_cancelled():
        raise Cancelled("Cancelled.")
    like = dataclasses.replace(image, pixels=result[:0])  # its metadata; the pixels may go now

    def save() -> Path:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise write_error(output, e) from None
        return write_image(output, result, like=like, overwrite=overwrite)

    return save


def batch_process(colorize_fn: ColorizeFn, *, overwrite: bool = False,
                  on_progress: Callable[[BatchItem, float], None] | None = None,
                  is_cancelled: CancelCheck | None = None) -> Callable[[BatchItem, ImageData], None]:  # fmt: skip
    """Turn ``colorize_fn`` into the ``process(item, image)`` that ``run_batch`` expects: it
    colours the photo and returns the ``save()`` that run_batch runs while colouring the next.

    ``on_progress(item, fraction)`` reports progress within each photo. A result that another
    run saves meanwhile makes the item skipped, not failed.
    """

    def process(item: BatchItem, image: ImageData) -> Callable[[], Path | None] | None:
        progress = None if on_progress is None else (lambda f: on_progress(item, f))
        # An empty file where the result goes is a leftover, not a result: it is replaced.
        replace = overwrite or _size(item.output) == 0
        if not replace and _size(item.output):
            item.status, item.reason = SKIPPED, _saved_meanwhile(item)
            return None
        save = colorize_then_save(item.source, item.output, colorize_fn, image=image,
                                  overwrite=replace, on_progress=progress,
                                  is_cancelled=is_cancelled)  # fmt: skip

        def save_unless_saved() -> Path | None:
            try:
                return save()
            except ImageWriteError:
                if replace or not _size(item.output):
                    raise
                item.status, item.reason = SKIPPED, _saved_meanwhile(item)  # another run was quicker
                return None

        return save_unless_saved

    return process


def _saved_meanwhile(item: BatchItem) -> str:
    return f"already colorized ({item.output.name} was saved meanwhile, by another run)"


def _size(path: Path) -> int | None:
    """Size of the regular file at ``path``, None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _same_file(source: Path, output: Path) -> bool:
    try:
        return output.exists() and os.path.samefile(source, output)
    except OSError:
        return False
