"""LED-wall profiles in the project database: round trip, names, damaged rows, undo, migration."""

import json
import sqlite3

import pytest
from sqlite_utils import Database

from previz_app.domain.wall import Cabinet, WallProfile, WallSection, profile_from_dict
from previz_app.store import ProjectError, open_project
from previz_app.store.operations import History
from previz_app.store.schema import known_migration_names, migrations
from previz_app.store.wall_operations import DeleteWall, SaveWall
from previz_app.store.walls import (
    NoSuchWallError,
    UnreadableWallError,
    delete_wall,
    get_wall,
    list_walls,
    wall_names,
    write_wall,
)

CABINET = Cabinet(500, 500, 2.84)


def curved(name="stage", arc=270.0):
    return WallProfile(name, (WallSection("curved", CABINET, 6.0, radius_m=11.4, arc_deg=arc),))


def flat(name="backing", width=10.0):
    return WallProfile(name, (WallSection("flat", Cabinet(500, 500, 2.6), 4.0, width_m=width, viewer_distance_m=6),),
                       output_capacity=600_000)


def rows(folder):
    """The walls table as another program sees it: (name, profile JSON, position) in list order."""
    conn = sqlite3.connect(folder.path / "project.db")
    try:
        return conn.execute("SELECT name, profile, position FROM walls ORDER BY position").fetchall()
    finally:
        conn.close()


def hand_edit(folder, name, profile_text):
    conn = sqlite3.connect(folder.path / "project.db")
    with conn:
        conn.execute("UPDATE walls SET profile = ? WHERE name = ?", [profile_text, name])
    conn.close()


def test_walls_round_trip_in_order_with_trimmed_names(folder):
    write_wall(folder.db, curved("  stage  "))
    write_wall(folder.db, flat())
    write_wall(folder.db, curved("ring", arc=360))
    assert wall_names(folder.db) == ["stage", "backing", "ring"]
    assert list_walls(folder.db) == [curved(), flat(), curved("ring", arc=360)]
    assert get_wall(folder.db, " backing ") == flat()
    stored = rows(folder)
    assert [(name, position) for name, _text, position in stored] == [("stage", 0), ("backing", 1), ("ring", 2)]
    assert profile_from_dict(json.loads(stored[1][1])) == flat()  # plain profile JSON, readable without previz

    write_wall(folder.db, flat(width=12))  # the same name replaces the wall where it stands
    assert wall_names(folder.db) == ["stage", "backing", "ring"]
    assert get_wall(folder.db, "backing").sections[0].width_m == 12
    removed = delete_wall(folder.db, "stage")
    assert removed.name == "stage" and removed.position == 0
    assert [(name, position) for name, _text, position in rows(folder)] == [("backing", 0), ("ring", 1)]


def test_bad_names_and_profiles_are_refused_and_nothing_is_written(folder):
    with pytest.raises(ValueError, match="needs a name"):
        write_wall(folder.db, curved("   "))
    with pytest.raises(ValueError, match="radius above zero"):
        write_wall(folder.db, WallProfile("bad", (WallSection("curved", CABINET, 6.0, radius_m=0, arc_deg=90),)))
    with pytest.raises(ValueError, match="needs a name"):
        SaveWall(curved(""))
    assert rows(folder) == []


def test_a_missing_wall_names_the_stored_ones(folder):
    with pytest.raises(NoSuchWallError, match=r"no wall named 'stage' in this project \(stored walls: none\)"):
        get_wall(folder.db, "stage")
    write_wall(folder.db, curved())
    write_wall(folder.db, flat())
    with pytest.raises(LookupError, match=r"no wall named 'ring'.*stored walls: stage, backing") as caught:
        get_wall(folder.db, "ring")
    assert isinstance(caught.value, ValueError) and caught.value.stored == ("stage", "backing")
    with pytest.raises(NoSuchWallError):
        delete_wall(folder.db, "ring")
    with pytest.raises(NoSuchWallError):
        History(folder.db).perform(DeleteWall("ring"))
    assert wall_names(folder.db) == ["stage", "backing"]


