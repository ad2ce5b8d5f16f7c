"""The Animatic menu's entries for one open project: export, music bed."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from ..animatic.export import export_animatic
from ..store import operations as ops
from .animatic_export import AnimaticExportDialog
from .export_runner import CLOSE_WAIT_MS, ExportFunction, ExportRunner
from .services import Services
from .sound import MusicBedDialog
from .state import ProjectState


class AnimaticActions(QObject):
    """The animatic entries of one open project's menus: Export Animatic…, Set Music
    Bed…, Clear Music Bed; they own the export runner and the dialogs. `close()` before
    the project closes."""

    def __init__(self, state: ProjectState, services: Services, window: QWidget, parent: QObject | None = None,
                 *, export: ExportFunction = export_animatic) -> None:
        super().__init__(parent if parent is not None else window)
        self.state, self.services, self.window = state, services, window
        self.runner = ExportRunner(state.folder, export, self)
        self.export_dialog: AnimaticExportDialog | None = None
        self.music_dialog: MusicBedDialog | None = None
        self.export_action = QAction("Export &Animatic…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.music_action = QAction("Set &Music Bed…", self)
        self.clear_music_action = QAction("Clear Music Bed", self)
        self.actions = [self.export_action, self.music_action, self.clear_music_action]
        self.export_action.triggered.connect(self.show_export_dialog)
        self.music_action.triggered.connect(self.show_music_bed_dialog)
        self.clear_music_action.triggered.connect(self.clear_music_bed)
        state.project_changed.connect(self._on_project_changed)
        self._on_project_changed()

    def show_export_dialog(self) -> AnimaticExportDialog:
        if self.export_dialog is None:
            self.export_dialog = AnimaticExportDialog(self.state, self.runner, self.window)
        self.export_dialog.show()
        self.export_dialog.raise_()
        return self.export_dialog

    def show_music_bed_dialog(self) -> MusicBedDialog:
        if self.music_dialog is None:
            self.music_dialog = MusicBedDialog(self.state, self.window, pool=self.services.pool)
        self.music_dialog.show()
        self.music_dialog.raise_()
        return self.music_dialog

    def clear_music_bed(self) -> None:
        if self.state.project().music_hash is not None:
            self.state.perform(ops.EditProject("music_hash", None))

    def _on_project_changed(self) -> None:
        self.clear_music_action.setEnabled(self.state.project().music_hash is not None)

    def close(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Cancel a running export and wait for it, let music still being imported land,
        then close the dialogs and remove the actions. False if something was still
        running when `timeout_ms` ran out."""
        finished = self.runner.cancel_and_wait(timeout_ms)
        if self.music_dialog is not None:
            finished = self.music_dialog.sound.flush(timeout_ms) and finished
        for dialog in (self.export_dialog, self.music_dialog):
            if dialog is not None:
                dialog.close()
                dialog.deleteLater()
        self.export_dialog = self.music_dialog = None
        self.state.project_changed.disconnect(self._on_project_changed)
        self.deleteLater()  # its actions go with it, and leave every menu they were in
        return finished
