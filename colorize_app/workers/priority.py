"""Worker threads yield the CPU to the window's thread."""

from __future__ import annotations

import logging
import os
import sys
import threading

logger = logging.getLogger(__name__)


def lower_thread_priority() -> None:
    """Call in a worker thread: the window's thread then wins the CPU when both want it."""
    # On Linux a thread has its own nice value, and the threads it starts later (torch's and
    # OpenCV's pools) inherit it. Elsewhere QThread.LowPriority, set at start, does the job.
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (OSError, AttributeError):
            logger.debug("Could not lower the worker thread's priority", exc_info=True)
