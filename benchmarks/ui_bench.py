"""Does the window stay responsive? Prints figures; asserts nothing.

    .venv/bin/python benchmarks/ui_bench.py [--photos 10] [--megapixels 12] [--launches 5]
                                            [--compare-cli]

1. Launch to window shown: `colorize-app` is started in a fresh child process (interpreter start
   included) and reports the moment its main window first paints. Target: under 1.5 s. Then
   launch to model ready: the moment the worker says the model is loaded (the app starts loading
   it once the window has painted). Target: under 1.5 s after the window is shown.
2. Event-loop stalls while colorizing: the real window colorizes a folder of 12-megapixel gray
   JPEGs (auto-save on, the first photo selected so its result is shown when it lands) while a 5 ms
   QTimer records the gaps between its ticks. A gap of 50 ms or more is a stall a person can feel.
   Target: longest gap under 50 ms.
3. With --compare-cli: the command line (`colorize_app.cli.main`, in this process, after the window
   has closed) colorizes the same folder with the same settings into another folder; both rates
   (photos per second, window from Colorize All to the last result, command line for the whole
   command) and their ratio are printed. Target: the window within 10 % of the command line.
   --rounds N repeats window-then-command-line N times and prints the median ratio; the stall
   figures are those of the first round. Both sides first colorize the folder once untimed: the
   command line runs in this process after the window, in memory the window's batch already made
   the process's, so without that warm-up the window's first round alone paid the kernel for
   fresh pages (system time 1.7 s against 0.3-0.6 s in later rounds, measured); --no-warm-up
   times the cold first round as before.

Uses the shipped model if installed, else the default model configuration with random weights
(speed does not depend on the weights' values). Runs under whatever QT_QPA_PLATFORM says
("offscreen" when there is no display); use xvfb-run for a figure that includes an X server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

TRAIN = Path(os.environ.get("COLORIZE_TRAIN_DIR", "/work/shared/data/train"))
TICK_MS = 5
STALL_MS = 50

# Run in the child: time the first paint of the main window, then quit.
LAUNCH_CHILD = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

def ready(*_):
    print("READY", time.time(), flush=True)
    QTimer.singleShot(0, QApplication.instance().quit)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and type(obj).__name__ == "MainWindow":
            print("SHOWN", time.time(), "torch" in sys.modules, flush=True)
            QApplication.instance().removeEventFilter(self)
            obj.host.colorizer.model_loaded.connect(ready)
            obj.host.colorizer.model_failed.connect(ready)
            QTimer.singleShot(60_000, QApplication.instance().quit)
        return False

real_exec = QApplication.exec
def exec_with_probe():
    app = QApplication.instance()
    probe = FirstPaint(app)
    app.installEventFilter(probe)
    return real_exec()
QApplication.exec = staticmethod(exec_with_probe)

from colorize_app.app import main
sys.exit(main(sys.argv[1:]))
"""


def launch_times(count: int, settings: Path) -> list[tuple[float, bool, float]]:
    """Per launch: seconds to the window shown, whether torch was imported by then, and seconds
    to the model ready."""
    times = []
    for _ in range(count):
        started = time.time()
        child = subprocess.run([sys.executable, "-c", LAUNCH_CHILD, "--settings", str(settings)],
                               capture_output=True, text=True, timeout=300)
        lines = {ln.split()[0]: ln.split()[1:] for ln in child.stdout.splitlines() if ln[:5] in ("SHOWN", "READY")}
        if "SHOWN" not in lines or "READY" not in lines:
            sys.exit(f"the app did not show its window or load its model:\n{child.stdout}\n{child.stderr}")
        shown, torch_loaded = lines["SHOWN"]
        times.append((float(shown) - started, torch_loaded == "True", float(lines["READY"][0]) - started))
    return times


