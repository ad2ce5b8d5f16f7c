"""Every user edit as an operation that can be applied, reverted and applied again.

An operation captures what it needs to undo itself the first time it is applied.
`perform` and `undo` run it as one transaction; the GUI puts operations on its
QUndoStack, the command line and tests use `History`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from ..domain.deck import Deck
from ..domain.model import Shot, normalize_field
from ..domain.vocabulary import MOVE_DIRECTIONS, Direction
from . import scenes, settings, shots, takes
from .deck import deck_mentions, read_deck, write_deck
from .rows import to_columns
from .transaction import write_transaction


class Operation(ABC):
    """One undoable edit. `label` names it in an Edit menu ("Edit shot 12A size")."""

    label: str = ""

    @abstractmethod
    def apply(self, db: Database) -> None: ...

    @abstractmethod
    def revert(self, db: Database) -> None: ...


def perform(db: Database, operation: Operation) -> None:
    """Apply `operation` in one transaction (all of it, or nothing on error)."""
    with write_transaction(db):
        operation.apply(db)


def undo(db: Database, operation: Operation) -> None:
    """Revert `operation` in one transaction."""
    with write_transaction(db):
        operation.revert(db)


class History:
    """An undo/redo stack over a project database, for code without Qt."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._done: list[Operation] = []
        self._undone: list[Operation] = []

    def perform(self, operation: Operation) -> None:
        perform(self.db, operation)
        self._done.append(operation)
        self._undone.clear()

    def undo(self) -> Operation:
        """Undo the last operation. Raises IndexError when there is nothing to undo."""
        if not self._done:
            raise IndexError("nothing to undo")
        operation = self._done[-1]
        undo(self.db, operation)
        self._undone.append(self._done.pop())
        return operation

    def redo(self) -> Operation:
        """Redo the last undone operation. Raises IndexError when there is none."""
        if not self._undone:
            raise IndexError("nothing to redo")
        operation = self._undone[-1]
        perform(self.db, operation)
        self._done.append(self._undone.pop())
        return operation


class Compound(Operation):
    """Several operations as one edit (a multi-shot move, a paste): applied in order,
    reverted in reverse, one transaction, one step of undo."""

    def __init__(self, label: str, operations: list[Operation]) -> None:
        if not operations:
            raise ValueError("a compound edit needs at least one operation")
        self.label, self.operations = label, list(operations)

    def apply(self, db: Database) -> None:
        for operation in self.operations:
            operation.apply(db)

    def revert(self, db: Database) -> None:
        for operation in reversed(self.operations):
            operation.revert(db)


class _EditField(Operation):
    """Set one validated field of a shot or scene; remembers the old value."""

    kind = ""

    def __init__(self, row_id: int, field: str, value: Any) -> None:
        self.row_id, self.field = row_id, field
        self.value = normalize_field(self.kind, field, value)
        self.label = f"Edit {self.kind} {field}"
        self._old: Any = None

    def apply(self, db: Database) -> None:
        self._old = getattr(self._read(db, self.row_id), self.field)
        self._write(db, self.row_id, **{self.field: self.value})

    def revert(self, db: Database) -> None:
        self._write(db, self.row_id, **{self.field: self._old})


class EditShot(_EditField):
    """Set one field of a shot (see `domain.model.SHOT_FIELDS`).

    A locked number must be free in its scene; a direction must suit the move, and a
    new move clears a direction it cannot have (undo brings it back).
    """

    kind = "shot"
    _read = staticmethod(shots.get_shot)
    _write = staticmethod(shots.update_shot)
    _cleared_direction: Direction | None = None

    def apply(self, db: Database) -> None:
        shot = shots.get_shot(db, self.row_id)
        if self.field == "locked_number" and self.value is not None:
            locked = {s.locked_number for s in shots.list_shots(db, shot.scene_id) if s.id != shot.id}
            if self.value in locked:
                raise ValueError(f"shot number {self.value} is already locked on another shot of this scene")
        if self.field == "direction" and self.value and self.value not in MOVE_DIRECTIONS[shot.movement]:
            allowed = ", ".join(sorted(d.value for d in MOVE_DIRECTIONS[shot.movement])) or "none"
            raise ValueError(f"a {shot.movement.value} move cannot go {self.value.value}; directions: {allowed}")
        super().apply(db)
        if self.field == "movement" and shot.direction and shot.direction not in MOVE_DIRECTIONS[self.value]:
            self._cleared_direction = shot.direction
            shots.update_shot(db, self.row_id, direction=Direction.none)

    def revert(self, db: Database) -> None:
        super().revert(db)
        if self._cleared_direction is not None:
            shots.update_shot(db, self.row_id, direction=self._cleared_direction)


