"""The main window: puts the parts together and turns commands into requests to the controllers.

No image mathematics and no torch here: photos arrive as arrays from the worker threads and are
wrapped for display in `qimage.py`; the list's state lives in `BatchListModel`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QPaintEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from colorize_app import APP_NAME
from colorize_app.core.job import JobOptions
from colorize_app.core.vocabulary import Status
from colorize_app.ui import resources
from colorize_app.ui.actions import WindowActions, build_menus, build_toolbar
from colorize_app.ui.batch_controller import BatchController
from colorize_app.ui.batch_model import BatchListModel
from colorize_app.ui.batch_panel import BatchPanel
from colorize_app.ui.controls import ControlsWidget
from colorize_app.ui.dialogs import AboutDialog, ShortcutsDialog
from colorize_app.ui.hint_controller import HintController
from colorize_app.ui.opening import image_filter, plan_entries
from colorize_app.ui.preview import PreviewWidget
from colorize_app.ui.preview_controller import PreviewController
from colorize_app.ui.recent import RecentMenu
from colorize_app.ui.settings import AppSettings
from colorize_app.ui.settings_binder import SettingsBinder
from colorize_app.ui.status_bar import AppStatusBar

logger = logging.getLogger(__name__)

MESSAGE_MS = 8000


class MainWindow(QMainWindow):
    first_painted = Signal()  # the window is on screen: heavy background work may start now

    def __init__(self, settings: AppSettings, host: QObject, parent: QWidget | None = None):
        """`host` is the colorize_app.workers.host.WorkerHost that app.py (or a test) made: the
        window only talks to it through its signals and methods, and never imports that module,
        which reaches torch."""
        super().__init__(parent)
        self.settings = settings
        self.host = host
        self.model_info: dict | None = None
        self._painted = False
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(resources.app_icon())
        self.setAcceptDrops(True)

        self.model = BatchListModel(self)
        self.batch_panel = BatchPanel(self.model)
        self.preview = PreviewWidget()
        self.controls = ControlsWidget()
        self.batch = BatchController(self.model, self.host, self)
        self.previews = PreviewController(self.preview, self.host.previewer, self.model, self)
        self.commands = WindowActions(self)
        self.recent = RecentMenu(build_menus(self, self.commands), settings, self)
        toolbar = build_toolbar(self, self.commands)
        self.hints = HintController(self)
        self.hints.install(self.menuBar(), toolbar)
        self.status = AppStatusBar()
        self.setStatusBar(self.status)
        self._build_layout()
        self._connect()
        self.binder = SettingsBinder(self, settings)
        self.binder.restore()
        self._update_actions()

    def _build_layout(self) -> None:
        self.batch_panel.add_buttons([self.commands.remove, self.commands.clear])
        a = self.commands
        self.batch_panel.view.context_actions = [a.colorize_selected, a.save, a.save_as, None,
                                                 a.remove]
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.preview, 1)
        column.addWidget(self.controls)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.batch_panel)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 900])
        self.setCentralWidget(self.splitter)

    def _connect(self) -> None:
        a = self.commands
        for action, slot in (
            (a.open_images, self.open_images), (a.open_folder, self.open_folder),
            (a.save, self.save_selected), (a.save_as, self.save_as), (a.save_all, self.save_all),
            (a.close, self.remove_selected), (a.quit, self.close),
            (a.remove, self.remove_selected), (a.clear, self.clear_list),
            (a.colorize_selected, self.colorize_selected), (a.colorize_all, self.colorize_all),
            (a.stop, self.batch.stop), (a.zoom_in, self.preview.zoom_in),
            (a.zoom_out, self.preview.zoom_out), (a.zoom_fit, self.preview.zoom_fit),
            (a.zoom_actual, self.preview.zoom_actual), (a.sample, self.open_sample),
            (a.shortcuts, self.show_shortcuts), (a.about, self.show_about),
        ):
            action.triggered.connect(slot)
        a.compare.toggled.connect(self.preview.set_compare_mode)
        self.recent.path_chosen.connect(self._on_recent_chosen)
        self.batch_panel.current_changed.connect(self._on_current_changed)
        self.batch_panel.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.dataChanged.connect(self._update_actions)
        self.model.rowsInserted.connect(self._update_actions)
        self.model.rowsRemoved.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self.batch.busy_changed.connect(self._on_busy_changed)
        self.batch.progress_changed.connect(self.status.set_progress)
        self.batch.result_ready.connect(self.previews.show_result)
        self.batch.entry_changed.connect(self._on_entry_changed)
        self.batch.timing.connect(self.status.set_timing)
        self.batch.message.connect(self._show_message)
        self.previews.failed.connect(self._show_message)
        self.hints.message.connect(self._show_message)
        self.controls.saturation_changed.connect(self._on_saturation_changed)
        worker = self.host.colorizer
        worker.model_loaded.connect(self._on_model_loaded)
        worker.model_failed.connect(self._on_model_failed)
        worker.notice.connect(self._show_message)

    # -- opening ----------------------------------------------------------------------------------
    @Slot()
    def open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, self.tr("Open Images"),
                                                self.settings.last_open_dir, image_filter())
        if paths:
            self.settings.last_open_dir = str(Path(paths[0]).parent)
            self.open_paths(paths)

    @Slot()
    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open Folder"),
                                                  self.settings.last_folder_dir)
        if folder:
            self.settings.last_folder_dir = folder
            self.open_paths([folder])

    @Slot()
    def open_sample(self) -> None:
        sample = resources.sample_photo()
        if sample is not None:
            self.open_paths([sample], remember=False)

    def open_paths(self, paths: list[str | Path], *, remember: bool = True) -> int:
        """Add photos and folders (from a dialog, a drop or the command line); returns how many."""
        paths = [Path(p) for p in paths]
        entries, problems = plan_entries(paths, recursive=self.settings.recursive)
        was_empty = self.model.rowCount() == 0
        added = self.model.add(entries)
        if remember:
            for path in paths:
                if path.exists():
                    self.settings.add_recent(path)
        self.previews.request_thumbnails(added)
        problems += [entry.hints_note for entry in added if entry.hints_note]  # damaged hints files
        if added and (was_empty or not self.batch_panel.current_entry()):
            self.batch_panel.select_row(self.model.row_of(added[0].id))
        if problems:
            self._show_message("  ".join(problems[:3]) + ("  …" if len(problems) > 3 else ""))
        elif added:
            self._show_message(self.tr("Added {0} photo(s).").format(len(added)))
        return len(added)

    # -- colorizing and saving --------------------------------------------------------------------
    def options(self, overwrite: bool = False) -> JobOptions:
        render_size, saturation, device = self.controls.values()
        return JobOptions(render_size=render_size, saturation=saturation, device=device,
                          overwrite=overwrite)

    @Slot()
    def colorize_selected(self) -> None:
        # Asked for by name: a fresh result replaces an earlier one (Colorize All resumes instead).
        self.batch.colorize(self.batch_panel.selected_entries(), self.options(overwrite=True),
                            auto_save=self.commands.auto_save.isChecked())

    @Slot()
    def colorize_all(self) -> None:
        todo = [e for e in self.model.entries() if e.status in (Status.WAITING, Status.FAILED)]
        self.batch.colorize(todo, self.options(), auto_save=self.commands.auto_save.isChecked())

    @Slot()
    def save_selected(self) -> None:
        self.batch.save(self.batch_panel.selected_entries(), self.options())

    @Slot()
    def save_as(self) -> None:
        entry = self.batch_panel.current_entry()
        if entry is None or entry.chroma is None:
            return
        target, _ = QFileDialog.getSaveFileName(self, self.tr("Save As"), str(entry.output),
                                                image_filter())
        if target:
            self.batch.save([entry], self.options(), Path(target))

    @Slot()
    def save_all(self) -> None:
        unsaved = [e for e in self.model.entries() if e.chroma is not None and e.status != Status.SAVED]
        self.batch.save(unsaved, self.options())

    @Slot()
    def remove_selected(self) -> None:
        rows = self.batch_panel.selected_rows()
        if rows:
            next_row = min(rows)
            self.model.remove_rows(rows)
            if self.model.rowCount():
                self.batch_panel.select_row(min(next_row, self.model.rowCount() - 1))

    @Slot()
    def clear_list(self) -> None:
        self.batch.stop()
        self.host.previewer.cancel_all()
        self.model.clear()

    # -- reactions --------------------------------------------------------------------------------
    @Slot(object)
    def _on_current_changed(self, entry) -> None:
        self.previews.show_entry(entry, self.options().saturation)
        self.setWindowTitle(f"{entry.source.name} — {APP_NAME}" if entry else APP_NAME)
        if entry is not None and entry.status == Status.FAILED:
            self._show_message(entry.reason)
        self._update_actions()

    @Slot(int)
    def _on_entry_changed(self, entry_id: int) -> None:
        current = self.previews.current()
        if current is not None and current.id == entry_id:
            self.previews.refresh_placeholder()
            if current.status == Status.FAILED:
                self._show_message(current.reason)

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.status.hide_progress()
            counts = self.model.counts()
            self._show_message(self.tr("Finished: {0} colorized, {1} failed, {2} waiting.").format(
                counts[Status.DONE] + counts[Status.SAVED], counts[Status.FAILED],
                counts[Status.WAITING]))
        self._update_actions()

    @Slot(float)
    def _on_saturation_changed(self, value: float) -> None:
        self.previews.set_saturation(value)

    @Slot(str)
    def _on_recent_chosen(self, path: str) -> None:
        if Path(path).exists():
            self.open_paths([path])
        else:
            self._show_message(self.tr("{0} no longer exists.").format(path))

    @Slot(object)
    def _on_model_loaded(self, info: dict) -> None:
        self.model_info = info
        self.status.set_model(info.get("name", ""), info.get("device", ""))
        self.controls.set_gpu_available(info.get("gpu", ""))

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self.status.set_model_missing()
        self._show_message(message)
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("No colorization model"), message,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): the window keeps running, and tests never block on it

    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.status.showMessage(text, MESSAGE_MS)

    @Slot()
    def _update_actions(self, *_args) -> None:
        a = self.commands
        selected = self.batch_panel.selected_entries()
        current = self.batch_panel.current_entry()
        entries = self.model.entries()
        busy = self.batch.is_busy()
        a.colorize_selected.setEnabled(any(not self.batch.is_pending(e) for e in selected))
        a.colorize_all.setEnabled(any(e.status in (Status.WAITING, Status.FAILED)
                                      and not self.batch.is_pending(e) for e in entries))
        a.stop.setEnabled(busy)
        a.save.setEnabled(any(e.chroma is not None for e in selected))
        a.save_as.setEnabled(current is not None and current.chroma is not None)
        a.save_all.setEnabled(any(e.chroma is not None and e.status != Status.SAVED for e in entries))
        a.remove.setEnabled(bool(selected))
        a.close.setEnabled(bool(selected))
        a.clear.setEnabled(bool(entries))
        a.sample.setEnabled(resources.sample_photo() is not None)

    @Slot()
    def warm_up(self) -> None:
        """Load the model in the worker's thread now rather than with the first photo."""
        self.host.warm_up(self.options().device)

    # -- show and tell ----------------------------------------------------------------------------
    @Slot()
    def show_about(self) -> None:
        AboutDialog(self.model_info, self).open()

    @Slot()
    def show_shortcuts(self) -> None:
        extra = [(self.tr("Move the before/after divider"), self.tr("Left / Right (Shift: faster)")),
                 (self.tr("Pan the photo"), self.tr("Arrow keys, or drag")),
                 (self.tr("Zoom around the pointer"), self.tr("Mouse wheel"))]
        ShortcutsDialog(self.commands.all(), extra, self).open()

    # -- window life ------------------------------------------------------------------------------
    def save_settings(self) -> None:
        self.binder.save()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.save_settings()
        self.host.shut_down()  # results already finished are on disk; the running one is dropped
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.PaletteChange:  # the system switched light/dark
            self.commands.refresh_icons()
            self.model.refresh_icons()
        super().changeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()
