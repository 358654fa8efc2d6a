"""Lay predicted colour over the full-resolution original lightness (numpy and OpenCV, no torch).

The network's (a, b) comes at a small render size; here it is upsampled bilinearly strip by
strip, scaled by the saturation, fitted into the sRGB gamut without touching L, and merged with
the original's own L. Working in strips keeps memory flat for 50-megapixel scans, and lets the
caller cancel or report progress between strips. Being torch-free, the window's worker can call
it again on a cached prediction when only the saturation changes.

A black-and-white photo in 8 bits (gray, or RGB with equal channels, as most scans are stored)
takes a shortcut: its gray level v fixes L exactly, so one table indexed by (v, a, b), with a and
b rounded to whole units, holds the gamut-fitted sRGB colour, and each pixel costs one lookup
instead of a Lab conversion, a gamut fit and an sRGB conversion. The table (64 MB) is made once
per process, on the first photo big enough to repay it: read from the user's cache folder
(``table_cache``) when a slice computed anew agrees with it, else built in half a second and saved.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from . import table_cache
from .colour import AB_LIMIT, fit_to_gamut, from_unit_float, lab_to_rgb, lightness, limit_chroma
from .errors import ColorizeError, stop_if_cancelled

STRIP_PIXELS = 1 << 21  # about 2 MP per strip: cache-friendly and a few dozen MB of temporaries
TABLE_CHUNK = 16  # values of b per step while the table is built (srgb_table)
TABLE_MIN_PIXELS = 4_000_000  # smaller photos do not repay building the table on their own
# Up to this size the shortcut upsamples a and b for the whole photo at once (2 bytes a pixel,
# half the output's size); bigger scans do it strip by strip, more slowly, to keep memory flat.
LEVELS_MAX_PIXELS = 40_000_000
STRIP_THREADS = max(1, min(4, os.cpu_count() or 1))  # strips are coloured side by side (no GIL)
_tables: dict[int, np.ndarray] = {}  # by the number of channels the lightness is taken from
_table_lock = threading.Lock()
_strip_pool: ThreadPoolExecutor | None = None
_scratch_buffers = threading.local()  # _scratch: each strip thread's own
_pool_lock = threading.Lock()


def network_copy(image: np.ndarray, render_size: int) -> np.ndarray:
    """``image`` reduced to ``render_size`` on the long side, alpha dropped: what the network sees
    (``pipeline.network_input`` and ``hint_preview`` both make it here, so they cannot differ)."""
    # Resize first: expanding a 12 MP gray photo to RGB would cost a full-size copy under the GIL.
    base = image if image.ndim == 2 else np.ascontiguousarray(image[:, :, :3])
    height, width = base.shape[:2]
    scale = render_size / max(height, width)
    small_h, small_w = max(1, round(height * scale)), max(1, round(width * scale))
    if (small_h, small_w) == (height, width):
        return base
    interpolation = cv2.INTER_AREA if small_h < height else cv2.INTER_CUBIC
    return cv2.resize(base, (small_w, small_h), interpolation=interpolation)


def compose(
    image: np.ndarray,
    ab_small: np.ndarray,
    *,
    saturation: float = 1.0,
    on_progress: Callable[[float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Colour ``image`` (HxW, HxWx3 or HxWx4; uint8 or uint16) with the low-resolution ``ab_small``.

    Returns HxWx3 (HxWx4 when the input had alpha, which is copied unchanged) of the input's dtype,
    whose Lab lightness equals the input's up to rounding.
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"expected uint8 or uint16 pixels, got {image.dtype}")
    if not (np.isfinite(saturation) and saturation >= 0):
        raise ValueError(f"saturation must be a finite number, 0 or more, not {saturation}")
    if not np.isfinite(ab_small).all():  # NaN would come out white, and be saved as a success
        raise ColorizeError(
            "The model's prediction is invalid (its colours are not finite numbers): the weights "
            "are damaged or the model is broken. Nothing was saved."
        )
    height, width = image.shape[:2]
    has_alpha = image.ndim == 3 and image.shape[2] == 4
    out = np.empty((height, width, 4 if has_alpha else 3), dtype=image.dtype)
    planes = [
        np.clip(ab_small[:, :, i], -AB_LIMIT, AB_LIMIT).astype(np.float32) * np.float32(saturation)
        for i in (0, 1)
    ]
    small_h = planes[0].shape[0]
    sy = small_h / height
    # Bilinear upsampling as cv2.resize does it, split in two: along x once here (a few rows of
    # full width), along y per strip below in numpy. warpAffine did both at once, but OpenCV 4
    # rounds its coordinates to 1/32 of a pixel and OpenCV 5 does not, so colours moved with
    # the OpenCV release; cv2.resize's float path is the same in both.
    wide = [cv2.resize(p, (width, small_h), interpolation=cv2.INTER_LINEAR) for p in planes]
    rows = max(8, STRIP_PIXELS // max(width, 1))
    table = levels = None
    layout = _shortcut_layout(image.shape, image.dtype)
    if layout is not None:
        table = srgb_table(layout)
        levels = _ab_levels(planes, width, height)

    def colour_strip(top: int) -> int:
        bottom = min(height, top + rows)
        strip = image[top:bottom]
        gray = None if table is None else _gray_levels(strip)
        if gray is not None:
            ab = _fitted_levels(*_rows_between(wide, top, bottom, sy)) if levels is None else levels[top:bottom]
            _look_up(table, gray, ab, out[top:bottom])
            if has_alpha:
                out[top:bottom, :, 3] = strip[:, :, 3]
        else:
            a, b = _rows_between(wide, top, bottom, sy)
            l_channel = lightness(strip)
            fit_to_gamut(l_channel, a, b)
            rgb = from_unit_float(lab_to_rgb(cv2.merge([l_channel, a, b])), image.dtype)
            if has_alpha:
                out[top:bottom, :, :3] = rgb
                out[top:bottom, :, 3] = strip[:, :, 3]
            else:
                out[top:bottom] = rgb
        return bottom

    for bottom in _side_by_side(colour_strip, range(0, height, rows), is_cancelled):
        if on_progress is not None:
            on_progress(bottom / height)
    return out


def _side_by_side(work: Callable[[int], int], tops: Iterable[int],
                  is_cancelled: Callable[[], bool] | None) -> Iterator[int]:  # fmt: skip
    """``work(top)`` for every strip, on the strip threads when there is more than one strip,
    yielding the results in order. At most one strip more than there are threads is in flight
    (memory stays flat); ``Cancelled`` is raised between strips, once none is left running."""
    tops = list(tops)
    if len(tops) == 1 or STRIP_THREADS == 1:
        for top in tops:
            stop_if_cancelled(is_cancelled)
            yield work(top)
        return
    pool, pending = _pool(), deque()
    try:
        for top in tops:
            stop_if_cancelled(is_cancelled)
            pending.append(pool.submit(work, top))
            if len(pending) > STRIP_THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # cancelled, failed or abandoned: let no strip write into the output afterwards
        for future in pending:
            future.cancel()
        for future in pending:
            if not future.cancelled():
                future.exception()


def _pool() -> ThreadPoolExecutor:
    global _strip_pool
    with _pool_lock:
        if _strip_pool is None:
            _strip_pool = ThreadPoolExecutor(STRIP_THREADS, thread_name_prefix="colorize-strip")
        return _strip_pool


def _rows_between(wide: list[np.ndarray], top: int, bottom: int, sy: float) -> list[np.ndarray]:
    """Rows ``top:bottom`` of the planes ``wide`` upsampled bilinearly along y by 1 / ``sy``:
    output row y samples source row (y + 0.5) * sy - 0.5, clamped to the edges (cv2.resize's
    mapping).

    Upsampled, many output rows fall between the same two source rows: each such run is one
    broadcast multiply-add from that pair's difference, with no gathered copies of rows.
    """
    small_h = wide[0].shape[0]
    source = np.clip((np.arange(top, bottom) + 0.5) * sy - 0.5, 0, small_h - 1)
    upper = source.astype(np.intp)
    weight = (source - upper).astype(np.float32)[:, None]
    starts = np.flatnonzero(np.diff(upper, prepend=-1))
    ends = np.append(starts[1:], len(upper))
    out = []
    for plane in wide:
        rows = np.empty((bottom - top, plane.shape[1]), np.float32)
        for start, end in zip(starts, ends):
            row = upper[start]
            near = plane[row]
            step = plane[min(row + 1, small_h - 1)] - near
            np.multiply(weight[start:end], step, out=rows[start:end])
            rows[start:end] += near
        out.append(rows)
    return out


def srgb_table(channels: int = 3) -> np.ndarray:
    """The shortcut's table: uint32 ``R | G << 8 | B << 16`` at index ``v | (a + 128) << 8 |
    (b + 128) << 16``, for gray level v (8 bits) and whole a, b; gamut-fitted like ``compose``.

    ``channels`` (1 or 3) is the layout whose L the table uses, so the shortcut matches the
    general path exactly: ``lightness`` takes gray from a table and RGB through OpenCV, and the
    two differ by up to 0.15 L.
    """
    with _table_lock:
        if channels not in _tables:
            _tables[channels] = _saved_or_built(channels).reshape(-1, 4).view(np.uint32).reshape(-1)
        return _tables[channels]


def _saved_or_built(channels: int) -> np.ndarray:
    """The table as ``table_cache`` saved it, if its rows for b from 0 equal those computed now
    (other colour maths made it otherwise); else built and saved. [b, a, v, RGB0] uint8."""
    check = 128  # the chunk of b = 0 and just above, where most colours are
    fresh = _table_rows(channels, check)
    table = table_cache.load(channels)
    if table is not None and np.array_equal(table[check : check + TABLE_CHUNK], fresh):
        return table
    table = np.zeros(table_cache.SHAPE, np.uint8)
    for first in range(0, 256, TABLE_CHUNK):
        table[first : first + TABLE_CHUNK] = fresh if first == check else _table_rows(channels, first)
    table_cache.store(channels, table)
    return table


def _table_rows(channels: int, first: int) -> np.ndarray:
    """The table's rows for TABLE_CHUNK values of b from ``first`` - 128: [b, a, v, RGB0].

    A chunk at a time is a block of rows (b, a) by columns v: few calls, so a thread building the
    table beside an import (which holds the GIL) waits for it less often (measured beside torch's
    import: 1.2-1.4 s against 1.6 s one b at a time; 0.5-0.6 s alone).
    """
    levels = np.arange(256, dtype=np.uint8).reshape(1, 256)
    levels = lightness(levels if channels == 1 else np.dstack([levels] * 3))
    l_channel = np.repeat(levels, 256 * TABLE_CHUNK, axis=0)
    ab = np.arange(256, dtype=np.float32) - 128
    a = np.tile(np.repeat(ab[:, None], 256, axis=1), (TABLE_CHUNK, 1))
    b = np.repeat(ab[first : first + TABLE_CHUNK], 256)[:, None].repeat(256, axis=1)
    fit_to_gamut(l_channel, a, b)
    rgb = from_unit_float(lab_to_rgb(cv2.merge([l_channel, a, b])), np.uint8)
    rows = np.zeros((TABLE_CHUNK, 256, 256, 4), np.uint8)
    rows[..., :3] = rgb.reshape(TABLE_CHUNK, 256, 256, 3)
    return rows


def _shortcut_layout(shape: tuple[int, ...], dtype) -> int | None:
    """The table (1: gray, 3: RGB or RGBA) that ``compose`` takes the shortcut with for pixels of
    this shape and dtype; None for 16 bits, or a photo too small to repay a table not yet built."""
    if dtype != np.uint8:
        return None
    layout = 1 if len(shape) == 2 else 3
    return layout if layout in _tables or shape[0] * shape[1] >= TABLE_MIN_PIXELS else None


def warm_table(shape: tuple[int, ...], dtype=np.uint8) -> threading.Thread | None:
    """Start building, on a thread of its own, the table ``compose`` will take the shortcut with
    for pixels of this shape and dtype, so the first big photo need not wait the half second the
    table takes (a command line still importing torch builds it on the other core; the window,
    once the photo is shown). Returns the thread, or None when no table is needed or it is there."""
    layout = _shortcut_layout(shape, dtype)
    if layout is None or layout in _tables:
        return None
    thread = threading.Thread(target=srgb_table, args=(layout,), name="colorize-table", daemon=True)
    thread.start()
    return thread


def _fit_in_table_range(a: np.ndarray, b: np.ndarray) -> None:
    """Shrink (a, b) in place, keeping hue, so both fit in -127..127: only colours far outside
    sRGB are beyond, and fit_to_gamut shrinks them further along the same hue anyway."""
    largest = np.maximum(np.abs(a), np.abs(b))
    limit_chroma(a, b, np.full_like(largest, 127.0), largest)


def _gray_levels(strip: np.ndarray) -> np.ndarray | None:
    """The gray levels of an 8-bit strip that is gray (or RGB(A) with equal R, G and B); else None."""
    if strip.ndim == 2:
        return strip
    red, green, blue = cv2.split(strip)[:3]
    if cv2.countNonZero(cv2.absdiff(red, green)) or cv2.countNonZero(cv2.absdiff(green, blue)):
        return None
    return green


def _ab_levels(planes: list[np.ndarray], width: int, height: int) -> np.ndarray | None:
    """The table's a and b indices (a + 128, b + 128, rounded) at full size, height x width x 2
    uint8: rounded on the small planes, then upsampled bilinearly in 8 bits. None when a or b
    is past +-127 (only a saturation over 1 takes them there) or the photo is over
    LEVELS_MAX_PIXELS: ``_fitted_levels`` per strip then.

    INTER_LINEAR_EXACT is OpenCV's bit-exact fixed-point bilinear (the same on every platform and
    release, unlike warpAffine's coordinates) with cv2.resize's pixel mapping; on a 12 MP photo
    it takes 3 ms where interpolating floats row by row and rounding took 35. Rounding first moves
    a or b by at most one unit from rounding after.
    """
    if width * height > LEVELS_MAX_PIXELS or max(float(np.abs(p).max(initial=0)) for p in planes) > 127:
        return None
    small = cv2.merge([cv2.convertScaleAbs(p, beta=128) for p in planes])
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR_EXACT)


def _fitted_levels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``_ab_levels`` of full-size a and b rows, shrunk into the table's range first (in place)."""
    _fit_in_table_range(a, b)
    return cv2.merge([cv2.convertScaleAbs(a, beta=128), cv2.convertScaleAbs(b, beta=128)])


