"""Batches: which files to colour, where each result goes, and running them so one bad photo never
stops the rest. No torch here: the network is passed in (see job.py)."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from colorize_app.core import tree
from colorize_app.core.atomic import free_bytes, live_writes, probe_writable, temp_key
from colorize_app.core.claims import Claims
from colorize_app.core.errors import (
    Cancelled,
    ColorizeError,
    ImageReadError,
    ImageWriteError,
    stop_if_cancelled,
)
from colorize_app.core.hints import Hint
from colorize_app.core.imageio import ImageData
from colorize_app.core.job import (
    Job,
    JobOptions,
    JobResult,
    Predict,
    left_in_colour,
    read_for,
    run_job,
    skip_reason,
    will_skip,
    with_hints,
)
from colorize_app.core.settings import check_suffix
from colorize_app.core.sidecar import SIDECAR_SUFFIX
from colorize_app.core.vocabulary import (
    DEFAULT_SUFFIX,
    EXTENSIONS,
    FILM_FALLBACK_EXTENSION,
    FILM_KEPT_CONTAINERS,
    FORMAT_EXTENSIONS,
    VIDEO_EXTENSIONS,
    Status,
)

logger = logging.getLogger(__name__)

WAITING, DONE, SKIPPED, FAILED = Status.WAITING, Status.DONE, Status.SKIPPED, Status.FAILED
NAME_MAX = 255  # bytes in one file name on the usual file systems (ext4, APFS, NTFS in UTF-16 units)
NOT_A_PHOTO = "not a JPEG, PNG, TIFF, BMP or WebP file"
NOT_A_PHOTO_OR_FILM = f"{NOT_A_PHOTO} or film (MP4, MOV, MKV, AVI, WebM)"
Hints = tuple[Hint, ...] | None  # every photo's hints (--hints FILE); None: each photo's file's


@dataclass
class BatchItem:
    """One photo of a batch; ``status`` ends as done, skipped or failed (with a ``reason``)."""

    source: Path
    output: Path
    status: Status = WAITING
    reason: str = ""
    note: str = ""  # worth telling although the photo was done (a damaged hints file)
    skip: str = ""  # why it was skipped (JobResult.skip): a Freshness value or job.IN_COLOUR
    hinted: bool = False  # done with colour hints (its job's own, or its hints file's)
    # Failed before any work because of where its result would go (the original's place, another
    # result's name, a folder that refuses writes): the run's settings are at fault, not the photo.
    refused: bool = False


@dataclass
class BatchSummary:
    """What a batch run did, item by item (the command line's report counts here, once);
    ``cancelled`` when the user stopped it early."""

    items: list[BatchItem] = field(default_factory=list)
    cancelled: bool = False
    hinted: int = 0  # items done with colour hints (their jobs' own, or their hints files')

    def of(self, status: Status) -> list[BatchItem]:
        """The items that ended ``status``, in order."""
        return [item for item in self.items if item.status == status]

    @property
    def done(self) -> int:
        return len(self.of(DONE))

    @property
    def skipped(self) -> int:
        return len(self.of(SKIPPED))

    @property
    def failed(self) -> int:
        return len(self.of(FAILED))

    @property
    def failures(self) -> list[BatchItem]:
        return self.of(FAILED)


@dataclass
class Walk:
    """How a plan's walk of folders can be watched and stopped (the window plans off its thread).

    ``on_progress(folders, photos)`` is called after each folder looked in, with the counts so far
    (they add up over every folder the walk is handed); ``is_cancelled()`` is polled with every
    folder and photo, and then Cancelled is raised; more than ``max_photos`` photos and films below
    one opened folder raise ColorizeError saying so, rather than list an absurd tree (all of "/").
    """

    on_progress: Callable[[int, int], None] | None = None
    is_cancelled: Callable[[], bool] | None = None
    max_photos: int | None = None
    folders: int = 0
    photos: int = 0
    films_passed: int = 0  # films the folders hold that a plan without films left out
    links_passed: int = 0  # links to folders a recursive walk did not follow (to say so)

    def check(self) -> None:
        """Raise Cancelled once the caller asked to stop."""
        stop_if_cancelled(self.is_cancelled)

    def found(self, count: int, top: Path) -> None:
        """One more photo, the ``count``-th below the opened folder ``top``."""
        self.photos += 1
        if self.max_photos is not None and count > self.max_photos:
            raise ColorizeError(f"{top} holds more than {self.max_photos:,} photos and films, so "
                                "none of them were added: open its sub-folders one at a time.")
        self.check()

    def looked_in_folder(self) -> None:
        self.folders += 1
        self.check()
        if self.on_progress is not None:
            self.on_progress(self.folders, self.photos)


def is_supported(path, *, films: bool = False) -> bool:
    """True when the file name has an extension Colorize reads (any case); with ``films``, a
    video's too."""
    ext = Path(path).suffix.lower()
    return ext in EXTENSIONS or (films and ext in VIDEO_EXTENSIONS)


def is_film(path) -> bool:
    """True when ``path`` is named like a video (core.film colours those)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def is_own_output(path, suffix: str = DEFAULT_SUFFIX) -> bool:
    """True when ``path`` is named like one of our results (``<name><suffix>.<ext>``)."""
    return bool(suffix) and Path(path).stem.endswith(suffix)


def output_path_for(source, *, suffix: str = DEFAULT_SUFFIX, output_dir=None,
                    relative_to=None, format: str | None = None) -> Path:  # fmt: skip
    """Where the result of ``source`` goes: ``<name><suffix><ext>`` next to it, or in
    ``output_dir`` (below the same sub-folders as ``source`` has below ``relative_to``).
    ``format`` (one of vocabulary.FORMATS; None or "same": the source's) decides the extension of
    a photo's; a film's keeps its container where it holds H.264, else becomes .mkv."""
    source = Path(source)
    ext = source.suffix
    if is_film(source):
        ext = ext if ext.lower() in FILM_KEPT_CONTAINERS else FILM_FALLBACK_EXTENSION
    elif format and format != "same" and EXTENSIONS.get(ext.lower()) != format:
        ext = FORMAT_EXTENSIONS[format]
    name = f"{source.stem}{suffix}{ext}"
    if output_dir is None:
        return source.with_name(name)
    folder = Path(output_dir)
    if relative_to is not None:
        folder = folder / source.parent.relative_to(relative_to)
    return folder / name


def plan_batch(paths: Iterable, *, recursive: bool = False, suffix: str = DEFAULT_SUFFIX,
               output_dir=None, overwrite: bool = False, format: str | None = None,
               options: JobOptions | None = None, hints: Hints = None, films: bool = False,
               walk: Walk | None = None) -> list[BatchItem]:  # fmt: skip
    """List the photos to colour among files and folders, in natural order, each with its output.

    Folders give their supported, non-hidden files that are not our own results (sub-folders too
    when ``recursive``). A file named explicitly that cannot be coloured is listed as skipped with
    the reason. An existing output is skipped unless ``overwrite``: that is how a re-run resumes.
    ``format`` names the results' format (see ``output_path_for``). With ``options``, an existing
    result is judged as the jobs will judge it (``job.skip_reason``: an out-of-date one is redone
    with ``options.update``), with ``hints`` as ``run_batch`` gives them. ``films``: videos too.
    ``walk`` reports how far the folders' walk got and stops it (Cancelled), see Walk. Raises
    ImageReadError for a path that does not exist.
    """
    if not suffix and output_dir is None:
        raise ColorizeError("An empty suffix needs an output folder, or results would replace the originals.")  # fmt: skip
    check_suffix(suffix)
    output_dir = Path(output_dir) if output_dir is not None else None
    items: list[BatchItem] = []
    for given in map(Path, paths):
        try:
            kind = os.stat(given).st_mode
        except (FileNotFoundError, NotADirectoryError):
            raise ImageReadError(f"{given} does not exist.") from None
        except OSError as e:  # too long, a loop of links, no permission: this entry fails alone
            items.append(_unreadable(given, e))
            continue
        if stat.S_ISDIR(kind):
            photos, problems = _photos_in(given, recursive, suffix, output_dir, films, walk)
            for source in photos:
                out = output_path_for(
                    source, suffix=suffix, output_dir=output_dir, relative_to=given,
                    format=format,
                )
                items.append(BatchItem(source, out))
            items.extend(problems)
        else:
            out = output_path_for(given, suffix=suffix, output_dir=output_dir, format=format)
            items.append(_explicit_file(BatchItem(given, out), suffix, films))
    return _settle(items, options or JobOptions(overwrite=overwrite), hints, walk or Walk())


SUBFOLDER_COUNT_LIMIT = 1000  # photos_in_subfolders counts this far, and no further


def photos_in_subfolders(paths: Iterable, *, suffix: str = DEFAULT_SUFFIX, films: bool = False,
                         enough: int = SUBFOLDER_COUNT_LIMIT) -> int:
    """How many photos (films too with ``films``) lie in sub-folders of the folders among
    ``paths``: those that a plan without ``recursive`` leaves alone (to say so). Counted up to
    ``enough``: saying so must not walk an archive's whole tree."""
    count = 0
    for folder in map(Path, paths):
        if not folder.is_dir():
            continue
        for root, dirs, files in tree.walk(folder, onerror=lambda _error: None):
            dirs[:] = [d for d in dirs if not _hidden(Path(root, d))]
            if Path(root) == folder:
                continue  # the folder's own photos are planned
            count += sum(1 for name in files if _walk_keeps(Path(root, name), suffix, films))
            if count >= enough:
                return count
    return count


def _unreadable(path: Path, error: OSError) -> BatchItem:
    what = "folder" if isinstance(error, PermissionError) or os.path.isdir(path) else "path"
    reason = f"the {what} {path} cannot be read ({error.strerror or error})"
    if what == "folder":
        reason += "; the photos in it were left out"
    return BatchItem(path, path, FAILED, reason + ".")


def _explicit_file(item: BatchItem, suffix: str, films: bool) -> BatchItem:
    if item.source.name.lower().endswith(SIDECAR_SUFFIX):
        item.status, item.reason = SKIPPED, "this is a Colorize hints file, not a photo"
    elif not is_supported(item.source, films=films):
        item.status, item.reason = SKIPPED, NOT_A_PHOTO_OR_FILM if films else NOT_A_PHOTO
    elif is_own_output(item.source, suffix):
        item.status, item.reason = SKIPPED, "this is already a Colorize result"
    return item


def _photos_in(folder: Path, recursive: bool, suffix: str, output_dir: Path | None,
               films: bool = False, walk: Walk | None = None) -> tuple[list[Path], list[BatchItem]]:  # fmt: skip
    """The photos below ``folder``, and a failed item for each sub-folder that cannot be read."""
    skip_dir = os.path.normcase(os.path.abspath(output_dir)) if output_dir else None
    found: list[Path] = []
    problems: list[BatchItem] = []

    def on_error(error: OSError) -> None:
        problems.append(_unreadable(Path(error.filename or folder), error))

    for root, dirs, files in tree.walk(folder, onerror=on_error):
        if recursive:
            dirs[:] = [d for d in dirs if not _hidden(Path(root, d))
                       and os.path.normcase(os.path.abspath(Path(root, d))) != skip_dir]  # fmt: skip
            if walk is not None:  # tree.walk lists them and does not follow them
                walk.links_passed += sum(os.path.islink(os.path.join(root, d)) for d in dirs)
        else:
            dirs.clear()
        for name in files:
            path = Path(root, name)
            if _walk_keeps(path, suffix, films):
                found.append(path)
                if walk is not None:
                    walk.found(len(found), folder)
            elif walk is not None and not films and is_film(name) and _walk_keeps(path, suffix, True):
                walk.films_passed += 1  # the Ray engine says how many it leaves alone
        if walk is not None:
            walk.looked_in_folder()
    return sorted(found, key=lambda p: _natural_key(p.relative_to(folder))), problems


def _walk_keeps(path: Path, suffix: str, films: bool) -> bool:
    """A file a folder's walk lists: a photo (or film) we read, not our result, not hidden."""
    return is_supported(path, films=films) and not is_own_output(path, suffix) and not _hidden(path)


def _hidden(path: Path) -> bool:
    if path.name.startswith("."):
        return True
    try:
        attributes = getattr(os.lstat(path), "st_file_attributes", 0)  # Windows' hidden flag
    except OSError:  # too long to look at: reading it will say so, for this file alone
        return False
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _natural_key(path: Path) -> list:
    # "photo 2" before "photo 10"; split parts alternate text/number, so they always compare.
    return [[int(p) if p.isdigit() else p for p in re.split(r"(\d+)", part.casefold())]
            for part in path.parts]  # fmt: skip


def _settle(items: list[BatchItem], options: JobOptions, hints: Hints, walk: Walk) -> list[BatchItem]:
    """Drop repeats of the same source, and decide the items that are skipped or doomed."""
    claims = Claims(item.source for item in items)  # each path spelled once, here and below
    sources: set[str] = set()
    writing: dict[Path, set[str]] = {}  # per output folder: names another run is saving now
    kept = []
    for item in items:
        walk.check()  # a few file system calls per item: slow on a network share
        key = claims.spelled(item.source)
        if key in sources:
            continue
        sources.add(key)
        kept.append(item)
        if item.status != WAITING:
            continue
        refused = claims.claim(item.source, item.output)
        if refused:
            _refuse(item, refused)
        else:
            _check_output(item, options, hints, writing)
    return kept


def _refuse(item: BatchItem, reason: str) -> None:
    item.status, item.reason, item.refused = FAILED, reason, True


def _check_output(item: BatchItem, options: JobOptions, hints: Hints,
                  writing: dict[Path, set[str]]) -> None:  # fmt: skip
    """Fail or skip ``item`` for what is (or cannot be) at its output path."""
    name = item.output.name
    size = len(os.fsencode(name))
    if size > NAME_MAX:
        _refuse(item, f"the name of its result would be too long ({size} bytes; file systems "
                      f"allow {NAME_MAX}): shorten the file name or the suffix")  # fmt: skip
        return
    try:
        info = os.stat(item.output)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as e:
        too_long = e.errno == errno.ENAMETOOLONG
        _refuse(item, "the path of its result would be too long for the file system" if too_long
                else f"its result {item.output} cannot be checked ({e.strerror or e})")  # fmt: skip
        return
    if info is not None and stat.S_ISDIR(info.st_mode):
        _refuse(item, f"its result's name {name} is taken by a folder")
    elif temp_key(name) in _cached(writing, item.output.parent, live_writes):
        item.status, item.reason = SKIPPED, f"another Colorize run is saving {name} right now"
    elif info is not None and info.st_size > 0 and not options.overwrite:
        skipped = skip_reason(Job(item.source, item.output, options, hints=hints))
        if skipped is not None:
            item.status, (item.reason, item.skip) = SKIPPED, skipped
    # An empty file where the result goes is not a result (ours appear whole or not at all): it
    # is redone, see job.batch_process.


def _cached(cache: dict, key, compute):
    if key not in cache:
        cache[key] = compute(key)
    return cache[key]


def check_output_folders(items: Iterable[BatchItem]) -> None:
    """Fail, up front and with the reason, the waiting items whose output folder refuses writes,
    so no time is spent colouring a photo that cannot be saved."""
    verdicts: dict[Path, str] = {}
    free: dict[Path, int | None] = {}
    for item in items:
        if item.status != WAITING:
            continue
        folder = item.output.parent
        if folder not in verdicts:
            try:
                probe_writable(folder)
                verdicts[folder] = ""
            except ImageWriteError as e:
                verdicts[folder] = str(e)
            free[folder] = free_bytes(folder)
        if verdicts[folder]:
            _refuse(item, verdicts[folder])
        elif free[folder] is not None and free[folder] < _size_of(item.source):
            # A zero-byte probe fits on a full disk; a result about the original's size does not.
            _refuse(item, f"Not enough disk space to save {item.output} "
                          f"({free[folder] / 1e6:.1f} MB free in {folder}).")  # fmt: skip


def _size_of(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def run_batch(items: Iterable[BatchItem], predict: Predict, options: JobOptions | None = None, *,
              hints: Hints = None, on_item: Callable[[BatchItem], None] | None = None,
              on_progress: Callable[[BatchItem, float], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None,
              prefetch: int = 1) -> BatchSummary:  # fmt: skip
    """Run ``job.run_job`` on every waiting item with ``predict``, decoding the next photo meanwhile.

    Each item ends done, skipped or failed with the job's sentence; a failure never stops the
    batch. Every photo's job is given ``hints`` (the command line's --hints FILE); None: each
    reads its own hints file (``job.with_hints``). ``on_item(item)`` is called once per item as it ends (items already skipped or failed
    by the plan first); ``on_progress(item, fraction)`` within each photo. ``is_cancelled`` is
    polled between photos and within them; cancelling leaves the rest waiting.
    """
    options = options or JobOptions()
    summary = BatchSummary(list(items))
    for item in summary.items:
        if item.status != WAITING and on_item:
            on_item(item)
    queue = [(item, Job(item.source, item.output, options, hints=hints))
             for item in summary.items if item.status == WAITING]  # fmt: skip
    with BatchRunner(predict, prefetch=prefetch) as runner:
        for index, (item, job) in enumerate(queue):
            if is_cancelled is not None and is_cancelled():
                summary.cancelled = True
                break
            progress = None if on_progress is None else partial(on_progress, item)
            upcoming = [later for _, later in queue[index + 1 : index + 1 + prefetch]]
            try:
                result = runner.run(job, upcoming=upcoming, on_progress=progress,
                                    is_cancelled=is_cancelled)  # fmt: skip
            except Cancelled:
                item.reason = "cancelled"
                summary.cancelled = True
                break
            item.status, item.reason = result.status, result.reason
            item.note, item.skip = result.note, result.skip
            item.hinted = item.status == DONE and bool(result.job.hints)
            summary.hinted += item.hinted
            del result  # it holds the colorized photo: free it before the next one is made
            if on_item:
                on_item(item)
    return summary


class BatchRunner:
    """Runs jobs one at a time, preparing the photos coming next on one background thread.

    The command line's ``run_batch`` and the window's worker both drive one: ``run(job,
    upcoming=[...])`` colorizes ``job`` while the next photos that will not be skipped are
    decoded *and their colour predicted* on the reader thread (the decoder and torch release the
    GIL), so one photo's network runs beside the previous one's composing and encoding: on two
    cores the two halves of the work take about as long each. ``predict`` is called from both
    threads, so it must be safe to (``engine.Engine.predict`` takes turns). Not thread-safe
    otherwise: one caller thread. ``close()`` (or leaving a ``with`` block) stops the reader.
    """

    def __init__(self, predict: Predict, *, prefetch: int = 1) -> None:
        self._predict = predict
        self._prefetch = prefetch
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-read")
        self._pending: dict[int, tuple[Job, Future]] = {}  # id(job): the job, its preparation

    def run(self, job: Job, *, upcoming: Iterable[Job] = (), on_progress=None,
            is_cancelled=None) -> JobResult:  # fmt: skip
        """``job.run_job(job, ...)`` with its photo and colour taken from the reader thread when
        they are there (for a film, ``film.run_film_job``). Raises what run_job raises
        (Cancelled, WeightsError), from this thread."""
        if is_film(job.source):
            self.prefetch(upcoming)
            from colorize_app.core.film import run_film_job  # PyAV, only when there is a film

            return run_film_job(job, self._predict, on_progress=on_progress,
                                is_cancelled=is_cancelled)  # fmt: skip
        # This photo first on the reader (a single thread: it works in order), then the next.
        self.prefetch([job])
        self.prefetch(upcoming)
        entry = self._pending.pop(id(job), None)
        if entry is None or entry[0] is not job:  # skipped: run_job says why, reading nothing
            return run_job(job, self._predict, on_progress=on_progress,
                           is_cancelled=is_cancelled)  # fmt: skip
        ready = entry[1]
        return run_job(job, partial(self._prepared_predict, ready),
                       read=lambda _job: ready.result().image,  # raises the decoding's error here
                       on_progress=on_progress, is_cancelled=is_cancelled)  # fmt: skip

    def prefetch(self, jobs: Iterable[Job]) -> None:
        """Start preparing the first ``prefetch`` of ``jobs`` that will be colorized."""
        wanted = [job for job in jobs if not will_skip(job) and not is_film(job.source)]
        for job in wanted[: self._prefetch]:
            if id(job) not in self._pending:
                self._pending[id(job)] = (job, self._reader.submit(self._prepare, job))

    def drop(self, job: Job) -> None:
        """Forget ``job``'s preparation (it was cancelled): nobody will colorize that photo."""
        entry = self._pending.pop(id(job), None)
        if entry is not None:
            entry[1].cancel()

    def _prepare(self, job: Job) -> _Prepared:
        """On the reader thread: decode the photo (its ImageReadError is raised to ``run``), and
        predict its colour as ``run_job`` will ask for it; a failed prediction is kept, to be
        raised where run_job asks."""
        image = read_for(job)
        settled, _note = with_hints(job)
        if job.chroma is not None or left_in_colour(job, image):
            return _Prepared(image)
        try:
            chroma = self._predict(image.pixels, settled.options, settled.hints)
        except Exception as exc:  # WeightsError, MemoryError...: run_job's handlers decide
            return _Prepared(image, settled.hints, error=exc)
        return _Prepared(image, settled.hints, chroma)

    def _prepared_predict(self, ready: Future, pixels, options: JobOptions, hints) -> np.ndarray:
        prepared = ready.result()
        if prepared.hints != hints or prepared.hints is None:  # the hints file changed meanwhile
            return self._predict(pixels, options, hints)
        if prepared.error is not None:
            raise prepared.error
        return prepared.chroma

    def close(self, *, wait: bool = True) -> None:
        for _, future in self._pending.values():  # don't decode photos nobody will colour
            future.cancel()
        self._pending.clear()
        self._reader.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> BatchRunner:
        return self

    def __exit__(self, kind, *exc) -> None:
        # On Ctrl-C (or any exception) do not wait for a preparation in flight: it writes nothing.
        self.close(wait=kind is None)


@dataclass
class _Prepared:
    """A photo decoded ahead, and its colour as predicted for ``hints`` (or the error that
    prediction raised); no chroma when run_job will not ask for one."""

    image: ImageData
    hints: Hints = None
    chroma: np.ndarray | None = None
    error: Exception | None = None
