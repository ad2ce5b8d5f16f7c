"""The scenes panel: the film's scenes in order with their shot counts, a filter, drag
to reorder, and shots dropped on a scene moved to its end."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import (
    QAbstractListModel, QItemSelectionModel, QMimeData, QModelIndex, QObject, QSortFilterProxyModel, Qt,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLineEdit, QListView, QStyle, QVBoxLayout, QWidget

from ..domain.model import Scene
from ..store import operations as ops
from ..store import scenes as scene_store
from ..store import shots as shot_store
from .board_model import SHOT_MIME, ids_from_mime, ids_mime, shot_ids_from_mime
from .state import ProjectState
from .theme import DIM_TEXT

SCENE_MIME = "application/x-previz-scene-ids"


class SceneRole(IntEnum):
    scene_id = Qt.ItemDataRole.UserRole + 1
    scene = Qt.ItemDataRole.UserRole + 2
    search_text = Qt.ItemDataRole.UserRole + 3  # what the filter matches


def scene_title(scene: Scene) -> str:
    """A scene as the list names it, like `12  INT. LIGHTHOUSE - NIGHT` (from its parts
    when the heading is empty)."""
    heading = scene.heading or " - ".join(
        part for part in (f"{scene.int_ext.value}. {scene.location}".strip(". "), scene.time_of_day.value) if part
    )
    return f"{scene.number}  {heading}"


class SceneListModel(QAbstractListModel):
    """Every scene in film order (removed ones last, greyed) with its shot count."""

    def __init__(self, state: ProjectState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._scenes: list[Scene] = []
        self._counts: dict[int, int] = {}
        self._load()
        state.scenes_changed.connect(self._on_scenes_changed)
        state.board_changed.connect(self._on_scenes_changed)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._scenes)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._scenes):
            return None
        scene = self._scenes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            count = self._counts.get(scene.id, 0)
            removed = "  (removed)" if scene.removed else ""
            return f"{scene_title(scene)}{removed}\n{count} shot{'' if count == 1 else 's'}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return scene.synopsis or scene.heading
        if role == Qt.ItemDataRole.ForegroundRole and scene.removed:
            return DIM_TEXT
        if role == Qt.ItemDataRole.FontRole and scene.removed:
            font = QFont()
            font.setItalic(True)
            return font
        if role == SceneRole.scene_id:
            return scene.id
        if role == SceneRole.scene:
            return scene
        if role == SceneRole.search_text:
            return "\n".join((scene.number, scene.heading, scene.location, scene.synopsis))
        return None

    def row_of(self, scene_id: int) -> int | None:
        return next((row for row, scene in enumerate(self._scenes) if scene.id == scene_id), None)

    def scene_id_at(self, row: int) -> int | None:
        return self._scenes[row].id if 0 <= row < len(self._scenes) else None

    def _load(self) -> None:
        self._scenes = scene_store.list_scenes(self.state.db)
        self._counts = scene_store.shot_counts(self.state.db)

    def _on_scenes_changed(self) -> None:
        self.beginResetModel()
        self._load()
        self.endResetModel()

    # -- drag and drop -----------------------------------------------------------------

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDropEnabled
        # A removed scene keeps its place after the others; it is not dragged back in.
        return flags if self._scenes[index.row()].removed else flags | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return [SCENE_MIME, SHOT_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        return ids_mime(SCENE_MIME, [self._scenes[row].id for row in sorted({index.row() for index in indexes if index.isValid()})])

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: QModelIndex) -> bool:
        if action != Qt.DropAction.MoveAction:
            return False
        if data.hasFormat(SCENE_MIME):
            return True
        return data.hasFormat(SHOT_MIME) and parent.isValid()  # shots go onto a scene

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: QModelIndex) -> bool:
        """Move a dragged scene to the drop point, or dropped shots to the end of the
        scene they fall on. Always False: the store changed and the models reload."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        if data.hasFormat(SCENE_MIME):
            ids = ids_from_mime(data, SCENE_MIME)
            if ids:
                self.move_scene(ids[0], row, onto=parent.row() if parent.isValid() else None)
        else:
            self.move_shots_to_scene(shot_ids_from_mime(data), self._scenes[parent.row()].id)
        return False

    def move_scene(self, scene_id: int, row: int, onto: int | None = None) -> bool:
        """Move a scene before the scene at `row` (-1 or past the end: last), or into the
        place of the scene at row `onto`, as one undoable edit."""
        source = self.row_of(scene_id)
        if source is None:
            return False
        if onto is not None:
            position = onto
        else:
            row = len(self._scenes) if row < 0 else row
            position = row if row <= source else row - 1
        active = sum(not scene.removed for scene in self._scenes)
        position = max(0, min(position, active - 1))
        if position == source:
            return False
        return self.state.perform(ops.MoveScene(scene_id, position))

    def move_shots_to_scene(self, shot_ids: list[int], scene_id: int) -> bool:
        """Move shots (kept in film order) to the end of a scene, as one undoable edit."""
        marks = ",".join("?" * len(shot_ids))
        moving = [row[0] for row in self.state.db.execute(
            "SELECT shots.id FROM shots JOIN scenes ON scenes.id = shots.scene_id "
            f"WHERE shots.id IN ({marks}) ORDER BY scenes.removed, scenes.position, shots.position", shot_ids,
        )] if shot_ids else []
        before = [shot.id for shot in shot_store.list_shots(self.state.db, scene_id)]
        order, moves = list(before), []
        for shot_id in moving:
            if shot_id in order:
                order.remove(shot_id)
            moves.append(ops.MoveShot(shot_id, scene_id, len(order)))
            order.append(shot_id)
        if order == before:
            return False
        number = self._scenes[self.row_of(scene_id)].number
        label = f"Move shot to scene {number}" if len(moves) == 1 else f"Move {len(moves)} shots to scene {number}"
        return self.state.perform(ops.Compound(label, moves))


