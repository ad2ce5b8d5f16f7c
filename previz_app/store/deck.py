"""The pitch deck: one `deck` row of text and money, its lists in child tables.

Each list lives in its own table, ordered by `position`. Pictures are takes and key
sequences are shots, by id; when a take or shot is deleted its place in the deck goes
with it (the key art and a character's picture are cleared).
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any

from sqlite_utils import Database

from ..domain.deck import (
    BudgetLine,
    CastStatus,
    Comparable,
    Deck,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
    validate_deck,
)
from .transaction import read_snapshot, write_transaction

# Deck fields kept in the single `deck` row (same names as the columns).
_SCALARS = tuple(item.name for item in fields(Deck) if not isinstance(item.default, tuple))
# Deck field -> (table, the entry class, its columns in the class's field order).
_LISTS: dict[str, tuple[str, type, tuple[str, ...]]] = {
    "characters": ("deck_characters", DeckCharacter, ("name", "description", "cast_name", "status", "image_take_id")),
    "comparables": ("deck_comparables", Comparable, ("title", "year", "budget", "gross", "source", "retrieved")),
    "budget_lines": ("deck_budget_lines", BudgetLine, ("category", "amount")),
    "financing": ("deck_financing", FinancingSource, ("name", "amount", "secured")),
    "schedule": ("deck_schedule", ScheduleItem, ("phase", "start", "end_")),  # END is an SQL keyword
    "team": ("deck_team", TeamMember, ("name", "role", "bio")),
}
# Deck field -> (table, column) for the lists of take and shot ids.
_IDS = {"mood_take_ids": ("deck_mood", "take_id"), "sequence_shot_ids": ("deck_sequences", "shot_id")}
# How a column value becomes a field value where the column's type is not the field's.
_FROM_COLUMN = {"status": CastStatus, "secured": bool}
TABLES = ("deck", *(table for table, _cls, _columns in _LISTS.values()), *(table for table, _column in _IDS.values()))


def read_deck(db: Database) -> Deck:
    """The project's pitch deck; an empty Deck() when none was saved."""
    with read_snapshot(db):  # another connection may be writing the deck
        return _read(db)


def write_deck(db: Database, deck: Deck) -> None:
    """Replace the stored pitch deck with `deck`, all of it or nothing, in one transaction.

    Raises ValueError for an amount out of range (`validate_deck`) and naming the first
    picture or key sequence that is not in the project ("key art: no take 99", "key
    sequences: no shot 12"); nothing is written then.
    """
    validate_deck(deck)
    with write_transaction(db):
        _check_references(db, deck)
        for table in TABLES:
            db.execute(f"DELETE FROM {table}")
        db["deck"].insert({"id": 1, **{name: getattr(deck, name) for name in _SCALARS}})
        for name, (table, _cls, columns) in _LISTS.items():
            rows = [
                {"position": position, **dict(zip(columns, (_column(getattr(entry, f.name)) for f in fields(entry))))}
                for position, entry in enumerate(getattr(deck, name))
            ]
            if rows:
                db[table].insert_all(rows)
        for name, (table, column) in _IDS.items():
            rows = [{"position": position, column: item} for position, item in enumerate(getattr(deck, name))]
            if rows:
                db[table].insert_all(rows)


def _read(db: Database) -> Deck:
    rows = list(db["deck"].rows_where("id = 1"))
    deck = Deck(**{name: rows[0][name] for name in _SCALARS}) if rows else Deck()
    values: dict[str, Any] = {}
    for name, (table, cls, columns) in _LISTS.items():
        values[name] = tuple(
            cls(*(_FROM_COLUMN.get(column, _same)(row[column]) for column in columns))
            for row in db[table].rows_where(order_by="position")
        )
    for name, (table, column) in _IDS.items():
        values[name] = tuple(row[0] for row in db.execute(f"SELECT {column} FROM {table} ORDER BY position"))
    return replace(deck, **values)


def deck_mentions(deck: Deck, shot_ids: list[int], take_ids: list[int]) -> bool:
    """Whether `deck` shows any of these shots or takes (deleting them changes it)."""
    shots, takes = set(shot_ids), set(take_ids)
    pictures = {deck.key_art_take_id, *deck.mood_take_ids, *(c.image_take_id for c in deck.characters)}
    return bool(shots & set(deck.sequence_shot_ids) or takes & pictures)


def _check_references(db: Database, deck: Deck) -> None:
    """Raise ValueError for the first take or shot `deck` names that the project lacks."""
    takes = [("key art", deck.key_art_take_id), *(("mood board", take_id) for take_id in deck.mood_take_ids)]
    takes += [(f"character {character.name}", character.image_take_id) for character in deck.characters]
    wanted = [[take_id for _where, take_id in takes if take_id is not None], list(deck.sequence_shot_ids)]
    found = [_existing(db, "takes", wanted[0]), _existing(db, "shots", wanted[1])]
    for where, take_id in takes:
        if take_id is not None and take_id not in found[0]:
            raise ValueError(f"{where}: no take {take_id}")
    for shot_id in deck.sequence_shot_ids:
        if shot_id not in found[1]:
            raise ValueError(f"key sequences: no shot {shot_id}")


def _existing(db: Database, table: str, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    # One JSON parameter rather than one per id: a long mood board stays one query.
    sql = f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
    return {row[0] for row in db.execute(sql, [json.dumps(ids)])}


def _column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return str(value) if isinstance(value, CastStatus) else value


def _same(value: Any) -> Any:
    return value
