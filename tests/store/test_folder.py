import hashlib
import shutil
import sqlite3

import pytest
from sqlite_utils import Database

from previz_app.domain.model import Project, Scene
from previz_app.store import ProjectError, ProjectTooNewError, create_project, open_project, scenes
from previz_app.store.schema import MIGRATION_SET, known_migration_names, migrations


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_project_is_a_suffixed_folder_with_wal_and_foreign_keys(tmp_path):
    with create_project(tmp_path / "Film", Project(title="Film")) as folder:
        assert folder.path == tmp_path / "Film.previz"
        assert (folder.path / "media").is_dir() and (folder.path / "exports").is_dir()
        assert folder.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert folder.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # Opening by the name without suffix finds the same project.
    with open_project(tmp_path / "Film") as folder:
        assert folder.path == tmp_path / "Film.previz"


def test_create_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "Busy.previz").mkdir()
    (tmp_path / "Busy.previz" / "notes.txt").write_text("mine")
    with pytest.raises(ProjectError, match="already exists and is not empty"):
        create_project(tmp_path / "Busy.previz", Project(title="x"))
    assert (tmp_path / "Busy.previz" / "notes.txt").read_text() == "mine"


def test_open_without_project(tmp_path):
    with pytest.raises(ProjectError, match="no previz project at"):
        open_project(tmp_path)
    (tmp_path / "Bad.previz").mkdir()
    (tmp_path / "Bad.previz" / "project.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ProjectError, match="not a readable previz database"):
        open_project(tmp_path / "Bad.previz")


def test_a_newer_project_is_refused_and_left_unchanged(folder):
    path = folder.path
    folder.db["_sqlite_migrations"].insert(
        {"migration_set": MIGRATION_SET, "name": "9999_from_the_future", "applied_at": "2030"}
    )
    folder.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    folder.close()
    before = _digest(path / "project.db")
    files = sorted(p.name for p in path.iterdir())
    with pytest.raises(ProjectTooNewError, match="saved by a newer version of previz .*9999_from_the_future"):
        open_project(path)
    assert _digest(path / "project.db") == before
    assert sorted(p.name for p in path.iterdir()) == files  # no backup, no -wal/-shm left


def test_migrations_from_empty_record_every_step(tmp_path):
    db = Database(tmp_path / "empty.db")
    migrations.apply(db)
    applied = [m.name for m in migrations.applied(db)]
    assert applied == known_migration_names()
    assert {"project", "scenes", "shots", "takes", "characters", "locations", "media"} <= set(db.table_names())


def test_an_older_schema_is_copied_aside_then_migrated_keeping_data(tmp_path):
    path = tmp_path / "Old.previz"
    (path / "media").mkdir(parents=True)
    db = Database(path / "project.db")
    migrations.apply(db, stop_before="0002_cast_and_locations")  # as an older previz left it
    db["project"].insert({"id": 1, "title": "Old", "aspect_ratio": 1.85, "fps": 25.0,
                          "default_shot_duration": 3.0, "style_preset": "cinematic"})
    db["scenes"].insert({"number": "1", "heading": "INT. ROOM - DAY", "position": 0})
    db.close()

    with open_project(path) as folder:
        assert [m.name for m in migrations.applied(folder.db)] == known_migration_names()
        assert [s.heading for s in scenes.list_scenes(folder.db)] == ["INT. ROOM - DAY"]
        assert "characters" in folder.db.table_names()
    backup = path / "project.db.before-0002_cast_and_locations.bak"
    assert backup.is_file()
    old = sqlite3.connect(backup)
    assert "characters" not in {r[0] for r in old.execute("SELECT name FROM sqlite_master")}
    assert old.execute("SELECT heading FROM scenes").fetchall() == [("INT. ROOM - DAY",)]
    old.close()


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "Old.previz"
    path.mkdir()
    db = Database(path / "project.db")
    migrations.apply(db, stop_before="0003_listing_indexes")
    db.close()

    def broken(db):
        db.execute("CREATE INDEX half_done ON shots(scene_id)")
        raise sqlite3.OperationalError("disk I/O error")

    bad = next(m for m in migrations.pending(Database(memory=True)) if m.name == "0003_listing_indexes")
    monkeypatch.setattr(bad, "fn", broken)
    with pytest.raises(ProjectError, match="disk I/O error"):
        open_project(path)
    check = Database(path / "project.db")
    assert "0003_listing_indexes" not in [m.name for m in migrations.applied(check)]
    assert "half_done" not in {i.name for i in check["shots"].indexes}


def test_scene_round_trip(folder):
    with folder.transaction():
        scene_id = scenes.insert_scene(
            folder.db,
            Scene(number="4", heading="EXT. PIER - DUSK", int_ext="EXT", location="PIER",
                  time_of_day="DUSK", synopsis="They meet.", position=0, script_text="EXT. PIER - DUSK\n",
                  characters=("MARA", "TOM")),
        )
    scene = scenes.get_scene(folder.db, scene_id)
    assert scene.characters == ("MARA", "TOM")
    assert scene.int_ext.value == "EXT" and scene.time_of_day.value == "DUSK"
    assert scene.removed is False and scene.synopsis == "They meet."


def test_copying_a_closed_project_keeps_it_whole(folder, tmp_path):
    folder.close()
    shutil.copytree(folder.path, tmp_path / "Copy.previz")
    with open_project(tmp_path / "Copy.previz") as copy:
        assert copy.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_sqlite_file_that_is_not_a_project_is_refused_unchanged(tmp_path):
    path = tmp_path / "Other.previz"
    path.mkdir()
    db = Database(path / "project.db")
    db["notes"].insert({"text": "mine"})
    db.close()
    before = _digest(path / "project.db")
    with pytest.raises(ProjectError, match="an SQLite database but not a previz project"):
        open_project(path)
    assert _digest(path / "project.db") == before and sorted(p.name for p in path.iterdir()) == ["project.db"]
    (path / "project.db").write_bytes(b"")
    with pytest.raises(ProjectError, match="project.db is empty"):
        open_project(path)
    assert (path / "project.db").stat().st_size == 0


def test_a_create_cut_short_leaves_no_half_made_project(tmp_path, monkeypatch):
    from previz_app.store import settings

    def killed(db, project):
        raise SystemExit("killed")  # as if the process died between two steps

    monkeypatch.setattr(settings, "write_project", killed)
    with pytest.raises(SystemExit):
        create_project(tmp_path / "Half", Project(title="Half"))
    assert not (tmp_path / "Half.previz").exists()
    monkeypatch.undo()
    with create_project(tmp_path / "Half", Project(title="Half")) as folder:
        assert settings.read_project(folder.db).title == "Half"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Half.previz"]