class ScenesView(QWidget):
    """A filter over the scene list. Clicking a scene activates it (the board scrolls
    there); the scene of the state's current shot is selected."""

    scene_activated = Signal(int)  # scene id

    def __init__(self, state: ProjectState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = SceneListModel(state, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(SceneRole.search_text)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._kept: int | None = None

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter scenes")
        self.filter_edit.setClearButtonEnabled(True)
        view = self.list_view = QListView(self)
        view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        view.setDragDropMode(QListView.DragDropMode.DragDrop)
        view.setDefaultDropAction(Qt.DropAction.MoveAction)
        view.setDropIndicatorShown(True)
        view.setSpacing(2)
        view.setModel(self.proxy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addWidget(view, 1)

        self.filter_edit.textChanged.connect(self._on_filter_changed)
        view.clicked.connect(self._on_index_clicked)
        view.activated.connect(self._on_index_activated)
        self.model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        self.model.modelReset.connect(self._on_model_reset)
        state.current_shot_changed.connect(self._on_current_shot_changed)

    def select_scene(self, scene_id: int | None) -> None:
        """Select a scene without activating it (nothing is emitted)."""
        row = self.model.row_of(scene_id) if scene_id is not None else None
        index = self.proxy.mapFromSource(self.model.index(row)) if row is not None else QModelIndex()
        selection = self.list_view.selectionModel()
        if not index.isValid():
            selection.clearSelection()
            return
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list_view.scrollTo(index)

    def selected_scene_id(self) -> int | None:
        index = self.list_view.currentIndex()
        return index.data(SceneRole.scene_id) if index.isValid() and self.list_view.selectionModel().isSelected(index) else None

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        # Rows hidden by a filter would make a dragged scene's new place ambiguous.
        self.list_view.setDragEnabled(not text.strip())

    def _on_index_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.scene_activated.emit(index.data(SceneRole.scene_id))

    def _on_index_activated(self, index: QModelIndex) -> None:
        # Where a single click activates, `clicked` has already said so.
        if not self.style().styleHint(QStyle.StyleHint.SH_ItemView_ActivateItemOnSingleClick, None, self.list_view):
            self._on_index_clicked(index)

    def _on_current_shot_changed(self, shot_id: int) -> None:
        if shot_id < 0:
            return
        try:
            scene_id = self.state.shot(shot_id).scene_id
        except ValueError:
            return
        if scene_id != self.selected_scene_id():
            self.select_scene(scene_id)

    def _on_model_about_to_be_reset(self) -> None:
        self._kept = self.selected_scene_id()

    def _on_model_reset(self) -> None:
        if self._kept is not None:
            self.select_scene(self._kept)
