"""Take the documentation screenshots from the real application. Needs an X server:

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/take_screenshots.py \
        [--weights FILE] [--out docs/screenshots]

Builds a small "album" of black-and-white photos in a temporary folder (CC BY 4.0 photos from the
Multi-class Weather Dataset, turned gray; see CREDITS.md), opens it in the window, colorizes it,
and captures the whole screen with ImageMagick's `import` in side-by-side and compare mode, with
a saved result out of date, the Preferences and About dialogs, and, when the model takes colour
hints, in hint mode (points placed, and the colour menu open).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHOTOS = {  # the training set's copies of Multi-class Weather Dataset photos (CC BY 4.0)
    "harbour.jpg": "sky_00521.jpg",
    "mountains.jpg": "sky_00561.jpg",
    "beach.jpg": "sky_00641.jpg",
    "meadow.jpg": "sky_00601.jpg",
    "snowy tree.jpg": "sky_00081.jpg",
    "street in the rain.jpg": "sky_00401.jpg",
}
TRAIN = Path("/work/shared/data/train")
SHOWN = "harbour.jpg"
HINTS = [(0.30, 0.80, "#b03a2e"), (0.70, 0.25, "#5b7fae")]  # (x, y, colour) placed in hint mode
MENU_AT = (0.55, 0.60)  # where the colour menu is opened for the last screenshot


def make_album(folder: Path) -> list[Path]:
    from colorize_app.core.colour import grayscale_of
    from colorize_app.core.imageio import read_image, write_image

    folder.mkdir(parents=True)
    paths = []
    for name, source in PHOTOS.items():
        pixels = grayscale_of(read_image(TRAIN / source).pixels)
        paths.append(write_image(folder / name, pixels[..., 0] if pixels.ndim == 3 else pixels))
    return paths


def settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()

    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from colorize_app import APP_ID
    from colorize_app.ui.main_window import MainWindow
    from colorize_app.ui.settings import AppSettings
    from colorize_app.workers.host import WorkerHost

    QGuiApplication.setDesktopFileName(APP_ID)
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="colorize-shots-") as tmp:
        album = make_album(Path(tmp) / "Family album")
        settings = AppSettings(Path(tmp) / "settings.ini")
        settings.auto_save = True
        window = MainWindow(settings, WorkerHost(weights=args.weights))
        screen = app.primaryScreen().availableGeometry()
        window.setGeometry(screen)
        window.show()
        window.warm_up()
        window.open_paths([album[0].parent])
        while window.opener.is_looking():  # the album is walked off the window's thread
            settle(app, 0.1)
        window.commands.colorize_all.trigger()
        while window.batch.is_busy():
            settle(app, 0.1)
        names = [e.source.name for e in window.model.entries()]
        window.batch_panel.select_row(names.index(SHOWN))
        settle(app, 2.0)
        args.out.mkdir(parents=True, exist_ok=True)
        capture(args.out / "window-side-by-side.png")

        window.commands.compare.trigger()
        window.preview.compare_slider.setValue(450)
        settle(app, 1.0)
        capture(args.out / "window-compare.png")

        # A result saved at full colour, then the saturation lowered: the list marks it.
        window.commands.side_by_side.trigger()
        window.controls.saturation.setValue(60)
        settle(app, 1.5)
        capture(args.out / "window-out-of-date.png")

        from colorize_app.ui.dialogs import AboutDialog
        from colorize_app.ui.preferences import PreferencesDialog

        for dialog, name in ((PreferencesDialog(settings, window), "preferences.png"),
                             (AboutDialog(window.model_info, window), "about.png")):
            dialog.show()
            settle(app, 1.0)
            capture(args.out / name, dialog)
            dialog.close()
        if window.hints.takes_hints():
            hint_shots(app, window, args.out)
        else:
            print("the model takes no hints: no hint-mode screenshots (pass a hint network with --weights)")
        window.close()


def hint_shots(app, window, out: Path) -> None:
    """Hint mode: two points placed, then the colour menu open for a third."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window.commands.side_by_side.trigger()
    window.hints.hint_mode.setChecked(True)
    settle(app, 0.5)
    for x, y, colour in HINTS:
        window.hints.place(x, y, colour)
        settle(app, 1.5)
    settle(app, 2.0)
    capture(out / "window-hints.png")

    def shoot_menu() -> None:
        capture(out / "window-hint-colours.png")
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()

    view = window.preview.side_by_side.result_view
    overlay = window.hints.overlay
    x, y = MENU_AT
    at = overlay.mapToGlobal(overlay.to_widget(x, y).toPoint())
    QTimer.singleShot(1500, shoot_menu)
    window.hints._on_place_requested(x, y, at)  # opens the menu; shoot_menu closes it
    assert view.has_image()


def capture(path: Path, widget=None) -> None:
    """The whole screen, or one window (a dialog) by its X window id."""
    target = "root" if widget is None else hex(int(widget.winId()))
    subprocess.run(["import", "-window", target, str(path)], check=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
