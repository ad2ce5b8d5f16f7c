"""The pitch deck editor: every committed edit is one undoable store edit the form
follows, built on what is stored; the sections are listed, empty ones dimmed; money is
checked as a financier would. (Tables, pictures and the preview: test_deck_tables,
test_deck_images, test_deck_preview.)"""

from dataclasses import replace

from PySide6.QtCore import Qt

from previz_app.domain.deck import BudgetLine, Comparable, Deck, FinancingSource
from previz_app.store import operations as ops
from previz_app.store.deck import write_deck
from previz_app.ui.deck_editor import KEYS, DeckEditorDialog
from previz_app.ui.theme import DIM_TEXT

from .deck_fixtures import (
    LOGLINE,
    dialog_fixture,  # noqa: F401 - the fixture dialog
    make_dialog_fixture,  # noqa: F401 - the fixture make_dialog
    stored,
    type_and_finish,
    type_cell,
)

# -- text, undo and reloading ------------------------------------------------------------


def test_a_finished_logline_is_stored_and_undo_brings_the_form_back(dialog, state, qtbot):
    dialog.show_section("logline")
    edit = dialog.forms["logline"].text_edit
    edit.setFocus()
    qtbot.keyClicks(edit, LOGLINE)
    assert stored(state).logline == ""  # typing alone saves nothing
    edit.clearFocus()
    assert stored(state).logline == LOGLINE
    assert state.undo_stack.undoText() == "Edit pitch deck"

    state.undo_stack.undo()
    assert stored(state).logline == ""
    assert edit.toPlainText() == ""
    state.undo_stack.redo()
    assert stored(state).logline == LOGLINE and edit.toPlainText() == LOGLINE


def test_a_reload_keeps_what_the_user_is_typing(dialog, state, qtbot):
    dialog.show_section("synopsis")
    edit = dialog.forms["synopsis"].text_edit
    edit.setFocus()
    assert edit.hasFocus()
    qtbot.keyClicks(edit, "Mara is the last keeper")
    # Another edit of the deck arrives meanwhile (from another window, or undo).
    state.perform(ops.EditDeck(replace(stored(state), contact="Greyhaven Films")))
    assert dialog.forms["contact"].text_edit.toPlainText() == "Greyhaven Films"
    assert edit.toPlainText() == "Mara is the last keeper"
    edit.clearFocus()
    assert stored(state).synopsis == "Mara is the last keeper" and stored(state).contact == "Greyhaven Films"


def test_closing_the_dialog_keeps_what_was_typed(dialog, state, qtbot):
    dialog.show_section("contact")
    edit = dialog.forms["contact"].text_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "tobiah@greyhaven.example")
    dialog.close()
    assert stored(state).contact == "tobiah@greyhaven.example"


def test_the_deck_changed_signal_follows_edits_undo_and_redo(state, qtbot):
    seen = []
    state.deck_changed.connect(lambda: seen.append(stored(state).logline))
    state.perform(ops.EditDeck(Deck(logline="one")))
    state.undo_stack.undo()
    state.undo_stack.redo()
    assert seen == ["one", "", "one"]


def test_an_empty_section_is_listed_dimmed_with_its_name_whole(dialog, state, qtbot):
    def item(key):
        return dialog.section_list.item(KEYS.index(key))

    def dimmed(key):
        return item(key).data(Qt.ItemDataRole.ForegroundRole) == DIM_TEXT

    assert dimmed("logline") and dimmed("team") and item("team").toolTip() == "(omitted: empty)"
    assert item("logline").text() == "Logline" and item("team").text() == "Team"
    assert not dimmed("title") and item("title").toolTip() == ""  # the title page always prints
    dialog.show_section("logline")
    type_and_finish(qtbot, dialog.forms["logline"].text_edit, LOGLINE)
    assert not dimmed("logline") and item("logline").toolTip() == ""
    assert dimmed("team")


def test_every_section_name_fits_the_list_at_the_default_size(state, services, thumbnails, qtbot):
    state.perform(ops.EditDeck(Deck(budget_total=1_000, comparables=(Comparable("Huge", 2019, 90_000_000),))))
    dialog = DeckEditorDialog(state, thumbnails=thumbnails, pool=services.pool)
    qtbot.addWidget(dialog)
    dialog.show()  # at the size it opens with
    qtbot.waitExposed(dialog)
    names = dialog.section_list
    assert any(names.item(row).text().endswith("⚠") for row in range(names.count()))
    room = names.viewport().width()
    for row in range(names.count()):
        assert names.visualItemRect(names.item(row)).right() < room
        assert names.fontMetrics().horizontalAdvance(names.item(row).text()) < room - 8, names.item(row).text()


