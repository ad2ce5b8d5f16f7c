"""The project's own record: title, format and style (one row)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlite_utils import Database

from ..domain.model import Project


def has_project(db: Database) -> bool:
    return db["project"].exists() and db["project"].count == 1


def read_project(db: Database) -> Project:
    row = db.execute("SELECT * FROM project WHERE id = 1").fetchone()
    columns = [c[0] for c in db.execute("SELECT * FROM project LIMIT 0").description]
    values = dict(zip(columns, row))
    values.pop("id")
    return Project(**values)


def write_project(db: Database, project: Project) -> None:
    db["project"].upsert({"id": 1, **asdict(project)}, pk="id")


def update_project(db: Database, **changes: Any) -> Project:
    """Change project settings; validated by `Project`. Raises ValueError on bad values."""
    unknown = set(changes) - set(Project.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown project setting(s): {', '.join(sorted(unknown))}")
    project = replace(read_project(db), **changes)
    write_project(db, project)
    return project
