"""The pitch deck's tables: a committed cell is one undoable edit; a money amount that
is not a whole number is marked and not saved; rows move and go as single edits; Undo
and Redo while a cell is typed in save the typing first; a character's picture is
chosen from the project's takes."""

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from previz_app.domain.deck import BudgetLine, Deck, DeckCharacter, TeamMember
from previz_app.store import operations as ops
from previz_app.store import shots
from previz_app.store.deck import write_deck
from previz_app.ui.deck_columns import parse_amount
from previz_app.ui.deck_images import ImagePicker
from previz_app.ui.deck_tables import INVALID

from .deck_fixtures import (
    click_button_of,
    dialog_fixture,  # noqa: F401 - the fixture dialog
    make_dialog_fixture,  # noqa: F401 - the fixture make_dialog
    open_cell,
    stored,
    type_cell,
)


def test_a_non_numeric_amount_is_shown_and_not_saved(dialog, state, qtbot):
    dialog.show_section("budget")
    lines = dialog.forms["budget"].table
    lines.add_button.click()
    type_cell(qtbot, lines.table, 0, 1, "12 thousand")
    assert stored(state).budget_lines == (BudgetLine("", 0),)
    assert (0, 1) in lines.invalid_cells()
    assert lines.table.item(0, 1).background().color() == INVALID
    assert not lines.error_label.isHidden() and "not a whole number" in lines.error_label.text()
    type_cell(qtbot, lines.table, 0, 1, "12000")
    assert stored(state).budget_lines == (BudgetLine("", 12_000),)
    assert not lines.invalid_cells() and lines.error_label.isHidden()

    total = dialog.forms["budget"].total_edit
    total.setFocus()
    qtbot.keyClicks(total, "1.5m")
    qtbot.keyClick(total, Qt.Key.Key_Return)
    assert stored(state).budget_total is None
    assert not dialog.forms["budget"].total_error.isHidden()
    assert total.text() == "1.5m"  # the bad input stays on screen to be fixed


