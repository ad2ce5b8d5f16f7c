"""Choosing the deck's pictures: hero and starred takes first, key art and the mood
board in the order chosen, key sequences as shots; the project's pictures are read
again after changes only while the editor is shown, and a picker keeps the user's place."""

from previz_app.store import shots
from previz_app.ui import deck_images
from tests.animatic.heroes import give_heroes

from .deck_fixtures import (
    add_take,
    click_tile,
    dialog_fixture,  # noqa: F401 - the fixture dialog
    make_dialog_fixture,  # noqa: F401 - the fixture make_dialog
    stored,
)


def test_hero_and_starred_takes_are_offered_first(make_dialog, state, qtbot):
    first = shots.list_shots(state.db)[0].id
    plain, starred = add_take(state, first), add_take(state, first, starred=True)
    dialog = make_dialog()
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    tiles = dialog.catalog.catalog.takes
    heroes = {shot.hero_take_id for shot in shots.list_shots(state.db)}
    assert {tile.id for tile in tiles[:len(heroes)]} == heroes
    assert [tile.id for tile in tiles[len(heroes):]] == [starred, plain]


def test_key_art_and_mood_board_store_the_chosen_takes_in_order(dialog, state, qtbot):
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    dialog.show_section("title")
    key_art = dialog.forms["title"].key_art
    ids = [tile.id for tile in key_art.model.tiles]
    assert len(ids) >= 3
    click_tile(qtbot, key_art, ids[1])
    assert stored(state).key_art_take_id == ids[1]
    click_tile(qtbot, key_art, ids[2])  # one key art: another click replaces it
    assert stored(state).key_art_take_id == ids[2]

    dialog.show_section("tone")
    mood = dialog.forms["tone"].mood
    for take_id in (ids[2], ids[0], ids[1]):
        click_tile(qtbot, mood, take_id)
    assert stored(state).mood_take_ids == (ids[2], ids[0], ids[1])
    click_tile(qtbot, mood, ids[0])  # a second click takes it out
    assert stored(state).mood_take_ids == (ids[2], ids[1])
    mood.list_view.setCurrentIndex(mood.model.index(mood.model.row_of(ids[1])))
    mood.earlier_button.click()
    assert stored(state).mood_take_ids == (ids[1], ids[2])
    state.undo_stack.undo()
    assert mood.chosen() == (ids[2], ids[1])


def test_key_sequences_are_shots(dialog, state, qtbot):
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    dialog.show_section("sequences")
    picker = dialog.forms["sequences"].shots
    shot_ids = [shot.id for shot in shots.list_shots(state.db)]
    assert [tile.id for tile in picker.model.tiles] == shot_ids
    click_tile(qtbot, picker, shot_ids[-1])
    click_tile(qtbot, picker, shot_ids[0])
    assert stored(state).sequence_shot_ids == (shot_ids[-1], shot_ids[0])


def test_a_hidden_editor_reads_the_pictures_again_only_once_shown(dialog, state, qtbot, monkeypatch):
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    reads = []
    real = deck_images.read_catalog
    monkeypatch.setattr(deck_images, "read_catalog", lambda folder: reads.append(folder) or real(folder))
    dialog.hide()
    first = shots.list_shots(state.db)[0].id
    new = add_take(state, first)  # a frame generated while the editor is away
    state.takes_changed.emit(first)
    qtbot.wait(deck_images.RELOAD_DELAY_MS + 300)
    assert reads == [] and dialog.catalog.tile(new) is None
    dialog.show()
    qtbot.waitUntil(lambda: dialog.catalog.tile(new) is not None, timeout=5_000)
    assert len(reads) == 1


def test_a_picker_keeps_the_users_place_when_the_pictures_are_read_again(make_dialog, state, qtbot):
    give_heroes(state.folder)
    give_heroes(state.folder)  # enough takes to scroll
    dialog = make_dialog()
    dialog.resize(1100, 700)
    dialog.show_section("tone")
    mood = dialog.forms["tone"].mood
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    assert len(mood.model.tiles) == 3 * len(shots.list_shots(state.db))
    ids = [tile.id for tile in mood.model.tiles]
    click_tile(qtbot, mood, ids[0])
    click_tile(qtbot, mood, ids[-1])  # chosen second, and selected
    bar = mood.list_view.verticalScrollBar()
    bar.setValue(bar.maximum())
    assert bar.value() > 0

    def place():
        current = mood.list_view.currentIndex()
        return (mood.model.tiles[current.row()].id, bar.value(), mood.earlier_button.isEnabled(),
                len(mood.list_view.selectionModel().selectedRows()))

    before = place()
    assert before[0] == ids[-1] and before[2]
    first = shots.list_shots(state.db)[0].id
    with qtbot.waitSignal(dialog.catalog.catalog_changed, timeout=5_000):
        state.takes_changed.emit(first)  # read again, nothing new
    assert place() == before
    with qtbot.waitSignal(dialog.catalog.catalog_changed, timeout=5_000):
        add_take(state, first, starred=True)  # a new tile among the first rows
    assert len(mood.model.tiles) == len(ids) + 1 and mood.model.row_of(ids[-1]) == len(ids)  # moved down
    assert place() == before
    assert stored(state).mood_take_ids == (ids[0], ids[-1])