def make_photos(folder: Path, count: int, megapixels: float = 12.0) -> list[Path]:
    """Gray 4:3 JPEGs made from real photos, with a little grain so they compress like scans."""
    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    size = (width, round(width * 3 / 4))
    sources = sorted(TRAIN.glob("*.jpg"))[:: max(1, len(list(TRAIN.glob("*.jpg"))) // count)]
    if not sources:
        sys.exit(f"No photos in {TRAIN}; set COLORIZE_TRAIN_DIR.")
    photos = []
    rng = np.random.default_rng(0)
    for i in range(count):
        small = cv2.imread(str(sources[i % len(sources)]), cv2.IMREAD_GRAYSCALE)
        big = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        big += rng.standard_normal(big.shape, dtype=np.float32) * 5
        path = folder / f"scan {i + 1:02}.jpg"
        cv2.imwrite(str(path), np.clip(big, 0, 255).astype(np.uint8),
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
        photos.append(path)
    return photos


def model_weights(folder: Path) -> tuple[Path | None, str]:
    from colorize_app.core.weights import default_weights_path

    if default_weights_path().is_file():
        return None, "shipped weights"
    import torch

    from colorize_app.core.model import ColorizerNet, ModelConfig
    from colorize_app.core.weights import save_weights

    torch.manual_seed(0)
    path = save_weights(folder / "random.safetensors", ColorizerNet(ModelConfig()),
                        metadata={"name": "random (benchmark)"})
    return path, "random ModelConfig() defaults"


class GapMeter:
    """Ticks every TICK_MS and records the time between ticks: the event loop's latency."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now


def quit_when_idle(loop, busy: bool) -> None:
    if not busy:
        loop.quit()


def stall_run(photos: list[Path], weights: Path | None, settings_path: Path) -> dict:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from colorize_app.ui.main_window import MainWindow
    from colorize_app.ui.settings import AppSettings
    from colorize_app.workers.host import WorkerHost

    app = QApplication.instance() or QApplication([])
    settings = AppSettings(settings_path)
    settings.auto_save = True
    window = MainWindow(settings, WorkerHost(weights=weights))
    window.resize(1400, 900)
    window.show()
    window.open_paths(photos)
    window.warm_up()
    while window.opener.is_looking():  # the photos are planned off the window's thread
        app.processEvents()
        time.sleep(0.01)
    loaded = []
    window.host.colorizer.model_loaded.connect(loaded.append)
    while not loaded:  # load torch and the model first: a warm start, as after the first photo
        app.processEvents()
        time.sleep(0.01)
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    meter = GapMeter()
    loop = QEventLoop()
    window.batch.busy_changed.connect(partial(quit_when_idle, loop))
    meter.start()
    started = time.perf_counter()
    window.commands.colorize_all.trigger()
    loop.exec()  # a real event loop, as in the application
    elapsed = time.perf_counter() - started
    meter.timer.stop()
    states = [entry.status.value for entry in window.model.entries()]
    window.close()
    gaps = sorted(meter.gaps)
    return {"elapsed": elapsed, "states": states, "gaps": gaps}


def cli_run(folder: Path, count: int, weights: Path | None, out: Path) -> float:
    """Seconds the command line takes for ``folder`` with the window's default settings."""
    import contextlib
    import io

    from colorize_app.cli import main as cli_main

    argv = [str(folder), "--output-dir", str(out)]
    if weights is not None:
        argv += ["--weights", str(weights)]
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = cli_main(argv)
    elapsed = time.perf_counter() - started
    if status != 0 or len(list(out.glob("*_colorized.jpg"))) != count:
        sys.exit(f"the command line did not colorize every photo (exit status {status})")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--megapixels", type=float, default=12.0, help="size of each photo")
    parser.add_argument("--launches", type=int, default=5, help="0 skips the launch figure")
    parser.add_argument("--compare-cli", action="store_true",
                        help="also colorize the folder with the command line and compare rates")
    parser.add_argument("--rounds", type=int, default=1,
                        help="window then command line, this many times (a shared machine is noisy)")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="with --compare-cli: no untimed batch of each before the timed ones")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="colorize-ui-bench-") as tmp:
        tmp = Path(tmp)
        print(f"platform: {os.environ.get('QT_QPA_PLATFORM') or 'native'}, "
              f"{os.cpu_count()} CPU cores")
        if args.launches > 0:
            launches = launch_times(args.launches, tmp / "launch.ini")
            seconds = [t for t, _, _ in launches]
            print(f"launch to window shown: median {statistics.median(seconds):.2f} s, "
                  f"best {min(seconds):.2f} s, worst {max(seconds):.2f} s over {len(seconds)} "
                  f"launches (target < 1.5 s); torch imported before showing: "
                  f"{any(t for _, t, _ in launches)}")
            after = [ready - shown for shown, _, ready in launches]
            print(f"window shown to model ready: median {statistics.median(after):.2f} s, best "
                  f"{min(after):.2f} s, worst {max(after):.2f} s (target < 1.5 s); launch to model "
                  f"ready: median {statistics.median([r for _, _, r in launches]):.2f} s")

        folder = tmp / "album"
        folder.mkdir()
        photos = make_photos(folder, args.photos, args.megapixels)
        weights, label = model_weights(tmp)
        rates = []
        if args.compare_cli and args.warm_up:  # untimed: both sides start with warm memory
            stall_run(photos, weights, tmp / "warm.ini")
            cli_run(folder, len(photos), weights, tmp / "cli-warm")
        for round_ in range(args.rounds):
            for old in folder.glob("*_colorized.jpg"):  # the window resumes: start it afresh
                old.unlink()
            run = stall_run(photos, weights, tmp / f"stall{round_}.ini")
            if round_ == 0:
                report_window(run, len(photos), args.megapixels, label)
            if args.compare_cli:
                window_rate = len(photos) / run["elapsed"]
                cli_seconds = cli_run(folder, len(photos), weights, tmp / f"cli-out{round_}")
                cli_rate = len(photos) / cli_seconds
                rates.append(window_rate / cli_rate)
                print(f"window: {window_rate:.2f} photos/s ({run['elapsed']:.2f} s); command "
                      f"line: {cli_rate:.2f} photos/s ({cli_seconds:.2f} s, model load "
                      f"included); window / command line = {window_rate / cli_rate:.2f} "
                      f"(target >= 0.90)")
        if len(rates) > 1:
            print(f"window / command line over {len(rates)} rounds: median "
                  f"{statistics.median(rates):.2f}, range {min(rates):.2f} to {max(rates):.2f}")


def report_window(run: dict, count: int, megapixels: float, label: str) -> None:
    gaps = run["gaps"]
    stalls = sum(g >= STALL_MS for g in gaps)
    print(f"colorized {count} photos of {megapixels:g} MP ({label}) in {run['elapsed']:.1f} s "
          f"({run['elapsed'] / count:.2f} s each); states: "
          f"{', '.join(sorted(set(run['states'])))}")
    print(f"event loop during the batch: longest gap {gaps[-1]:.1f} ms (target < {STALL_MS}), "
          f"99th percentile {gaps[int(0.99 * (len(gaps) - 1))]:.1f} ms, median "
          f"{statistics.median(gaps):.1f} ms, gaps >= {STALL_MS} ms: {stalls} of {len(gaps)}")
    print("ten longest gaps (ms): " + ", ".join(f"{g:.0f}" for g in gaps[-10:]))


if __name__ == "__main__":
    main()