class EditScene(_EditField):
    """Set one field of a scene (see `domain.model.SCENE_FIELDS`)."""

    kind = "scene"
    _read = staticmethod(scenes.get_scene)
    _write = staticmethod(scenes.update_scene)


class EditProject(Operation):
    """Change one project setting (title, logline, aspect ratio, fps, ...)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value = field, value
        self.label = f"Edit project {field}"
        self._old: Any = None

    def apply(self, db: Database) -> None:
        self._old = getattr(settings.read_project(db), self.field)
        settings.update_project(db, **{self.field: self.value})

    def revert(self, db: Database) -> None:
        settings.update_project(db, **{self.field: self._old})


class InsertShot(Operation):
    """Insert a new shot at `position` in a scene (later shots move down).

    Undo removes the shot with whatever it gained since (takes from a generation);
    redo brings all of it back, ids included.
    """

    label = "Insert shot"

    def __init__(self, scene_id: int, position: int, shot: Shot | None = None) -> None:
        self.scene_id, self.position = scene_id, position
        self.shot = replace(
            shot or Shot(), scene_id=scene_id, position=position, id=None, number="", hero_take_id=None
        )
        self.shot_id: int | None = None
        self._removed: DeleteShots | None = None

    def apply(self, db: Database) -> None:
        if self._removed is not None:
            self._removed.revert(db)
            return
        count = shots.scene_shot_count(db, self.scene_id)
        if not 0 <= self.position <= count:
            raise ValueError(f"position {self.position} is outside the scene's 0..{count}")
        self.shot_id = shots.insert_shot_row(db, shots.new_shot_row(self.shot))

    def revert(self, db: Database) -> None:
        self._removed = DeleteShots([self.shot_id])
        self._removed.apply(db)


class DeleteShots(Operation):
    """Delete shots with their takes; undo restores them exactly, ids included."""

    def __init__(self, shot_ids: list[int]) -> None:
        self.shot_ids = list(shot_ids)
        self.label = "Delete shot" if len(shot_ids) == 1 else f"Delete {len(shot_ids)} shots"
        self._shots: list[dict[str, Any]] = []
        self._takes: list[dict[str, Any]] = []
        self._parents: list[tuple[int, int]] = []
        self._deck: Deck | None = None  # the pitch deck, when it shows any of them

    def apply(self, db: Database) -> None:
        self._shots = sorted(
            (shots.shot_row(db, shot_id) for shot_id in self.shot_ids),
            key=lambda row: (row["scene_id"], row["position"]),
        )
        marks = ",".join("?" * len(self.shot_ids))
        self._takes = list(db["takes"].rows_where(f"shot_id IN ({marks})", self.shot_ids, order_by="id"))
        take_ids = [take["id"] for take in self._takes]
        tmarks = ",".join("?" * len(take_ids))
        # Takes of other shots derived from these lose their parent link; remember it.
        self._parents = db.execute(
            f"SELECT id, parent_id FROM takes WHERE parent_id IN ({tmarks}) AND shot_id NOT IN ({marks})",
            take_ids + self.shot_ids,
        ).fetchall() if take_ids else []
        deck = read_deck(db)
        self._deck = deck if deck_mentions(deck, self.shot_ids, take_ids) else None
        for row in reversed(self._shots):
            db["shots"].delete(row["id"])
            shots.close_gap(db, row["scene_id"], row["position"])

    def revert(self, db: Database) -> None:
        for row in self._shots:
            shots.insert_shot_row(db, {**row, "hero_take_id": None})
        for take in sorted(self._takes, key=lambda t: t["id"]):
            db["takes"].insert({**take, "parent_id": None})
        for take in self._takes:
            if take["parent_id"] is not None:
                db["takes"].update(take["id"], {"parent_id": take["parent_id"]})
        for row in self._shots:
            if row["hero_take_id"] is not None:
                db["shots"].update(row["id"], {"hero_take_id": row["hero_take_id"]})
        for take_id, parent_id in self._parents:
            db["takes"].update(take_id, {"parent_id": parent_id})
        if self._deck is not None:
            write_deck(db, self._deck)


class MoveShot(Operation):
    """Move a shot to `position` in `scene_id` (the same scene or another)."""

    label = "Move shot"

    def __init__(self, shot_id: int, scene_id: int, position: int) -> None:
        self.shot_id, self.scene_id, self.position = shot_id, scene_id, position
        self._from: tuple[int, int] | None = None

    def apply(self, db: Database) -> None:
        row = shots.shot_row(db, self.shot_id)
        self._from = (row["scene_id"], row["position"])
        self._move(db, self.scene_id, self.position)

    def revert(self, db: Database) -> None:
        if self._from is None:
            raise RuntimeError("MoveShot reverted before it was applied")
        self._move(db, *self._from)

    def _move(self, db: Database, scene_id: int, position: int) -> None:
        row = shots.shot_row(db, self.shot_id)
        shots.close_gap(db, row["scene_id"], row["position"])
        db["shots"].update(self.shot_id, {"position": -1})
        count = shots.scene_shot_count(db, scene_id) - (1 if scene_id == row["scene_id"] else 0)
        if not 0 <= position <= count:
            raise ValueError(f"position {position} is outside the scene's 0..{count}")
        shots.open_gap(db, scene_id, position)
        db["shots"].update(self.shot_id, {"scene_id": scene_id, "position": position})


class MoveScene(Operation):
    """Move a scene to another place in the film's order."""

    label = "Move scene"

    def __init__(self, scene_id: int, position: int) -> None:
        self.scene_id, self.position = scene_id, position
        self._old: int | None = None

    def apply(self, db: Database) -> None:
        self._old = scenes.get_scene(db, self.scene_id).position
        self._move(db, self.position)

    def revert(self, db: Database) -> None:
        if self._old is None:
            raise RuntimeError("MoveScene reverted before it was applied")
        self._move(db, self._old)

    def _move(self, db: Database, position: int) -> None:
        order = [s.id for s in scenes.list_scenes(db) if s.id != self.scene_id]
        if not 0 <= position <= len(order):
            raise ValueError(f"scene position {position} is outside 0..{len(order)}")
        order.insert(position, self.scene_id)
        for index, scene_id in enumerate(order):
            db["scenes"].update(scene_id, {"position": index})