def _look_up(table: np.ndarray, gray: np.ndarray, ab_levels: np.ndarray, dst: np.ndarray) -> None:
    """Write the table's colours for (gray, ``_ab_levels``) into ``dst`` (rows of the output, RGB
    or RGBA)."""
    index, packed = _scratch(gray.size)
    # gray, a + 128, b + 128 and five zero bytes: one int64 index per pixel, which np.take uses
    # as it is (a uint32 index was first copied to int64, 16 MB a strip).
    index = index[: gray.size * 8].reshape(*gray.shape, 8)
    cv2.mixChannels([gray, ab_levels], [index], [0, 0, 1, 1, 2, 2])
    packed = packed[: gray.size].reshape(gray.shape)
    np.take(table, index.view(np.int64).reshape(gray.shape), out=packed, mode="clip")
    rgb0 = packed.view(np.uint8).reshape(*gray.shape, 4)
    if dst.shape[2] == 3:
        cv2.cvtColor(rgb0, cv2.COLOR_RGBA2RGB, dst=dst)  # OpenCV drops the 4th byte fast; numpy does not
    else:
        dst[...] = rgb0  # the caller puts the alpha in


def _scratch(pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """This thread's index and colour buffers for a strip of ``pixels``, kept between strips and
    photos: fresh memory is zeroed by the kernel as it is first touched (2 MB at a time with
    transparent huge pages); in the window, whose batch thread gives its freed memory back to the
    system, that zeroing was a fifth of the batch's CPU, and these temporaries a part of it. About
    24 MB a strip thread (strips are about 2 MP)."""
    held = getattr(_scratch_buffers, "held", None)
    if held is None or held[1].size < pixels:
        held = (np.zeros(pixels * 8, np.uint8), np.empty(pixels, np.uint32))
        _scratch_buffers.held = held
    return held
