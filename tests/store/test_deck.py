"""The pitch deck in the project database: round trip, references, undo, migration."""

import json
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from previz_app.domain.deck import (
    BudgetLine,
    CastStatus,
    Comparable,
    Deck,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
    check_deck,
    deck_from_dict,
    deck_to_dict,
    empty_sections,
    money_summary,
)
from previz_app.domain.vocabulary import TakeKind
from previz_app.store import open_project, shots, takes
from previz_app.store import operations as ops
from previz_app.store.deck import TABLES, read_deck, write_deck
from previz_app.store.operations import EditDeck
from previz_app.store.media import add_media
from previz_app.store.schema import known_migration_names, migrations

SAMPLE = Path(__file__).parents[2] / "resources" / "sample"


@pytest.fixture
def pictures(drafted):
    """`drafted` with two takes on each of its first three shots: (folder, shot ids, take ids by shot)."""
    listed = [shot.id for shot in shots.list_shots(drafted.db)][:3]
    by_shot = {}
    for shot_id in listed:
        by_shot[shot_id] = []
        for n in range(2):
            digest = add_media(drafted.db, drafted.media, f"{shot_id}-{n}".encode(), "image/png")
            by_shot[shot_id].append(takes.record_take(drafted.db, shot_id, TakeKind.imported, digest, 3))
    return drafted, listed, by_shot


def full_deck(shot_ids, by_shot):
    a, b, c = shot_ids
    return Deck(
        title="Fairhead",
        key_art_take_id=by_shot[a][0],
        logline="A keeper and her brother keep the light by hand.",
        synopsis="Storm. Reef. Clockwork.",
        director_statement="Hand-made light.",
        producer_statement="Contained, one location.",
        tone="Cold blues, warm lamplight.",
        mood_take_ids=(by_shot[c][1], by_shot[a][1], by_shot[b][0]),  # not in id order
        characters=(
            DeckCharacter("Mara", "The keeper.", "Ines Calloway-Brandt", CastStatus.attached, by_shot[b][1]),
            DeckCharacter("Tom", "Her brother.", "", CastStatus.wishlist, None),
        ),
        sequence_shot_ids=(c, a),
        comparables=(
            Comparable("Salt Orchard", 2019, 5_000_000, 21_000_000, "Sample figures", "2026-11-01"),
            Comparable("Untitled", None, None, None, "", ""),
        ),
        currency="EUR",
        budget_total=4_000_000,
        budget_lines=(BudgetLine("Cast", 1_500_000), BudgetLine("Crew", 2_500_000)),
        financing=(FinancingSource("Fund", 2_000_000, True), FinancingSource("Pre-sales", 2_000_000, False)),
        schedule=(ScheduleItem("Shoot", "2027-09-01", "2027-10-15"), ScheduleItem("Post", "2027-11", "")),
        team=(TeamMember("Wren Osei-Lindqvist", "Director", "Two shorts."), TeamMember("Pell Aaberg")),
        contact="sales@example.com",
    )


def test_an_empty_project_reads_an_empty_deck(folder):
    assert read_deck(folder.db) == Deck()
    assert not folder.db.conn.in_transaction  # the read snapshot is closed again


def test_a_full_deck_round_trips_with_every_field_and_order(pictures):
    folder, shot_ids, by_shot = pictures
    deck = full_deck(shot_ids, by_shot)
    write_deck(folder.db, deck)
    assert read_deck(folder.db) == deck
    assert read_deck(folder.db).characters[0].status is CastStatus.attached
    assert read_deck(folder.db).financing[0].secured is True
    # A second connection sees it committed, and the rows are what the tables say.
    other = sqlite3.connect(folder.path / "project.db")
    assert other.execute("SELECT title, currency, budget_total FROM deck").fetchall() == [("Fairhead", "EUR", 4_000_000)]
    assert [r[0] for r in other.execute("SELECT take_id FROM deck_mood ORDER BY position")] == list(deck.mood_take_ids)
    assert other.execute("SELECT phase, start, end_ FROM deck_schedule ORDER BY position").fetchall() == [
        ("Shoot", "2027-09-01", "2027-10-15"), ("Post", "2027-11", "")]
    assert other.execute("SELECT cast_name, status FROM deck_characters ORDER BY position").fetchall() == [
        ("Ines Calloway-Brandt", "attached"), ("", "wishlist")]
    other.close()


