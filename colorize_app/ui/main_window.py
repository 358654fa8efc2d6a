"""The main window: puts the parts together and turns commands into requests to the controllers.

No image mathematics and no torch here: photos arrive as arrays from the worker threads and are
wrapped for display in `qimage.py`; the list's state lives in `BatchListModel`.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QPaintEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from colorize_app import APP_NAME
from colorize_app.core.assets import default_weights_path
from colorize_app.core.batch import is_film, output_path_for
from colorize_app.core.job import JobOptions
from colorize_app.core.provenance import ModelIdentity, RecordState, model_identity
from colorize_app.core.vocabulary import EXTENSIONS, Status
from colorize_app.ui import guards, model_card, opening, resources, sample
from colorize_app.ui.actions import WindowActions, build_menus, build_toolbar, refresh_icons
from colorize_app.ui.batch_controller import BatchController
from colorize_app.ui.batch_model import BatchListModel
from colorize_app.ui.batch_panel import BatchPanel
from colorize_app.ui.controls import ControlsWidget
from colorize_app.ui.dialogs import AboutDialog, ShortcutsDialog
from colorize_app.ui.hint_controller import HintController
from colorize_app.ui.open_controller import OpenController, Opening
from colorize_app.ui.opening import image_filter, save_filter
from colorize_app.ui.preferences import PreferencesDialog
from colorize_app.ui.preview import PreviewWidget
from colorize_app.ui.preview_controller import PreviewController
from colorize_app.ui.problems import ProblemsBar
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
        self._quit_after_saving: set[int] = set()  # "Save and Quit": entries to save, then close
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(resources.app_icon())
        self.setAcceptDrops(True)

        self.model = BatchListModel(self)
        self.batch_panel = BatchPanel(self.model)
        self.preview = PreviewWidget()
        self.controls = ControlsWidget()
        self.problems = ProblemsBar()
        self.batch = BatchController(self.model, host.network, self)
        self.previews = PreviewController(self.preview, host.preview, self.model, self)
        self.commands = WindowActions(self)
        self.hints = HintController(self.model, (host.network, host.files, host.tracks),
                                    self.preview.side_by_side, self.controls, settings, self)
        self.addActions(self.hints.actions())
        self.recent = RecentMenu(build_menus(self, self.commands, self.hints), settings, self)
        build_toolbar(self, self.commands, self.hints)
        self.status = AppStatusBar()
        self.setStatusBar(self.status)
        self.opener = OpenController(host.opening, host.finder, self.status, self)
        self._build_layout()
        self._connect()
        self.binder = SettingsBinder(self, settings)
        self.binder.restore()
        self._update_actions()

    def _build_layout(self) -> None:
        self.batch_panel.add_buttons([self.commands.remove, self.commands.clear])
        self.batch_panel.layout().insertWidget(0, self.problems)
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
            (a.colorize_anyway, self.colorize_anyway),
            (a.stop, self.stop), (a.zoom_in, self.preview.zoom_in),
            (a.zoom_out, self.preview.zoom_out), (a.zoom_fit, self.preview.zoom_fit),
            (a.zoom_actual, self.preview.zoom_actual), (a.sample, self.open_sample),
            (a.shortcuts, self.show_shortcuts), (a.about, self.show_about),
            (a.preferences, self.show_preferences), (a.user_guide, self.show_user_guide),
        ):
            action.triggered.connect(slot)
        m, b, h, c, news = self.model, self.batch, self.hints, self.controls, self.host.colorizer
        for signal, slot in (
            (a.compare.toggled, self.preview.set_compare_mode),
            (self.recent.path_chosen, self._on_recent_chosen),
            (self.batch_panel.current_changed, h.set_entry),
            (self.batch_panel.current_changed, self._on_current_changed),
            (self.batch_panel.view.selectionModel().selectionChanged, self._on_selection_changed),
            (m.dataChanged, self._update_actions), (m.rowsInserted, self._update_actions),
            (m.rowsRemoved, self._update_actions), (m.modelReset, self._update_actions),
            (b.busy_changed, self._on_busy_changed), (b.progress_changed, self.status.set_progress),
            (b.result_ready, self.previews.show_result),
            (b.entry_changed, self.previews.refresh_placeholder),
            (b.timing, self.status.set_timing), (b.message, self._show_message),
            (self.previews.failed, self._show_message), (h.message, self._show_message),
            (self.previews.frame_shown, h.set_frame),
            (h.problem, self._report_problems), (h.predicted, self.previews.show_hinted),
            (h.recolorize_requested, self._recolorize), (h.hint_mode.toggled, self._on_hint_mode),
            (self.preview.compare_mode_changed, h.leave_mode_if),
            (c.saturation_changed, self.previews.set_saturation),
            (c.saturation_changed, self._on_settings_changed),
            (c.render_size_changed, self._on_render_size_changed),
            (self.preview.zoom_changed, self.status.set_zoom),
            (news.model_loaded, self._on_model_loaded), (news.model_failed, self._on_model_failed),
            (news.notice, self._show_message),
            (self.opener.opened, self._on_opened), (self.opener.message, self._show_message),
            (self.opener.looking_changed, self._update_actions),
        ):
            signal.connect(slot)

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
        folder, subfolders = opening.choose_folder(self, self.settings.last_folder_dir,
                                                   self.commands.include_subfolders.isChecked())
        if folder:
            self.commands.include_subfolders.setChecked(subfolders)
            self.settings.last_folder_dir = folder
            self.open_paths([folder])

    @Slot()
    def open_sample(self) -> None:
        photo = resources.sample_photo()
        if photo is not None:
            # its result never goes into the installed package
            self.open_paths([photo], remember=False, then=partial(sample.redirect, self.model, photo))

    def open_paths(self, paths: list[str | Path], *, remember: bool = True, then=None) -> None:
        """Add photos and folders (from a dialog, a drop or the command line). Folders are walked
        off the window's thread (OpenController): the photos arrive in the list, and `then()`
        runs, once the walk is done (`_on_opened`). Relative paths (`colorize-app photo.jpg`) are
        made absolute: the list and Open Recent must not depend on the folder it started in."""
        self.opener.open([Path(os.path.abspath(p)) for p in paths], recursive=self.settings.recursive,
                         export=self.export_settings(), remember=remember, then=then)

    @Slot(object)
    def _on_opened(self, opening: Opening) -> None:
        paths, entries, problems = opening.paths, opening.entries, opening.problems
        was_empty = self.model.rowCount() == 0
        added = self.model.add(entries)
        self._on_settings_changed()
        if opening.remember:  # only what opened: a folder with photos, or a photo
            opened = {entry.source for entry in entries}
            for path in paths:
                if path in opened or any(path in source.parents for source in opened):
                    self.settings.add_recent(path)
        self.previews.request_thumbnails(added)
        self.hints.read_files(added)  # a damaged one is reported as its answer comes
        if added and (was_empty or not self.batch_panel.current_entry()):
            self.batch_panel.select_row(self.model.row_of(added[0].id))
        if problems:
            for problem in problems:
                logger.info("Not opened: %s", problem)
            self._report_problems(problems)
        elif added:
            text = self.tr("Added {0} photo(s).").format(len(added))
            unrecorded = sum(1 for e in added if e.saved_record and e.saved_record[0] is RecordState.NONE)
            if unrecorded:  # said once, here, rather than on every row
                text += " " + self.tr("{0} saved result(s) were made before Colorize recorded how "
                                      "results are made; they count as current.").format(unrecorded)
            self._show_message(text)
        if opening.then is not None:
            opening.then()

    @Slot(object)
    def _report_problems(self, problems: list[str]) -> None:
        self.problems.add(problems)  # stays until dismissed, unlike the status bar
        self._show_message("  ".join(problems[:3]) + ("  …" if len(problems) > 3 else ""))

    def open_paths_from_another_start(self, paths: list[str]) -> None:
        """A second `colorize-app photo.jpg` (the file manager) hands its paths to this window."""
        if paths:
            self.open_paths(paths)
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- colorizing and saving --------------------------------------------------------------------
    def options(self, overwrite: bool = False, **more) -> JobOptions:
        render_size, saturation, device = self.controls.values()
        model = self.model_identity()
        return JobOptions(render_size=render_size, saturation=saturation, device=device,
                          overwrite=overwrite, format=self.export_settings()["format"],
                          quality=self.settings.jpeg_quality, provenance=self.settings.provenance,
                          model_name=model.name, model_sha256=model.sha256, **more)  # fmt: skip

    def model_identity(self) -> ModelIdentity:
        """The model the worker colorizes with, named and digested without loading it (cached)."""
        return model_identity(getattr(self.host, "weights", None) or default_weights_path())

    def export_settings(self) -> dict:
        """The Preferences as core.batch.plan_batch's keywords."""
        s = self.settings
        return {"suffix": s.suffix, "output_dir": s.output_dir or None,
                "format": None if s.export_format == "same" else s.export_format}

    def may_replace(self, entries) -> bool:
        """Ask once before results on disk are replaced (unless told not to ask again)."""
        existing = [e for e in entries if e.output.exists()]
        if not existing or not self.settings.ask_before_replacing:
            return True
        replace, stop_asking = guards.ask_replace(self, [e.output.name for e in existing])
        if stop_asking:
            self.settings.ask_before_replacing = False
        return replace

    @Slot()
    def colorize_selected(self) -> None:
        self._colorize_selected(include_colour=False)

    @Slot()
    def colorize_anyway(self) -> None:
        """Colorize Selected, photos already in colour too (from their lightness)."""
        self._colorize_selected(include_colour=True)

    def _colorize_selected(self, *, include_colour: bool) -> None:
        # Asked for by name: a fresh result replaces an earlier one (Colorize All resumes instead).
        entries = self.batch_panel.selected_entries()
        auto_save = self.commands.auto_save.isChecked()
        # A film is always written to its result (its frames are not kept in memory).
        if not self.may_replace([e for e in entries if auto_save or is_film(e.source)]):
            return
        self.batch.colorize(entries, self.options(overwrite=True, include_colour=include_colour),
                            auto_save=auto_save)  # fmt: skip

    @Slot()
    def colorize_all(self) -> None:
        """Every photo not done yet, and those done with other hints, settings or model than
        the window's now (core's rule), after asking once about those already saved."""
        entries = self.model.entries()
        todo = [e for e in entries if e.status in (Status.WAITING, Status.FAILED)]
        redo = self._asked_to_redo([e for e in entries
                                    if self.model.is_out_of_date(e) and not e.queued])
        auto_save = self.commands.auto_save.isChecked()
        self.batch.colorize(todo, self.options(), auto_save=auto_save)
        self.batch.colorize(redo, self.options(overwrite=True), auto_save=auto_save)

    @Slot(object)
    def _recolorize(self, entries: list) -> None:
        self.batch.colorize(entries, self.options(overwrite=True),
                            auto_save=self.commands.auto_save.isChecked())

    @Slot()
    def save_selected(self) -> None:
        entries = [e for e in self.batch_panel.selected_entries() if e.chroma is not None]
        if self.may_replace(entries):
            self.batch.save(entries, self.options())

    @Slot()
    def save_as(self) -> None:
        entry = self.batch_panel.current_entry()
        if entry is None or entry.chroma is None:
            return
        target, chosen = QFileDialog.getSaveFileName(self, self.tr("Save As"), str(entry.output),
                                                     save_filter())
        if not target:
            return
        target = Path(target)
        if not target.suffix and chosen:  # "photo" with "PNG (*.png)" chosen: photo.png
            target = target.with_suffix(chosen.split("*", 1)[1].split()[0].rstrip(")"))
        if target.suffix.lower() not in EXTENSIONS:
            self._warn(self.tr("Cannot Save in This Format"),
                       self.tr("Colorize cannot write “{0}” files. Choose a name ending in .jpg, "
                               ".png, .tif, .bmp or .webp.").format(target.suffix or target.name))
            return
        self.batch.save([entry], self.options(), target)

    @Slot()
    def save_all(self) -> None:
        unsaved = self._asked_to_redo([e for e in self.model.entries() if self._may_save(e)])
        if unsaved and self.may_replace([e for e in unsaved if e.status != Status.SAVED]):
            self.batch.save(unsaved, self.options())

    def _asked_to_redo(self, entries: list) -> list:
        """``entries``, less those saved already (with other hints, settings or model than now)
        unless the person agrees to redo them; asked once."""
        saved = [e for e in entries if e.status == Status.SAVED]
        if saved and not guards.ask_redo_out_of_date(self, len(saved)):
            return [e for e in entries if e.status != Status.SAVED]
        return entries

    def unsaved_hint_work(self) -> list:
        """Results that follow colour hints and are only in memory."""
        return [e for e in self.model.entries() if e.hints and e.status == Status.DONE]

    @Slot()
    def remove_selected(self) -> None:
        rows = self.batch_panel.selected_rows()
        if rows:
            next_row = min(rows)
            self.batch.forget([entry.id for entry in self.model.remove_rows(rows)])
            if self.model.rowCount():
                self.batch_panel.select_row(min(next_row, self.model.rowCount() - 1))

    @Slot()
    def stop(self) -> None:
        """Esc: stop looking for photos while a walk runs (what was just asked, and what the
        status bar shows), else the batch; a long batch is not lost to a press meant for a folder
        opened by mistake."""
        if self.opener.is_looking():
            self.opener.stop()
        else:
            self.batch.stop()

    @Slot()
    def clear_list(self) -> None:
        self.batch.stop()
        self.previews.forget_thumbnails()
        self.model.clear()

    # -- reactions --------------------------------------------------------------------------------
    @Slot(object)
    def _on_current_changed(self, entry) -> None:
        self.previews.show_entry(entry)
        self.setWindowTitle(f"{entry.source.name} — {APP_NAME}" if entry else APP_NAME)
        if entry is not None and entry.status == Status.FAILED:
            self._show_message(entry.reason)
        self._update_actions()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if busy:
            self.status.start_batch(self.batch.started_at)
        else:
            self.status.hide_progress()  # the batch's summary is its last message
            waited, self._quit_after_saving = self._quit_after_saving, set()  # "Save and Quit"
            if waited and all(e.status == Status.SAVED for e in self.model.entries()
                              if e.id in waited):  # every save went through
                self.close()
                return
        self._update_actions()

    @Slot(bool)
    def _on_hint_mode(self, on: bool) -> None:
        if on:
            self.commands.side_by_side.setChecked(True)  # the markers live on that view

    @Slot()
    def _on_selection_changed(self, *_args) -> None:
        self.hints.set_selected(self.batch_panel.selected_entries())
        self._update_actions()

    @Slot(int)
    def _on_render_size_changed(self, render_size: int) -> None:
        self._on_settings_changed()
        stale = sum(self.model.is_out_of_date(e) for e in self.model.entries())
        if stale:
            self._show_message(self.tr(
                "{0} photo(s) were colorized at another render size: Colorize All "
                "(Ctrl+Shift+R) does them again at {1} px.").format(stale, render_size))

    @Slot()
    def _on_settings_changed(self, *_args) -> None:
        render_size, saturation, _device = self.controls.values()
        self.model.set_current_settings(render_size, saturation, self.model_identity().sha256)

    @Slot(str)
    def _on_recent_chosen(self, path: str) -> None:
        if Path(path).exists():
            self.open_paths([path])
        else:
            self._show_message(self.tr("{0} no longer exists.").format(path))

    @Slot(object)
    def _on_model_loaded(self, info: dict) -> None:
        self.model_info = info
        self.status.set_model(model_card.model_name(info.get("summary") or {}, info.get("name", "")),
                              info.get("device", ""))
        self.controls.set_gpu_available(info.get("gpu", ""))
        self.hints.set_takes_hints(bool(info.get("takes_hints")))

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self.status.set_model_missing()
        self._warn(self.tr("No colorization model"), message)

    def _warn(self, title: str, text: str) -> None:
        """``text`` in the status bar, and in a box that leaves the window running."""
        self._show_message(text)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
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
        a.colorize_selected.setEnabled(any(not e.queued for e in selected))
        a.colorize_all.setEnabled(any((e.status in (Status.WAITING, Status.FAILED)
                                       or self.model.is_out_of_date(e))
                                      and not e.queued for e in entries))
        a.colorize_anyway.setEnabled(a.colorize_selected.isEnabled())
        a.stop.setEnabled(self.batch.is_busy() or self.opener.is_looking())
        a.save.setEnabled(any(e.chroma is not None for e in selected))
        a.save_as.setEnabled(current is not None and current.chroma is not None)
        a.save_all.setEnabled(any(self._may_save(e) for e in entries))
        a.remove.setEnabled(bool(selected))
        a.close.setEnabled(bool(selected))
        a.clear.setEnabled(bool(entries))
        a.sample.setEnabled(resources.sample_photo() is not None)
        a.user_guide.setEnabled(resources.user_guide_url() is not None)

    def _may_save(self, entry) -> bool:
        """Save All's: a result in memory not on disk, or on disk with other settings."""
        return entry.chroma is not None and not entry.queued and (
            entry.status != Status.SAVED or self.model.is_out_of_date(entry))

    @Slot()
    def warm_up(self) -> None:
        """Load the model in the worker's thread now rather than with the first photo."""
        self.host.network.submit("warm_up", self.options().device)

    # -- show and tell ----------------------------------------------------------------------------
    @Slot()
    def show_about(self) -> None:
        AboutDialog(self.model_info, self).open()

    @Slot()
    def show_preferences(self) -> None:
        dialog = PreferencesDialog(self.settings, self)
        dialog.accepted.connect(self._on_preferences_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    @Slot()
    def _on_preferences_changed(self) -> None:
        """Results not on disk yet go where the new settings say (the sample's stay in the
        user's folder, see ui.sample)."""
        export = self.export_settings()
        the_sample = resources.sample_photo()
        for entry in self.model.entries():
            if entry.status != Status.SAVED and not entry.queued and entry.source != the_sample:
                root = entry.source.parents[len(Path(entry.folder).parts)] if entry.folder else None
                self.model.update(entry.id, output=output_path_for(
                    entry.source, relative_to=root, **export))

    @Slot()
    def show_user_guide(self) -> None:
        url = resources.user_guide_url()
        if url is not None and not QDesktopServices.openUrl(url):
            # No browser or viewer took it (a bare desktop, a server): say where it is, in the
            # bar that stays until dismissed.
            self._report_problems([self.tr("No program could open the user guide. It is the "
                                           "file {0}").format(url.toLocalFile())])

    @Slot()
    def show_shortcuts(self) -> None:
        extra = [(self.tr("Move the before/after divider"), self.tr("Left / Right (Shift: faster)")),
                 (self.tr("Pan the photo"), self.tr("Arrow keys, or drag")),
                 (self.tr("Zoom around the pointer"), self.tr("Mouse wheel"))]
        ShortcutsDialog(self.commands.all(), extra, self).open()

    # -- window life ------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        busy = self.batch.is_busy()
        if busy and not guards.ask_quit_mid_batch(self, self.batch.remaining()):
            event.ignore()
            return
        hinted = self.unsaved_hint_work()  # mid-batch too: it is lost all the same
        if hinted:
            answer = guards.ask_quit_with_unsaved_hints(self, [e.source.name for e in hinted])
            if answer != guards.DISCARD:
                event.ignore()
                if answer == guards.SAVE:
                    if busy:  # "Stop and Quit" was the answer to the batch: only the saves go on
                        self.batch.stop()
                    self._quit_after_saving = {e.id for e in hinted}
                    self.batch.save(hinted, self.options())
                return
        self.binder.save()
        self.opener.close()  # a walk still running is stopped, and its late answer ignored
        self.host.shut_down()  # results already finished are on disk; the running one is dropped
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.PaletteChange:  # the system switched light/dark
            refresh_icons(self.actions())  # the window's commands and the hint mode's
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
