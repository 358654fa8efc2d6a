"""One photo's job, the same for every runner (command line, window, tests): a photo and options
in; done, skipped or failed (with a sentence) out, with the colour it computed.

Torch-free: the network is passed in as ``predict(pixels, options, hints) -> ab`` (normally
``core.engine.Engine.predict``, which calls ``pipeline.predict_chroma``); the colour is laid over
the photo by ``chroma.compose``. A new option is a field of ``JobOptions`` that ``Engine.predict``
passes on: no runner has to change. A photo's colour hints are its ``Job``'s, never the options'
(those are the same for every photo of a batch).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from colorize_app.core.atomic import write_error
from colorize_app.core.chroma import compose
from colorize_app.core.errors import (
    Cancelled,
    ColorizeError,
    ImageReadError,
    ImageWriteError,
    WeightsError,
    stop_if_cancelled,
)
from colorize_app.core.freshness import Freshness, Judgement, judge
from colorize_app.core.hints import Hint
from colorize_app.core.imageio import ImageData, read_image, write_image
from colorize_app.core.names import printable
from colorize_app.core.provenance import OriginalStamp, Provenance, Recipe, recipe_for, stamp_of
from colorize_app.core.sidecar import HintsFileError, read_hints
from colorize_app.core.triage import is_colour
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
    """How to colorize: the same for every photo of a batch (a photo's hints are its Job's)."""

    render_size: int = DEFAULT_RENDER_SIZE
    saturation: float = DEFAULT_SATURATION
    device: str = DEFAULT_DEVICE  # one of vocabulary.DEVICES
    overwrite: bool = False  # False: an existing result is kept and the job is skipped
    max_pixels: int = DEFAULT_MAX_PIXELS
    format: str | None = None  # the results' format (vocabulary.FORMATS); None: each source's
    quality: int = DEFAULT_JPEG_QUALITY  # JPEG quality of the results
    sidecars: bool = True  # a job without hints of its own reads its photo's hints file
    provenance: bool = True  # write what made the result into it (XMP; core.provenance)
    update: bool = False  # redo a result that is out of date (core.freshness); else it is kept
    include_colour: bool = False  # colour a photo that is already in colour (core.triage)
    model_name: str = ""  # the model's name and weights digest (provenance.model_identity);
    model_sha256: str = ""  # "" when unknown: a result's model is then not compared


@dataclass(frozen=True, eq=False)
class Job:
    """One photo to colorize, or, given ``chroma`` (an earlier prediction), only to re-compose."""

    source: Path
    output: Path | None = None  # where to save the result; None keeps it in memory only
    options: JobOptions = field(default_factory=JobOptions)
    chroma: np.ndarray | None = None
    format: str | None = None  # the output's format; None: the source's (Save As picks another)
    id: int = 0  # the caller's tag (the window's list entry); unused here
    # This photo's colour hints (the window's, or the command line's --hints FILE; (): none);
    # None: those of its hints file (photo.jpg.colorize.json), read as it runs, see with_hints
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
    # The job as it ran, its hints settled (with_hints): what the network was given. None when
    # it ended before (skipped, or failed before reading its photo)
    job: Job | None = None
    # Why a SKIPPED job was skipped: a Freshness value for a result already there, IN_COLOUR
    skip: str = ""
    # A FAILED job's cause is the file itself (it cannot be read as a photo): trying again
    # changes nothing until the file does. Otherwise (no room, no memory, a folder that refuses
    # writes, a bug) another try may well succeed.
    lasting: bool = False


IN_COLOUR = "in colour"  # JobResult.skip of a photo the triage found already in colour


Predict = Callable[[np.ndarray, JobOptions, tuple[Hint, ...]], np.ndarray]
Read = Callable[[Job], ImageData]
Progress = Callable[[float], None]
CancelCheck = Callable[[], bool]


@dataclass
class ReadPhoto(ImageData):
    """A photo as ``read_for`` read it: with its file's size and time as they were just before
    its bytes were read (what its result records beside their digest)."""

    stamp: OriginalStamp | None = None


def read_for(job: Job) -> ImageData:
    """Decode ``job``'s photo with its options' pixel limit (the default ``read`` of run_job);
    with the digest of its bytes, and its size and time, when its result will record them."""
    if job.output is None or not job.options.provenance:
        return read_image(job.source, max_pixels=job.options.max_pixels)
    # Before the bytes: should the file change while it is read, the record's size or time is
    # then the older one, and the next run compares its bytes rather than trusting its time.
    stamp = stamp_of(job.source)
    image = read_image(job.source, max_pixels=job.options.max_pixels, digest=True)
    read = {f.name: getattr(image, f.name) for f in fields(image) if f.init}
    return ReadPhoto(**read, stamp=stamp)


def with_hints(job: Job) -> tuple[Job, str]:
    """``job`` with its hints settled, and a note for the user (or "").

    Its own hints when it has them; else its photo's hints file's when ``options.sidecars`` and
    it is to be predicted (a job given ``chroma`` only re-composes); else none. A damaged,
    unreadable or future-version file gives no hints and a note naming it; the file itself is
    never touched.
    """
    if job.hints is not None:
        return job, ""
    if not job.options.sidecars or job.chroma is not None:
        return replace(job, hints=()), ""
    try:
        return replace(job, hints=tuple(read_hints(job.source))), ""
    except HintsFileError as exc:
        return replace(job, hints=()), f"{exc} Colorized without hints."


def wanted_recipe(job: Job) -> Recipe:
    """The recipe ``job`` would colorize with now (its hints settled first when they are not)."""
    hints = job.hints if job.hints is not None else with_hints(job)[0].hints
    options = job.options
    return recipe_for(options.render_size, options.saturation, hints, options.model_sha256)


def existing_result(job: Job) -> Judgement | None:
    """How the result already at ``job.output`` compares with what ``job`` would make now; None
    when there is none to keep (no output, ``overwrite``, or an empty file: ours appear whole or
    not at all, so an empty one is redone). See core.freshness for the rule."""
    if job.output is None or job.options.overwrite or not _size(job.output):
        return None
    return judge(job.output, wanted_recipe(job), job.source)


def skip_reason(job: Job) -> tuple[str, str] | None:
    """(reason, kind) when ``job`` would end skipped because of the result already there (kind: a
    Freshness value); None when it would be colorized. An out-of-date result is skipped unless
    ``options.update``."""
    judgement = existing_result(job)
    if judgement is None:
        return None
    name = Path(job.output).name
    if judgement.freshness is Freshness.OUT_OF_DATE:
        if job.options.update:
            return None
        return f"{judgement.sentence()} ({name})", judgement.freshness.value
    if judgement.freshness is Freshness.UNKNOWN:
        return f"already colorized ({name} exists; {judgement.sentence()})", judgement.freshness.value
    return f"already colorized ({name} exists)", judgement.freshness.value


def left_in_colour(job: Job, image: ImageData) -> bool:
    """True when ``job``'s photo is already in colour (core.triage) and its options leave such
    photos alone: run_job then skips it without predicting."""
    return job.chroma is None and not job.options.include_colour and is_colour(image.pixels)


def will_skip(job: Job) -> bool:
    """True when ``job`` would end skipped: a result is there that it may not replace (see
    ``skip_reason``)."""
    return skip_reason(job) is not None


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
        skipped = skip_reason(job)
        if skipped is not None:
            return JobResult(Status.SKIPPED, skipped[0], output=Path(job.output), skip=skipped[1])
        _colorize(job, predict, read, result, on_progress or _ignore, is_cancelled)
        result.status = Status.DONE
    except (Cancelled, WeightsError):
        raise
    except _InColour:
        result.status, result.reason, result.skip = Status.SKIPPED, "already in colour", IN_COLOUR
    except ImageWriteError as e:
        skipped = skip_reason(job)
        if skipped is not None:  # another run saved the result while this one was colorizing
            result.status, result.output, result.skip = Status.SKIPPED, Path(job.output), skipped[1]
            result.reason = f"already colorized ({Path(job.output).name} was saved meanwhile, by another run)"
        else:
            result.reason = str(e)
    except ColorizeError as e:
        result.reason = str(e)
        # the file's own cause (damaged, not an image), as its reader says: not a network share's
        # I/O error, a file still being copied, nor the run's limit (--max-megapixels)
        result.lasting = isinstance(e, ImageReadError) and e.lasting
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
        stop_if_cancelled(is_cancelled)

    if job.output is not None and _same_file(Path(job.source), Path(job.output)):
        raise ImageWriteError(f"Refusing to write over the original {job.source}.")
    check()
    image = read(job)
    progress(READ_SHARE)
    check()
    if left_in_colour(job, image):
        raise _InColour()
    job, result.note = with_hints(job)
    result.job = job
    if job.chroma is not None:
        result.chroma = job.chroma
    else:
        if result.note:
            logger.info("%s", result.note)  # the runner tells the user (JobResult.note)
        result.chroma = predict(image.pixels, job.options, job.hints)
    progress(NETWORK_SHARE)

    def composing(fraction: float) -> None:
        progress(NETWORK_SHARE + (COMPOSE_SHARE - NETWORK_SHARE) * fraction)

    result.pixels = compose(image.pixels, result.chroma, saturation=job.options.saturation,
                            on_progress=composing, is_cancelled=is_cancelled)  # fmt: skip
    if job.output is not None:
        check()
        result.output = _save(job, image, result)
    progress(1.0)


class _InColour(Exception):
    """The photo is already in colour (core.triage) and the options do not include such photos."""


def provenance_of(job: Job, image: ImageData) -> Provenance:
    """What ``job``'s result records about how it was made (core.provenance); its hints settled
    (``with_hints``)."""
    # an image read some other way than read_for has no stamp: the original as it is now
    stamp = image.stamp if isinstance(image, ReadPhoto) else stamp_of(job.source)
    # the name as text XMP can hold: an old scanner's Latin-1 bytes (os.fsdecode's surrogates)
    # or a control character would cost the whole record
    return Provenance(wanted_recipe(job), job.options.model_name, len(job.hints or ()),
                      printable(Path(job.source).name), image.digest,
                      original_stamp=stamp)  # fmt: skip


def _save(job: Job, image: ImageData, result: JobResult) -> Path:
    output = Path(job.output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise write_error(output, e) from None
    # An empty leftover is replaced; with ``update`` so is the out-of-date result found before.
    replaces = job.options.overwrite or job.options.update or _size(output) == 0
    record = provenance_of(job, image) if job.options.provenance else None

    def tell(problem: str) -> None:
        result.note = f"{result.note} {problem}".strip()  # the runner tells the user
        logger.info("%s", problem)

    return write_image(output, result.pixels, like=image, format=job.format or job.options.format,
                       quality=job.options.quality, overwrite=replaces, record=record,
                       on_problem=tell)  # fmt: skip


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
