"""Batches: which files to colour, where each result goes, and running them so one bad photo never
stops the rest. No torch here: the colorizing step is passed in (see job.py)."""

from __future__ import annotations

import errno
import functools
import logging
import os
import re
import stat
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from colorize_app.core.atomic import free_bytes, live_writes, probe_writable
from colorize_app.core.errors import Cancelled, ColorizeError, ImageReadError, ImageWriteError
from colorize_app.core.imageio import DEFAULT_MAX_PIXELS, EXTENSIONS, ImageData, read_image

logger = logging.getLogger(__name__)

DEFAULT_SUFFIX = "_colorized"
WAITING, DONE, SKIPPED, FAILED = "waiting", "done", "skipped", "failed"
NAME_MAX = 255  # bytes in one file name on the usual file systems (ext4, APFS, NTFS in UTF-16 units)


@dataclass
class BatchItem:
    """One photo of a batch; ``status`` ends as done, skipped or failed (with a ``reason``)."""

    source: Path
    output: Path
    status: str = WAITING
    reason: str = ""


@dataclass
class BatchSummary:
    """What a batch run did, item by item; ``cancelled`` when the user stopped it early."""

    items: list[BatchItem] = field(default_factory=list)
    cancelled: bool = False

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.items)

    @property
    def done(self) -> int:
        return self.count(DONE)

    @property
    def skipped(self) -> int:
        return self.count(SKIPPED)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    @property
    def failures(self) -> list[BatchItem]:
        return [item for item in self.items if item.status == FAILED]


def is_supported(path) -> bool:
    """True when the file name has an extension Colorize reads (any case)."""
    return Path(path).suffix.lower() in EXTENSIONS


def is_own_output(path, suffix: str = DEFAULT_SUFFIX) -> bool:
    """True when ``path`` is named like one of our results (``<name><suffix>.<ext>``)."""
    return bool(suffix) and Path(path).stem.endswith(suffix)


def check_suffix(suffix: str) -> None:
    """Raise ColorizeError unless ``suffix`` is a plain fragment of a file name: no folder
    separator, no NUL and no control character, so a result can never land outside its folder."""
    separators = {"/", os.sep, os.altsep or "/"}
    if any(ch in separators or unicodedata.category(ch) == "Cc" for ch in suffix):
        raise ColorizeError(
            f"The suffix {suffix!r} is not a plain name fragment: it may not contain "
            "'/', a folder separator or a control character."
        )


def output_path_for(source, *, suffix: str = DEFAULT_SUFFIX, output_dir=None,
                    relative_to=None) -> Path:  # fmt: skip
    """Where the result of ``source`` goes: ``<name><suffix><ext>`` next to it, or in
    ``output_dir`` (below the same sub-folders as ``source`` has below ``relative_to``)."""
    source = Path(source)
    name = f"{source.stem}{suffix}{source.suffix}"
    if output_dir is None:
        return source.with_name(name)
    folder = Path(output_dir)
    if relative_to is not None:
        folder = folder / source.parent.relative_to(relative_to)
    return folder / name