class SetHeroTake(Operation):
    """Choose the take that represents a shot on the board (None: no hero)."""

    label = "Set hero take"

    def __init__(self, shot_id: int, take_id: int | None) -> None:
        self.shot_id, self.take_id = shot_id, take_id
        self._old: int | None = None

    def apply(self, db: Database) -> None:
        if self.take_id is not None:
            owner = db.execute("SELECT shot_id FROM takes WHERE id = ?", [self.take_id]).fetchone()
            if owner is None or owner[0] != self.shot_id:
                raise ValueError(f"take {self.take_id} is not a take of shot {self.shot_id}")
        self._old = shots.shot_row(db, self.shot_id)["hero_take_id"]
        shots.update_shot(db, self.shot_id, hero_take_id=self.take_id)

    def revert(self, db: Database) -> None:
        shots.update_shot(db, self.shot_id, hero_take_id=self._old)


class StarTake(Operation):
    """Star or unstar a take (takes are otherwise immutable)."""

    def __init__(self, take_id: int, starred: bool = True) -> None:
        self.take_id, self.starred = take_id, bool(starred)
        self.label = "Star take" if starred else "Unstar take"
        self._old: bool | None = None

    def apply(self, db: Database) -> None:
        self._old = takes.get_take(db, self.take_id).starred
        db["takes"].update(self.take_id, {"starred": int(self.starred)})

    def revert(self, db: Database) -> None:
        db["takes"].update(self.take_id, {"starred": int(bool(self._old))})


class EditCast(Operation):
    """Change a character's or location's description or reference images (media hashes)."""

    TABLES = {"character": "characters", "location": "locations"}
    FIELDS = ("description", "reference_images")

    def __init__(self, kind: str, row_id: int, field: str, value: Any) -> None:
        if kind not in self.TABLES or field not in self.FIELDS:
            raise ValueError(f"cannot edit {kind} {field}; editable: {', '.join(self.FIELDS)}")
        self.table, self.row_id, self.field = self.TABLES[kind], row_id, field
        self.value = tuple(value) if field == "reference_images" else str(value)
        self.label = f"Edit {kind} {field}"
        self._old: Any = None

    def apply(self, db: Database) -> None:
        rows = list(db[self.table].rows_where("id = ?", [self.row_id]))
        if not rows:
            raise ValueError(f"no {self.table[:-1]} with id {self.row_id}")
        self._old = rows[0][self.field]
        db[self.table].update(self.row_id, to_columns({self.field: self.value}))

    def revert(self, db: Database) -> None:
        db[self.table].update(self.row_id, {self.field: self._old})


class EditDeck(Operation):
    """Replace the pitch deck with `deck`; undo brings back the deck it replaced."""

    label = "Edit pitch deck"

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        self._old: Deck | None = None

    def apply(self, db: Database) -> None:
        if self._old is None:
            self._old = read_deck(db)
        write_deck(db, self.deck)

    def revert(self, db: Database) -> None:
        if self._old is None:
            raise RuntimeError("EditDeck reverted before it was applied")
        write_deck(db, self._old)