@pytest.mark.parametrize("text, amount", [("1,250,000", 1_250_000), (" 1 250 000 ", 1_250_000), ("0", 0)])
def test_amounts_take_thousands_separators(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize("text", ["1.5", "-5", "1e6", "abc", "", "10000000000000"])
def test_amounts_refuse_what_is_not_a_whole_number(text):
    with pytest.raises(ValueError):
        parse_amount(text)


# -- lists -------------------------------------------------------------------------------


def test_team_rows_move_and_remove_as_single_undoable_edits(dialog, state, qtbot):
    write_deck(state.db, Deck(team=(TeamMember("Isolde", "Director"), TeamMember("Tobiah", "Producer"))))
    state.deck_changed.emit()
    dialog.show_section("team")
    table = dialog.forms["team"].table
    assert table.table.rowCount() == 2
    table.table.selectRow(0)
    table.down_button.click()
    assert [m.name for m in stored(state).team] == ["Tobiah", "Isolde"]
    table.remove_button.click()  # the moved row stays selected
    assert [m.name for m in stored(state).team] == ["Tobiah"]
    state.undo_stack.undo()
    assert [m.name for m in stored(state).team] == ["Tobiah", "Isolde"]
    assert table.table.item(1, 0).text() == "Isolde"


def test_a_characters_status_and_picture_are_stored(dialog, state, qtbot):
    dialog.show_section("characters")
    table = dialog.forms["characters"].table
    table.add_button.click()
    type_cell(qtbot, table.table, 0, 0, "Mara")
    table.status_combo(0).setCurrentText("attached")
    assert stored(state).characters[0].status == "attached"
    first = shots.list_shots(state.db)[0]
    take_id = first.hero_take_id
    table.pick_image = lambda current: (True, take_id)
    table.table.cellDoubleClicked.emit(0, 4)
    assert stored(state).characters[0].image_take_id == take_id
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    assert table.table.item(0, 4).text() == f"{first.number} · take {take_id}"


def test_the_characters_picture_is_chosen_from_the_takes_and_can_be_cleared(dialog, state, qtbot):
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    state.perform(ops.EditDeck(Deck(characters=(DeckCharacter("Mara"),))))
    dialog.show_section("characters")
    table = dialog.forms["characters"].table
    seen = []

    def choose(pick, ok=True):
        def answer():  # in the chooser's own event loop
            chooser = QApplication.activeModalWidget()
            picker = chooser.findChild(ImagePicker)
            seen.append(picker.chosen())
            pick(picker)
            buttons = chooser.findChild(QDialogButtonBox)
            buttons.button(QDialogButtonBox.StandardButton.Ok if ok else QDialogButtonBox.StandardButton.Cancel).click()
        QTimer.singleShot(100, answer)
        table.table.cellDoubleClicked.emit(0, 4)

    third = dialog.catalog.catalog.takes[2]
    choose(lambda picker: picker.toggle(third.id))
    assert stored(state).characters[0].image_take_id == third.id
    assert table.table.item(0, 4).text() == third.label
    choose(lambda picker: picker.clear_button.click(), ok=False)  # cancelled: kept
    assert stored(state).characters[0].image_take_id == third.id
    choose(lambda picker: picker.clear_button.click())
    assert seen == [(), (third.id,), (third.id,)]  # the chooser opens on the current picture
    assert stored(state).characters[0].image_take_id is None and table.table.item(0, 4).text() == "—"


# -- typing, undo and reloads ------------------------------------------------------------


def test_undo_while_a_cell_is_typed_in_takes_back_the_typing_first(dialog, state, qtbot):
    # The rule: what is typed is saved first, as leaving the cell would save it, so Undo
    # takes it back first; Redo after new typing has nothing to redo.
    state.perform(ops.EditDeck(Deck(team=(TeamMember("Isolde", "Director"),))))
    dialog.show_section("team")
    table = dialog.forms["team"].table.table
    type_cell(qtbot, table, 0, 0, "Mara")
    open_cell(qtbot, table, 0, 1, "Producer")
    click_button_of(qtbot, dialog, dialog.undo_action)
    assert stored(state).team == (TeamMember("Mara", "Director"),)
    assert table.state() != table.State.EditingState  # the editor is closed: a Return commits nothing
    assert (table.item(0, 0).text(), table.item(0, 1).text()) == ("Mara", "Director")
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert stored(state).team == (TeamMember("Mara", "Director"),)

    click_button_of(qtbot, dialog, dialog.redo_action)
    assert stored(state).team == (TeamMember("Mara", "Producer"),)
    click_button_of(qtbot, dialog, dialog.undo_action)
    click_button_of(qtbot, dialog, dialog.undo_action)
    assert stored(state).team == (TeamMember("Isolde", "Director"),) and table.item(0, 0).text() == "Isolde"

    open_cell(qtbot, table, 0, 0, "Tobiah")
    assert dialog.redo_action.isEnabled()
    click_button_of(qtbot, dialog, dialog.redo_action)  # the typing is a new edit: nothing left to redo
    assert stored(state).team == (TeamMember("Tobiah", "Director"),)
    assert not state.undo_stack.canRedo() and not dialog.redo_action.isEnabled()


def test_rows_stored_while_a_cell_is_typed_in_are_what_it_commits_onto(dialog, state, qtbot):
    state.perform(ops.EditDeck(Deck(team=(TeamMember("Isolde", "Director"), TeamMember("Tobiah", "Producer")))))
    dialog.show_section("team")
    table = dialog.forms["team"].table.table
    editor = open_cell(qtbot, table, 0, 1, "Writer")
    # Meanwhile the second row changes underneath (an undo from another window).
    state.perform(ops.EditDeck(Deck(team=(TeamMember("Isolde", "Director"), TeamMember("Mara", "Producer")))))
    assert table.state() == table.State.EditingState and editor.text() == "Writer"  # the typing is kept
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState, timeout=2_000)
    assert stored(state).team == (TeamMember("Isolde", "Writer"), TeamMember("Mara", "Producer"))
    assert [table.item(1, col).text() for col in (0, 1)] == ["Mara", "Producer"]
