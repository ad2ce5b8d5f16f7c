"""Undoable edits of the project's stored LED walls (see `operations` for the contract).

Both remember rows as stored (`walls.StoredWall`), not parsed profiles, so undo and
redo put back exactly what was there, a damaged profile included.
"""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from ..domain.wall import WallProfile, check_profile
from .operations import Operation
from .walls import StoredWall, delete_wall, restore_wall, stored_wall, wall_name, write_wall


class SaveWall(Operation):
    """Store `profile` under its name (trimmed): a new wall goes at the end of the list,
    a stored one is replaced where it stands. Undo brings back the profile it replaced,
    or removes the new wall. Raises ValueError at once for an empty name or a profile
    `check_profile` refuses."""

    def __init__(self, profile: WallProfile) -> None:
        name = wall_name(profile.name)
        check_profile(profile)
        self.profile = replace(profile, name=name)
        self.label = f"Save wall {name}"
        self._old: StoredWall | None = None
        self._new: StoredWall | None = None

    def apply(self, db: Database) -> None:
        if self._new is not None:  # redo: the row exactly where it went the first time
            restore_wall(db, self._new)
            return
        self._old = stored_wall(db, self.profile.name)
        self._new = write_wall(db, self.profile)

    def revert(self, db: Database) -> None:
        if self._new is None:
            raise RuntimeError("SaveWall reverted before it was applied")
        if self._old is None:
            delete_wall(db, self._new.name)
        else:
            restore_wall(db, self._old)


class DeleteWall(Operation):
    """Remove the wall stored as `name` (trimmed); undo puts it back in its place.
    Applying raises `walls.NoSuchWallError` when there is no such wall."""

    def __init__(self, name: str) -> None:
        self.name = wall_name(name)
        self.label = f"Delete wall {self.name}"
        self._removed: StoredWall | None = None

    def apply(self, db: Database) -> None:
        self._removed = delete_wall(db, self.name)

    def revert(self, db: Database) -> None:
        if self._removed is None:
            raise RuntimeError("DeleteWall reverted before it was applied")
        restore_wall(db, self._removed)
