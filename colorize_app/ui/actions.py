"""Every command of the window as a QAction, and the menus and toolbar built from them.

Creating the actions in one place keeps shortcuts unique and lets the shortcuts dialog list them.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from colorize_app.ui import icons

Std = QKeySequence.StandardKey


def make_action(parent: QObject, text: str, shortcut=None, icon: str | None = None,
                tip: str = "", checkable: bool = False) -> QAction:
    """An action with its shortcuts (a standard key, a key, or a list of keys), its icon and its
    tip (the status bar's and the tooltip's)."""
    action = QAction(text, parent)
    if shortcut is not None:
        if isinstance(shortcut, Std):
            shortcuts = QKeySequence.keyBindings(shortcut)
        elif isinstance(shortcut, list):
            shortcuts = [QKeySequence(key) for key in shortcut]
        else:
            shortcuts = [QKeySequence(shortcut)]
        action.setShortcuts(shortcuts)
    if icon:
        action.setIcon(icons.icon(icon))
        action.setData(icon)  # to rebuild the icon after a light/dark switch
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    return action


def refresh_icons(actions: list[QAction]) -> None:
    """After a light/dark switch: rebuild the icons of those made with one."""
    for action in actions:
        if action.data():
            action.setIcon(icons.icon(action.data()))


class WindowActions:
    """Plain attributes, one per action; the window connects their `triggered` signals."""

    def __init__(self, window: QMainWindow) -> None:
        tr = window.tr
        make = partial(make_action, window)
        self.open_images = make(tr("&Open Images…"), Std.Open, "mdi6.image-multiple-outline",
                                tr("Add photos to the list"))
        self.open_folder = make(tr("Open &Folder…"), "Ctrl+Shift+O", "mdi6.folder-open-outline",
                                tr("Add every photo of a folder (an album) to the list"))
        self.include_subfolders = make(tr("Include &Subfolders"), checkable=True,
                                       tip=tr("Open Folder also adds photos in subfolders"))
        self.save = make(tr("&Save"), Std.Save, "mdi6.content-save-outline",
                         tr("Save the selected result next to its original"))
        self.save_as = make(tr("Save &As…"), Std.SaveAs, tip=tr("Save the selected result elsewhere"))
        self.save_all = make(tr("Save A&ll"), "Ctrl+Alt+S", "mdi6.content-save-all-outline",
                             tr("Save every colorized photo that is not saved yet"))
        self.close = make(tr("&Close"), ["Ctrl+W", "Ctrl+F4"], tip=tr("Take the selected photos off the list"))
        self.quit = make(tr("&Quit"), Std.Quit)
        self.remove = make(tr("&Remove from List"), Std.Delete, "mdi6.close",
                           tr("Take the selected photos off the list (files are not touched)"))
        self.clear = make(tr("C&lear List"), "Ctrl+Shift+Del", "mdi6.playlist-remove",
                          tr("Take every photo off the list (files are not touched)"))
        self.colorize_selected = make(tr("&Colorize Selected"), "Ctrl+R", "mdi6.palette-outline",
                                      tr("Colorize the selected photos"))
        self.colorize_all = make(tr("Colorize &All"), "Ctrl+Shift+R", "mdi6.palette",
                                 tr("Colorize every photo in the list that is not done yet"))
        self.colorize_anyway = make(tr("Colorize &Even If in Colour"), tip=tr(
            "Colorize the selected photos from their lightness, also those already in colour"))
        self.auto_save = make(tr("Save &Each Result Next to Its Original"), checkable=True, tip=tr(
            "Write “name_colorized” beside each photo as soon as it is done, so stopping or "
            "closing loses nothing and colorizing the folder again resumes"))
        self.stop = make(tr("S&top"), "Esc", "mdi6.stop-circle-outline",
                         tr("Stop after the current step; finished results are kept"))
        self.side_by_side = make(tr("&Side by Side"), "Ctrl+Alt+1", "mdi6.view-split-vertical",
                                 tr("Original and result next to each other"), checkable=True)
        self.compare = make(tr("&Before/After Slider"), "Ctrl+Alt+2", "mdi6.compare-horizontal",
                            tr("One photo, original left of the divider and colour right"),
                            checkable=True)
        modes = QActionGroup(window)
        modes.addAction(self.side_by_side)
        modes.addAction(self.compare)
        self.side_by_side.setChecked(True)
        self.zoom_in = make(tr("Zoom &In"), Std.ZoomIn, "mdi6.magnify-plus-outline")
        self.zoom_out = make(tr("Zoom &Out"), Std.ZoomOut, "mdi6.magnify-minus-outline")
        self.zoom_fit = make(tr("&Fit to Window"), "Ctrl+0", "mdi6.fit-to-screen-outline")
        self.zoom_actual = make(tr("&Actual Pixels (100%)"), "Ctrl+1", "mdi6.numeric-1-box-outline")
        self.sample = make(tr("Try a &Sample Photo"), icon="mdi6.image-outline",
                           tip=tr("Open a black-and-white photo that ships with Colorize"))
        self.shortcuts = make(tr("&Keyboard Shortcuts"), Std.HelpContents, "mdi6.keyboard-outline")
        self.about = make(tr("&About Colorize"), icon="mdi6.information-outline")
        self.preferences = make(tr("&Preferences…"), Std.Preferences, "mdi6.cog-outline",
                                tr("Where results are saved, their name and format"))
        self.user_guide = make(tr("&User Guide"), icon="mdi6.book-open-outline",
                               tip=tr("Open the user guide"))
        window.addActions(self.all())  # shortcuts work even when menus are hidden

    def all(self) -> list[QAction]:
        return [value for value in vars(self).values() if isinstance(value, QAction)]


def build_menus(window: QMainWindow, a: WindowActions, hints) -> QMenu:
    """Fill the menu bar, the hint mode's actions (`hints`, a HintController's) among the window's;
    returns the Open Recent menu, which the window fills on demand."""
    tr = window.tr
    bar = window.menuBar()
    file_menu = bar.addMenu(tr("&File"))
    file_menu.addActions([a.open_images, a.open_folder, a.include_subfolders])
    recent = file_menu.addMenu(tr("Open &Recent"))
    file_menu.addSeparator()
    _add_groups(file_menu, [a.save, a.save_as, a.save_all], [a.close, a.quit])
    _add_groups(bar.addMenu(tr("&Edit")), [hints.undo, hints.redo], [a.remove, a.clear],
                [a.preferences], [hints.clear, hints.apply_to_selected])
    _add_groups(bar.addMenu(tr("&Colorize")),
                [a.colorize_selected, a.colorize_all, a.colorize_anyway, a.stop], [a.auto_save])
    _add_groups(bar.addMenu(tr("&View")), [a.side_by_side, a.compare],
                [a.zoom_in, a.zoom_out, a.zoom_fit, a.zoom_actual],
                [hints.hint_mode, hints.show_markers])
    _add_groups(bar.addMenu(tr("&Help")), [a.user_guide, a.sample, a.shortcuts], [a.about])
    return recent


def build_toolbar(window: QMainWindow, a: WindowActions, hints) -> QToolBar:
    tr = window.tr
    # Short labels beside the icons: the main commands should be readable, not guessed.
    for action, label in ((a.open_images, tr("Open")), (a.open_folder, tr("Open Folder")),
                          (a.colorize_selected, tr("Colorize")),
                          (a.colorize_all, tr("Colorize All")), (a.stop, tr("Stop")),
                          (a.save, tr("Save")), (a.save_all, tr("Save All")),
                          (a.side_by_side, tr("Side by Side")), (a.compare, tr("Before/After")),
                          (a.zoom_fit, tr("Fit")), (a.zoom_actual, tr("100%"))):
        action.setIconText(label)
    toolbar = window.addToolBar(tr("Main"))
    toolbar.setObjectName("main_toolbar")  # so saveState() can restore it
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    _add_groups(toolbar, [a.open_images, a.open_folder],
                [a.colorize_selected, a.colorize_all, a.stop], [a.save, a.save_all],
                [a.side_by_side, a.compare], [a.zoom_fit, a.zoom_actual], [hints.hint_mode])
    return toolbar


def _add_groups(target: QMenu | QToolBar, *groups: list[QAction]) -> None:
    """Add each group of actions to a menu or toolbar, with a separator between groups."""
    for number, group in enumerate(groups):
        if number:
            target.addSeparator()
        target.addActions(group)
