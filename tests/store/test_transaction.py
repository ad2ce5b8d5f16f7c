"""Read snapshots: one state of the project however many queries, while another
connection commits."""

import pytest

from previz_app.domain.model import Scene
from previz_app.store import scenes
from previz_app.store.transaction import read_snapshot, write_transaction


def headings(db):
    return [row[0] for row in db.execute("SELECT heading FROM scenes ORDER BY id")]


def test_a_snapshot_does_not_see_a_commit_made_meanwhile_and_sees_it_afterwards(folder):
    scenes.insert_scene(folder.db, Scene("1", "INT. KITCHEN - NIGHT"))
    other = folder.connect()
    try:
        with read_snapshot(folder.db) as db:
            before = headings(db)
            with write_transaction(other):
                scenes.insert_scene(other, Scene("2", "EXT. PIER - DAWN", position=1))
            assert headings(db) == before == ["INT. KITCHEN - NIGHT"]
        assert not folder.db.conn.in_transaction
        assert headings(folder.db) == ["INT. KITCHEN - NIGHT", "EXT. PIER - DAWN"]
    finally:
        other.close()


def test_a_snapshot_ends_on_an_error_and_keeps_nothing_written_in_it(folder):
    with pytest.raises(RuntimeError), read_snapshot(folder.db) as db:
        scenes.insert_scene(db, Scene("1", "INT. KITCHEN - NIGHT"))
        raise RuntimeError("stop")
    assert not folder.db.conn.in_transaction
    with read_snapshot(folder.db) as db:
        scenes.insert_scene(db, Scene("1", "INT. KITCHEN - NIGHT"))
    assert headings(folder.db) == []


def test_inside_a_write_transaction_a_snapshot_reads_it_and_leaves_it_open(folder):
    with write_transaction(folder.db):
        scenes.insert_scene(folder.db, Scene("1", "INT. KITCHEN - NIGHT"))
        with read_snapshot(folder.db) as db:
            assert headings(db) == ["INT. KITCHEN - NIGHT"]  # its own uncommitted write
        assert folder.db.conn.in_transaction
    assert headings(folder.db) == ["INT. KITCHEN - NIGHT"]  # committed, not rolled back
