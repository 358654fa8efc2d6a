"""Reading the small files Colorize is handed (hints files, a weights file's header) so that no file
can make it wait or fill its memory.

A path may name anything: a named pipe, a device, a procfs file that passes ``is_file()`` yet says
0 bytes and blocks (``/proc/kmsg``) or never ends. So a file is opened without blocking, judged by
what was opened (not by the name, which may change meanwhile), and read only up to a limit.
"""

from __future__ import annotations

import errno
import os
import stat

_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_CLOEXEC", 0))  # fmt: skip
CHUNK = 1 << 16


class UnreadableFile(OSError):
    """The file cannot be used as it is; ``strerror`` says why in words a person reads."""


def open_regular(path: str | os.PathLike) -> int:
    """A descriptor of the regular file at ``path``, opened without waiting (a named pipe or a
    device is refused, not opened for good). Raises OSError; UnreadableFile for what is not a
    regular file."""
    fd = os.open(path, _FLAGS)
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            what = "a folder" if stat.S_ISDIR(kind) else "not a regular file"
            raise UnreadableFile(errno.EINVAL, f"it is {what}", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, which must hold at most ``limit`` of them.

    Never blocks, and reads no more than the file's size says: a file of 0 bytes by its size is
    not read at all (procfs files say 0 and may block, like a kernel log, or never end), and one
    that gives more than its size is refused. Raises OSError: UnreadableFile with a reason for
    these, the system's error otherwise.
    """
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise UnreadableFile(errno.EFBIG, "it is too large", str(path))
        chunks, got = [], 0
        while size and got <= size:
            try:
                chunk = os.read(fd, min(CHUNK, size + 1 - got))
            except BlockingIOError:
                raise UnreadableFile(errno.EAGAIN, "it would make Colorize wait (not a plain file)",
                                     str(path)) from None  # fmt: skip
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > size:
            raise UnreadableFile(errno.EFBIG, "it grew while it was read", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)
