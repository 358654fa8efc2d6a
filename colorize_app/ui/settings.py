"""One small typed wrapper over QSettings, so keys and types live in one place."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from colorize_app import APP_NAME
from colorize_app.core.vocabulary import (
    DEFAULT_DEVICE,
    DEFAULT_EXPORT_FORMAT,
    DEFAULT_JPEG_QUALITY,
    DEFAULT_RENDER_SIZE,
    DEFAULT_SATURATION,
    DEFAULT_SUFFIX,
    DEVICES,
    EXPORT_FORMATS,
    GPU_DEVICES,
)

MAX_RECENT = 10
MAX_RECENT_COLOURS = 8  # the hint palette's recent row
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class AppSettings:
    """Typed access to the remembered state of the window.

    Tests pass `path` to keep their settings in a temporary folder; the application passes nothing and
    gets the platform's usual place (the registry, ~/.config, ~/Library/Preferences).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self._qs = QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                                 APP_NAME, APP_NAME)
        else:
            self._qs = QSettings(str(path), QSettings.Format.IniFormat)

    @property
    def file_name(self) -> str:
        return self._qs.fileName()

    def sync(self) -> None:
        self._qs.sync()

    # -- helpers: QSettings returns strings from INI files, so every read converts ----------------
    def _str(self, key: str, default: str = "") -> str:
        value = self._qs.value(key, default)
        return default if value is None else str(value)

    def _int(self, key: str, default: int) -> int:
        try:
            return int(self._qs.value(key, default))
        except (TypeError, ValueError):
            return default

    def _float(self, key: str, default: float) -> float:
        try:
            return float(self._qs.value(key, default))
        except (TypeError, ValueError):
            return default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._qs.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def _list(self, key: str) -> list[str]:
        value = self._qs.value(key, [])
        if isinstance(value, str):  # INI stores a one-item list as a plain string
            value = [value]
        return [str(v) for v in (value or []) if v]

    def _bytes(self, key: str) -> QByteArray:
        value = self._qs.value(key)
        return value if isinstance(value, QByteArray) else QByteArray()

    # -- folders ----------------------------------------------------------------------------------
    @property
    def last_open_dir(self) -> str:
        return self._str("paths/last_open_dir", str(Path.home()))

    @last_open_dir.setter
    def last_open_dir(self, value: str) -> None:
        self._qs.setValue("paths/last_open_dir", str(value))

    @property
    def last_folder_dir(self) -> str:
        return self._str("paths/last_folder_dir", str(Path.home()))

    @last_folder_dir.setter
    def last_folder_dir(self, value: str) -> None:
        self._qs.setValue("paths/last_folder_dir", str(value))

    @property
    def recursive(self) -> bool:
        return self._bool("paths/recursive", False)

    @recursive.setter
    def recursive(self, value: bool) -> None:
        self._qs.setValue("paths/recursive", bool(value))

    @property
    def recent_files(self) -> list[str]:
        return self._list("paths/recent")[:MAX_RECENT]

    @recent_files.setter
    def recent_files(self, value: list[str]) -> None:
        self._qs.setValue("paths/recent", list(value)[:MAX_RECENT])

    def add_recent(self, path: str | Path) -> None:
        path = str(path)
        self.recent_files = [path] + [p for p in self.recent_files if p != path]

    @property
    def recent_hint_colours(self) -> list[str]:
        """The hint colours used last, newest first (``#rrggbb``), kept between sessions."""
        return [v for v in self._list("hints/recent") if _HEX_COLOUR.fullmatch(v)][:MAX_RECENT_COLOURS]

    @recent_hint_colours.setter
    def recent_hint_colours(self, value: list[str]) -> None:
        self._qs.setValue("hints/recent", list(value)[:MAX_RECENT_COLOURS])

    # -- colorizing -------------------------------------------------------------------------------
    @property
    def render_size(self) -> int:
        return self._int("colorize/render_size", DEFAULT_RENDER_SIZE)

    @render_size.setter
    def render_size(self, value: int) -> None:
        self._qs.setValue("colorize/render_size", int(value))

    @property
    def saturation(self) -> float:
        return min(2.0, max(0.0, self._float("colorize/saturation", DEFAULT_SATURATION)))

    @saturation.setter
    def saturation(self, value: float) -> None:
        self._qs.setValue("colorize/saturation", float(value))

    @property
    def device(self) -> str:
        value = self._str("colorize/device", DEFAULT_DEVICE)
        if value == "gpu":  # written by versions that had one word for every GPU
            return GPU_DEVICES[0]
        return value if value in DEVICES else DEFAULT_DEVICE

    @device.setter
    def device(self, value: str) -> None:
        self._qs.setValue("colorize/device", value if value in DEVICES else DEFAULT_DEVICE)

    @property
    def auto_save(self) -> bool:
        return self._bool("colorize/auto_save", True)

    @auto_save.setter
    def auto_save(self, value: bool) -> None:
        self._qs.setValue("colorize/auto_save", bool(value))

    # -- export (Preferences): the command line's --output-dir, --suffix, --format, --jpeg-quality
    @property
    def output_dir(self) -> str:
        """"" (the default): each result next to its original; else the folder for results."""
        return self._str("export/output_dir", "")

    @output_dir.setter
    def output_dir(self, value: str) -> None:
        self._qs.setValue("export/output_dir", str(value or ""))

    @property
    def suffix(self) -> str:
        return self._str("export/suffix", DEFAULT_SUFFIX)

    @suffix.setter
    def suffix(self, value: str) -> None:
        self._qs.setValue("export/suffix", str(value))

    @property
    def export_format(self) -> str:
        value = self._str("export/format", DEFAULT_EXPORT_FORMAT)
        return value if value in EXPORT_FORMATS else DEFAULT_EXPORT_FORMAT

    @export_format.setter
    def export_format(self, value: str) -> None:
        self._qs.setValue("export/format", value if value in EXPORT_FORMATS else DEFAULT_EXPORT_FORMAT)

    @property
    def jpeg_quality(self) -> int:
        return min(100, max(1, self._int("export/jpeg_quality", DEFAULT_JPEG_QUALITY)))

    @jpeg_quality.setter
    def jpeg_quality(self, value: int) -> None:
        self._qs.setValue("export/jpeg_quality", int(value))

    @property
    def provenance(self) -> bool:
        """Write what made each result into it (core.provenance); the command line's --no-provenance."""
        return self._bool("export/provenance", True)

    @provenance.setter
    def provenance(self, value: bool) -> None:
        self._qs.setValue("export/provenance", bool(value))

    @property
    def ask_before_replacing(self) -> bool:
        return self._bool("export/ask_before_replacing", True)

    @ask_before_replacing.setter
    def ask_before_replacing(self, value: bool) -> None:
        self._qs.setValue("export/ask_before_replacing", bool(value))

    # -- window -----------------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._qs.setValue("window/state", value)

    @property
    def splitter_state(self) -> QByteArray:
        return self._bytes("window/splitter")

    @splitter_state.setter
    def splitter_state(self, value: QByteArray) -> None:
        self._qs.setValue("window/splitter", value)

    @property
    def compare_mode(self) -> bool:
        return self._bool("window/compare_mode", False)

    @compare_mode.setter
    def compare_mode(self, value: bool) -> None:
        self._qs.setValue("window/compare_mode", bool(value))
