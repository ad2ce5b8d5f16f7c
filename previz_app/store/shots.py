"""Shots: ordered within their scene, numbered from the scene number and order."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlite_utils import Database

from ..domain.model import Shot
from ..domain.numbering import number_shots
from .rows import from_row, to_columns, to_row

# Shot fields that are not columns: `number` is derived on read.
_NOT_COLUMNS = ("number",)


def list_shots(db: Database, scene_id: int | None = None) -> list[Shot]:
    """Shots in film order (scene order, then shot order), numbered.

    With `scene_id`, only that scene's shots. Shots of removed scenes are included,
    after the others, as their scenes are.
    """
    scene_numbers = dict(db.execute("SELECT id, number FROM scenes").fetchall())
    sql = (
        "SELECT shots.* FROM shots JOIN scenes ON scenes.id = shots.scene_id "
        + ("WHERE shots.scene_id = ? " if scene_id is not None else "")
        + "ORDER BY scenes.removed, scenes.position, shots.position"
    )
    cursor = db.execute(sql, [scene_id] if scene_id is not None else [])
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, values)) for values in cursor.fetchall()]

    by_scene: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_scene[row["scene_id"]].append(row)
    numbers: dict[int, str] = {}
    for sid, scene_rows in by_scene.items():
        labels = number_shots(scene_numbers[sid], [r["locked_number"] for r in scene_rows])
        numbers.update((r["id"], label) for r, label in zip(scene_rows, labels))
    return [from_row(Shot, row, number=numbers[row["id"]]) for row in rows]


def get_shot(db: Database, shot_id: int) -> Shot:
    """One shot by id, numbered. Raises ValueError if there is none."""
    row = db.execute("SELECT scene_id FROM shots WHERE id = ?", [shot_id]).fetchone()
    if row is None:
        raise ValueError(f"no shot with id {shot_id}")
    return next(s for s in list_shots(db, row[0]) if s.id == shot_id)


def shot_row(db: Database, shot_id: int) -> dict[str, Any]:
    """The stored row of a shot. Raises ValueError if there is none."""
    rows = list(db["shots"].rows_where("id = ?", [shot_id]))
    if not rows:
        raise ValueError(f"no shot with id {shot_id}")
    return rows[0]


def scene_shot_count(db: Database, scene_id: int) -> int:
    return db.execute("SELECT count(*) FROM shots WHERE scene_id = ?", [scene_id]).fetchone()[0]


def open_gap(db: Database, scene_id: int, position: int) -> None:
    """Make room at `position` in a scene by moving later shots down one place."""
    db.execute(
        "UPDATE shots SET position = position + 1 WHERE scene_id = ? AND position >= ?",
        [scene_id, position],
    )


def close_gap(db: Database, scene_id: int, position: int) -> None:
    """Close the hole a removed shot left at `position`."""
    db.execute(
        "UPDATE shots SET position = position - 1 WHERE scene_id = ? AND position > ?",
        [scene_id, position],
    )


def insert_shot_row(db: Database, row: dict[str, Any]) -> int:
    """Insert a stored row at its position (its id kept when present); return the id."""
    open_gap(db, row["scene_id"], row["position"])
    return db["shots"].insert(row).last_pk


def append_shot(db: Database, shot: Shot) -> int:
    """Add `shot` at the end of its scene; return the new id."""
    row = new_shot_row(shot)
    row["position"] = scene_shot_count(db, shot.scene_id)
    return db["shots"].insert(row).last_pk


def new_shot_row(shot: Shot) -> dict[str, Any]:
    return to_row(shot, skip=_NOT_COLUMNS)


def update_shot(db: Database, shot_id: int, **values: Any) -> None:
    db["shots"].update(shot_id, to_columns(values))
