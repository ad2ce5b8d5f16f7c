"""The project's own record: title, format and style (one row)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from ..domain.model import Project
from .rows import from_row, to_row


def has_project(db: Database) -> bool:
    return db["project"].exists() and db["project"].count == 1


def read_project(db: Database) -> Project:
    return from_row(Project, db["project"].get(1))


def write_project(db: Database, project: Project) -> None:
    db["project"].upsert({"id": 1, **to_row(project)}, pk="id")


def update_project(db: Database, **changes: Any) -> Project:
    """Change project settings; validated by `Project`. Raises ValueError on bad values."""
    unknown = set(changes) - set(Project.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown project setting(s): {', '.join(sorted(unknown))}")
    project = replace(read_project(db), **changes)
    write_project(db, project)
    return project
