"""Keeps the settings in step with the window: restores them at start, records every change."""

from __future__ import annotations

import weakref
from functools import partial

from PySide6.QtCore import QObject

from colorize_app.ui import screen_fit
from colorize_app.ui.settings import AppSettings


class SettingsBinder(QObject):
    """Control values are written as they change (a crash loses nothing); the window's geometry
    and layout are written by `save()` when it closes."""

    def __init__(self, window, settings: AppSettings) -> None:
        super().__init__(window)
        # Weak: the window holds this binder, and a strong reference back would make the pair a
        # cycle that only the garbage collector frees, on whichever thread it happens to run.
        # Destroying a window's widgets from a worker thread crashes Qt.
        self._window = weakref.ref(window)
        self._settings = settings

    def restore(self) -> None:
        w, s = self._window(), self._settings
        w.controls.set_values(s.render_size, s.saturation, s.device)
        w.commands.auto_save.setChecked(s.auto_save)
        w.commands.include_subfolders.setChecked(s.recursive)
        screen_fit.place(w, s.geometry)
        if not s.window_state.isEmpty():
            w.restoreState(s.window_state)
        if not s.splitter_state.isEmpty():
            w.splitter.restoreState(s.splitter_state)
        w.commands.compare.setChecked(s.compare_mode)
        # Connected after restoring, so restoring does not write the same values back.
        for signal, name in ((w.controls.saturation_changed, "saturation"),
                             (w.controls.render_size_changed, "render_size"),
                             (w.controls.device_changed, "device"),
                             (w.commands.auto_save.toggled, "auto_save"),
                             (w.commands.include_subfolders.toggled, "recursive")):
            signal.connect(partial(setattr, s, name))

    def save(self) -> None:
        w, s = self._window(), self._settings
        s.geometry = w.saveGeometry()
        s.window_state = w.saveState()
        s.splitter_state = w.splitter.saveState()
        s.compare_mode = w.preview.is_compare_mode()
        s.sync()
