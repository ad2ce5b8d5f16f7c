"""The shot board as a Qt list model: one row per shot in film order, holding in memory
what a panel needs to paint, and drag and drop that moves shots as one edit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum

from PySide6.QtCore import QAbstractListModel, QByteArray, QMimeData, QModelIndex, QObject, QStringListModel, Qt, Signal

from ..domain.model import SHOT_FIELDS, Shot, normalize_field
from ..store import operations as ops
from ..store import shots as shot_store
from .state import ProjectState
from .thumbnails import ThumbnailCache

SHOT_MIME = "application/x-previz-shot-ids"
SHOT_FIELDS_MIME = "application/x-previz-shot-fields"
# A pasted copy takes the next free number; a locked number would clash with its original.
COPIED_FIELDS = tuple(name for name in SHOT_FIELDS if name != "locked_number")
_SHOT_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDragEnabled
_HEROES = "SELECT shots.id, takes.media_hash FROM shots JOIN takes ON takes.id = shots.hero_take_id"


class BoardRole(IntEnum):
    shot_id = Qt.ItemDataRole.UserRole + 1
    shot = Qt.ItemDataRole.UserRole + 2
    scene_id = Qt.ItemDataRole.UserRole + 3
    scene_label = Qt.ItemDataRole.UserRole + 4
    scene_start = Qt.ItemDataRole.UserRole + 5
    hero_digest = Qt.ItemDataRole.UserRole + 6
    pixmap = Qt.ItemDataRole.UserRole + 7


@dataclass(slots=True)
class _Row:
    shot: Shot
    scene_label: str
    scene_start: bool
    hero_digest: str | None


class BoardModel(QAbstractListModel):
    """Every shot of the project in film order; shots of removed scenes come last."""

    aspect_ratio_changed = Signal(float)

    def __init__(self, state: ProjectState, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.thumbnails = state, thumbnails
        self.thumbnail_width = 320  # device pixels a panel's frame is painted at
        self.aspect_ratio = state.project().aspect_ratio
        self._rows: list[_Row] = []
        self._row_of: dict[int, int] = {}
        self._shots_by_digest: dict[str, set[int]] = {}
        self._load()
        state.board_changed.connect(self._on_board_changed)
        state.shots_changed.connect(self._on_shots_changed)
        state.takes_changed.connect(self._on_takes_changed)
        state.scenes_changed.connect(self._on_scenes_changed)
        state.project_changed.connect(self._on_project_changed)
        thumbnails.thumbnail_ready.connect(self._on_thumbnail_ready)

    # -- reading -----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.shot.number
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.shot.number} · {shot_badge(row.shot)} · {row.shot.duration:.1f} s\n{row.shot.action or row.shot.dialogue}".strip()
        if role == BoardRole.pixmap:
            return self.thumbnails.get(row.hero_digest, self.thumbnail_width) if row.hero_digest else None
        return {
            BoardRole.shot_id: row.shot.id,
            BoardRole.shot: row.shot,
            BoardRole.scene_id: row.shot.scene_id,
            BoardRole.scene_label: row.scene_label,
            BoardRole.scene_start: row.scene_start,
            BoardRole.hero_digest: row.hero_digest,
        }.get(role)

    def row_of(self, shot_id: int) -> int | None:
        return self._row_of.get(shot_id)

    def shot_id_at(self, row: int) -> int | None:
        return self._rows[row].shot.id if 0 <= row < len(self._rows) else None

    def shot_at(self, row: int) -> Shot:
        return self._rows[row].shot

    def first_row_of_scene(self, scene_id: int) -> int | None:
        return next((r for r, row in enumerate(self._rows) if row.shot.scene_id == scene_id), None)

    def _load(self) -> None:
        db = self.state.db
        scenes = _scene_labels(db)
        heroes = dict(db.execute(_HEROES).fetchall())
        self._rows, previous = [], None
        for shot in shot_store.list_shots(db):
            self._rows.append(_Row(shot, scenes[shot.scene_id], shot.scene_id != previous, heroes.get(shot.id)))
            previous = shot.scene_id
        self._row_of = {row.shot.id: r for r, row in enumerate(self._rows)}
        self._shots_by_digest = {}
        for row in self._rows:
            if row.hero_digest:
                self._shots_by_digest.setdefault(row.hero_digest, set()).add(row.shot.id)

    # -- keeping up with the store -----------------------------------------------------

    def _on_board_changed(self) -> None:
        self.beginResetModel()
        self._load()
        self.endResetModel()

    def _on_shots_changed(self, shot_ids: list[int]) -> None:
        present = [shot_id for shot_id in dict.fromkeys(shot_ids) if shot_id in self._row_of]
        if not present:
            return
        scene_ids = {self._rows[self._row_of[shot_id]].shot.scene_id for shot_id in present}
        fresh = {shot.id: shot for sid in scene_ids for shot in shot_store.list_shots(self.state.db, sid)}
        heroes = self._hero_digests(present)
        for shot_id in present:
            row = self._rows[self._row_of[shot_id]]
            row.shot = fresh.get(shot_id, row.shot)  # a deleted shot goes with board_changed
            self._set_hero(row, heroes.get(shot_id))
            self._emit_row_changed(shot_id)

    def _on_takes_changed(self, shot_id: int) -> None:
        if shot_id not in self._row_of:
            return
        row = self._rows[self._row_of[shot_id]]
        if self._set_hero(row, self._hero_digests([shot_id]).get(shot_id)):
            self._emit_row_changed(shot_id)

    def _on_scenes_changed(self) -> None:
        # Headings can change without the board changing; a structural edit resets anyway.
        labels = _scene_labels(self.state.db)
        for row in self._rows:
            label = labels.get(row.shot.scene_id, row.scene_label)
            if label != row.scene_label:
                row.scene_label = label
                self._emit_row_changed(row.shot.id, [BoardRole.scene_label])

    def _on_project_changed(self) -> None:
        aspect = self.state.project().aspect_ratio
        if aspect != self.aspect_ratio:
            self.aspect_ratio = aspect
            self.aspect_ratio_changed.emit(aspect)

    def _on_thumbnail_ready(self, digest: str) -> None:
        for shot_id in self._shots_by_digest.get(digest, ()):
            self._emit_row_changed(shot_id, [BoardRole.pixmap])

    def _hero_digests(self, shot_ids: list[int]) -> dict[int, str]:
        marks = ",".join("?" * len(shot_ids))
        return dict(self.state.db.execute(f"{_HEROES} WHERE shots.id IN ({marks})", shot_ids).fetchall())

    def _set_hero(self, row: _Row, digest: str | None) -> bool:
        if digest == row.hero_digest:
            return False
        if row.hero_digest:
            self._shots_by_digest.get(row.hero_digest, set()).discard(row.shot.id)
        if digest:
            self._shots_by_digest.setdefault(digest, set()).add(row.shot.id)
        row.hero_digest = digest
        return True

    def _emit_row_changed(self, shot_id: int, roles: list[int] | None = None) -> None:
        index = self.index(self._row_of[shot_id])
        self.dataChanged.emit(index, index, roles or [])

    # -- drag and drop -----------------------------------------------------------------

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drops land between panels, never on one
        return _SHOT_FLAGS

    def mimeTypes(self) -> list[str]:
        return [SHOT_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        return shot_ids_mime([self._rows[r].shot.id for r in rows])

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: QModelIndex) -> bool:
        return action == Qt.DropAction.MoveAction and data.hasFormat(SHOT_MIME)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: QModelIndex) -> bool:
        """Move the dropped shots before the shot at `row` (past the end: to the end of
        the last scene). Always False: the store moved them and `board_changed` resets
        this model, so Qt must not remove any rows itself."""
        if self.canDropMimeData(data, action, row, column, parent):
            self.move_shots(shot_ids_from_mime(data), parent.row() if parent.isValid() else row)
        return False

    def move_shots(self, shot_ids: list[int], row: int, scene_id: int | None = None) -> bool:
        """Put `shot_ids` (kept in film order) before the shot at `row`, in that shot's
        scene, or in `scene_id` when given (dropped on the right half of a scene's last
        panel: at that scene's end), as one undoable edit. False when nothing moved."""
        moving = sorted((self._row_of[i] for i in set(shot_ids) if i in self._row_of))
        if not moving or not self._rows:
            return False
        moved = {self._rows[r].shot.id for r in moving}
        row = len(self._rows) if row < 0 else min(row, len(self._rows))
        target = scene_id if scene_id is not None else self._rows[min(row, len(self._rows) - 1)].shot.scene_id
        # The shots go before the first shot from the drop point on that stays in the
        # target scene (a dragged shot cannot anchor itself), or to the scene's end.
        anchor = None
        for r in range(row, len(self._rows)):
            if self._rows[r].shot.scene_id != target:
                break
            if self._rows[r].shot.id not in moved:
                anchor = r
                break
        order: dict[int, list[int]] = {}
        for item in self._rows:
            order.setdefault(item.shot.scene_id, []).append(item.shot.id)
        before = {sid: list(ids) for sid, ids in order.items()}
        moves = []
        for r in moving:
            shot = self._rows[r].shot
            order[shot.scene_id].remove(shot.id)
            ids = order[target]
            position = ids.index(self._rows[anchor].shot.id) if anchor is not None else len(ids)
            ids.insert(position, shot.id)
            moves.append(ops.MoveShot(shot.id, target, position))
        if order == before:
            return False
        label = "Move shot" if len(moves) == 1 else f"Move {len(moves)} shots"
        return self.state.perform(ops.Compound(label, moves))


def _scene_labels(db) -> dict[int, str]:
    rows = db.execute("SELECT id, number, heading FROM scenes").fetchall()
    return {scene_id: f"{number}  {heading}".strip() for scene_id, number, heading in rows}


def ids_mime(mime_type: str, ids: list[int]) -> QMimeData:
    """A drag of shots or scenes: their ids as a JSON list under `mime_type`."""
    mime = QMimeData()
    mime.setData(mime_type, QByteArray(json.dumps(list(ids)).encode()))
    return mime


def ids_from_mime(mime: QMimeData, mime_type: str) -> list[int]:
    """The ids a drag carries under `mime_type`; [] for a payload that is not a list of ids."""
    try:
        ids = json.loads(bytes(mime.data(mime_type).data()) or b"[]")
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def shot_ids_mime(shot_ids: list[int]) -> QMimeData:
    return ids_mime(SHOT_MIME, shot_ids)


def shot_ids_from_mime(mime: QMimeData) -> list[int]:
    return ids_from_mime(mime, SHOT_MIME)


def shot_badge(shot: Shot) -> str:
    return f"{shot.size.value} · {shot.angle.value}"


def shot_fields_mime(shots: list[Shot]) -> QMimeData:
    """Shots on the clipboard: their editable fields as JSON for pasting here, and a
    plain-text shot list for any other app."""
    mime = _qt_made_mime_data()
    payload = [{name: getattr(shot, name) for name in COPIED_FIELDS} for shot in shots]
    mime.setData(SHOT_FIELDS_MIME, QByteArray(json.dumps(payload).encode()))
    lines = [f"{s.number}\t{shot_badge(s)}\t{s.duration:.1f} s\t{s.action or s.dialogue}".rstrip() for s in shots]
    mime.setText("\n".join(lines))
    return mime


def shots_from_mime(mime: QMimeData) -> list[Shot]:
    """The shots a `shot_fields_mime` payload describes (no scene, number or takes).
    Raises ValueError for a payload that is not a list of shot fields."""
    try:
        payload = json.loads(bytes(mime.data(SHOT_FIELDS_MIME).data()))
    except ValueError as exc:
        raise ValueError(f"the clipboard's shots cannot be read: {exc}") from None
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ValueError("the clipboard's shots cannot be read: expected a list of shot fields")
    return [
        Shot(**{name: normalize_field("shot", name, item[name]) for name in COPIED_FIELDS if name in item})
        for item in payload
    ]


def _qt_made_mime_data() -> QMimeData:
    """An empty QMimeData made by Qt itself, for the clipboard. One made in Python
    crashes the process at exit while the clipboard holds it (PySide6 destroys its
    Python half after the interpreter is gone); Qt frees its own without Python."""
    model = QStringListModel([""])
    mime = model.mimeData([model.index(0)])
    for name in mime.formats():
        mime.removeFormat(name)
    return mime
