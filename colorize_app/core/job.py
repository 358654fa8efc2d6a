"""One photo's job, the same for every runner (command line, window, tests): a photo and options
in; done, skipped or failed (with a sentence) out, with the colour it computed.

Torch-free: the network is passed in as ``predict(pixels, options) -> ab`` (normally
``core.engine.Engine.predict``, which calls ``pipeline.predict_chroma``); the colour is laid over
the photo by ``chroma.compose``. A new option is a field of ``JobOptions`` that ``Engine.predict``
passes on: no runner has to change.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from colorize_app.core.atomic import write_error
from colorize_app.core.chroma import compose
from colorize_app.core.errors import Cancelled, ColorizeError, ImageWriteError, WeightsError
from colorize_app.core.hints import Hint
from colorize_app.core.imageio import ImageData, read_image, write_image
from colorize_app.core.sidecar import HintsFileError, read_hints
from colorize_app.core.vocabulary import (
    DEFAULT_DEVICE,
    DEFAULT_JPEG_QUALITY,
    DEFAULT_MAX_PIXELS,
    DEFAULT_RENDER_SIZE,
    DEFAULT_SATURATION,
    NETWORK_SHARE,
    Status,
)

logger = logging.getLogger(__name__)

READ_SHARE, COMPOSE_SHARE = 0.1, 0.95  # progress at the end of these stages (and NETWORK_SHARE)


@dataclass(frozen=True)
class JobOptions:
    """How to colorize; usually the same for every photo of a batch."""

    render_size: int = DEFAULT_RENDER_SIZE
    saturation: float = DEFAULT_SATURATION
    device: str = DEFAULT_DEVICE  # one of vocabulary.DEVICES
    overwrite: bool = False  # False: an existing result is kept and the job is skipped
    max_pixels: int = DEFAULT_MAX_PIXELS
    format: str | None = None  # the results' format (vocabulary.FORMATS); None: each source's
    quality: int = DEFAULT_JPEG_QUALITY  # JPEG quality of the results
    # Colour hints for every photo (the command line's --hints FILE); None: each photo's own.
    hints: tuple[Hint, ...] | None = None
    sidecars: bool = True  # read a photo's hints file (photo.jpg.colorize.json) when it has one


@dataclass(frozen=True, eq=False)
class Job:
    """One photo to colorize, or, given ``chroma`` (an earlier prediction), only to re-compose."""

    source: Path
    output: Path | None = None  # where to save the result; None keeps it in memory only
    options: JobOptions = field(default_factory=JobOptions)
    chroma: np.ndarray | None = None
    format: str | None = None  # the output's format; None: the source's (Save As picks another)
    id: int = 0  # the caller's tag (the window's list entry); unused here
    # This photo's hints, as the window holds them (() : explicitly none); None: see resolve_hints
    hints: tuple[Hint, ...] | None = None


@dataclass(eq=False)
class JobResult:
    """How a job ended. A FAILED job may still carry ``pixels`` and ``chroma``: it was colorized
    but could not be saved, and the reason says why."""

    status: Status
    reason: str = ""  # a sentence a person can act on (failed), or why it was skipped
    output: Path | None = None  # the file written; for a skipped job, the result already there
    chroma: np.ndarray | None = None  # the network's (a, b) at render size, float32
    pixels: np.ndarray | None = None  # the colorized photo at full resolution
    seconds: float = 0.0
    note: str = ""  # worth telling the user although the job went on (a damaged hints file)
    hints: tuple[Hint, ...] = ()  # the hints the network was given


Predict = Callable[[np.ndarray, JobOptions], np.ndarray]
Read = Callable[[Job], ImageData]
Progress = Callable[[float], None]
CancelCheck = Callable[[], bool]


def read_for(job: Job) -> ImageData:
    """Decode ``job``'s photo with its options' pixel limit (the default ``read`` of run_job)."""
    return read_image(job.source, max_pixels=job.options.max_pixels)


def resolve_hints(job: Job) -> tuple[tuple[Hint, ...], str]:
    """The hints ``job``'s photo is colorized with, and a note for the user (or "").

    The job's own hints win, then the options' (one file for every photo), then the photo's hints
    file when ``options.sidecars``. A damaged, unreadable or future-version file gives no hints
    and a note naming it; the file itself is never touched.
    """
    if job.hints is not None:
        return tuple(job.hints), ""
    if job.options.hints is not None:
        return tuple(job.options.hints), ""
    if not job.options.sidecars:
        return (), ""
    try:
        return tuple(read_hints(job.source)), ""
    except HintsFileError as exc:
        return (), f"{exc} Colorized without hints."


def will_skip(job: Job) -> bool:
    """True when ``job`` would end skipped: its result exists and it may not be replaced. An empty
    file there is not a result (ours appear whole or not at all): it is redone."""
    return job.output is not None and not job.options.overwrite and bool(_size(job.output))


def run_job(job: Job, predict: Predict, *, read: Read = read_for,
            on_progress: Progress | None = None,
            is_cancelled: CancelCheck | None = None) -> JobResult:  # fmt: skip
    """Colorize ``job.source`` and save it to ``job.output`` (when set); never raises for the photo.

    The output has the source's format (unless ``job.format``), bit depth, EXIF and ICC profile,
    appears atomically, and its folder is made if needed; an existing one is skipped unless
    ``overwrite``. Every problem with this photo ends FAILED with a sentence. Raises only what
    stops every photo: ``Cancelled`` (``is_cancelled`` turned true; nothing is written then) and
    ``WeightsError`` (no usable model). ``on_progress`` receives 0..1. The source is only read.
    """
    started = time.perf_counter()
    name = Path(job.source).name
    result = JobResult(Status.FAILED)
    try:
        if will_skip(job):
            return JobResult(Status.SKIPPED, f"already colorized ({Path(job.output).name} exists)",
                             output=Path(job.output))
        _colorize(job, predict, read, result, on_progress or _ignore, is_cancelled)
        result.status = Status.DONE
    except (Cancelled, WeightsError):
        raise
    except ImageWriteError as e:
        if will_skip(job):  # another run saved the result while this one was colorizing
            result.status = Status.SKIPPED
            result.reason = f"already colorized ({Path(job.output).name} was saved meanwhile, by another run)"
        else:
            result.reason = str(e)
    except ColorizeError as e:
        result.reason = str(e)
    except MemoryError:
        result.reason = (f"Not enough memory to colorize {name}. Close other programs or "
                         "colorize it on its own.")
    except Exception as e:  # a bug must cost one photo, not the batch; the log keeps the trace
        logger.exception("Unexpected error colorizing %s", job.source)
        result.reason = f"Unexpected error colorizing {name} ({type(e).__name__}: {e})."
    result.seconds = time.perf_counter() - started
    return result


def _colorize(job: Job, predict: Predict, read: Read, result: JobResult, progress: Progress,
              is_cancelled: CancelCheck | None) -> None:  # fmt: skip
    def check() -> None:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("Cancelled.")

    if job.output is not None and _same_file(Path(job.source), Path(job.output)):
        raise ImageWriteError(f"Refusing to write over the original {job.source}.")
    check()
    image = read(job)
    progress(READ_SHARE)
    check()
    if job.chroma is not None:
        result.chroma = job.chroma
    else:
        result.hints, result.note = resolve_hints(job)
        if result.note:
            logger.info("%s", result.note)  # the runner tells the user (JobResult.note)
        options = replace(job.options, hints=result.hints or None)
        result.chroma = predict(image.pixels, options)
    progress(NETWORK_SHARE)

    def composing(fraction: float) -> None:
        progress(NETWORK_SHARE + (COMPOSE_SHARE - NETWORK_SHARE) * fraction)

    result.pixels = compose(image.pixels, result.chroma, saturation=job.options.saturation,
                            on_progress=composing, is_cancelled=is_cancelled)  # fmt: skip
    if job.output is not None:
        check()
        result.output = _save(job, image, result.pixels)
    progress(1.0)


def _save(job: Job, image: ImageData, pixels: np.ndarray) -> Path:
    output = Path(job.output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise write_error(output, e) from None
    may_replace = job.options.overwrite or _size(output) == 0  # an empty leftover is replaced
    return write_image(output, pixels, like=image, format=job.format or job.options.format,
                       quality=job.options.quality, overwrite=may_replace)  # fmt: skip


def _size(path) -> int | None:
    """Size of the regular file at ``path``; None when there is none."""
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


def _ignore(_fraction: float) -> None:
    pass
