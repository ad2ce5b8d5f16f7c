"""AI motion rows: keyframes recorded per shot and hero take."""

import json

import pytest

from previz_app.domain.vocabulary import TakeKind
from previz_app.store import shots, takes
from previz_app.store.media import add_media
from previz_app.store.motion import latest_motion, motions_for, save_motion


def stored(folder, label: str) -> str:
    return add_media(folder.db, folder.media, label.encode(), "image/png", f"{label}.png")


def take_of(folder, shot_id: int, label: str) -> int:
    digest = stored(folder, label)
    return takes.record_take(folder.db, shot_id, TakeKind.imported, digest, len(label))


@pytest.fixture
def shot_and_take(drafted):
    shot = shots.list_shots(drafted.db)[0]
    return drafted, shot.id, take_of(drafted, shot.id, "hero")


def test_keyframes_round_trip_and_the_newest_row_wins(shot_and_take):
    folder, shot_id, take_id = shot_and_take
    keys = [(0.0, stored(folder, "k0")), (0.5, stored(folder, "k1")), (1.0, stored(folder, "k2"))]
    recipe = json.dumps({"model": "tiny", "strength": 0.35, "seed": 7})
    first = save_motion(folder.db, shot_id, take_id, recipe, keys)
    motion = latest_motion(folder.db, shot_id, take_id)
    assert (motion.id, motion.shot_id, motion.take_id) == (first, shot_id, take_id)
    assert motion.keyframes == tuple(keys) and json.loads(motion.recipe)["seed"] == 7
    assert motion.created  # an ISO timestamp
    newer = save_motion(folder.db, shot_id, take_id, "{}", keys[::2])
    assert latest_motion(folder.db, shot_id, take_id).id == newer
    assert latest_motion(folder.db, shot_id, take_id).keyframes == (keys[0], keys[2])


def test_motion_belongs_to_the_take_it_was_made_over(shot_and_take):
    folder, shot_id, take_id = shot_and_take
    keys = [(0.0, stored(folder, "a")), (1.0, stored(folder, "b"))]
    save_motion(folder.db, shot_id, take_id, "{}", keys)
    other_take = take_of(folder, shot_id, "second hero")
    assert latest_motion(folder.db, shot_id, other_take) is None
    assert motions_for(folder.db, [(shot_id, other_take)]) == {}
    folder.db.execute("DELETE FROM takes WHERE id = ?", [take_id])  # the take goes, its motion with it
    assert folder.db["shot_motion"].count == 0


def test_motions_for_a_whole_timeline_in_batches(drafted):
    listed = shots.list_shots(drafted.db)
    keys = [(0.0, stored(drafted, "a")), (1.0, stored(drafted, "b"))]
    heroes = {shot.id: take_of(drafted, shot.id, f"hero {shot.id}") for shot in listed}
    for shot in listed[::2]:
        save_motion(drafted.db, shot.id, heroes[shot.id], json.dumps({"shot": shot.id}), keys)
    # Shot ids that have no motion pad the query past one batch.
    pairs = list(heroes.items()) + [(10_000 + n, n) for n in range(1200)]
    found = motions_for(drafted.db, pairs)
    assert set(found) == {shot.id for shot in listed[::2]}
    assert all(json.loads(motion.recipe)["shot"] == shot_id for shot_id, motion in found.items())
    assert all(motion.take_id == heroes[shot_id] for shot_id, motion in found.items())


@pytest.mark.parametrize(
    "keys, recipe, message",
    [
        ([(0.0, "k0")], "{}", "at least two keyframes"),
        ([(0.5, "k0"), (0.2, "k1")], "{}", "must increase"),
        ([(0.0, "k0"), (1.5, "k1")], "{}", "within 0..1"),
        ([(0.0, "k0"), (1.0, "unknown")], "{}", "not in the project's media"),
        ([(0.0, "k0"), (1.0, "k1")], "[1, 2]", "JSON object"),
        ([(0.0, "k0"), (1.0, "k1")], "model=tiny", "not JSON"),
    ],
)
def test_bad_motion_is_refused_and_nothing_is_written(shot_and_take, keys, recipe, message):
    folder, shot_id, take_id = shot_and_take
    hashes = {"k0": stored(folder, "k0"), "k1": stored(folder, "k1"), "unknown": "f" * 64}
    with pytest.raises(ValueError, match=message):
        save_motion(folder.db, shot_id, take_id, recipe, [(time, hashes[name]) for time, name in keys])
    assert folder.db["shot_motion"].count == 0


def test_a_take_of_another_shot_is_refused(drafted):
    first, second = shots.list_shots(drafted.db)[:2]
    foreign = take_of(drafted, second.id, "other")
    keys = [(0.0, stored(drafted, "a")), (1.0, stored(drafted, "b"))]
    with pytest.raises(ValueError, match=f"take {foreign} is not a take of shot {first.id}"):
        save_motion(drafted.db, first.id, foreign, "{}", keys)
