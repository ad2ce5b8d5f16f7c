"""One open project in the window: its state, thumbnails, generation queue and the
views over them, wired together. Closing it shuts the engine down and releases the
database."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from ..store import ProjectFolder
from .animatic_actions import AnimaticActions
from .board_view import BoardView
from .export_actions import ExportActions
from .inspector import InspectorView
from .pacing import PacingView
from .player import PlayerView
from .queue import GenerationQueue
from .queue_view import QueueView
from .scenes_view import ScenesView
from .services import Services
from .sketch_dialog import SketchDialog
from .state import ProjectState
from .thumbnails import ThumbnailCache


class Workspace(QObject):
    """The project's objects and views; the window places `board` in its centre and
    `docks` around it."""

    def __init__(self, folder: ProjectFolder, services: Services, window: QMainWindow) -> None:
        super().__init__(window)
        self.window, self.services = window, services
        self.state = ProjectState(folder, self)
        self.thumbnails = ThumbnailCache(folder.media.root, services.thumbnail_dir, parent=self)
        self.queue = GenerationQueue(self.state, services, self)
        self.board = BoardView(self.state, self.thumbnails)
        self.scenes = ScenesView(self.state)
        self.inspector = InspectorView(self.state, self.thumbnails, pool=services.pool)
        self.inspector.variations_spin.setValue(services.engine_settings().variations)
        self.queue_view = QueueView(self.queue)
        self.pacing = PacingView(self.state)
        self.player = PlayerView(self.state, self.thumbnails, pool=services.pool)
        self.animatic = AnimaticActions(self.state, services, window, parent=self)
        self.exports = ExportActions(self.state, services, window, parent=self, thumbnails=self.thumbnails)
        self.docks: list[QDockWidget] = [
            self._dock("Scenes", self.scenes, Qt.DockWidgetArea.LeftDockWidgetArea),
            self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
            self._dock("Generation queue", self.queue_view, Qt.DockWidgetArea.RightDockWidgetArea),
            self._dock("Pacing", self.pacing, Qt.DockWidgetArea.BottomDockWidgetArea),
            self._dock("Animatic", self.player, Qt.DockWidgetArea.BottomDockWidgetArea),
        ]
        self.player_dock = self.docks[-1]
        self.player.set_active(False)  # until its dock says it can be seen
        self.player_dock.visibilityChanged.connect(self.player.set_active)
        self.sketches: list[SketchDialog] = []
        self._wire()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(title.lower().replace(" ", "-") + "-dock")  # saveState needs names
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        return dock

    def _wire(self) -> None:
        self.scenes.scene_activated.connect(self.board.scroll_to_scene)
        self.board.generate_requested.connect(lambda ids: self.queue.generate(ids, 1))
        self.board.sketch_requested.connect(lambda shot_id: self.open_sketch(shot_id, -1))
        self.inspector.generate_requested.connect(self.queue.generate)
        self.inspector.refine_requested.connect(self.queue.refine)
        self.inspector.regenerate_requested.connect(self.queue.regenerate)
        self.inspector.sketch_requested.connect(self.open_sketch)

    def open_sketch(self, shot_id: int, take_id: int = -1) -> SketchDialog:
        dialog = SketchDialog(self.state, shot_id, None if take_id < 0 else take_id, self.window, pool=self.services.pool)
        dialog.refine_requested.connect(self.queue.refine)
        dialog.finished.connect(lambda _result: self._forget_sketch(dialog))
        self.sketches.append(dialog)
        dialog.show()
        return dialog

    def _forget_sketch(self, dialog: SketchDialog) -> None:
        if dialog in self.sketches:
            self.sketches.remove(dialog)
        if not dialog.is_busy():  # a save still running finishes first; the dialog stays till then
            dialog.deleteLater()

    def generate_selected(self, variations: int = 1) -> None:
        ids = self.board.selected_shot_ids()
        if not ids:
            self.state.report_error("Select the shots to generate first")
            return
        self.queue.generate(ids, variations)

    def close(self) -> bool:
        """Keep every unsaved sketch, wait for images being imported, stop generating
        (finished frames are kept), then close the views and release the project.
        False, with nothing closed, when a sketch could not be saved."""
        for dialog in list(self.sketches):
            if not dialog.flush():
                dialog.show()
                dialog.raise_()
                return False
        if not self.animatic.close():  # cancels a running export and waits; music imports land
            # Let go, not waited for: it ends on its own, with its own connection.
            self.state.report_error("An animatic export or music import was still stopping when the project closed")
        if not self.exports.close():  # cancels a running export and waits, as above
            self.state.report_error("A boards, shot list or pitch deck export was still stopping when the project closed")
        self.inspector.flush()  # shot sound imports land before the state closes
        self.inspector.takes_view.flush()
        self.queue.shutdown()
        for dialog in list(self.sketches):
            dialog.discard()
        # A frame still drawing past its wait is dropped: that thread reads only media
        # files and a connection of its own, so the project can close under it.
        self.player.stop()
        self.thumbnails.stop()
        for dock in self.docks:
            self.window.removeDockWidget(dock)
            dock.deleteLater()
        self.board.deleteLater()
        self.state.close()
        self.deleteLater()
        return True
