"""The take writer: its own thread and connection, batches, failures kept apart."""

import threading

from previz_app.domain.model import Scene, Shot
from previz_app.domain.vocabulary import TakeKind
from previz_app.store import scenes, shots, takes
from previz_app.store.writer import PendingTake, TakeWriter


def make_shots(folder, count):
    with folder.transaction():
        scene_id = scenes.insert_scene(folder.db, Scene(number="1", heading="INT. HALL - DAY"))
        return [shots.append_shot(folder.db, Shot(scene_id=scene_id)) for _ in range(count)]


def test_takes_are_recorded_on_the_writers_thread_and_reported(folder):
    shot_ids = make_shots(folder, 3)
    digest = folder.media.put(b"frame")
    heard, threads, done = [], set(), threading.Event()

    def recorded(results):
        threads.add(threading.get_ident())
        heard.extend(results)
        if len(heard) == 3:
            done.set()

    writer = TakeWriter(folder, recorded)
    for token, shot_id in enumerate(shot_ids):
        writer.submit(PendingTake(token, shot_id, TakeKind.generated, digest, 5, '{"seed": %d}' % token))
    assert done.wait(10)
    writer.close(10)
    assert threading.get_ident() not in threads
    assert sorted(token for token, _, _ in heard) == [0, 1, 2] and all(error == "" for _, _, error in heard)
    for token, take_id, _ in heard:  # the GUI's own connection sees them, heroes set
        take = takes.get_take(folder.db, take_id)
        assert take.shot_id == shot_ids[token] and take.recipe == '{"seed": %d}' % token
        assert shots.get_shot(folder.db, shot_ids[token]).hero_take_id == take_id


def test_a_take_for_a_deleted_shot_fails_alone_and_close_writes_what_is_pending(folder):
    shot_ids = make_shots(folder, 2)
    digest = folder.media.put(b"frame")
    heard = []
    writer = TakeWriter(folder, heard.extend)
    writer.submit(PendingTake(1, shot_ids[0], TakeKind.generated, digest, 5))
    writer.submit(PendingTake(2, 9999, TakeKind.generated, digest, 5))
    writer.submit(PendingTake(3, shot_ids[1], TakeKind.drawn, digest, 5))
    writer.close(10)  # everything submitted before close is written
    outcome = {token: (take_id, error) for token, take_id, error in heard}
    assert outcome[2][0] is None and "9999" in outcome[2][1]
    assert outcome[1][0] is not None and outcome[3][0] is not None
    assert [t.kind for t in takes.list_takes(folder.db, shot_ids[1])] == [TakeKind.drawn]


def test_the_writer_waits_out_another_writer_and_gives_up_with_a_reason(folder, monkeypatch):
    import previz_app.store.writer as writer_module

    shot_ids = make_shots(folder, 2)
    digest = folder.media.put(b"frame")
    monkeypatch.setattr(writer_module, "RETRY_S", 0.05)
    blocker = folder.connect()
    blocker.conn.execute("BEGIN IMMEDIATE")  # a CLI run holds the project
    heard, first = [], threading.Event()
    writer = TakeWriter(folder, lambda results: (heard.extend(results), first.set()))
    writer.submit(PendingTake(1, shot_ids[0], TakeKind.generated, digest, 5))
    assert not first.wait(0.5)  # still waiting, nothing lost
    blocker.conn.rollback()
    assert first.wait(10) and heard[0][1] is not None and heard[0][2] == ""

    monkeypatch.setattr(writer_module, "LOCK_PATIENCE_S", 0.0)
    blocker.conn.execute("BEGIN IMMEDIATE")
    try:
        writer.submit(PendingTake(2, shot_ids[1], TakeKind.generated, digest, 5))
        assert writer.close(30)
    finally:
        blocker.conn.rollback()
        blocker.close()
    assert heard[1][0] == 2 and heard[1][1] is None and "locked by another program" in heard[1][2]
    assert takes.list_takes(folder.db, shot_ids[1]) == []
