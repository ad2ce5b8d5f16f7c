"""The open project as the UI sees it: the folder (its connection belongs to the GUI
thread), the undo stack over the store's operations, the current shot, and signals
that tell views what changed."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..domain.model import Project, Shot
from ..domain.vocabulary import TakeKind
from ..engine.frames import WrittenFrame
from ..store import ProjectError, ProjectFolder, settings, shots, takes
from ..store import operations as ops
from ..store.writer import PendingTake, TakeWriter

# What each kind of edit changes on screen.
_STRUCTURE = (ops.InsertShot, ops.DeleteShots, ops.MoveShot, ops.MoveScene)


class OperationCommand(QUndoCommand):
    """A store operation on the QUndoStack. It is applied before it is pushed (so a
    refused edit never reaches the stack); the stack's first redo() does nothing."""

    def __init__(self, state: ProjectState, operation: ops.Operation) -> None:
        super().__init__(operation.label)
        self.state, self.operation = state, operation
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        if not self.state._run(ops.perform, self.operation):
            self.state._forget_history()

    def undo(self) -> None:
        if not self.state._run(ops.undo, self.operation):
            self.state._forget_history()


class ProjectState(QObject):
    """Observable state of one open project. Every edit goes through `perform`."""

    project_changed = Signal()
    scenes_changed = Signal()
    board_changed = Signal()  # shots inserted, deleted, moved or renumbered
    shots_changed = Signal(list)  # ids of shots whose fields changed
    takes_changed = Signal(int)  # a shot gained a take, or a take was starred
    current_shot_changed = Signal(int)  # shot id, -1 for none
    deck_changed = Signal()  # the pitch deck was edited (or the edit undone or redone)
    error_reported = Signal(str)

    _recorded_from_writer = Signal(list)  # from the take writer's thread

    def __init__(self, folder: ProjectFolder, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.undo_stack = QUndoStack(self)
        self._current: int | None = None
        self._writer: TakeWriter | None = None
        self._closed = False
        self._tokens = itertools.count()
        self._waiting: dict[int, tuple[int, Callable[[int | None], None]]] = {}
        self._recorded_from_writer.connect(self._on_recorded, Qt.ConnectionType.QueuedConnection)

    @property
    def db(self):
        return self.folder.db

    def project(self) -> Project:
        return settings.read_project(self.db)

    def shot(self, shot_id: int) -> Shot:
        return shots.get_shot(self.db, shot_id)

    # -- edits -------------------------------------------------------------------------

    def perform(self, operation: ops.Operation) -> bool:
        """Apply an edit now (one transaction) and put it on the undo stack.

        A refused edit (bad value, a database error) is reported through
        `error_reported`, changes nothing and returns False.
        """
        if not self._run(ops.perform, operation):
            return False
        self.undo_stack.push(OperationCommand(self, operation))
        return True

    def _run(self, action: Callable[..., None], operation: ops.Operation) -> bool:
        try:
            action(self.db, operation)
        except (ValueError, ProjectError, sqlite3.Error) as exc:
            self.report_error(f"{operation.label}: {exc}")
            return False
        self._announce(operation)
        return True

    def _announce(self, operation: ops.Operation) -> None:
        parts = operation.operations if isinstance(operation, ops.Compound) else [operation]
        shot_ids: list[int] = []
        structure = scenes = project = deck = False
        for part in parts:
            if isinstance(part, _STRUCTURE):
                structure = True
            elif isinstance(part, ops.EditShot):
                structure |= part.field == "locked_number"
                shot_ids.append(part.row_id)
            elif isinstance(part, ops.EditScene):
                scenes = True
            elif isinstance(part, (ops.EditProject, ops.EditCast)):
                project = True
            elif isinstance(part, ops.SetHeroTake):
                shot_ids.append(part.shot_id)
                self.takes_changed.emit(part.shot_id)
            elif isinstance(part, ops.StarTake):
                self.takes_changed.emit(takes.get_take(self.db, part.take_id).shot_id)
            elif isinstance(part, ops.EditDeck):
                deck = True
        if project:
            self.project_changed.emit()
        if scenes or structure:
            self.scenes_changed.emit()
        if structure:
            self.board_changed.emit()
            self._forget_missing_current()
        elif shot_ids:
            self.shots_changed.emit(shot_ids)
        if deck:
            self.deck_changed.emit()

    def _forget_history(self) -> None:
        # The stack already moved past an edit the database refused (it was locked by
        # another writer, say); it no longer matches the project, so it is cleared.
        # Not from inside the stack's own undo(): on the next turn of the event loop.
        QTimer.singleShot(0, self.undo_stack.clear)
        self.report_error("The undo history was cleared: the project could not be changed back")

    def reload(self) -> None:
        """Tell every view to read again, after writes that were not edits (an
        import in another thread): the undo stack no longer matches, so it is cleared."""
        self.undo_stack.clear()
        self.project_changed.emit()
        self.scenes_changed.emit()
        self.board_changed.emit()
        self.deck_changed.emit()
        self._forget_missing_current()

    def record_frame_later(
        self, shot_id: int, frame: WrittenFrame, parent_id: int | None, done: Callable[[int | None], None]
    ) -> None:
        """Keep a generated frame as a take on the take writer's thread (the GUI never
        waits for the commit); `done(take_id or None)` follows on the GUI thread, after
        takes_changed and shots_changed. `close()` writes whatever is pending."""
        if self._closed:
            self.report_error("A finished frame arrived after its project closed; it was not kept")
            done(None)
            return
        if self._writer is None:
            self._writer = TakeWriter(self.folder, self._recorded_from_writer.emit)
        token = next(self._tokens)
        self._waiting[token] = (shot_id, done)
        self._writer.submit(PendingTake(token, shot_id, TakeKind.generated, frame.digest, frame.size, frame.recipe, parent_id))

    def _on_recorded(self, results: list[tuple[int, int | None, str]]) -> None:
        for token, take_id, error in results:
            shot_id, done = self._waiting.pop(token)
            if take_id is None:
                self.report_error(f"A finished frame could not be kept: {error}")
            else:
                self.takes_changed.emit(shot_id)
                self.shots_changed.emit([shot_id])
            done(take_id)

    def record_take(
        self, shot_id: int, kind: TakeKind, digest: str, size: int, recipe: str = "{}", parent_id: int | None = None
    ) -> int | None:
        """Keep a PNG already in the media store (written off the GUI thread) as a take
        of `shot_id`. Not an undoable edit: takes are only ever added. Returns the take
        id, or None (after reporting) if it cannot be kept, say because the shot is gone."""
        if self._closed:
            self.report_error(f"A new {kind} take arrived after its project closed; it was not kept")
            return None
        try:
            with self.folder.transaction():
                take_id = takes.record_take(self.db, shot_id, kind, digest, size, recipe, parent_id)
        except (ValueError, ProjectError, sqlite3.Error) as exc:
            self.report_error(f"A new {kind} take could not be kept: {exc}")
            return None
        self.takes_changed.emit(shot_id)
        self.shots_changed.emit([shot_id])
        return take_id

    def report_error(self, message: str) -> None:
        self.error_reported.emit(message)

    # -- the current shot --------------------------------------------------------------

    @property
    def current_shot_id(self) -> int | None:
        return self._current

    def set_current_shot(self, shot_id: int | None) -> None:
        if shot_id == self._current:
            return
        self._current = shot_id
        self.current_shot_changed.emit(-1 if shot_id is None else shot_id)

    def _forget_missing_current(self) -> None:
        if self._current is not None and self.db.execute("SELECT 1 FROM shots WHERE id = ?", [self._current]).fetchone() is None:
            self.set_current_shot(None)

    def close(self) -> None:
        """Write the takes still pending, tell their callers, then release the project.
        Safe to call twice."""
        if self._closed:
            return
        if self._writer is not None:
            if not self._writer.close():
                self.report_error("Some finished frames are still being written; they will be kept when they can")
            self._writer = None
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        self._closed = True
        self.undo_stack.clear()
        self.folder.close()
