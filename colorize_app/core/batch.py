"""Batches: which files to colour, where each result goes, and running them so one bad photo never
stops the rest. No torch here: the colorizing step is passed in (see job.py)."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from colorize_app.core.atomic import probe_writable
from colorize_app.core.errors import Cancelled, ColorizeError, ImageReadError, ImageWriteError
from colorize_app.core.imageio import DEFAULT_MAX_PIXELS, EXTENSIONS, ImageData, read_image

logger = logging.getLogger(__name__)

DEFAULT_SUFFIX = "_colorized"
WAITING, DONE, SKIPPED, FAILED = "waiting", "done", "skipped", "failed"


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
    output_dir = Path(output_dir) if output_dir is not None else None
    items: list[BatchItem] = []
    for given in map(Path, paths):
        if given.is_dir():
            for source in _photos_in(given, recursive, suffix, output_dir):
                out = output_path_for(
                    source, suffix=suffix, output_dir=output_dir, relative_to=given
                )
                items.append(BatchItem(source, out))
        elif given.exists():
            out = output_path_for(given, suffix=suffix, output_dir=output_dir)
            items.append(_explicit_file(BatchItem(given, out), suffix))
        else:
            raise ImageReadError(f"{given} does not exist.")
    return _settle(items, overwrite)


def _explicit_file(item: BatchItem, suffix: str) -> BatchItem:
    if not is_supported(item.source):
        item.status, item.reason = SKIPPED, "not a JPEG, PNG, TIFF, BMP or WebP file"
    elif is_own_output(item.source, suffix):
        item.status, item.reason = SKIPPED, "this is already a Colorize result"
    return item


def _photos_in(folder: Path, recursive: bool, suffix: str, output_dir: Path | None) -> list[Path]:
    skip_dir = os.path.normcase(os.path.abspath(output_dir)) if output_dir else None
    found = []
    for root, dirs, files in os.walk(folder):
        if recursive:
            dirs[:] = [d for d in dirs if not _hidden(Path(root, d))
                       and os.path.normcase(os.path.abspath(Path(root, d))) != skip_dir]  # fmt: skip
        else:
            dirs.clear()
        for name in files:
            path = Path(root, name)
            if is_supported(path) and not is_own_output(path, suffix) and not _hidden(path):
                found.append(path)
    return sorted(found, key=lambda p: _natural_key(p.relative_to(folder)))


def _hidden(path: Path) -> bool:
    if path.name.startswith("."):
        return True
    attributes = getattr(os.lstat(path), "st_file_attributes", 0)  # Windows' hidden flag
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _natural_key(path: Path) -> list:
    # "photo 2" before "photo 10"; split parts alternate text/number, so they always compare.
    return [[int(p) if p.isdigit() else p for p in re.split(r"(\d+)", part.casefold())]
            for part in path.parts]  # fmt: skip


def _settle(items: list[BatchItem], overwrite: bool) -> list[BatchItem]:
    """Drop repeats of the same source, and decide the items that are skipped or doomed."""
    sources: set[str] = set()
    outputs: dict[str, BatchItem] = {}
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
        elif item.output.exists() and not overwrite:
            item.status, item.reason = SKIPPED, f"already colorized ({item.output.name} exists)"
        outputs.setdefault(out_key, item)
    return kept


def check_output_folders(items: Iterable[BatchItem]) -> None:
    """Fail, up front and with the reason, the waiting items whose output folder refuses writes,
    so no time is spent colouring a photo that cannot be saved."""
    verdicts: dict[Path, str] = {}
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
        if verdicts[folder]:
            item.status, item.reason = FAILED, verdicts[folder]


Process = Callable[[BatchItem, ImageData], None]


def run_batch(items: Iterable[BatchItem], process: Process, *,
              on_item: Callable[[BatchItem], None] | None = None,
              is_cancelled: Callable[[], bool] | None = None, prefetch: int = 1,
              max_pixels: int = DEFAULT_MAX_PIXELS) -> BatchSummary:  # fmt: skip
    """Run ``process(item, image)`` on every waiting item, decoding the next photo meanwhile.

    Each item ends done, or failed with the error's message; a failure never stops the batch.
    ``on_item(item)`` is called once per item as it ends (items already skipped or failed by the
    plan first). ``is_cancelled`` is polled between photos; a ``Cancelled`` raised by ``process``
    stops the batch too, leaving the rest waiting. Decoding runs on one worker thread,
    ``prefetch`` photos ahead (OpenCV releases the GIL, so it overlaps the colorizing).
    """
    summary = BatchSummary(list(items))
    for item in summary.items:
        if item.status != WAITING and on_item:
            on_item(item)
    queue = deque(item for item in summary.items if item.status == WAITING)
    pending: deque[tuple[BatchItem, Future]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-read") as reader:
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
                finished = _run_one(item, future, process)
                del future  # it holds the decoded photo: free it before the next one lands
                if not finished:
                    summary.cancelled = True
                    break
                if on_item:
                    on_item(item)
        finally:
            for _, future in pending:  # don't decode photos nobody will colour
                future.cancel()
    return summary


def _run_one(item: BatchItem, future: Future, process: Process) -> bool:
    """Decode and process one item, recording how it ended; False when it was cancelled."""
    try:
        image = future.result()
        process(item, image)
    except Cancelled:
        item.reason = "cancelled"
        return False
    except ColorizeError as e:
        item.status, item.reason = FAILED, str(e)
    except MemoryError:
        item.status, item.reason = FAILED, "not enough memory to colour this photo"
    except Exception as e:  # a bug must cost one photo, not the batch; the log keeps the trace
        logger.exception("Unexpected error while colouring %s", item.source)
        item.status, item.reason = FAILED, f"unexpected error ({type(e).__name__}: {e})"
    else:
        item.status = DONE
    return True
