"""`colorize-app`: the desktop window.

The window is shown before torch is imported (the worker thread loads the model afterwards), so
nothing at module level here or in `ui/` may import torch. `--self-test` checks an installation
(or a packaged bundle) without a screen.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from pathlib import Path

from colorize_app import APP_ID, APP_NAME, __version__
from colorize_app.core.names import PrintableFormatter

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="colorize-app", description=(
        "Colorize black-and-white photos in a window. Photos and folders given here are opened."))
    parser.add_argument("paths", nargs="*", help="photos or folders to open")
    parser.add_argument("--weights", type=Path, help="a .safetensors model instead of the shipped one")
    parser.add_argument("--self-test", action="store_true",
                        help="colorize the sample photo without a window and check it; exit 0 passed, 1 failed, 2 no model")
    parser.add_argument("--settings", type=Path, help=argparse.SUPPRESS)  # tests, benchmarks
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    # Qt's own options (-platform, -style, ...) pass through to QApplication.
    return parser.parse_known_args(argv)


def setup_logging(log_dir: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(
                log_dir / "colorize.log", maxBytes=1_000_000, backupCount=2, encoding="utf-8"))
        except OSError:
            pass  # a read-only home must not stop the window
    # File names in messages may carry terminal controls: the log shows them as escapes.
    formatter = PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=handlers)


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        from colorize_app.selftest import run_self_test

        logging.basicConfig(level=logging.WARNING)
        return run_self_test(args.weights)
    if sys.platform == "win32":
        import torch  # noqa: F401  # torch's DLLs must load before Qt's on Windows (a known clash)
    from colorize_app.core.memory import keep_freed_memory

    keep_freed_memory()  # first, before any thread allocates (core.memory; the host asks again)
    from PySide6.QtCore import QEvent, QStandardPaths, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)  # ties windows to the .desktop file and its icon
    app = QApplication([sys.argv[0], *qt_args])
    log_dir = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    setup_logging(Path(log_dir) if log_dir else None)

    from colorize_app.ui.single_instance import InstanceServer, send_to_running, session_name

    if args.settings is None and send_to_running(args.paths):
        # the running window opens them (tests and benchmarks pass --settings); say where
        what = f"{len(args.paths)} photo(s) or folder(s) went" if args.paths else "it was brought forward"
        print(f"{APP_NAME} is already open on {session_name()}: {what} to that window.",
              file=sys.stderr)  # fmt: skip
        return 0

    from colorize_app.ui.main_window import MainWindow
    from colorize_app.ui.resources import app_icon
    from colorize_app.ui.settings import AppSettings
    from colorize_app.workers.host import WorkerHost

    app.setWindowIcon(app_icon())
    host = WorkerHost(weights=args.weights)
    window = MainWindow(AppSettings(args.settings), host)
    window.show()
    if args.paths:
        window.open_paths(args.paths)
    instance = InstanceServer(window.open_paths_from_another_start) if args.settings is None else None
    # Load the model once the window is on screen (not before: importing torch in the worker
    # thread competes for the CPU with the first paint), so the status bar names it early.
    window.first_painted.connect(window.warm_up, Qt.ConnectionType.QueuedConnection)
    status = app.exec()
    if instance is not None:
        instance.close()
    host.shut_down()  # also when the loop ended without a close (a session logging out)
    window.deleteLater()  # destroyed here, on this thread, not whenever Python lets go of it
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return status


if __name__ == "__main__":
    sys.exit(main())
