"""Does the window answer while it opens a huge folder tree? Prints figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/open_bench.py [--folders 20000]
                                                                       [--photos 2000] [PATH]

The real window opens PATH (default: a tree made in a temporary folder, --folders empty
sub-folders with --photos tiny JPEGs among them) with sub-folders on, while a 5 ms QTimer records
the gaps between its ticks (ui_bench's GapMeter). Printed: how long open_paths held the window,
the longest gap until the photos were listed (a gap of 50 ms or more is a stall a person can
feel), how long the walk took, and, for comparison, how long planning the same paths on the
window's thread takes (core.finder.find, what the window did before the opening lane).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_bench import GapMeter  # noqa: E402


def make_tree(root: Path, folders: int, photos: int) -> Path:
    from PIL import Image

    top = root / "tree"
    every = max(1, folders // max(1, photos))
    for i in range(folders):
        folder = top / f"{i // 100}" / f"{i}"
        folder.mkdir(parents=True)
        if i % every == 0 and i // every < photos:
            Image.new("L", (32, 24), i % 255).save(folder / f"p{i}.jpg")
    return top


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="a folder to open (default: a made tree)")
    parser.add_argument("--folders", type=int, default=20_000)
    parser.add_argument("--photos", type=int, default=2_000)
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from colorize_app.core.batch import Walk
    from colorize_app.core.finder import find
    from colorize_app.ui.main_window import MainWindow
    from colorize_app.ui.settings import AppSettings
    from colorize_app.workers.host import WorkerHost

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="colorize-open-") as tmp:
        path = Path(args.path) if args.path else make_tree(Path(tmp), args.folders, args.photos)
        settings = AppSettings(Path(tmp) / "settings.ini")
        settings.recursive = True
        window = MainWindow(settings, WorkerHost())
        window.show()
        for _ in range(20):
            app.processEvents()
        meter = GapMeter()
        meter.start()
        started = time.perf_counter()
        window.open_paths([path])
        held = time.perf_counter() - started
        while window.opener.is_looking():
            app.processEvents()
            time.sleep(0.001)
        walked = time.perf_counter() - started
        meter.timer.stop()
        rows = window.model.rowCount()
        window.close()
        started = time.perf_counter()
        walk = Walk()
        find([path], walk, recursive=True, **window.export_settings())
        on_thread = time.perf_counter() - started
    print(f"opened {path}: {walk.folders:,} folders, {rows:,} photos and films listed "
          f"(load average {os.getloadavg()[0]:.1f})")
    print(f"open_paths held the window   {held * 1000:8.1f} ms")
    print(f"longest event-loop gap       {max(meter.gaps, default=0):8.1f} ms "
          f"over {len(meter.gaps)} ticks")
    print(f"until the photos were listed {walked:8.2f} s")
    print(f"planning on the window's thread (before) {on_thread:8.2f} s, the window frozen")


if __name__ == "__main__":
    main()
