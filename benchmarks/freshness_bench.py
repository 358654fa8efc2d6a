"""What asking "has the original changed?" costs the planner, per result: the record compared
alone (as before the original was compared), with the original's size and time (an archive
copied with its times), and with its bytes hashed (copied without them). Prints figures; asserts
nothing.

    .venv/bin/python benchmarks/freshness_bench.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from colorize_app.core.freshness import compare
from colorize_app.core.job import Job, JobOptions, run_job, skip_reason, wanted_recipe
from colorize_app.core.provenance import read_provenance

RESULTS = 8  # of each kind


def warm(pixels, options, hints):
    """A stand-in network: the planner's cost does not depend on the colour."""
    h, w = (max(1, round(side * options.render_size / max(pixels.shape[:2]))) for side in pixels.shape[:2])
    return np.dstack([np.full((h, w), 12.0, np.float32), np.full((h, w), 30.0, np.float32)])


def per_result(function, jobs, rounds: int = 3) -> float:
    """The best of ``rounds`` passes over ``jobs``, in ms a result."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for job in jobs:
            function(job)
        best = min(best, (time.perf_counter() - started) / len(jobs))
    return best * 1e3


def recipe_only(job: Job):
    return compare(*read_provenance(job.output), wanted_recipe(job))


def main() -> None:
    rng = np.random.default_rng(0)
    scan = (rng.random((3000, 4000)) * 40 + np.linspace(0, 200, 4000)).astype(np.uint8)
    options = JobOptions(render_size=64, model_sha256="ab" * 32)
    with tempfile.TemporaryDirectory() as folder:
        for kind, suffix, save in (("12 MP JPEG q90", ".jpg", {"quality": 90}),
                                   ("12 MP TIFF, uncompressed", ".tif", {})):  # fmt: skip
            jobs = []
            for index in range(RESULTS):
                source = Path(folder) / f"scan{index}{suffix}"
                Image.fromarray(scan).save(source, **save)
                jobs.append(Job(source, source.with_name(f"scan{index}_colorized{suffix}"), options))
                run_job(jobs[-1], warm)
            megabytes = jobs[0].source.stat().st_size / 1e6
            print(f"{kind} ({megabytes:.1f} MB), ms per result:")
            print(f"  the record alone             {per_result(recipe_only, jobs):6.2f}")
            print(f"  and the original, times kept {per_result(skip_reason, jobs):6.2f}")
            for job in jobs:  # copied without its times: the same bytes, another time
                info = job.source.stat()
                os.utime(job.source, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
            print(f"  and the original, hashed     {per_result(skip_reason, jobs):6.2f}")


if __name__ == "__main__":
    main()
