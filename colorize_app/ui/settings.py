"""One small typed wrapper over QSettings: the settings of core.settings, plus the window's own
state (folders, recent files, its layout), each declared once."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from colorize_app import APP_NAME
from colorize_app.core.settings import SETTINGS, Setting

MAX_RECENT = 10
MAX_RECENT_COLOURS = 8  # the hint palette's recent row
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class _Stored:
    """An attribute of AppSettings kept under ``setting.key``. A stored value that the setting
    refuses (edited by hand, written by an older version) reads as the default."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting

    def __get__(self, settings: AppSettings | None, owner=None):
        if settings is None:
            return self
        raw = settings.qsettings.value(self.setting.key)
        try:
            return self.setting.default if raw is None else self.setting.parse(raw)
        except ValueError:
            return self.setting.default

    def __set__(self, settings: AppSettings, value) -> None:
        problem = self.setting.problem(value)
        if problem:
            raise ValueError(f"{self.setting.name} {problem}")
        settings.qsettings.setValue(self.setting.key, value)


class _Window:
    """The window's own state: a path, a list of strings or Qt's bytes, stored as it is."""

    def __init__(self, key: str, default, limit: int = 0, pattern: re.Pattern | None = None) -> None:
        self.key, self.default, self.limit, self.pattern = key, default, limit, pattern

    def __get__(self, settings: AppSettings | None, owner=None):
        if settings is None:
            return self
        value = settings.qsettings.value(self.key, self.default)
        if isinstance(self.default, QByteArray):
            return value if isinstance(value, QByteArray) else QByteArray()
        if isinstance(self.default, list):
            values = [value] if isinstance(value, str) else value or []  # INI: one item, a string
            values = [str(v) for v in values if v and (not self.pattern or self.pattern.fullmatch(str(v)))]
            return values[: self.limit]
        return str(value)

    def __set__(self, settings: AppSettings, value) -> None:
        settings.qsettings.setValue(self.key, list(value)[: self.limit]
                                    if isinstance(self.default, list) else value)  # fmt: skip


class AppSettings:
    """Typed access to the remembered state of the window.

    Tests pass `path` to keep their settings in a temporary folder; the application passes nothing and
    gets the platform's usual place (the registry, ~/.config, ~/Library/Preferences).
    """

    render_size = _Stored(SETTINGS["render_size"])
    saturation = _Stored(SETTINGS["saturation"])
    device = _Stored(SETTINGS["device"])
    auto_save = _Stored(SETTINGS["auto_save"])
    recursive = _Stored(SETTINGS["recursive"])
    output_dir = _Stored(SETTINGS["output_dir"])  # "": each result next to its original
    suffix = _Stored(SETTINGS["suffix"])
    export_format = _Stored(SETTINGS["export_format"])
    jpeg_quality = _Stored(SETTINGS["jpeg_quality"])
    ask_before_replacing = _Stored(SETTINGS["ask_before_replacing"])
    compare_mode = _Stored(SETTINGS["compare_mode"])
    last_open_dir = _Window("paths/last_open_dir", str(Path.home()))
    last_folder_dir = _Window("paths/last_folder_dir", str(Path.home()))
    recent_files = _Window("paths/recent", [], MAX_RECENT)
    # The hint colours used last, newest first (#rrggbb), kept between sessions.
    recent_hint_colours = _Window("hints/recent", [], MAX_RECENT_COLOURS, _HEX_COLOUR)
    geometry = _Window("window/geometry", QByteArray())
    window_state = _Window("window/state", QByteArray())
    splitter_state = _Window("window/splitter", QByteArray())

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self.qsettings = QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                                       APP_NAME, APP_NAME)
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self.qsettings.sync()

    def add_recent(self, path: str | Path) -> None:
        path = str(path)
        self.recent_files = [path] + [p for p in self.recent_files if p != path]
