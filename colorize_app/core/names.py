"""File names made safe to print: a name may hold any byte but "/" and NUL, control characters
included, and a terminal obeys those (``ESC ] 0 ;`` sets its title, ``ESC [ 2 J`` clears the screen,
a newline starts a fake line of the summary). Everything Colorize prints or logs goes through
``printable``, which shows such characters as escapes instead.
"""

from __future__ import annotations

import logging
import unicodedata

# Unicode's bidirectional controls reorder what follows them on screen ("gpj.exe" shown as
# "exe.jpg"); they are format characters (Cf), not controls, so they are named here.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` with control characters (newlines too), bidirectional controls and the bytes of
    undecodable file names (os.fsdecode's surrogates) written as \\xNN or \\uNNNN escapes."""
    if text.isprintable():
        return text  # the common case, and quick
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class PrintableFormatter(logging.Formatter):
    """A log formatter whose lines cannot carry terminal controls: the message is made
    ``printable`` (the traceback, which we write ourselves, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return printable(super().formatMessage(record))