# -- money -------------------------------------------------------------------------------


def test_budget_lines_and_financing_update_the_warnings_and_the_secured_share(dialog, state, qtbot):
    dialog.show_section("budget")
    budget = dialog.forms["budget"]
    budget.total_edit.setFocus()
    qtbot.keyClicks(budget.total_edit, "1,000,000")
    qtbot.keyClick(budget.total_edit, Qt.Key.Key_Return)
    assert stored(state).budget_total == 1_000_000

    budget.table.add_button.click()
    type_cell(qtbot, budget.table.table, 0, 0, "Cast")
    type_cell(qtbot, budget.table.table, 0, 1, "600000")
    assert stored(state).budget_lines == (BudgetLine("Cast", 600_000),)
    assert budget.table.table.item(0, 1).text() == "600,000"
    assert "the budget lines add up to USD 600,000, USD 400,000 short of the total of USD 1,000,000" \
        in dialog.warnings_text()

    budget.table.add_button.click()
    type_cell(qtbot, budget.table.table, 1, 0, "Crew")
    type_cell(qtbot, budget.table.table, 1, 1, "400,000")
    assert "budget lines" not in dialog.warnings_text()
    assert "Budget USD 1,000,000" in dialog.money_label.text()

    dialog.show_section("financing")
    financing = dialog.forms["financing"].table
    financing.add_button.click()
    type_cell(qtbot, financing.table, 0, 0, "Equity")
    type_cell(qtbot, financing.table, 0, 1, "500000")
    financing.table.item(0, 2).setCheckState(Qt.CheckState.Checked)
    assert stored(state).financing == (FinancingSource("Equity", 500_000, True),)
    assert "USD 500,000 short of the budget of USD 1,000,000" in dialog.warnings_text()
    assert "secured USD 500,000 (50% of the budget)" in dialog.money_label.text()

    financing.add_button.click()
    type_cell(qtbot, financing.table, 1, 0, "Pre-sales")
    type_cell(qtbot, financing.table, 1, 1, "500000")
    assert "financing" not in dialog.warnings_text().lower()
    assert "secured USD 500,000 (50% of the budget)" in dialog.money_label.text()
    assert stored(state).financing[1] == FinancingSource("Pre-sales", 500_000, False)


# -- the window --------------------------------------------------------------------


def test_the_dialog_is_not_modal_and_fits_a_small_screen(dialog):
    assert not dialog.isModal()
    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1100 and hint.height() <= 700, hint
    dialog.resize(1100, 700)
    assert (dialog.width(), dialog.height()) == (1100, 700)


def test_a_refused_edit_is_explained_and_the_form_shows_the_stored_deck(dialog, state, qtbot):
    qtbot.waitUntil(lambda: dialog.catalog.loaded)
    dialog.show_section("title")
    dialog.forms["title"].key_art.toggle(999_999)  # a take deleted since the list was read
    assert stored(state).key_art_take_id is None
    assert dialog.forms["title"].key_art.chosen() == ()
    assert "key art: no take 999999" in dialog.status_label.text()
    assert state.undo_stack.count() == 0


def test_an_edit_keeps_what_another_program_stored_meanwhile(dialog, state, qtbot):
    # `previz deck DIR --load` while the app is open: another connection, no signal.
    other = state.folder.connect()
    write_deck(other, replace(stored(state), contact="Greyhaven Films", team=()))
    other.close()
    dialog.show_section("logline")
    type_and_finish(qtbot, dialog.forms["logline"].text_edit, LOGLINE)
    assert stored(state).logline == LOGLINE
    assert stored(state).contact == "Greyhaven Films"  # not overwritten by the editor's older copy
    state.undo_stack.undo()
    assert stored(state).logline == "" and stored(state).contact == "Greyhaven Films"


def test_clicking_the_all_clear_line_under_the_money_does_nothing(dialog, qtbot):
    warnings = dialog.warnings_list
    assert warnings.count() == 1 and warnings.item(0).text().startswith("Nothing a financier would question")
    dialog.show_section("team")
    rect = warnings.visualItemRect(warnings.item(0))
    qtbot.mouseClick(warnings.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # raised before
    assert dialog.current_section() == "team"


def test_clicking_a_warning_opens_its_section(dialog, state, qtbot):
    state.perform(ops.EditDeck(Deck(budget_total=1_000, budget_lines=(BudgetLine("All", 10),))))
    warnings = dialog.warnings_list
    row = next(r for r in range(warnings.count()) if "budget lines" in warnings.item(r).text())
    rect = warnings.visualItemRect(warnings.item(row))
    qtbot.mouseClick(warnings.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.current_section() == "budget"