def test_writing_replaces_the_whole_deck(pictures):
    folder, shot_ids, by_shot = pictures
    write_deck(folder.db, full_deck(shot_ids, by_shot))
    smaller = Deck(logline="Only this.", team=(TeamMember("Pell Aaberg"),))
    write_deck(folder.db, smaller)
    assert read_deck(folder.db) == smaller
    assert folder.db["deck_mood"].count == 0 and folder.db["deck_characters"].count == 0


@pytest.mark.parametrize("where, message", [
    ("key_art", "key art: no take 999"),
    ("mood", "mood board: no take 999"),
    ("character", "character Tom: no take 999"),
    ("sequence", "key sequences: no shot 999"),
])
def test_unknown_pictures_and_shots_are_refused_and_nothing_changes(pictures, where, message):
    folder, shot_ids, by_shot = pictures
    deck = full_deck(shot_ids, by_shot)
    write_deck(folder.db, deck)
    bad = {
        "key_art": replace(deck, key_art_take_id=999, logline="changed"),
        "mood": replace(deck, mood_take_ids=deck.mood_take_ids + (999,), logline="changed"),
        "character": replace(deck, characters=(deck.characters[0], replace(deck.characters[1], image_take_id=999))),
        "sequence": replace(deck, sequence_shot_ids=(shot_ids[0], 999), logline="changed"),
    }[where]
    with pytest.raises(ValueError, match=f"^{message}$"):
        write_deck(folder.db, bad)
    assert read_deck(folder.db) == deck
    assert not folder.db.conn.in_transaction


def test_a_write_failing_half_way_leaves_the_old_deck(pictures):
    folder, shot_ids, by_shot = pictures
    deck = full_deck(shot_ids, by_shot)
    write_deck(folder.db, deck)
    broken = replace(deck, logline="new", team=(TeamMember(None),))  # NOT NULL: fails after the deletes
    with pytest.raises(sqlite3.IntegrityError):
        write_deck(folder.db, broken)
    assert read_deck(folder.db) == deck


def test_deleting_shots_drops_their_takes_and_sequences_from_the_deck(pictures):
    folder, shot_ids, by_shot = pictures
    a, b, c = shot_ids
    deck = full_deck(shot_ids, by_shot)
    write_deck(folder.db, deck)
    ops.History(folder.db).perform(ops.DeleteShots([a]))
    after = read_deck(folder.db)
    assert after.key_art_take_id is None  # the key art was a take of shot a
    assert after.mood_take_ids == (by_shot[c][1], by_shot[b][0])  # a's picture gone, order kept
    assert after.sequence_shot_ids == (c,)
    assert after.characters == deck.characters and after.logline == deck.logline
    ops.History(folder.db).perform(ops.DeleteShots([b]))
    after = read_deck(folder.db)
    assert after.characters[0].image_take_id is None and after.characters[0].cast == "Ines Calloway-Brandt"
    assert after.mood_take_ids == (by_shot[c][1],)
    write_deck(folder.db, after)  # what is left is a valid deck to write back


def test_edit_deck_undoes_and_redoes(pictures):
    folder, shot_ids, by_shot = pictures
    first = full_deck(shot_ids, by_shot)
    write_deck(folder.db, first)
    second = replace(first, logline="Two persons. Never alone.", sequence_shot_ids=(shot_ids[1],),
                     budget_lines=first.budget_lines[::-1])
    history = ops.History(folder.db)
    edit = EditDeck(second)
    assert edit.label == "Edit pitch deck"
    history.perform(edit)
    assert read_deck(folder.db) == second
    assert history.undo() is edit and read_deck(folder.db) == first
    history.redo()
    assert read_deck(folder.db) == second
    history.undo()
    assert read_deck(folder.db) == first  # the old deck is the one captured on the first apply


