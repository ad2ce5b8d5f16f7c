"""AI motion: the diffusion keyframes recorded for a shot's hero take.

A row holds the recipe that made the keys (JSON: model, strength, seed, ...) and the
keys themselves, a JSON list of [time 0..1, media hash]. Rows are never edited; a
new run adds a row and the newest one for the shot's current hero wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlite_utils import Database

from .transaction import write_transaction

CHUNK = 500  # SQLite's limit on bound parameters, with room to spare


@dataclass(frozen=True, slots=True)
class ShotMotion:
    """Diffusion keyframes of one shot, made over the hero take `take_id`."""

    shot_id: int
    take_id: int
    recipe: str
    keyframes: tuple[tuple[float, str], ...]
    created: str = ""
    id: int | None = None


def save_motion(db: Database, shot_id: int, take_id: int, recipe: str, keyframes: Iterable[tuple[float, str]]) -> int:
    """Record keyframes (time 0..1, media hash of a stored image) for `shot_id` made
    over its take `take_id`; return the row id.

    Raises ValueError for fewer than two keys, times outside 0..1 or not increasing,
    an image not recorded in the media table, a recipe that is not a JSON object, or
    a take that does not belong to the shot.
    """
    keys = tuple((float(time), str(digest)) for time, digest in keyframes)
    if len(keys) < 2:
        raise ValueError(f"AI motion needs at least two keyframes (start and end), got {len(keys)}")
    times = [time for time, _digest in keys]
    if any(not 0.0 <= time <= 1.0 for time in times) or any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError(f"keyframe times must increase within 0..1, got {times}")
    digests = sorted({digest for _time, digest in keys})
    stored = {row[0] for row in db.execute(f"SELECT hash FROM media WHERE hash IN ({','.join('?' * len(digests))})", digests)}
    missing = [digest for digest in digests if digest not in stored]
    if missing:
        raise ValueError(f"keyframe image {missing[0][:12]} is not in the project's media; store it first")
    try:
        parsed = json.loads(recipe)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the motion recipe is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValueError("the motion recipe must be a JSON object")
    row = db.execute("SELECT shot_id FROM takes WHERE id = ?", [take_id]).fetchone()
    if row is None or row[0] != shot_id:
        raise ValueError(f"take {take_id} is not a take of shot {shot_id}")
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with write_transaction(db):
        return db["shot_motion"].insert(
            {"shot_id": shot_id, "take_id": take_id, "recipe": recipe, "keyframes": json.dumps([list(k) for k in keys]), "created": stamp}
        ).last_pk


def latest_motion(db: Database, shot_id: int, take_id: int) -> ShotMotion | None:
    """The newest motion recorded for `shot_id` over its take `take_id`, or None."""
    rows = list(db["shot_motion"].rows_where("shot_id = ? AND take_id = ?", [shot_id, take_id], order_by="id DESC", limit=1))
    return _motion(rows[0]) if rows else None


def motions_for(db: Database, pairs: Iterable[tuple[int, int]]) -> dict[int, ShotMotion]:
    """The newest motion of each (shot id, take id) pair that has one, by shot id;
    a handful of queries for a whole timeline."""
    wanted = dict(pairs)  # shot id -> take id
    found: dict[int, ShotMotion] = {}
    shot_ids = list(wanted)
    for start in range(0, len(shot_ids), CHUNK):
        chunk = shot_ids[start : start + CHUNK]
        rows = db["shot_motion"].rows_where(f"shot_id IN ({','.join('?' * len(chunk))})", chunk, order_by="id")
        for row in rows:
            if wanted[row["shot_id"]] == row["take_id"]:
                found[row["shot_id"]] = _motion(row)  # ordered by id: the newest is last
    return found


def _motion(row: dict[str, Any]) -> ShotMotion:
    keys = tuple((float(time), str(digest)) for time, digest in json.loads(row["keyframes"]))
    return ShotMotion(row["shot_id"], row["take_id"], row["recipe"], keys, row["created"], row["id"])
