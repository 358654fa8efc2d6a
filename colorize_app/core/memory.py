"""Keep freed memory in the process while photos are coloured, and give it back when idle.

Each photo of a batch allocates and frees the same big arrays (a 12 MP photo: its pixels, its
lightness, the upsampled colour planes, tens of MB each). By default glibc's malloc hands such
blocks back to the kernel as soon as they are freed, above all on threads other than the main
one (their heaps are at most 64 MB and are trimmed when empty), and the kernel must then zero
fresh pages for the next photo: on the window's batch thread that was 17 % of its CPU in
``clear_page_erms`` (perf), against 5 % for the command line's main thread. With one arena,
blocks up to 256 MB taken from the heap and up to 1 GB of free heap kept, the next photo reuses
the last one's pages (set from the process's start: 43 page faults in the window's 10-photo batch
instead of 9,000-20,000).

``release_freed_memory()`` returns what is free to the system (``malloc_trim``) once the work
is done, so an idle window does not keep its batch's peak. Both do nothing where the C library
is not glibc (macOS, Windows, musl), which manage their memory their own way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from functools import cache

logger = logging.getLogger(__name__)

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 256 << 20  # blocks this big and bigger still get their own mapping
TRIM_THRESHOLD = 1 << 30  # free memory at the heap's top kept for reuse, up to this much


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    except (OSError, AttributeError):  # musl and others have no gnu_get_libc_version
        return None
    return libc


@cache
def keep_freed_memory() -> bool:
    """Make freed big blocks reusable by the next photo; True where it applies (glibc).

    Call it once, early, before the threads that colour photos start (the one-arena limit does
    not reach a thread that already has an arena of its own); later calls do nothing.
    """
    libc = _glibc()
    if libc is None:
        return False
    applied = all(libc.mallopt(param, value) == 1 for param, value in (
        (M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
    if not applied:
        logger.info("glibc refused a malloc setting; freed memory is handled as by default")
    return applied


def release_freed_memory() -> None:
    """Give free memory back to the system (after a batch, when nothing is being coloured)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
