"""Creating and opening a project folder: `Name.previz/` with `project.db` and `media/`."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

from sqlite_utils import Database

from ..domain.model import Project
from . import settings
from .errors import ProjectError, ProjectTooNewError
from .media import MediaStore
from .schema import known_migration_names, migrations
from .transaction import write_transaction

PROJECT_SUFFIX = ".previz"
DB_NAME = "project.db"


class ProjectFolder(AbstractContextManager["ProjectFolder"]):
    """An open project: its folder, its database connection and its media store.

    The connection belongs to the thread that opened the project.
    """

    def __init__(self, path: Path, db: Database) -> None:
        self.path = path
        self.db = db
        self.media = MediaStore(path / "media")

    @property
    def exports_dir(self) -> Path:
        return self.path / "exports"

    def transaction(self):
        """One short write transaction: `with folder.transaction(): ...` commits or rolls back."""
        return write_transaction(self.db)

    def close(self) -> None:
        self.db.close()

    def __exit__(self, *exc_info) -> None:
        self.close()


def project_path(path: str | Path) -> Path:
    """The folder a user means: `Film` and `Film.previz` both name `Film.previz/`."""
    path = Path(path).expanduser()
    if path.suffix == PROJECT_SUFFIX:
        return path
    return path.with_name(path.name + PROJECT_SUFFIX)


def _connect(db_path: Path) -> Database:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA busy_timeout = 5000")
    db = Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    # FULL: a committed edit survives power loss, not only a killed process.
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def create_project(path: str | Path, project: Project) -> ProjectFolder:
    """Create `path` (suffixed `.previz` if needed) as a new, empty project.

    Raises ProjectError if the folder exists and is not empty.
    """
    folder = project_path(path)
    if folder.exists() and any(folder.iterdir()):
        raise ProjectError(f"{folder} already exists and is not empty; choose another folder")
    created = not folder.exists()
    try:
        for sub in ("media", "exports"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        db = _connect(folder / DB_NAME)
        migrations.apply(db)
        with db.atomic():
            settings.write_project(db, project)
    except (OSError, sqlite3.Error) as exc:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise ProjectError(f"cannot create project at {folder}: {exc}") from exc
    return ProjectFolder(folder, db)


def _applied_migrations(db_path: Path) -> list[str]:
    """Migrations recorded in the file, read without writing anything."""
    uri = f"{db_path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            return [m.name for m in migrations.applied(Database(conn))]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{db_path} is not a readable previz database ({exc})") from exc


def open_project(path: str | Path) -> ProjectFolder:
    """Open an existing project, bringing an older schema up to date.

    Before any migration runs, the database is copied aside as
    `project.db.before-<migration>.bak`. Raises ProjectTooNewError for a project
    written by a newer previz (nothing is changed) and ProjectError when the folder
    holds no project.
    """
    folder = Path(path).expanduser()
    if not (folder / DB_NAME).exists() and (project_path(folder) / DB_NAME).exists():
        folder = project_path(folder)
    db_path = folder / DB_NAME
    if not db_path.is_file():
        raise ProjectError(f"no previz project at {folder} (no {DB_NAME} inside)")

    applied = _applied_migrations(db_path)
    unknown = [name for name in applied if name not in known_migration_names()]
    if unknown:
        raise ProjectTooNewError(
            f"{folder} was saved by a newer version of previz (schema {unknown[-1]}); "
            "update previz to open it. The project was not changed."
        )
    try:
        db = _connect(db_path)
        pending = migrations.pending(db)
        if pending and applied:
            backup = db_path.with_name(f"{DB_NAME}.before-{pending[0].name}.bak")
            with sqlite3.connect(backup) as copy:
                db.conn.backup(copy)
            copy.close()
        migrations.apply(db)
    except sqlite3.Error as exc:
        raise ProjectError(f"cannot open project at {folder}: {exc}") from exc
    if not settings.has_project(db):
        db.close()
        raise ProjectError(f"{db_path} has no project record; it is damaged or not a previz project")
    (folder / "media").mkdir(exist_ok=True)
    return ProjectFolder(folder, db)
