"""What the provenance record costs a result: Exiv2 writing the XMP, and the SHA-256 of the
original. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/provenance_bench.py
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time

import cv2
import numpy as np

from colorize_app.core import provenance


def timed(function, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur((rng.random((3000, 4000, 3)) * 255).astype(np.uint8), (0, 0), 3)
    files = {
        "12 MP JPEG q95": cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes(),
        "12 MP PNG": cv2.imencode(".png", photo)[1].tobytes(),
        "12 MP 16-bit TIFF": cv2.imencode(".tiff", photo.astype(np.uint16) * 257)[1].tobytes(),
    }
    record = provenance.Provenance(provenance.recipe_for(256, 1.0, (), "ab" * 32), "model", 0,
                                   "photo.jpg", "cd" * 32)  # fmt: skip
    for name, data in files.items():
        provenance.embed(data, record)  # the first call loads Exiv2
        embed = timed(lambda data=data: provenance.embed(data, record))
        digest = timed(lambda data=data: hashlib.sha256(data).hexdigest())
        print(f"{name:18s} {len(data) / 1e6:5.1f} MB: XMP written in {embed * 1e3:6.1f} ms, "
              f"the original's SHA-256 (same size) in {digest * 1e3:5.1f} ms")
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
