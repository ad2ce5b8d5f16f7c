"""Scenes: the film's order of scenes, each with its heading and script text."""

from __future__ import annotations

from sqlite_utils import Database

from ..domain.model import Scene
from .rows import from_row, to_columns, to_row


def list_scenes(db: Database, include_removed: bool = True) -> list[Scene]:
    """Every scene in film order; scenes a re-import marked removed come last."""
    where = None if include_removed else "removed = 0"
    return [
        from_row(Scene, row)
        for row in db["scenes"].rows_where(where, order_by="removed, position")
    ]


def get_scene(db: Database, scene_id: int) -> Scene:
    """One scene by id. Raises ValueError if there is none."""
    rows = list(db["scenes"].rows_where("id = ?", [scene_id]))
    if not rows:
        raise ValueError(f"no scene with id {scene_id}")
    return from_row(Scene, rows[0])


def find_scene(db: Database, number: str) -> Scene:
    """The scene a user names by its number. Raises ValueError if there is none."""
    rows = list(db["scenes"].rows_where("number = ? AND removed = 0", [str(number).strip().upper()]))
    if not rows:
        raise ValueError(f"no scene numbered {number!r}")
    return from_row(Scene, rows[0])


def insert_scene(db: Database, scene: Scene) -> int:
    """Add a row for `scene` (its id, if set, is kept); return the id."""
    return db["scenes"].insert(to_row(scene)).last_pk


def update_scene(db: Database, scene_id: int, **values: object) -> None:
    db["scenes"].update(scene_id, to_columns(values))


def shot_counts(db: Database) -> dict[int, int]:
    """Number of shots per scene id."""
    return dict(db.execute("SELECT scene_id, count(*) FROM shots GROUP BY scene_id").fetchall())

