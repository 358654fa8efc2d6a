"""The application icon and the sample photo, as the window uses them (core.assets finds them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from colorize_app import APP_ID
from colorize_app.core.assets import resources_dir, user_guide_path

if TYPE_CHECKING:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QIcon

RESOURCES = resources_dir()


def app_icon() -> QIcon:
    """The scalable icon, named after the application id as desktop integration expects."""
    from PySide6.QtGui import QIcon  # here, so --self-test can find the sample without Qt's GUI

    path = app_icon_path()
    return QIcon(str(path)) if path.is_file() else QIcon()


def app_icon_path() -> Path:
    return RESOURCES / f"{APP_ID}.svg"


def sample_photo() -> Path | None:
    """The black-and-white sample offered in the Help menu (and used by --self-test), if shipped."""
    found = sorted(RESOURCES.glob("sample*.jpg")) if RESOURCES.is_dir() else []
    return found[0] if found else None


def sample_credit() -> str:
    """Who made the sample and under which licence: the first line of `<sample>.txt` beside it."""
    photo = sample_photo()
    if photo is None:
        return ""
    for credit in (photo.with_suffix(".txt"), photo.with_name("CREDITS.txt")):
        if credit.is_file():
            lines = credit.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            return lines[0] if lines else ""
    return ""


def user_guide_url() -> QUrl | None:
    """docs/user-guide.md where this install has it (a source checkout), else None."""
    from PySide6.QtCore import QUrl

    path = user_guide_path()
    return QUrl.fromLocalFile(str(path)) if path is not None else None
