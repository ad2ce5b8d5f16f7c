"""Every operation applies, undoes and redoes, each as one transaction."""

import pytest

from previz_app.domain.model import Scene, Shot, Take
from previz_app.domain.vocabulary import ShotSize, TakeKind
from previz_app.store import scenes, settings, shots, takes
from previz_app.store import operations as ops
from previz_app.store.media import add_media


@pytest.fixture
def board(folder):
    """Two scenes (1: three shots, 2: two shots); shot 1 has two takes, the second derived."""
    db = folder.db
    with folder.transaction():
        ids = [scenes.insert_scene(db, Scene(number=str(n), heading=f"INT. ROOM {n} - DAY", position=n - 1)) for n in (1, 2)]
        for scene_id, count in zip(ids, (3, 2)):
            for i in range(count):
                shots.append_shot(db, Shot(scene_id=scene_id, action=f"s{scene_id}-{i}"))
        first = shots.list_shots(db)[0].id
        media = add_media(db, folder.media, b"frame")
        take_a = takes.add_take(db, Take(shot_id=first, kind=TakeKind.drawn, media_hash=media))
        take_b = takes.add_take(db, Take(shot_id=first, kind=TakeKind.generated, media_hash=media, parent_id=take_a))
        other = shots.list_shots(db)[1].id
        takes.add_take(db, Take(shot_id=other, kind=TakeKind.generated, media_hash=media, parent_id=take_b))
        shots.update_shot(db, first, hero_take_id=take_b)
    return folder, ids