def plan_batch(paths: Iterable, *, recursive: bool = False, suffix: str = DEFAULT_SUFFIX,
               output_dir=None, overwrite: bool = False) -> list[BatchItem]:  # fmt: skip
    """List the photos to colour among files and folders, in natural order, each with its output.

    Folders give their supported, non-hidden files that are not our own results (sub-folders too
    when ``recursive``). A file named explicitly that cannot be coloured is listed as skipped with
    the reason. An existing output is skipped unless ``overwrite``: that is how a re-run resumes.
    Raises ImageReadError for a path that does not exist.
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
            photos, problems = _photos_in(given, recursive, suffix, output_dir)
            for source in photos:
                out = output_path_for(
                    source, suffix=suffix, output_dir=output_dir, relative_to=given
                )
                items.append(BatchItem(source, out))
            items.extend(problems)
        else:
            out = output_path_for(given, suffix=suffix, output_dir=output_dir)
            items.append(_explicit_file(BatchItem(given, out), suffix))
    return _settle(items, overwrite)


def _unreadable(path: Path, error: OSError) -> BatchItem:
    what = "folder" if isinstance(error, PermissionError) or os.path.isdir(path) else "path"
    reason = f"the {what} {path} cannot be read ({error.strerror or error})"
    if what == "folder":
        reason += "; the photos in it were left out"
    return BatchItem(path, path, FAILED, reason + ".")


def _explicit_file(item: BatchItem, suffix: str) -> BatchItem:
    if not is_supported(item.source):
        item.status, item.reason = SKIPPED, "not a JPEG, PNG, TIFF, BMP or WebP file"
    elif is_own_output(item.source, suffix):
        item.status, item.reason = SKIPPED, "this is already a Colorize result"
    return item


def _photos_in(folder: Path, recursive: bool, suffix: str,
               output_dir: Path | None) -> tuple[list[Path], list[BatchItem]]:  # fmt: skip
    """The photos below ``folder``, and a failed item for each sub-folder that cannot be read."""
    skip_dir = os.path.normcase(os.path.abspath(output_dir)) if output_dir else None
    found: list[Path] = []
    problems: list[BatchItem] = []

    def on_error(error: OSError) -> None:
        problems.append(_unreadable(Path(error.filename or folder), error))

    for root, dirs, files in os.walk(folder, onerror=on_error):
        if recursive:
            dirs[:] = [d for d in dirs if not _hidden(Path(root, d))
                       and os.path.normcase(os.path.abspath(Path(root, d))) != skip_dir]  # fmt: skip
        else:
            dirs.clear()
        for name in files:
            path = Path(root, name)
            if is_supported(path) and not is_own_output(path, suffix) and not _hidden(path):
                found.append(path)
    return sorted(found, key=lambda p: _natural_key(p.relative_to(folder))), problems


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


def _settle(items: list[BatchItem], overwrite: bool) -> list[BatchItem]:
    """Drop repeats of the same source, and decide the items that are skipped or doomed."""
    sources: set[str] = set()
    outputs: dict[str, BatchItem] = {}
    writing: dict[Path, set[str]] = {}  # per output folder: names another run is saving now
    kept = []
    for item in items:
        key = os.path.normcase(os.path.realpath(item.source))
        if key in sources:
            continue
        sources.add(key)
        kept.append(item)
        if item.status != WAITING:
            continue
        out_key = os.path.normcase(os.path.realpath(item.output))
        if out_key == key:
            item.status, item.reason = FAILED, "its result would replace the original"
        elif out_key in outputs:
            other = outputs[out_key].source
            item.status, item.reason = FAILED, f"its result would have the same name as {other}'s"
        else:
            _check_output(item, overwrite, writing)
        outputs.setdefault(out_key, item)
    return kept


def _check_output(item: BatchItem, overwrite: bool, writing: dict[Path, set[str]]) -> None:
    """Fail or skip ``item`` for what is (or cannot be) at its output path."""
    name = item.output.name
    size = len(os.fsencode(name))
    if size > NAME_MAX:
        item.status, item.reason = FAILED, (
            f"the name of its result would be too long ({size} bytes; file systems allow "
            f"{NAME_MAX}): shorten the file name or the suffix"
        )
        return
    try:
        info = os.stat(item.output)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as e:
        too_long = e.errno == errno.ENAMETOOLONG
        item.status, item.reason = FAILED, (
            "the path of its result would be too long for the file system" if too_long
            else f"its result {item.output} cannot be checked ({e.strerror or e})"
        )
        return
    if info is not None and stat.S_ISDIR(info.st_mode):
        item.status, item.reason = FAILED, f"its result's name {name} is taken by a folder"
    elif name in _cached(writing, item.output.parent, live_writes):
        item.status, item.reason = SKIPPED, f"another Colorize run is saving {name} right now"
    elif info is not None and info.st_size > 0 and not overwrite:
        item.status, item.reason = SKIPPED, f"already colorized ({name} exists)"
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
            item.status, item.reason = FAILED, verdicts[folder]
        elif free[folder] is not None and free[folder] < _size_of(item.source):
            # A zero-byte probe fits on a full disk; a result about the original's size does not.
            item.status, item.reason = FAILED, (
                f"Not enough disk space to save {item.output} "
                f"({free[folder] / 1e6:.1f} MB free in {folder})."
            )


def _size_of(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


Process = Callable[[BatchItem, ImageData], "Callable[[], object] | None"]


def run_batch(items: Iterable[BatchItem], process: Process, *,
              on_item: Callable[[BatchItem], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None, prefetch: int = 1,
              max_pixels: int = DEFAULT_MAX_PIXELS) -> BatchSummary:  # fmt: skip
    """Run ``process(item, image)`` on every waiting item, decoding the next photo meanwhile.

    Each item ends done, or failed with the error's message; a failure never stops the batch.
    ``on_item(item)`` is called once per item as it ends, in order (items already skipped or
    failed by the plan first). ``is_cancelled`` is polled between photos; a ``Cancelled`` raised
    by ``process`` stops the batch too, leaving the rest waiting. Decoding runs on one worker
    thread, ``prefetch`` photos ahead (OpenCV releases the GIL, so it overlaps the colorizing).
    ``process`` may return a ``save()`` callable instead of saving itself: it then runs on a
    writer thread while the next photo is coloured, and the item ends when it returns.
    """
    summary = BatchSummary(list(items))
    for item in summary.items:
        if item.status != WAITING and on_item:
            on_item(item)
    queue = deque(item for item in summary.items if item.status == WAITING)
    pending: deque[tuple[BatchItem, Future]] = deque()
    saving: deque[tuple[BatchItem, Future]] = deque()  # at most one photo being written
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-read")
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-write")

    def settle_saves() -> None:
        while saving:
            item, future = saving.popleft()
            _record(item, future.result)
            if on_item:
                on_item(item)

    ended = False
    try:
        while queue or pending:
            if is_cancelled is not None and is_cancelled():
                summary.cancelled = True
                break
            while queue and len(pending) <= prefetch:
                item = queue.popleft()
                pending.append(
                    (item, reader.submit(read_image, item.source, max_pixels=max_pixels))
                )
            item, future = pending.popleft()
            save = _record(item, functools.partial(_decoded_then, process, item, future))
            del future  # it holds the decoded photo: free it before the next one lands
            settle_saves()  # the previous photo's write, which overlapped this one's colouring
            if item.reason == "cancelled" and item.status == WAITING:
                summary.cancelled = True
                break
            if callable(save) and item.status == WAITING:
                saving.append((item, writer.submit(save)))
                continue
            if item.status == WAITING:
                item.status = DONE
            if on_item:
                on_item(item)
        settle_saves()
        ended = True
    finally:
        for _, future in pending:  # don't decode photos nobody will colour
            future.cancel()
        # On Ctrl-C (or any exception) do not wait for a decode in flight: it only reads a file.
        reader.shutdown(wait=ended, cancel_futures=True)
        writer.shutdown(wait=True)  # a write in flight is short, and must end whole or not at all
    return summary


def _decoded_then(process: Process, item: BatchItem, future: Future):
    return process(item, future.result())


def _record(item: BatchItem, step: Callable[[], object]) -> object:
    """Run one step of an item, recording how it failed (status and reason); returns its value.
    A Cancelled leaves the item waiting, with "cancelled" as its reason."""
    try:
        value = step()
    except Cancelled:
        item.reason = "cancelled"
        return None
    except ColorizeError as e:
        item.status, item.reason = FAILED, str(e)
    except MemoryError:
        item.status, item.reason = FAILED, "not enough memory to colour this photo"
    except Exception as e:  # a bug must cost one photo, not the batch; the log keeps the trace
        logger.exception("Unexpected error while colouring %s", item.source)
        item.status, item.reason = FAILED, f"unexpected error ({type(e).__name__}: {e})"
    else:
        if item.status == WAITING and not callable(value):  # ``process`` may have skipped it
            item.status = DONE
        return value
    return None
