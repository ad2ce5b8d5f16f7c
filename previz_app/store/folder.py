"""Creating and opening a project folder: `Name.previz/` with `project.db` and `media/`."""

from __future__ import annotations

import os
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

    def connect(self) -> Database:
        """A second connection to this project, for a thread of its own (a connection
        belongs to the thread that opened it). The caller closes it."""
        return _connect(self.path / DB_NAME)

    def transaction(self):
        """One short write transaction: `with folder.transaction(): ...` commits or rolls back."""
        return write_transaction(self.db)

    def close(self) -> None:
        self.db.close()

    def __exit__(self, *exc_info) -> None:
        self.close()


def project_path(path: str | Path) -> Path:
    """The folder a user means: `Film` and `Film.previz` both name `Film.previz/`."""
    try:
        path = Path(path).expanduser()
    except RuntimeError as exc:  # ~user that does not exist
        raise ProjectError(str(exc)) from None
    if not path.name:  # "." or "/": name the folder itself
        path = path.resolve()
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

    The project is built in a hidden sibling folder and renamed into place, so a
    process killed half-way leaves no half-made project behind. Raises ProjectError
    if the folder exists and is not empty, or cannot be written.
    """
    folder = project_path(path)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ProjectError(f"{folder} already exists and is not empty; choose another folder")
    staging = folder.with_name(f".{folder.name}.creating-{os.getpid()}")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        for sub in ("media", "exports"):
            (staging / sub).mkdir(parents=True)
        db = _connect(staging / DB_NAME)
        migrations.apply(db)
        with write_transaction(db):
            settings.write_project(db, project)
        db.close()
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.rename(staging, folder)
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ProjectError(f"cannot create project at {folder}: {reason}") from exc
    return ProjectFolder(folder, _connect(folder / DB_NAME))


def _inspect(db_path: Path) -> list[str]:
    """The migrations recorded in a project database, read without changing the folder.

    Raises ProjectError for a file that is not a previz database.
    """
    if db_path.stat().st_size == 0:
        raise ProjectError(f"{db_path} is empty: the project was never finished or is damaged")
    sidecars = [db_path.with_name(db_path.name + suffix) for suffix in ("-wal", "-shm")]
    existed = [sidecar.exists() for sidecar in sidecars]
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            db = Database(conn)
            applied = [m.name for m in migrations.applied(db)]
            tables = db.table_names()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{db_path} is not a readable previz database ({exc})") from exc
    finally:
        # A read-only look at a WAL database may leave empty -wal/-shm files behind;
        # nobody else had it open if they were not there before, so remove them.
        for sidecar, was_there in zip(sidecars, existed):
            if not was_there:
                sidecar.unlink(missing_ok=True)
    if not applied and tables:
        raise ProjectError(f"{db_path} is an SQLite database but not a previz project; it was left as it is")
    return applied


def existing_project(path: str | Path) -> Path | None:
    """The project folder `path` names (`Film` or `Film.previz`), or None if there is none."""
    folder = Path(path).expanduser()
    if (folder / DB_NAME).exists():
        return folder
    if folder.name and (project_path(folder) / DB_NAME).exists():
        return project_path(folder)
    return None


def open_project(path: str | Path) -> ProjectFolder:
    """Open an existing project, bringing an older schema up to date.

    Before any migration runs, the database is copied aside as
    `project.db.before-<migration>.bak`. Raises ProjectTooNewError for a project
    written by a newer previz (nothing is changed) and ProjectError when the folder
    holds no project.
    """
    folder = existing_project(path) or Path(path).expanduser()
    db_path = folder / DB_NAME
    if not db_path.is_file():
        raise ProjectError(f"no previz project at {folder} (no {DB_NAME} inside)")

    applied = _inspect(db_path)
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