def snapshot(db):
    tables = ("scenes", "shots", "takes", "project")
    return {t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


def order(db):
    return [(s.scene_id, s.action) for s in shots.list_shots(db)]


def check_round_trip(db, operation):
    """Apply, undo, redo: undo restores the database exactly, redo the applied state."""
    history = ops.History(db)
    before = snapshot(db)
    history.perform(operation)
    after = snapshot(db)
    assert after != before
    history.undo()
    assert snapshot(db) == before
    history.redo()
    assert snapshot(db) == after
    return history


def test_edit_shot_field(board):
    folder, _ = board
    shot = shots.list_shots(folder.db)[2]
    check_round_trip(folder.db, ops.EditShot(shot.id, "size", "ECU"))
    assert shots.get_shot(folder.db, shot.id).size is ShotSize.ecu


def test_edit_rejects_bad_values_before_touching_anything(board):
    folder, _ = board
    with pytest.raises(ValueError, match="unknown angle 'sideways'"):
        ops.EditShot(1, "angle", "sideways")


def test_edit_scene_and_project(board):
    folder, ids = board
    check_round_trip(folder.db, ops.EditScene(ids[0], "synopsis", "Mara waits."))
    check_round_trip(folder.db, ops.EditProject("fps", 25.0))
    assert settings.read_project(folder.db).fps == 25.0


def test_insert_shot_in_the_middle_numbers_the_scene_again(board):
    folder, ids = board
    operation = ops.InsertShot(ids[0], 1, Shot(action="new"))
    check_round_trip(folder.db, operation)
    listed = shots.list_shots(folder.db, ids[0])
    assert [s.action for s in listed] == ["s1-0", "new", "s1-1", "s1-2"]
    assert [s.number for s in listed] == ["1", "1A", "1B", "1C"]
    assert [s.position for s in listed] == [0, 1, 2, 3]


def test_insert_outside_the_scene_fails_and_changes_nothing(board):
    folder, ids = board
    before = snapshot(folder.db)
    with pytest.raises(ValueError, match="position 9 is outside the scene's 0..3"):
        ops.perform(folder.db, ops.InsertShot(ids[0], 9))
    assert snapshot(folder.db) == before


def test_delete_shots_with_takes_restores_everything(board):
    folder, ids = board
    listed = shots.list_shots(folder.db)
    history = check_round_trip(folder.db, ops.DeleteShots([listed[0].id, listed[4].id]))
    assert order(folder.db) == [(ids[0], "s1-1"), (ids[0], "s1-2"), (ids[1], "s2-0")]
    assert folder.db["takes"].count == 1  # the other shot's take, parent link cleared
    history.undo()
    assert shots.get_shot(folder.db, listed[0].id).hero_take_id is not None


def test_move_shot_within_and_across_scenes(board):
    folder, ids = board
    first = shots.list_shots(folder.db)[0]
    check_round_trip(folder.db, ops.MoveShot(first.id, ids[0], 2))
    assert [a for _, a in order(folder.db)][:3] == ["s1-1", "s1-2", "s1-0"]
    check_round_trip(folder.db, ops.MoveShot(first.id, ids[1], 1))
    assert order(folder.db) == [
        (ids[0], "s1-1"), (ids[0], "s1-2"), (ids[1], "s2-0"), (ids[1], "s1-0"), (ids[1], "s2-1"),
    ]
    positions = folder.db.execute("SELECT scene_id, position FROM shots ORDER BY scene_id, position").fetchall()
    assert positions == [(ids[0], 0), (ids[0], 1), (ids[1], 0), (ids[1], 1), (ids[1], 2)]


def test_move_scene(board):
    folder, ids = board
    check_round_trip(folder.db, ops.MoveScene(ids[1], 0))
    assert [s.id for s in scenes.list_scenes(folder.db)] == [ids[1], ids[0]]
    assert shots.list_shots(folder.db)[0].number == "2"


def test_set_hero_take(board):
    folder, _ = board
    first = shots.list_shots(folder.db)[0]
    take_ids = [t.id for t in takes.list_takes(folder.db, first.id)]
    check_round_trip(folder.db, ops.SetHeroTake(first.id, take_ids[0]))
    assert shots.get_shot(folder.db, first.id).hero_take_id == take_ids[0]
    other = shots.list_shots(folder.db)[1]
    with pytest.raises(ValueError, match=f"take {take_ids[0]} is not a take of shot {other.id}"):
        ops.perform(folder.db, ops.SetHeroTake(other.id, take_ids[0]))


def test_history_limits(folder):
    history = ops.History(folder.db)
    with pytest.raises(IndexError, match="nothing to undo"):
        history.undo()
    with pytest.raises(IndexError, match="nothing to redo"):
        history.redo()


def test_a_new_edit_clears_redo(board):
    folder, _ = board
    history = ops.History(folder.db)
    shot = shots.list_shots(folder.db)[0]
    history.perform(ops.EditShot(shot.id, "notes", "a"))
    history.undo()
    history.perform(ops.EditShot(shot.id, "notes", "b"))
    with pytest.raises(IndexError):
        history.redo()
    assert shots.get_shot(folder.db, shot.id).notes == "b"


def test_undoing_an_insert_keeps_the_takes_made_since_for_redo(board):
    folder, ids = board
    history = ops.History(folder.db)
    history.perform(ops.InsertShot(ids[1], 0, Shot(action="pickup")))
    new_id = history._done[-1].shot_id
    media = add_media(folder.db, folder.media, b"generated later")
    take_id = takes.add_take(folder.db, Take(shot_id=new_id, kind=TakeKind.generated, media_hash=media))
    ops.perform(folder.db, ops.SetHeroTake(new_id, take_id))
    history.undo()
    assert folder.db["takes"].count == 3
    history.redo()
    assert [t.id for t in takes.list_takes(folder.db, new_id)] == [take_id]
    assert shots.get_shot(folder.db, new_id).hero_take_id == take_id


def test_a_second_writer_waits_for_the_first(board, tmp_path):
    import sqlite3
    import threading
    import time

    folder, _ = board
    other = sqlite3.connect(folder.path / "project.db", check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another window holds the write lock for a moment
    threading.Timer(0.5, other.commit).start()
    started = time.monotonic()
    shot = shots.list_shots(folder.db)[0]
    ops.perform(folder.db, ops.EditShot(shot.id, "notes", "waited"))
    assert time.monotonic() - started >= 0.4
    assert shots.get_shot(folder.db, shot.id).notes == "waited"
    other.close()


def test_locked_numbers_are_unique_in_a_scene(board):
    folder, ids = board
    first, second = shots.list_shots(folder.db, ids[0])[:2]
    ops.perform(folder.db, ops.EditShot(first.id, "locked_number", "1X"))
    with pytest.raises(ValueError, match="shot number 1X is already locked on another shot of this scene"):
        ops.perform(folder.db, ops.EditShot(second.id, "locked_number", "1x"))


def test_direction_must_suit_the_move_and_a_new_move_clears_it(board):
    folder, _ = board
    shot = shots.list_shots(folder.db)[0]
    with pytest.raises(ValueError, match="a static move cannot go left; directions: none"):
        ops.perform(folder.db, ops.EditShot(shot.id, "direction", "left"))
    ops.perform(folder.db, ops.EditShot(shot.id, "movement", "pan"))
    ops.perform(folder.db, ops.EditShot(shot.id, "direction", "left"))
    history = check_round_trip(folder.db, ops.EditShot(shot.id, "movement", "tilt"))
    assert shots.get_shot(folder.db, shot.id).direction.value == ""
    history.undo()
    assert shots.get_shot(folder.db, shot.id).direction.value == "left"


def test_star_take_and_edit_cast(board):
    from previz_app.store import cast

    folder, _ = board
    take = takes.list_takes(folder.db, shots.list_shots(folder.db)[0].id)[0]
    check_round_trip(folder.db, ops.StarTake(take.id))
    assert takes.get_take(folder.db, take.id).starred is True
    cast.ensure_characters(folder.db, ["MARA"])
    mara = cast.list_characters(folder.db)[0]
    history = ops.History(folder.db)
    history.perform(ops.EditCast("character", mara.id, "reference_images", [take.media_hash]))
    history.perform(ops.EditCast("character", mara.id, "description", "keeper, 40s"))
    assert cast.list_characters(folder.db)[0].reference_images == (take.media_hash,)
    history.undo()
    history.undo()
    assert cast.list_characters(folder.db)[0] == mara
    with pytest.raises(ValueError, match="cannot edit character name"):
        ops.EditCast("character", mara.id, "name", "X")


def test_compound_moves_several_shots_as_one_edit(board):
    folder, ids = board
    first, second = shots.list_shots(folder.db)[:2]
    move = ops.Compound("Move 2 shots", [ops.MoveShot(first.id, ids[1], 0), ops.MoveShot(second.id, ids[1], 1)])
    check_round_trip(folder.db, move)
    assert [a for _, a in order(folder.db)] == ["s1-2", "s1-0", "s1-1", "s2-0", "s2-1"]


def test_a_failing_part_leaves_the_compound_unapplied(board):
    folder, ids = board
    first = shots.list_shots(folder.db)[0]
    before = snapshot(folder.db)
    move = ops.Compound("Move", [ops.MoveShot(first.id, ids[1], 0), ops.MoveShot(first.id, ids[1], 99)])
    with pytest.raises(ValueError, match="outside the scene"):
        ops.History(folder.db).perform(move)
    assert snapshot(folder.db) == before
    with pytest.raises(ValueError, match="at least one"):
        ops.Compound("Nothing", [])


def test_record_take_for_a_file_already_stored_makes_the_first_the_hero(board):
    folder, _ = board
    shot = shots.list_shots(folder.db)[3]
    digest = folder.media.put(b"png bytes")
    with folder.transaction():
        first = takes.record_take(folder.db, shot.id, TakeKind.drawn, digest, 9, '{"sketch": true}')
        second = takes.record_take(folder.db, shot.id, TakeKind.generated, digest, 9, parent_id=first)
    assert shots.get_shot(folder.db, shot.id).hero_take_id == first
    assert [(t.kind, t.parent_id) for t in takes.list_takes(folder.db, shot.id)] == [(TakeKind.drawn, None), (TakeKind.generated, first)]
    assert folder.db["media"].get(digest)["size"] == 9
    assert second != first
