"""How long from a hint click to the updated preview? Prints figures; asserts nothing.

    .venv/bin/python benchmarks/hint_bench.py [--clicks 6] [--megapixels 1 12]

The real window (offscreen unless QT_QPA_PLATFORM says otherwise) on a hint network of the
default size with random weights (speed does not depend on the weights' values), for a gray JPEG
of each size: the photo is colorized, hint mode is switched on, and points are placed one after
another through the hint controller (what a click does once its colour is chosen). For each
click it times
  - quick:  the click to the first updated preview on screen (the network re-run on the
            render-size copy, then a re-compose of the screen-sized copy),
  - full:   the click to the full-resolution preview (after the 250 ms the preview waits for
            clicks to rest, as for the saturation slider).
The first click also decodes the photo once for the hint preview; it is reported apart.
Target: quick under 300 ms at 12 MP on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def make_photo(folder: Path, megapixels: float) -> Path:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    gray = 128 + 60 * np.sin(x / 37.0) * np.cos(y / 53.0) + np.random.default_rng(0).normal(0, 8, (height, width))
    path = folder / f"photo-{megapixels:g}mp.jpg"
    Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L").save(path, quality=90)
    return path


def measure(window, photo: Path, clicks: int, wait_for) -> tuple[list[float], list[float]]:
    """Seconds from each placed hint to the first updated preview, and to the full-size one."""
    window.commands.auto_save.setChecked(False)
    window.show()
    window.warm_up()
    wait_for(lambda: window.model_info is not None)  # set as the window hears model_loaded
    window.open_paths([photo])
    wait_for(lambda: not window.opener.is_looking())  # planned off the window's thread
    window.commands.colorize_all.trigger()
    view = window.preview.side_by_side.result_view
    wait_for(lambda: not window.batch.is_busy() and view.has_image())
    shown: list[tuple[float, int]] = []  # (time, width of what was shown)
    original_set_result = window.preview.set_result

    def set_result(levels):
        original_set_result(levels)
        if levels:
            shown.append((time.perf_counter(), levels[0].width()))

    window.preview.set_result = set_result
    window.hints.hint_mode.setChecked(True)
    full_width = view.image_size()[0]
    quick, full = [], []
    for click in range(clicks):
        shown.clear()
        started = time.perf_counter()
        window.hints.place(0.1 + 0.8 * click / max(1, clicks - 1), 0.5, "#b03a2e")
        wait_for(lambda: any(w >= full_width for _, w in shown))
        quick.append(shown[0][0] - started)
        full.append(next(t for t, w in shown if w >= full_width) - started)
    return quick, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=6)
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1, 12])
    args = parser.parse_args()

    import torch
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights
    from colorize_app.ui import guards
    from colorize_app.ui.main_window import MainWindow
    from colorize_app.ui.settings import AppSettings
    from colorize_app.workers.host import WorkerHost

    _app = QApplication.instance() or QApplication(sys.argv)  # noqa: F841 (kept alive)
    # Closing a window whose hinted result is not saved asks first; offscreen no one answers, and
    # the benchmark's photo is a throwaway: quit without saving, as a person would here.
    guards.ask_quit_with_unsaved_hints = lambda parent, names: guards.DISCARD
    folder = Path(tempfile.mkdtemp(prefix="hint-bench-"))
    torch.manual_seed(0)
    weights = save_weights(folder / "hint.safetensors", ColorizerNet(ModelConfig(in_channels=4)).eval(),
                           metadata={"note": "random weights for the hint benchmark"})

    def wait_for(condition, timeout=180.0) -> None:
        # A real event loop, as in the application, that a 1 ms timer ends once `condition` holds.
        if condition():
            return
        loop, timer = QEventLoop(), QTimer()
        deadline = time.perf_counter() + timeout

        def check() -> None:
            if condition() or time.perf_counter() > deadline:
                loop.quit()

        timer.timeout.connect(check)
        timer.start(1)
        loop.exec()
        timer.stop()
        if not condition():
            raise TimeoutError("the window did not answer in time")

    print(f"hint click -> preview, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'photo':>8} {'first quick':>12} {'quick median':>13} {'quick max':>10} {'full median':>12}")
    for megapixels in args.megapixels:
        photo = make_photo(folder, megapixels)
        window = MainWindow(AppSettings(folder / "settings.ini"), WorkerHost(weights=weights))
        try:
            quick, full = measure(window, photo, args.clicks, wait_for)
        finally:
            window.close()
            window.host.shut_down()
            window.deleteLater()
        print(f"{megapixels:>6g}MP {quick[0] * 1000:>10.0f}ms {statistics.median(quick[1:]) * 1000:>11.0f}ms "
              f"{max(quick[1:]) * 1000:>8.0f}ms {statistics.median(full[1:]) * 1000:>10.0f}ms")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