def test_edit_deck_from_nothing_undoes_to_an_empty_deck(folder):
    history = ops.History(folder.db)
    history.perform(EditDeck(Deck(logline="A light kept by hand.")))
    history.undo()
    assert read_deck(folder.db) == Deck()


def test_a_refused_edit_deck_leaves_the_history_and_deck_alone(folder):
    history = ops.History(folder.db)
    with pytest.raises(ValueError, match="key art: no take 5"):
        history.perform(EditDeck(Deck(key_art_take_id=5, logline="x")))
    assert read_deck(folder.db) == Deck()
    with pytest.raises(IndexError):
        history.undo()


def test_an_older_project_gains_the_deck_tables(tmp_path):
    path = tmp_path / "Old.previz"
    (path / "media").mkdir(parents=True)
    db = Database(path / "project.db")
    migrations.apply(db, stop_before="0005_deck")  # as the previous previz left it
    db["project"].insert({"id": 1, "title": "Old", "aspect_ratio": 1.85, "fps": 25.0,
                          "default_shot_duration": 3.0, "style_preset": "cinematic"})
    assert "deck" not in db.table_names()
    db.close()

    with open_project(path) as folder:
        assert [m.name for m in migrations.applied(folder.db)] == known_migration_names()
        assert set(TABLES) <= set(folder.db.table_names())
        assert read_deck(folder.db) == Deck()
        write_deck(folder.db, Deck(logline="Kept by hand.", budget_total=10))
    assert (path / "project.db.before-0005_deck.bak").is_file()
    with open_project(path) as folder:
        assert read_deck(folder.db) == Deck(logline="Kept by hand.", budget_total=10)


def load_sample() -> Deck:
    return deck_from_dict(json.loads((SAMPLE / "the_last_lighthouse.deck.json").read_text(encoding="utf-8")))


def test_the_sample_deck_is_consistent_and_complete():
    deck = load_sample()
    assert check_deck(deck) == []
    assert empty_sections(deck) == ["sequences"]  # key sequences are shots: the demo picks them
    assert deck.key_art_take_id is None and deck.mood_take_ids == () and deck.sequence_shot_ids == ()
    assert all(character.image_take_id is None for character in deck.characters)
    money = money_summary(deck)
    assert money.lines_total == money.financing_total == deck.budget_total
    assert 0.4 <= money.secured_share <= 0.6
    assert 8 <= len(deck.budget_lines) <= 10 and len(deck.comparables) == 4
    assert len(deck.schedule) == 5 and len(deck.team) == 4
    assert {character.status for character in deck.characters} == {CastStatus.attached, CastStatus.wishlist}
    assert all(c.source == "Sample figures (fictional titles)" and c.retrieved == "2026-11-01" for c in deck.comparables)
    script = (SAMPLE / "the_last_lighthouse.fountain").read_text(encoding="utf-8")
    speakers = set(re.findall(r"^([A-Z][A-Z ]+?)(?: \(V\.O\.\))?$", script, re.MULTILINE))
    assert [c.name.upper() for c in deck.characters] == ["MARA", "TOM", "JONAH"] and {"MARA", "TOM", "JONAH"} <= speakers
    assert all(text.strip() for text in (deck.logline, deck.synopsis, deck.director_statement,
                                         deck.producer_statement, deck.tone, deck.contact))


def test_the_sample_deck_json_is_what_deck_to_dict_writes_and_it_stores(folder):
    raw = json.loads((SAMPLE / "the_last_lighthouse.deck.json").read_text(encoding="utf-8"))
    deck = load_sample()
    assert deck_to_dict(deck) == raw
    write_deck(folder.db, deck)
    assert read_deck(folder.db) == deck


def test_undoing_a_shot_delete_puts_its_pictures_back_in_the_deck(pictures):
    folder, shot_ids, by_shot = pictures
    deck = full_deck(shot_ids, by_shot)
    write_deck(folder.db, deck)
    history = ops.History(folder.db)
    history.perform(ops.DeleteShots([shot_ids[0]]))
    assert read_deck(folder.db) != deck
    history.undo()
    assert read_deck(folder.db) == deck
    history.redo()
    assert read_deck(folder.db).sequence_shot_ids == (shot_ids[2],)
