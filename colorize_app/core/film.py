"""One film's job, the counterpart of ``job.run_job`` for videos: a film in; done, skipped or failed
(with a sentence) out, the same for the command line, the window and the tests.

The frames are colorized one at a time (``steady.SteadyColour`` keeps the colour steady along the
motion) and encoded into *parts* of about ten seconds, kept in a hidden folder beside the result
(``.film_colorized.mp4.colorize-parts``). A finished part is never redone: a run that is stopped or
killed resumes after the last finished part, with the colour it had there. When every part is
done they are joined with the source's sound and subtitles into the result, which appears under
its final name whole or not at all; then the parts are removed. Torch-free, as job.py.

Hints (a hints file next to the film, ``--hints``, or the window's) apply to the whole shot of the
frame they were placed on: when one was placed after the first frame, a first pass over the film
finds where each starts (core.shot_hints); its plan is kept with the parts, so a resumed run does
not read the film twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from colorize_app.core import film_io, locks
from colorize_app.core.atomic import (
    live_writes,
    remove_stale_temps,
    temporary_file,
    write_bytes_atomic,
)
from colorize_app.core.chroma import compose, srgb_table
from colorize_app.core.errors import (
    Cancelled,
    ColorizeError,
    ImageWriteError,
    WeightsError,
    stop_if_cancelled,
)
from colorize_app.core.hints import Hint
from colorize_app.core.job import (
    CancelCheck,
    Job,
    JobResult,
    Predict,
    Progress,
    skip_reason,
    wanted_recipe,
    with_hints,
)
from colorize_app.core.names import printable
from colorize_app.core.provenance import FILM_TAG, OriginalStamp, Provenance, film_record, stamp_of
from colorize_app.core.shot_hints import (
    HintPlan,
    needs_scouting,
    placed_plan,
    plan_hints,
    track_hints,
)
from colorize_app.core.steady import SteadyColour, SteadyParams, SteadyState
from colorize_app.core.vocabulary import Status

logger = logging.getLogger(__name__)

PART_SECONDS = 10.0  # how much film one part holds: what a kill can cost at most
JOIN_SHARE = 0.98  # progress when the last frame is done; the join takes the rest
PARTS_SUFFIX = ".colorize-parts"
PLAN_FILE = "hints-plan.json"  # where the hints start (core.shot_hints), kept with the parts
SCOUT_SHARE = 0.1  # progress when the first pass for hints placed mid-film is done
STATE_VERSION = 2  # what a part's saved colour state holds (2: the hints' plan slots and frame)


def parts_folder(output: str | os.PathLike) -> Path:
    """Where the finished parts of ``output`` wait for the join: a hidden folder beside it."""
    output = Path(output)
    return output.with_name(f".{output.name}{PARTS_SUFFIX}")


@dataclass
class _Part:
    index: int
    first: int  # presentation time of its first frame (source time base)
    last: int
    frames: int


def run_film_job(job: Job, predict: Predict, *, on_progress: Progress | None = None,
                 is_cancelled: CancelCheck | None = None,
                 steady: SteadyParams | None = None) -> JobResult:  # fmt: skip
    """Colorize the film ``job.source`` into ``job.output``; never raises for the film itself.

    Same rules as ``job.run_job``: an existing result is skipped unless ``overwrite`` (or, when it
    records other hints or settings than now, ``update``: core.freshness), the source
    is only read, every problem ends FAILED with a sentence, and only ``Cancelled`` and
    ``WeightsError`` are raised. Finished parts survive a cancel or a kill; running the same job
    again resumes from them. ``steady`` chooses how colour is carried between frames.
    """
    started = time.perf_counter()
    name = Path(job.source).name
    result = JobResult(Status.FAILED)
    try:
        skipped = skip_reason(job)  # a result made with other hints or settings: core.freshness
        if skipped is not None:
            return JobResult(Status.SKIPPED, skipped[0], output=Path(job.output), skip=skipped[1])
        _colorize_film(job, predict, result, on_progress or _ignore, is_cancelled,
                       steady or SteadyParams())  # fmt: skip
        result.status = Status.DONE
    except (Cancelled, WeightsError):
        raise
    except ColorizeError as e:
        result.reason = str(e)
    except MemoryError:
        result.reason = f"Not enough memory to colorize {name}. Close other programs and try again."
    except OSError as e:
        result.reason = f"Cannot colorize {name}: {e.strerror or e}."
    except Exception as e:  # a bug must cost one film, not the batch; the log keeps the trace
        logger.exception("Unexpected error colorizing %s", job.source)
        result.reason = f"Unexpected error colorizing {name} ({type(e).__name__}: {e})."
    result.seconds = time.perf_counter() - started
    return result


def _colorize_film(job: Job, predict: Predict, result: JobResult, progress: Progress,
                   is_cancelled: CancelCheck | None, params: SteadyParams) -> None:  # fmt: skip
    source, output = Path(job.source), Path(job.output)
    if output.exists() and os.path.samefile(source, output):
        raise ImageWriteError(f"Refusing to write over the original {source}.")
    # Before a frame is read (finished parts are kept only for the same size and time, see
    # _fingerprint): the record's size and time are never newer than the frames it was made of
    stamp = stamp_of(source)
    info = film_io.probe(source)
    notes = _notes(info, source.name)
    job, hints_note = with_hints(job)
    result.job = job
    notes += [hints_note] if hints_note else []
    folder = parts_folder(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ImageWriteError(f"Cannot write to the folder {output.parent}: {e.strerror or e}.") from None
    with _Lock(folder, output.name), _removed_unless_resumable(folder):
        coded = _displayed_to_coded(job.hints, info.rotation)
        parts = _finished_parts(folder, _fingerprint(source, job, coded, params))
        state = _load_state(folder, parts[-1]) if parts else SteadyState()
        frames_done = sum(part.frames for part in parts)
        if parts:
            logger.info("%s: resuming after %d finished frames", source.name, frames_done)
        plan, progress = _plan(job, info, coded, params, folder, progress, is_cancelled)
        srgb_table(1)  # the gray shortcut of compose: built once, repaid within a few frames
        frames_done = _colorize_parts(job, predict, info, parts, SteadyColour(params, state, plan),
                                      folder, frames_done, progress, is_cancelled)  # fmt: skip
        if not parts:
            raise film_io.FilmReadError(f"{source.name}: not a single frame could be decoded.")
        if info.frames and not info.frames_guessed and frames_done < info.frames * 0.98:
            notes.append(f"{source.name} ends early (damaged or truncated?): colorized the "
                         f"{frames_done} frames that could be read, of about {info.frames}.")
        stop_if_cancelled(is_cancelled)
        # (without a record of its own, the film keeps none: the source's is of another film)
        tags = {FILM_TAG: film_record(_provenance(job, stamp)) if job.options.provenance else None}
        replace_old = job.options.overwrite or job.options.update  # update: an out-of-date one
        result.output = _join(folder, parts, source, output, info, replace_old, tags)
    shutil.rmtree(folder, ignore_errors=True)
    result.note = " ".join(notes)
    progress(1.0)


@contextlib.contextmanager
def _removed_unless_resumable(folder: Path) -> Iterator[None]:
    """On the way out with an error or a stop, remove the parts ``folder`` unless it holds
    something a next run resumes from (a finished part, a hints plan): a run that ends in its
    first part leaves no hidden folder beside the film. Entered inside the lock, so it is this
    run's folder that goes."""
    try:
        yield
    except BaseException:
        try:
            names = [entry.name for entry in folder.iterdir()]
        except OSError:
            names = [PLAN_FILE]  # gone already, or unreadable: leave it as it is
        if not any(name == PLAN_FILE or (name.startswith("part-") and name.endswith(".json"))
                   for name in names):  # fmt: skip
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _plan(job, info, hints, params, folder, progress, is_cancelled) -> tuple[HintPlan, Progress]:
    """Where the hints start (core.shot_hints), and the progress of the colouring pass after it.
    A first pass over the film, only when a hint was placed after the first frame; its plan is
    kept in ``folder`` for a resumed run."""
    if not needs_scouting(hints, params):
        return placed_plan(hints), progress
    saved = folder / PLAN_FILE
    try:
        plan = HintPlan.from_json(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        total = max(info.frames, 1)

        def check(index: int) -> None:
            stop_if_cancelled(is_cancelled)
            if index % 25 == 0:
                progress(min(index / total, 1.0) * SCOUT_SHARE)

        frames = (small for _pts, _gray, small in _frames(job, info))
        plan = plan_hints(hints, frames, params, check)
        write_bytes_atomic(saved, plan.to_json().encode(), overwrite=True)

    def colouring(fraction: float) -> None:
        progress(SCOUT_SHARE + (1.0 - SCOUT_SHARE) * fraction)

    return plan, colouring


def _frames(job: Job, info, after: int | None = None):
    """(presentation time, lightness at even size, lightness at the network's size) of each frame
    after ``after``."""
    height, width = info.height & ~1, info.width & ~1  # H.264 in 4:2:0 needs even sizes
    small = _small_shape(height, width, job.options.render_size)
    for pts, gray in film_io.read_frames(job.source, after=after):
        gray = gray[:height, :width]
        yield pts, gray, cv2.resize(gray, small[::-1], interpolation=cv2.INTER_AREA)


def _colorize_parts(job, predict, info, parts, steady: SteadyColour, folder, frames_done,
                    progress, is_cancelled) -> int:  # fmt: skip
    """Colorize the frames after the finished ``parts`` into new parts (appended to ``parts``)."""
    options = job.options
    per_part = max(1, round(float(info.rate or 25) * PART_SECONDS))
    height, width = info.height & ~1, info.width & ~1
    after = parts[-1].last if parts else None
    total = max(info.frames, 1)

    def predict_small(gray, hints: tuple[Hint, ...]):  # the job's hints, carried with the motion
        return predict(gray, options, hints)

    writer = current = None
    try:
        for pts, gray, reduced in _frames(job, info, after):
            stop_if_cancelled(is_cancelled)
            if writer is None:
                current = _Part(len(parts), pts, pts, 0)
                writer = _PartFile(folder, current.index, info, width, height)
            ab = steady.colour(reduced, predict_small)
            writer.write(pts, compose(gray, ab, saturation=options.saturation))
            current.last, current.frames = pts, current.frames + 1
            frames_done += 1
            if current.frames >= per_part:
                _finish(writer, folder, current, steady.state)
                parts.append(current)
                writer = None
            progress(min(frames_done / total, 1.0) * JOIN_SHARE)
        if writer is not None:
            _finish(writer, folder, current, steady.state)
            parts.append(current)
            writer = None
    finally:
        if writer is not None:
            writer.abandon()
    return frames_done


def _small_shape(height: int, width: int, render_size: int) -> tuple[int, int]:
    """(h, w) the network sees: the long side becomes ``render_size`` (as pipeline.render_shape)."""
    scale = render_size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


class _PartFile:
    """One part being written: to a temporary name, renamed when it is complete."""

    def __init__(self, folder: Path, index: int, info, width: int, height: int) -> None:
        self.final = folder / f"part-{index:06d}.nut"
        self.temp = folder / f"part-{index:06d}.nut.partial"
        self._writer = film_io.PartWriter(self.temp, info, width, height)

    def write(self, pts: int, rgb: np.ndarray) -> None:
        self._writer.write(pts, rgb)

    def close(self) -> None:
        self._writer.close()
        _fsync(self.temp)
        os.replace(self.temp, self.final)

    def abandon(self) -> None:
        self._writer.abandon()
        self.temp.unlink(missing_ok=True)


def _finish(writer: _PartFile, folder: Path, part: _Part, state: SteadyState) -> None:
    """Close ``part`` and record it, with the colour state the next part starts from."""
    writer.close()
    buffer = _state_bytes(state)
    write_bytes_atomic(folder / f"part-{part.index:06d}.state.npz", buffer, overwrite=True)
    write_bytes_atomic(folder / f"part-{part.index:06d}.json", json.dumps(asdict(part)).encode(),
                       overwrite=True)  # fmt: skip  (written last: its presence means "finished")


def _state_bytes(state: SteadyState) -> bytes:
    import io

    buffer = io.BytesIO()
    hints = json.dumps([[h.x, h.y, h.color, h.frame] for h in state.hints])
    np.savez(buffer, gray=state.gray, ab=state.ab, since=state.since_keyframe, shot=state.shot,
             hints=np.array(hints), slots=np.array(state.slots, np.int64), frame=state.frame)  # fmt: skip
    return buffer.getvalue()


def _load_state(folder: Path, part: _Part) -> SteadyState:
    with np.load(folder / f"part-{part.index:06d}.state.npz") as data:
        hints = tuple(Hint(*row) for row in json.loads(str(data["hints"])))
        return SteadyState(gray=data["gray"], ab=data["ab"], since_keyframe=int(data["since"]),
                           shot=int(data["shot"]), hints=hints, slots=tuple(int(s) for s in data["slots"]),
                           frame=int(data["frame"]))  # fmt: skip


def _fingerprint(source: Path, job: Job, hints, params: SteadyParams) -> str:
    """What the parts depend on: the source file (size, time), the model and every setting that
    shows (the job's hints settled, as the frames hold them)."""
    info = os.stat(source)
    options = job.options
    key = json.dumps([info.st_size, info.st_mtime_ns, options.model_sha256, options.model_name,
                      options.render_size, options.saturation,
                      [[h.x, h.y, h.color, h.frame] for h in hints], asdict(params),
                      film_io.ENCODER_OPTIONS, STATE_VERSION])  # fmt: skip
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _finished_parts(folder: Path, fingerprint: str) -> list[_Part]:
    """The finished parts in ``folder`` made from the same source and settings, in order; anything
    else there (a part cut short by a kill, parts of another source or settings) is removed."""
    stamp = folder / "fingerprint"
    same = stamp.is_file() and stamp.read_text(encoding="utf-8", errors="replace") == fingerprint
    parts: list[_Part] = []
    if same:
        while True:
            record = folder / f"part-{len(parts):06d}.json"
            try:
                part = _Part(**json.loads(record.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                break
            if not (folder / f"part-{part.index:06d}.nut").is_file():
                break
            parts.append(part)
    keep = {"fingerprint", ".lock"} | ({PLAN_FILE} if same else set()) | {f"part-{p.index:06d}{ext}" for p in parts
                                       for ext in (".nut", ".json", ".state.npz")}  # fmt: skip
    for entry in folder.iterdir():
        if entry.name not in keep:
            logger.info("Removing %s (left by an earlier run)", entry)
            entry.unlink(missing_ok=True)
    if not same:
        write_bytes_atomic(stamp, fingerprint.encode(), overwrite=True)
    return parts


def _provenance(job: Job, stamp: OriginalStamp | None) -> Provenance:
    """What the colorized film records about how it was made (core.provenance, core.freshness);
    its hints settled (``with_hints``). The film's size and time, not a digest of its bytes (a
    film is gigabytes): a film whose size changed since is out of date, one only touched is not.
    The name as a photo's record writes it (``job.provenance_of``): an old camera's Latin-1 bytes
    or a control character as \\xNN, not a lone surrogate in the tag's JSON."""
    return Provenance(wanted_recipe(job), job.options.model_name, len(job.hints or ()),
                      printable(Path(job.source).name), original_stamp=stamp)  # fmt: skip


def _join(folder: Path, parts: list[_Part], source: Path, output: Path, info, overwrite: bool,
          tags: dict[str, str | None]) -> Path:  # fmt: skip
    """Join the parts and the source's sound into ``output``, atomically."""
    if not overwrite and output.exists() and output.stat().st_size > 0:
        raise ImageWriteError(f"{output} already exists; choose overwrite to replace it.")
    if output.name in live_writes(output.parent):
        raise ImageWriteError(f"Another Colorize run is saving {output.name} right now.")
    remove_stale_temps(output)
    container = film_io.MUXERS.get(output.suffix.lower(), "matroska")
    files = [folder / f"part-{p.index:06d}.nut" for p in parts]
    with temporary_file(output) as temp:
        film_io.join(files, source, temp, info, container_format=container, tags=tags,
                     name=output.name)  # fmt: skip
        _fsync(temp)
        os.replace(temp, output)
    return output


def _notes(info, name: str) -> list[str]:
    notes = []
    if info.bits > 8:
        notes.append(f"{name} is {info.bits}-bit video; the colorized film is 8-bit H.264.")
    if info.width % 2 or info.height % 2:
        notes.append(f"{name} is {info.width} x {info.height}; H.264 needs even sizes, so the "
                     f"colorized film is {info.width & ~1} x {info.height & ~1}.")
    return notes


def hint_track(job: Job,
               is_cancelled: CancelCheck | None = None) -> list[tuple[tuple[int, float, float], ...]]:
    """Where the film ``job``'s hints (placed on the film as shown) are on each of its frames, as
    colorizing it would carry them (core.shot_hints.track_hints), in the film's shown
    coordinates. For the window's markers; reads the film once or twice at the job's render size."""
    info = film_io.probe(job.source)
    track = track_hints(_displayed_to_coded(job.hints or (), info.rotation),
                        lambda: (small for _pts, _gray, small in _frames(job, info)),
                        SteadyParams(), lambda _index: stop_if_cancelled(is_cancelled))  # fmt: skip
    back = _turn_back(info.rotation)
    return [tuple((slot, *back(x, y)) for slot, x, y in frame) for frame in track]


def _turn_back(rotation: int):
    """The inverse of ``_displayed_to_coded``'s turn: a coded (x, y) as shown."""
    turns = {90: lambda x, y: (y, 1.0 - x), 180: lambda x, y: (1.0 - x, 1.0 - y),
             270: lambda x, y: (1.0 - y, x)}  # fmt: skip
    return turns.get(rotation, lambda x, y: (x, y))


def _displayed_to_coded(hints: tuple[Hint, ...], rotation: int) -> tuple[Hint, ...]:
    """Hints placed on the film as shown, moved onto its frames as stored (``rotation`` degrees
    counter-clockwise is how they are shown)."""
    def place(x: float, y: float) -> tuple[float, float]:
        if rotation == 90:
            return 1.0 - y, x
        if rotation == 180:
            return 1.0 - x, 1.0 - y
        if rotation == 270:
            return y, 1.0 - x
        return x, y

    return tuple(Hint(*place(h.x, h.y), h.color, h.frame) for h in hints)


class _Lock:
    """Holds the parts folder for this run: a second run on the same film is told so."""

    def __init__(self, folder: Path, name: str) -> None:
        self._path, self._name, self._fd = folder / ".lock", name, None

    def __enter__(self) -> _Lock:
        try:
            self._fd = locks.hold(self._path)
        except BlockingIOError:
            raise ImageWriteError(f"Another Colorize run is colorizing into {self._name} "
                                  "right now.") from None  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ignore(_fraction: float) -> None:
    pass
