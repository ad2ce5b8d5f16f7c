"""What the pitch deck editor's tests share: shown editors over the test project (the
fixtures `make_dialog` and `dialog`; a test module imports `make_dialog_fixture` and
`dialog_fixture` to use them), and typing, cell editing and tile clicks as a user does them."""

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from previz_app.domain.deck import Deck
from previz_app.domain.vocabulary import TakeKind
from previz_app.engine.request import FrameRequest, encode_png
from previz_app.store import operations as ops
from previz_app.store.deck import read_deck
from previz_app.ui.deck_editor import DeckEditorDialog
from tests.animatic.heroes import give_heroes

LOGLINE = "A keeper and her brother turn the lamp by hand through the storm."


@pytest.fixture(name="make_dialog")
def make_dialog_fixture(state, services, thumbnails, qtbot):
    """A factory for shown editors over `state` (shots with hero takes)."""
    give_heroes(state.folder)

    def make(owned=True):
        dialog = DeckEditorDialog(state, thumbnails=thumbnails, pool=services.pool)
        if owned:  # qtbot closes it after the test
            qtbot.addWidget(dialog)
        dialog.resize(1300, 820)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()  # fields get focus, and lose it, as on a desktop
        qtbot.waitUntil(dialog.isActiveWindow)
        return dialog

    return make


@pytest.fixture(name="dialog")
def dialog_fixture(make_dialog):
    return make_dialog()


def stored(state) -> Deck:
    return read_deck(state.db)


def type_and_finish(qtbot, widget, text):
    """Type into a text field as a user does, then move on (focus leaves it)."""
    widget.setFocus()
    qtbot.keyClicks(widget, text)
    widget.clearFocus()


def open_cell(qtbot, table, row, col, text):
    """Open a table cell's editor and type `text` into it, without committing; the editor."""
    table.setCurrentCell(row, col)
    table.editItem(table.item(row, col))
    editor = table.indexWidget(table.model().index(row, col))
    assert editor is not None, "no cell editor opened"
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    return editor


def type_cell(qtbot, table, row, col, text):
    """Type `text` into a table cell and press Return, as a user does."""
    editor = open_cell(qtbot, table, row, col, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The delegate commits and closes its editor on the next turn of the event loop.
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState, timeout=2_000)


def click_button_of(qtbot, dialog, action):
    """Click the dialog's tool button for `action` (it takes no focus, as with a mouse)."""
    button = next(b for b in dialog.findChildren(QToolButton) if b.defaultAction() is action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_tile(qtbot, picker, tile_id):
    row = picker.model.row_of(tile_id)
    picker.list_view.scrollTo(picker.model.index(row))
    rect = picker.list_view.visualRect(picker.model.index(row))
    qtbot.mouseClick(picker.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def add_take(state, shot_id, starred=False):
    request = FrameRequest(64, 32, seed=shot_id)
    data = encode_png(Image.new("RGB", (64, 32), (90, 30, 30)), request)
    take_id = state.record_take(shot_id, TakeKind.generated, state.folder.media.put(data), len(data), request.to_json())
    if starred:
        state.perform(ops.StarTake(take_id, True))
    return take_id
