"""The inspector: committed edits become undoable store edits, refused ones put the
stored value back, and the buttons ask for frames of the right shot and take."""

import pytest
from PIL import Image
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication

from previz_app.domain.vocabulary import Direction, Movement, ShotSize, TakeKind
from previz_app.engine.request import FrameRequest, encode_png
from previz_app.store import shots
from previz_app.store import operations as ops


def first_shot(state):
    return shots.list_shots(state.db)[0]


def choose(combo, value):
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def type_into(qtbot, line_edit, text):
    line_edit.clear()
    qtbot.keyClicks(line_edit, text)
    line_edit.editingFinished.emit()


def add_take(state, shot_id, kind=TakeKind.generated, seed=5):
    request = FrameRequest(64, 32, seed=seed)
    data = encode_png(Image.new("RGB", (64, 32), (seed, 80, 120)), request)
    recipe = request.to_json() if kind is TakeKind.generated else '{"drawn": true}'
    return state.record_take(shot_id, kind, state.folder.media.put(data), len(data), recipe)


def test_no_shot_shows_an_empty_page_with_fields_disabled(inspector, state):
    state.set_current_shot(None)
    assert inspector.pages.currentWidget() is inspector.empty_page
    assert not any(editor.isEnabled() for editor in inspector.editors.values())
    assert not inspector.generate_button.isEnabled()
    state.set_current_shot(first_shot(state).id)
    assert inspector.pages.currentIndex() == 1 and inspector.editors["size"].isEnabled()


def test_the_header_names_the_shot_and_its_scene(inspector, state):
    shot = first_shot(state)
    assert inspector.header.text() == f"Shot {shot.number} — INT. KITCHEN - NIGHT"


def test_picking_a_size_edits_the_shot_and_undo_reverts_store_and_widget(inspector, state):
    shot = first_shot(state)
    combo = inspector.editors["size"]
    assert combo.currentData() == shot.size.value
    new = ShotSize.cu if shot.size is not ShotSize.cu else ShotSize.ws
    choose(combo, new.value)
    assert state.shot(shot.id).size is new
    assert state.undo_stack.count() == 1
    state.undo_stack.undo()
    assert state.shot(shot.id).size is shot.size
    assert combo.currentData() == shot.size.value
    state.undo_stack.redo()
    assert combo.currentData() == new.value


def test_typed_characters_are_stored_normalised_and_undo(inspector, state, qtbot):
    shot = first_shot(state)
    editor = inspector.editors["characters"]
    type_into(qtbot, editor, "ella,  mara")
    assert state.shot(shot.id).characters == ("ELLA", "MARA")
    assert editor.text() == "ELLA, MARA"
    state.undo_stack.undo()
    assert state.shot(shot.id).characters == shot.characters
    assert editor.text() == ", ".join(shot.characters)


def test_lens_and_duration_spin_boxes_commit_when_editing_finishes(inspector, state):
    shot = first_shot(state)
    lens, duration = inspector.editors["lens_mm"], inspector.editors["duration"]
    lens.setValue(85)
    lens.editingFinished.emit()
    duration.setValue(4.5)
    duration.editingFinished.emit()
    stored = state.shot(shot.id)
    assert (stored.lens_mm, stored.duration) == (85.0, 4.5)
    assert state.undo_stack.count() == 2
    state.undo_stack.undo()
    assert duration.value() == pytest.approx(shot.duration, abs=0.005)


def test_the_action_commits_on_focus_out_and_changes_the_prompt(inspector, state):
    shot = first_shot(state)
    editor = inspector.editors["action"]
    assert "lighthouse keeper" not in inspector.prompt_text.toPlainText()
    editor.setPlainText("A lighthouse keeper climbs the stairs")
    editor.document().setModified(True)
    QApplication.sendEvent(editor, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.OtherFocusReason))
    assert state.shot(shot.id).action == "A lighthouse keeper climbs the stairs"
    assert "lighthouse keeper climbs the stairs" in inspector.prompt_text.toPlainText()
    state.undo_stack.undo()
    assert editor.toPlainText() == shot.action
    assert "lighthouse keeper" not in inspector.prompt_text.toPlainText()


def test_a_locked_number_in_use_is_refused_and_the_stored_value_shown(inspector, state, qtbot):
    first, second = shots.list_shots(state.db)[:2]
    assert first.scene_id == second.scene_id
    assert state.perform(ops.EditShot(second.id, "locked_number", "1X"))
    editor = inspector.editors["locked_number"]
    with qtbot.waitSignal(state.error_reported) as reported:
        type_into(qtbot, editor, "1x")
    assert "already locked" in reported.args[0]
    assert state.shot(first.id).locked_number is None
    assert editor.text() == ""
    assert state.undo_stack.count() == 1


