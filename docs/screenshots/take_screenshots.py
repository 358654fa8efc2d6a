"""Take the documentation screenshots from the real application. Needs an X server:

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/take_screenshots.py \
        [--weights FILE] [--out docs/screenshots] [--only film]

Builds a small "album" of black-and-white photos in a temporary folder (CC BY 4.0 photos from the
Multi-class Weather Dataset, turned gray; see CREDITS.md), opens it in the window, colorizes it,
and captures the whole screen with ImageMagick's `import` in side-by-side and compare mode, with
a saved result out of date, the Preferences and About dialogs, and, when the model takes colour
hints, in hint mode (points placed, and the colour menu open). Then a film: a camera panning
across the harbour photo, colorized, with colour points placed on one frame and shown on another
frame of the shot (``--only film`` takes this one alone).
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
    parser.add_argument("--only", choices=["film"], help="take only the film's screenshot")
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
        if args.only == "film":
            film_shot(app, window, Path(tmp), args.out)
            window.close()
            return
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
        film_shot(app, window, Path(tmp), args.out)
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


FILM_HINTS = [(0.22, 0.78, "#b03a2e"), (0.62, 0.30, "#5b7fae")]  # placed on frame FILM_PLACED
FILM_PLACED, FILM_SHOWN = 40, 16


def make_film(path: Path, frames: int = 60, size=(640, 400)) -> Path:
    """A gray film: the camera pans across the harbour photo (H.264, 25 frames a second)."""
    import av
    import cv2
    import numpy as np

    from colorize_app.core.colour import grayscale_of
    from colorize_app.core.imageio import read_image

    picture = grayscale_of(read_image(TRAIN / PHOTOS[SHOWN]).pixels)[..., 0]
    scale = size[1] * 1.1 / picture.shape[0]
    picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    room = picture.shape[1] - size[0]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(frames):
            x = round(room * index / (frames - 1))
            gray = np.ascontiguousarray(picture[: size[1], x : x + size[0]])
            frame = av.VideoFrame.from_ndarray(np.dstack([gray] * 3), format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame.reformat(format="yuv420p")))
        out.mux(stream.encode(None))
    return path


def film_shot(app, window, folder: Path, out: Path) -> None:
    """A colorized film with colour points placed on one frame, shown on another of the shot."""
    film = make_film(folder / "harbour, panning.mp4")
    window.open_paths([film])
    while window.opener.is_looking():  # the folder walk is on the opening lane
        settle(app, 0.1)
    names = [e.source.name for e in window.model.entries()]
    window.batch_panel.select_row(names.index(film.name))
    window.commands.colorize_selected.trigger()
    while window.batch.is_busy():
        settle(app, 0.1)
    window.commands.side_by_side.trigger()
    bar = window.preview.frames
    bar.slider.setValue(FILM_PLACED)
    settle(app, 2.0)
    if window.hints.takes_hints():
        window.hints.hint_mode.setChecked(True)
        for x, y, colour in FILM_HINTS:
            window.hints.place(x, y, colour)
            settle(app, 0.5)
    bar.slider.setValue(FILM_SHOWN)  # the points follow the pan back to this frame
    settle(app, 6.0)
    out.mkdir(parents=True, exist_ok=True)
    capture(out / "window-film-hints.png")


def capture(path: Path, widget=None) -> None:
    """The whole screen, or one window (a dialog) by its X window id."""
    target = "root" if widget is None else hex(int(widget.winId()))
    subprocess.run(["import", "-window", target, str(path)], check=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
