"""Takes: the frames of a shot (generated, drawn, imported). Immutable once made."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlite_utils import Database

from ..domain.model import Take
from ..domain.vocabulary import TakeKind
from . import shots
from .media import record_media
from .rows import from_row, to_row


def add_take(db: Database, take: Take) -> int:
    """Record a take whose media is already stored; return its id."""
    if not take.created:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        take = replace(take, created=stamp)
    return db["takes"].insert(to_row(take)).last_pk


def list_takes(db: Database, shot_id: int) -> list[Take]:
    return [from_row(Take, row) for row in db["takes"].rows_where("shot_id = ?", [shot_id], order_by="id")]


def get_take(db: Database, take_id: int) -> Take:
    """One take by id. Raises ValueError if there is none."""
    rows = list(db["takes"].rows_where("id = ?", [take_id]))
    if not rows:
        raise ValueError(f"no take with id {take_id}")
    return from_row(Take, rows[0])


def get_takes(db: Database, take_ids: list[int]) -> dict[int, Take]:
    """The takes of `take_ids` that exist, by id, in a few queries however many."""
    found: dict[int, Take] = {}
    for start in range(0, len(take_ids), 500):  # SQLite's limit on bound parameters
        chunk = take_ids[start : start + 500]
        for row in db["takes"].rows_where(f"id IN ({','.join('?' * len(chunk))})", chunk):
            found[row["id"]] = from_row(Take, row)
    return found


def record_take(
    db: Database, shot_id: int, kind: TakeKind, digest: str, size: int, recipe: str = "{}", parent_id: int | None = None
) -> int:
    """Record a take whose PNG is already in the media store (`MediaStore.put`); return its id.

    The first take of a shot without a hero becomes its hero, so the board shows it.
    Call inside one transaction on the thread that owns `db`.
    """
    hero = shots.shot_row(db, shot_id)["hero_take_id"]  # raises for a shot deleted meanwhile
    record_media(db, digest, size, "image/png", f"shot-{shot_id}.png")
    take_id = add_take(db, Take(shot_id, TakeKind(kind), digest, recipe, parent_id))
    if hero is None:
        shots.update_shot(db, shot_id, hero_take_id=take_id)
    return take_id