def test_a_free_locked_number_renumbers_the_header(inspector, state, qtbot):
    shot = first_shot(state)
    type_into(qtbot, inspector.editors["locked_number"], "7z")
    assert state.shot(shot.id).locked_number == "7Z"
    assert inspector.header.text().startswith("Shot 7Z — ")


def test_a_negative_seed_is_reported_and_the_field_reset(inspector, state, qtbot):
    shot = first_shot(state)
    editor = inspector.editors["seed"]
    with qtbot.waitSignal(state.error_reported) as reported:
        type_into(qtbot, editor, "-5")
    assert "seed" in reported.args[0] and "-5" in reported.args[0]
    assert state.shot(shot.id).seed is None and editor.text() == ""
    assert state.undo_stack.count() == 0
    type_into(qtbot, editor, "1234")
    assert state.shot(shot.id).seed == 1234
    type_into(qtbot, editor, "")
    assert state.shot(shot.id).seed is None


def test_direction_choices_follow_the_movement(inspector, state):
    shot = first_shot(state)
    movement, direction = inspector.editors["movement"], inspector.editors["direction"]

    def offered():
        return [direction.itemData(i) for i in range(direction.count())]

    choose(movement, Movement.static.value)
    assert offered() == [""]
    choose(movement, Movement.pan.value)
    assert offered() == ["", "left", "right"]
    choose(direction, "right")
    assert state.shot(shot.id).direction is Direction.right
    choose(movement, Movement.zoom.value)
    assert offered() == ["", "in", "out"]
    assert state.shot(shot.id).direction is Direction.none and direction.currentData() == ""
    state.undo_stack.undo()  # back to a pan, going right
    assert offered() == ["", "left", "right"] and direction.currentData() == "right"


def test_unchanged_values_make_no_edit(inspector, state):
    size = inspector.editors["size"]
    size.activated.emit(size.currentIndex())
    inspector.editors["lens_mm"].editingFinished.emit()
    inspector.editors["duration"].editingFinished.emit()
    inspector.editors["seed"].editingFinished.emit()
    inspector.editors["characters"].editingFinished.emit()
    inspector.editors["notes"].commit_requested.emit()
    assert state.undo_stack.count() == 0


def test_typing_survives_a_frame_arriving_and_is_kept_when_the_shot_changes(inspector, state):
    first, second = shots.list_shots(state.db)[:2]
    notes = inspector.editors["notes"]
    notes.setPlainText("half a thought")
    notes.document().setModified(True)
    add_take(state, first.id)  # the shot changes under the user's typing
    assert notes.toPlainText() == "half a thought"
    state.set_current_shot(second.id)
    assert state.shot(first.id).notes == "half a thought"
    assert notes.toPlainText() == second.notes


def test_generation_buttons_emit_the_shot(inspector, state, qtbot):
    shot = first_shot(state)
    with qtbot.waitSignal(inspector.generate_requested) as generate:
        inspector.generate_button.click()
    assert generate.args == [[shot.id], 1]
    inspector.variations_spin.setValue(6)
    with qtbot.waitSignal(inspector.generate_requested) as variations:
        inspector.variations_button.click()
    assert variations.args == [[shot.id], 6]
    assert inspector.variations_spin.minimum() == 1 and inspector.variations_spin.maximum() == 16
    with qtbot.waitSignal(inspector.sketch_requested) as sketch:
        inspector.sketch_button.click()
    assert sketch.args == [shot.id, -1]


def test_take_buttons_follow_the_selected_take(inspector, state, qtbot):
    shot = first_shot(state)
    assert not inspector.refine_button.isEnabled() and not inspector.regenerate_button.isEnabled()
    generated = add_take(state, shot.id)
    drawn = add_take(state, shot.id, TakeKind.drawn)
    inspector.takes_view.select_take(generated)
    assert inspector.refine_button.isEnabled() and inspector.regenerate_button.isEnabled()
    with qtbot.waitSignal(inspector.refine_requested) as refine:
        inspector.refine_button.click()
    assert refine.args == [generated]
    with qtbot.waitSignal(inspector.regenerate_requested) as regenerate:
        inspector.regenerate_button.click()
    assert regenerate.args == [generated]
    inspector.takes_view.select_take(drawn)
    assert inspector.refine_button.isEnabled() and not inspector.regenerate_button.isEnabled()
    with qtbot.waitSignal(inspector.sketch_requested) as sketch:
        inspector.sketch_button.click()
    assert sketch.args == [shot.id, drawn]


def test_a_new_shot_opens_on_its_hero_take(inspector, state):
    first, second = shots.list_shots(state.db)[:2]
    hero = add_take(state, second.id)
    state.set_current_shot(second.id)
    assert inspector.takes_view.selected_take_id() == hero
    assert inspector.refine_button.isEnabled()
    state.set_current_shot(first.id)
    assert inspector.takes_view.selected_take_id() is None and not inspector.refine_button.isEnabled()