@pytest.mark.parametrize("damage, reason", [
    ("{not json", "not JSON"),
    (json.dumps({"name": "stage", "sections": [{"kind": "curved", "cabinet": {"width_mm": 500, "height_mm": 500,
     "pitch_mm": 2.84}, "height_m": 6, "radius_m": 0, "arc_deg": 90}]}), "radius above zero"),
    ('{"sections": 5}', "wall profile"),
    ('[1, 2]', "a JSON object"),
])
def test_a_hand_damaged_profile_gives_an_error_naming_the_wall(folder, damage, reason):
    write_wall(folder.db, curved())
    write_wall(folder.db, flat())
    hand_edit(folder, "stage", damage)
    for read in (lambda: get_wall(folder.db, "stage"), lambda: list_walls(folder.db)):
        with pytest.raises(UnreadableWallError, match=f"the wall 'stage' stored in this project cannot be read.*{reason}"):
            read()
    assert isinstance(UnreadableWallError("stage", reason), ProjectError)
    assert get_wall(folder.db, "backing") == flat()  # the others still read

    # A damaged wall can still be deleted, and undo puts its text back exactly.
    before = rows(folder)
    history = History(folder.db)
    history.perform(DeleteWall("stage"))
    assert wall_names(folder.db) == ["backing"]
    history.undo()
    assert rows(folder) == before
    history.perform(SaveWall(curved()))  # saving over it repairs it; undo brings the damage back
    assert get_wall(folder.db, "stage") == curved()
    history.undo()
    assert rows(folder) == before


def test_save_and_delete_undo_and_redo_exactly(folder):
    history = History(folder.db)
    history.perform(SaveWall(curved()))
    history.perform(SaveWall(flat()))
    history.perform(SaveWall(curved("ring", arc=360)))
    three = rows(folder)
    assert [name for name, _text, _position in three] == ["stage", "backing", "ring"]

    replacing = SaveWall(flat(width=12))
    assert replacing.label == "Save wall backing"
    history.perform(replacing)
    replaced = rows(folder)
    assert replaced[1][0] == "backing" and replaced[1][1] != three[1][1] and replaced[1][2] == 1
    history.undo()
    assert rows(folder) == three
    history.redo()
    assert rows(folder) == replaced
    history.undo()

    history.perform(DeleteWall(" backing "))
    assert [(name, position) for name, _text, position in rows(folder)] == [("stage", 0), ("ring", 1)]
    history.undo()
    assert rows(folder) == three  # back in the middle, positions as they were
    history.redo()
    assert wall_names(folder.db) == ["stage", "ring"]
    history.undo()

    history.undo()  # the new "ring" goes away entirely
    assert rows(folder) == three[:2]
    history.redo()
    assert rows(folder) == three


def test_an_older_project_gains_the_walls_table(tmp_path):
    path = tmp_path / "Old.previz"
    (path / "media").mkdir(parents=True)
    db = Database(path / "project.db")
    migrations.apply(db, stop_before="0006_walls")  # as the previous previz left it
    db["project"].insert({"id": 1, "title": "Old", "aspect_ratio": 1.85, "fps": 25.0,
                          "default_shot_duration": 3.0, "style_preset": "cinematic"})
    assert "walls" not in db.table_names()
    db.close()

    with open_project(path) as folder:
        assert [m.name for m in migrations.applied(folder.db)] == known_migration_names()
        assert list_walls(folder.db) == []
        write_wall(folder.db, curved())
    backup = path / "project.db.before-0006_walls.bak"
    assert backup.is_file()
    old = sqlite3.connect(backup)
    assert "walls" not in {row[0] for row in old.execute("SELECT name FROM sqlite_master")}
    old.close()
    with open_project(path) as folder:
        assert list_walls(folder.db) == [curved()]
