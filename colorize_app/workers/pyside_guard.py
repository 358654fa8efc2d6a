"""A guard against a reference-count bug of PySide6 6.12.0 on CPython before 3.12.

``SignalInstance.emit()`` returns True without a reference of its own, so every signal emitted
takes one reference away from True, and the interpreter aborts ("bool_dealloc: deallocating
True or False") once none are left: in the window after about 2,400 signals, which opening a
folder of 300 photos (a thumbnail and a hints file each) used up. CPython 3.12 made True and
False immortal; where the leak is seen they are put on the same footing, once, at start.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

logger = logging.getLogger(__name__)

HEADROOM = 1 << 40  # references: a signal a nanosecond for 12 days
_PROBES = 8


class _Probe(QObject):
    fired = Signal()


def guard_bools() -> bool:
    """Make True and False immortal when ``emit()`` leaks their references; True if it did."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    leaks = sys.getrefcount(True) < before
    if leaks and sys.implementation.name == "cpython":
        for constant in (True, False):  # ob_refcnt is the first field of every object
            ctypes.c_ssize_t.from_address(id(constant)).value += HEADROOM
        logger.debug("PySide6's emit() leaks references to True: True and False made immortal")
    return leaks
