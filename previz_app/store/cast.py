"""Characters and locations: the people and places the script names."""

from __future__ import annotations

from sqlite_utils import Database

from ..domain.model import Character, Location
from .rows import from_row, to_row


def list_characters(db: Database) -> list[Character]:
    return [from_row(Character, row) for row in db["characters"].rows_where(order_by="name")]


def list_locations(db: Database) -> list[Location]:
    return [from_row(Location, row) for row in db["locations"].rows_where(order_by="name")]


def ensure_characters(db: Database, names: list[str]) -> int:
    """Add the characters not yet known (by name); return how many were added."""
    return _ensure(db, "characters", names)


def ensure_locations(db: Database, names: list[str]) -> int:
    """Add the locations not yet known (by name); return how many were added."""
    return _ensure(db, "locations", names)


def _ensure(db: Database, table: str, names: list[str]) -> int:
    known = {row[0] for row in db.execute(f"SELECT name FROM {table}").fetchall()}
    new = sorted({name for name in names if name and name not in known})
    db[table].insert_all(({"name": name} for name in new), pk="id")
    return len(new)


def save_character(db: Database, character: Character) -> int:
    """Insert or update a character (matched by name); return its id."""
    return _save(db, "characters", character)


def save_location(db: Database, location: Location) -> int:
    """Insert or update a location (matched by name); return its id."""
    return _save(db, "locations", location)


def _save(db: Database, table: str, value: Character | Location) -> int:
    row = to_row(value)
    row.pop("id", None)
    db[table].upsert(row, pk="name", alter=False)
    return db.execute(f"SELECT id FROM {table} WHERE name = ?", [value.name]).fetchone()[0]
