"""LED-wall profiles kept in the project: one `walls` row per named profile.

A row holds the profile as JSON (`domain.wall.profile_json`) and its place in the
user's list (`position`, 0, 1, 2 ... without gaps). The name is the key, trimmed:
saving a profile under a stored name replaces that wall where it stands. The row's
name wins over the "name" inside its JSON, so a hand-edited file cannot rename a wall.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlite_utils import Database

from ..domain.wall import WallProfile, check_profile, profile_from_dict, profile_json
from .errors import ProjectError
from .transaction import read_snapshot, write_transaction


class NoSuchWallError(ValueError, LookupError):
    """The project stores no wall of that name; `stored` lists the names it has."""

    def __init__(self, name: str, stored: list[str]) -> None:
        self.name, self.stored = name, tuple(stored)
        listing = ", ".join(stored) if stored else "none"
        super().__init__(f"no wall named {name!r} in this project (stored walls: {listing})")


class UnreadableWallError(ProjectError):
    """A stored profile no longer parses (the database was edited by hand)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"the wall {name!r} stored in this project cannot be read ({reason}); "
                         "save it again or delete it")


@dataclass(frozen=True, slots=True)
class StoredWall:
    """One row as it is stored. The profile stays unparsed JSON text so that a damaged
    profile can still be deleted, and put back exactly as it was by undo."""

    name: str
    profile: str
    position: int


def wall_name(name: object) -> str:
    """`name` trimmed; raises ValueError for a name that is empty or not text."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a stored wall needs a name, not {name!r}")
    return name.strip()


def wall_names(db: Database) -> list[str]:
    """The stored walls' names in list order, without reading their profiles."""
    return [row[0] for row in db.execute("SELECT name FROM walls ORDER BY position, name")]


def list_walls(db: Database) -> list[WallProfile]:
    """Every stored wall in list order. Raises UnreadableWallError naming the first one
    whose stored profile does not parse."""
    with read_snapshot(db):
        rows = db.execute("SELECT name, profile FROM walls ORDER BY position, name").fetchall()
    return [_parse(name, text) for name, text in rows]


def get_wall(db: Database, name: str) -> WallProfile:
    """The wall stored as `name` (trimmed). Raises NoSuchWallError (a ValueError and a
    LookupError) listing the stored names when there is none, UnreadableWallError when
    its stored profile does not parse."""
    with read_snapshot(db):
        stored = stored_wall(db, name)
        if stored is None:
            raise NoSuchWallError(wall_name(name), wall_names(db))
    return _parse(stored.name, stored.profile)


def stored_wall(db: Database, name: str) -> StoredWall | None:
    """The row stored as `name` (trimmed) as it is, or None when there is none."""
    row = db.execute("SELECT name, profile, position FROM walls WHERE name = ?", [wall_name(name)]).fetchone()
    return StoredWall(*row) if row else None


def write_wall(db: Database, profile: WallProfile, position: int | None = None) -> StoredWall:
    """Store `profile` under its name (trimmed), in one transaction: a new name goes at
    `position` (default: the end of the list), a stored name is replaced where it stands
    (or moved to `position`). Returns the row written. Raises ValueError for an empty
    name or what `check_profile` refuses; nothing is written then."""
    name = wall_name(profile.name)
    check_profile(profile)
    text = profile_json(replace(profile, name=name))
    with write_transaction(db):
        if position is None:
            existing = stored_wall(db, name)
            position = existing.position if existing else _count(db)
        return _put(db, StoredWall(name, text, position))


def restore_wall(db: Database, stored: StoredWall) -> None:
    """Put a row back exactly as `stored_wall` or `delete_wall` gave it, at its position
    (the walls from there on move down one), replacing a row of the same name."""
    with write_transaction(db):
        _put(db, stored)


def delete_wall(db: Database, name: str) -> StoredWall:
    """Remove the wall stored as `name` (trimmed), closing its gap in the list, in one
    transaction; returns the row removed (for `restore_wall`). Raises NoSuchWallError
    when there is none."""
    with write_transaction(db):
        stored = stored_wall(db, name)
        if stored is None:
            raise NoSuchWallError(wall_name(name), wall_names(db))
        _remove(db, stored)
    return stored


def _put(db: Database, stored: StoredWall) -> StoredWall:
    existing = stored_wall(db, stored.name)
    if existing is not None:
        _remove(db, existing)
    position = min(max(int(stored.position), 0), _count(db))
    db.execute("UPDATE walls SET position = position + 1 WHERE position >= ?", [position])
    db.execute("INSERT INTO walls (name, profile, position) VALUES (?, ?, ?)", [stored.name, stored.profile, position])
    return replace(stored, position=position)


def _remove(db: Database, stored: StoredWall) -> None:
    db.execute("DELETE FROM walls WHERE name = ?", [stored.name])
    db.execute("UPDATE walls SET position = position - 1 WHERE position > ?", [stored.position])


def _count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM walls").fetchone()[0]


def _parse(name: str, text: str) -> WallProfile:
    try:
        profile = profile_from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise UnreadableWallError(name, f"not JSON: {exc}") from None
    # Hand-edited JSON can fail in the parser's own conversions as well as its checks.
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UnreadableWallError(name, str(exc)) from None
    return replace(profile, name=name)
