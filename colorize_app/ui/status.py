"""The states a photo in the batch list goes through."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    WAITING = "waiting"  # in the list, not colorized (or stopped before its turn)
    WORKING = "working"  # the worker is on it now
    DONE = "done"  # colorized; the result is only in memory
    SAVED = "saved"  # the result is on disk next to the original (or was already there)
    FAILED = "failed"  # could not be read, colorized or written; the reason says why

    @property
    def has_result(self) -> bool:
        return self in (Status.DONE, Status.SAVED)
