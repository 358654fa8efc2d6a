"""What C libraries print on the terminal (libpng, libjpeg and libtiff inside OpenCV write their
warnings straight to file descriptor 2), turned into log lines for the command line.

Those warnings are about files the engine already judges and reports in a sentence; printed raw
they tear through the progress bar. While ``native_messages_to_log()`` is active, descriptor 2 is
a pipe read by a thread: known library chatter becomes INFO log lines (shown with --verbose), any
other line goes on to the real stderr, and Python's own stderr writes go there directly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading

from colorize_app.core.names import printable

logger = logging.getLogger("colorize.native")

NOISE = re.compile(
    r"^(libpng (warning|error)|Corrupt JPEG data|Premature end of JPEG|Invalid SOS|Unsupported "
    r"marker|Bogus |JPEG |Warning: |TIFF\w*: |[^:\s]+\.tiff?: )"
)


@contextlib.contextmanager
def native_messages_to_log():
    """Within the block, route C libraries' lines on descriptor 2 to the log (see the module)."""
    stream = sys.stderr
    if stream is not sys.__stderr__ or stream is None:
        yield  # stderr is captured or replaced (tests, a GUI): leave descriptors alone
        return
    try:
        stream.flush()
        saved = os.dup(2)
        read_end, write_end = os.pipe()
    except (OSError, ValueError, AttributeError):
        yield
        return
    real = open(saved, "w", buffering=1, encoding=stream.encoding,  # noqa: SIM115 (closed below)
                errors="backslashreplace", closefd=False)  # fmt: skip
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = real
    pump = threading.Thread(target=_pump, args=(read_end, real), name="colorize-native", daemon=True)
    pump.start()
    try:
        yield
    finally:
        real.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump reads to the end, then stops
        pump.join(5)
        sys.stderr = stream
        real.close()
        os.close(saved)


def _pump(read_end: int, real) -> None:
    with open(read_end, "rb") as pipe:
        for raw in pipe:
            line = raw.decode("utf-8", "backslashreplace").rstrip("\n")
            if NOISE.match(line):
                logger.info("%s", line)
            elif line:
                real.write(printable(line) + "\n")  # a library may print a file name
