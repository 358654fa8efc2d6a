"""Which photos Ray workers died on: a worker killed mid-photo (the system's out-of-memory
killer, a crash inside a decoder on a damaged file) raises no exception a job could catch, and
Ray Data would retry its batch for ever. Each worker tells an ``Attempts`` actor before it starts
a photo and after it finishes one, so the driver can name the photo that keeps killing workers,
record it as failed, and go on with the rest.

The actor holds only the photos of batches still in flight: the driver tells it, a few thousand
keys at a time, to forget those whose rows it has recorded (an archive of millions would
otherwise keep every key and row of the run in the actor, and fetch them all on a failure).
"""

from __future__ import annotations

from collections import Counter

import ray

TRIES = 2  # a photo that a worker died on this many times is failed, not tried again


@ray.remote(num_cpus=0)
class Attempts:
    """Photos (manifest keys) started by the run's workers, and the result rows of those
    finished, until the driver has recorded them: a batch a worker died in never comes back,
    the photos it had finished do."""

    def __init__(self) -> None:
        self._started: Counter[str] = Counter()
        self._finished: dict[str, dict] = {}

    def start(self, key: str) -> None:
        self._started[key] += 1

    def finish(self, key: str, row: dict) -> None:
        # the first: a retried batch finds the photos it made the first time "already colorized"
        self._finished.setdefault(key, row)

    def forget(self, keys: list[str]) -> None:
        """The driver has recorded these photos' rows: nothing more to keep of them."""
        for key in keys:
            self._started.pop(key, None)
            self._finished.pop(key, None)

    def held(self) -> int:
        """How many photos this actor keeps something of (what ``forget`` bounds)."""
        return len(self._started.keys() | self._finished.keys())

    def finished(self) -> dict[str, dict]:
        return self._finished

    def unfinished(self) -> dict[str, int]:
        """Photos started and never finished, with how often they were started: a worker died
        on each (or on the one beside it in its batch). Ray retries a dead worker's batch, but
        an actor still restarting can end the run after one try."""
        return {key: count for key, count in self._started.items() if key not in self._finished}
