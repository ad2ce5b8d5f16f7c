"""The main window: start page or an open project's workspace, menus with the
platform's shortcuts, errors shown in dialogs, layout and recent files remembered."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QProgressDialog, QStackedWidget, QWidget

from ..script.importer import ImportReport
from ..store import ProjectError, create_project, open_project
from .engine_settings import EngineSettingsDialog
from .services import Services
from .start import NewProjectChoice, NewProjectDialog, RecentProjects, StartPage, SCRIPT_FILTER, import_in_thread
from .workers import run_in_background
from .workspace import Workspace


class MainWindow(QMainWindow):
    """Holds at most one open project (`workspace`); every failure to open, create or
    import is shown in a dialog and leaves the files as they were."""

    project_opened = Signal(str)
    error_shown = Signal(str)
    import_finished = Signal(bool)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.recent = RecentProjects(services.settings)
        self.workspace: Workspace | None = None
        self._closing = False
        self.start_page = StartPage(self.recent)
        self.start_page.new_requested.connect(self.ask_new_project)
        self.start_page.open_requested.connect(self.ask_open_project)
        self.start_page.import_requested.connect(self.ask_import_screenplay)
        self.start_page.recent_requested.connect(self.open_project)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.setCentralWidget(self.stack)
        self.setWindowTitle("previz")
        self._build_menus()
        geometry = services.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 1000)
        self._update_actions()

    # -- menus -------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        keys = QKeySequence.StandardKey
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New Project…", self.ask_new_project, keys.New)
        self._action(file_menu, "&Open Project…", self.ask_open_project, keys.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.import_action = self._action(file_menu, "&Import Screenplay…", self.ask_import_screenplay, "Ctrl+I")
        file_menu.addSeparator()
        self.close_action = self._action(file_menu, "&Close Project", self.close_project, keys.Close)
        self._action(file_menu, "&Quit", self.close, keys.Quit)
        self.edit_menu = self.menuBar().addMenu("&Edit")
        self.shot_menu = self.menuBar().addMenu("&Shot")
        self.generate_action = self._action(self.shot_menu, "&Generate Frames", lambda: self.workspace.generate_selected(1), "Ctrl+G")
        self.variations_action = self._action(
            self.shot_menu, "&Variations", lambda: self.workspace.generate_selected(self.services.engine_settings().variations), "Ctrl+Shift+G"
        )
        self.sketch_action = self._action(self.shot_menu, "&Sketch…", self._sketch_current, "Ctrl+K")
        self.view_menu = self.menuBar().addMenu("&View")
        # Filled from the open project's AnimaticActions.
        self.animatic_menu = self.menuBar().addMenu("&Animatic")
        # Filled from the open project's ExportActions.
        self.export_menu = self.menuBar().addMenu("E&xport")
        # Owned by the window: the View menu is refilled for each project and keeps it.
        self.player_action = QAction("&Animatic Player", self)
        self.player_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.player_action.triggered.connect(self.show_player)
        engine_menu = self.menuBar().addMenu("E&ngine")
        self._action(engine_menu, "Engine &Settings…", self.show_engine_settings, keys.Preferences)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent.paths():
            self.recent_menu.addAction(path, lambda p=path: self.open_project(p))
        self.recent_menu.setEnabled(bool(self.recent.paths()))

    def _update_actions(self) -> None:
        open_ = self.workspace is not None
        for action in (self.close_action, self.generate_action, self.variations_action, self.sketch_action, self.player_action):
            action.setEnabled(open_)
        self.edit_menu.clear()
        self.view_menu.clear()
        self.animatic_menu.clear()
        self.animatic_menu.setEnabled(open_)
        self.export_menu.clear()
        self.export_menu.setEnabled(open_)
        if not open_:
            return
        stack = self.workspace.state.undo_stack
        undo, redo = stack.createUndoAction(self.edit_menu, "&Undo"), stack.createRedoAction(self.edit_menu, "&Redo")
        undo.setShortcuts(QKeySequence.StandardKey.Undo)
        # Every binding the platform knows (Ctrl+Y and Ctrl+Shift+Z on Linux and Windows).
        redo.setShortcuts(QKeySequence.StandardKey.Redo)
        self.edit_menu.addActions([undo, redo])
        self.edit_menu.addSeparator()
        board = self.workspace.board
        for action in (board.cut_action, board.copy_action, board.paste_action, board.insert_action,
                       board.delete_action, board.select_all_action):
            self.edit_menu.addAction(action)
        for dock in self.workspace.docks:
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.view_menu.addAction(board.zoom_in_action)
        self.view_menu.addAction(board.zoom_out_action)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.player_action)
        self.animatic_menu.addAction(self.player_action)
        self.animatic_menu.addSeparator()
        self.animatic_menu.addActions(self.workspace.animatic.actions)
        exports = self.workspace.exports
        self.export_menu.addActions(exports.actions[:3])
        self.export_menu.addSeparator()
        self.export_menu.addActions(exports.actions[3:])

    # -- projects ----------------------------------------------------------------------

    def open_project(self, path: str | Path) -> bool:
        """Open a project folder; on failure show why and change nothing."""
        try:
            folder = open_project(path)
        except ProjectError as exc:
            self.show_error("Cannot open project", str(exc))
            return False
        self._show_workspace(folder)
        return True

    def create_project(self, choice: NewProjectChoice) -> bool:
        try:
            folder = create_project(choice.path, choice.project)
        except (ProjectError, ValueError) as exc:
            self.show_error("Cannot create project", str(exc))
            return False
        self._show_workspace(folder)
        if choice.script is not None:
            self.import_screenplay(choice.script, remove_on_failure=True)
        return True

    def _show_workspace(self, folder) -> None:
        self.close_project()
        self.workspace = Workspace(folder, self.services, self)
        self.workspace.state.error_reported.connect(self._on_error_reported)
        self.stack.addWidget(self.workspace.board)
        self.stack.setCurrentWidget(self.workspace.board)
        state = self.services.settings.value("window/state")
        if not isinstance(state, QByteArray) or not self.restoreState(state):
            self._default_layout()
        width = self.services.settings.value("board/panel_width")
        if str(width).isdigit():
            self.workspace.board.set_panel_width(int(width))
        self.recent.add(folder.path)
        self.start_page.refresh()
        self.setWindowTitle(f"{self.workspace.state.project().title or folder.path.stem} — previz")
        self._update_actions()
        first = self.workspace.board.model.shot_id_at(0) if self.workspace.board.model.rowCount() else None
        self.workspace.state.set_current_shot(first)
        # What the open project holds lives as long as it does: keep it out of the
        # collector's full passes, which took 120 ms on a 2,000-shot board and froze
        # the window in the middle of a generation.
        gc.freeze()
        self.project_opened.emit(str(folder.path))

    def _default_layout(self) -> None:
        """The board gets the room; pacing is a strip under it, the side columns run
        the full height, the inspector over the queue."""
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        scenes, inspector, queue, pacing, player = self.workspace.docks
        # The player shares pacing's place, behind it until asked for (it renders only when shown).
        self.tabifyDockWidget(player, pacing)
        width, height = max(self.width(), 800), max(self.height(), 600)
        self.resizeDocks([scenes, inspector], [max(200, width // 6), max(320, width * 27 // 100)], Qt.Orientation.Horizontal)
        self.resizeDocks([inspector, queue, pacing], [int(height * 0.62), int(height * 0.3), int(height * 0.2)], Qt.Orientation.Vertical)

    def show_player(self) -> None:
        """Bring the animatic player forward, tall enough to watch, with the keys."""
        if self.workspace is None:
            return
        dock, player = self.workspace.player_dock, self.workspace.player
        dock.show()
        dock.raise_()
        if not dock.isFloating() and dock.height() < self.height() * 0.4:
            self.resizeDocks([dock], [int(self.height() * 0.45)], Qt.Orientation.Vertical)
        player.setFocus()

    def close_project(self) -> bool:
        """Close the open project, keeping everything still in flight (sketches, frames,
        imports). False when it stays open: a sketch could not be saved, or a close is
        already under way."""
        workspace = self.workspace
        if workspace is None:
            return True
        if self._closing:
            return False
        self._closing = True
        try:
            self.services.settings.setValue("window/state", self.saveState())
            self.services.settings.setValue("board/panel_width", workspace.board.panel_width())
            if not workspace.close():
                self.show_error("The project stays open", "A sketch could not be saved (see the message in the status "
                                "bar). Save it again or discard it, then close the project.")
                return False
            self.workspace = None
            self.stack.removeWidget(workspace.board)
            # The closed project's objects go now, before the next project is frozen.
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            gc.unfreeze()
            gc.collect()
        finally:
            self._closing = False
        self.stack.setCurrentWidget(self.start_page)
        self.setWindowTitle("previz")
        self._update_actions()
        return True

    def import_screenplay(self, script: str | Path, remove_on_failure: bool = False) -> None:
        """Import (or re-import) a screenplay into the open project in the background,
        with a progress dialog that can cancel. The importer writes in one transaction."""
        workspace = self.workspace
        if workspace is None:
            return
        project = workspace.state.folder.path
        progress = QProgressDialog(f"Importing {Path(script).name}…", "Cancel", 0, 0, self)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)
        task = run_in_background(self.services.pool, import_in_thread(project, Path(script)), parent=self)
        task.progressed.connect(lambda done, total: (progress.setMaximum(total), progress.setValue(done)))
        progress.canceled.connect(task.cancel)

        def succeeded(report: ImportReport) -> None:
            progress.reset()
            if self.workspace is workspace:
                workspace.state.reload()
                self.statusBar().showMessage(report.summary(), 10_000)
            self.import_finished.emit(True)

        def failed(exc: BaseException) -> None:
            progress.reset()
            if remove_on_failure and self.workspace is workspace and self.close_project():
                shutil.rmtree(project, ignore_errors=True)
                self.recent.remove(str(project.resolve()))
                self.start_page.refresh()
            self.show_error("Cannot import screenplay", f"{Path(script).name}: {exc}\n\nThe project was not changed.")
            self.import_finished.emit(False)

        task.succeeded.connect(succeeded)
        task.failed.connect(failed)

    # -- dialogs -----------------------------------------------------------------------

    def ask_new_project(self, script: Path | None = None) -> None:
        dialog = NewProjectDialog(script if isinstance(script, Path) else None, self)
        dialog.accepted.connect(lambda: self.create_project(dialog.choice()))
        dialog.open()

    def ask_open_project(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Open project (a .previz folder)")
        if chosen:
            self.open_project(chosen)

    def ask_import_screenplay(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Import screenplay", "", SCRIPT_FILTER)
        if not chosen:
            return
        if self.workspace is None:
            self.ask_new_project(Path(chosen))
        else:
            self.import_screenplay(chosen)

    def show_engine_settings(self) -> EngineSettingsDialog:
        dialog = EngineSettingsDialog(self.services, self.workspace.state if self.workspace else None, self)
        if self.workspace is not None:
            dialog.settings_changed.connect(self._on_engine_settings_changed)
        dialog.open()
        return dialog

    def _on_engine_settings_changed(self, _choice) -> None:
        if self.workspace is not None:
            self.workspace.queue.apply_engine_settings()

    def _sketch_current(self) -> None:
        shot_id = self.workspace.state.current_shot_id if self.workspace else None
        if shot_id is None:
            self.workspace.state.report_error("Select a shot to sketch")
            return
        self.workspace.open_sketch(shot_id, self.workspace.inspector.takes_view.selected_take_id() or -1)

    def show_error(self, title: str, message: str) -> None:
        """A window-modal error dialog that does not block the caller."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_shown.emit(message)

    def _on_error_reported(self, message: str) -> None:
        self.statusBar().showMessage(message, 10_000)

    def closeEvent(self, event) -> None:
        self.services.settings.setValue("window/geometry", self.saveGeometry())
        if not self.close_project():
            event.ignore()
            return
        self.services.settings.sync()
        super().closeEvent(event)
