"""The scenes panel: film order with shot counts, a filter, drag to reorder scenes, and
shots dropped on a scene."""

import pytest
from PySide6.QtCore import QModelIndex, Qt

from previz_app.domain.model import Scene
from previz_app.store import scenes, shots
from previz_app.store import operations as ops
from previz_app.ui.board_model import shot_ids_mime
from previz_app.ui.scenes_view import SceneRole, ScenesView
from previz_app.ui.theme import DIM_TEXT

MOVE = Qt.DropAction.MoveAction


@pytest.fixture
def panel(state, shown):
    return shown(ScenesView(state), 300, 400)


def scene_order(state):
    return [scene.id for scene in scenes.list_scenes(state.db)]


def shot_order(state, scene_id):
    return [shot.id for shot in shots.list_shots(state.db, scene_id)]


def texts(view):
    return [view.proxy.index(r, 0).data() for r in range(view.proxy.rowCount())]


def test_scenes_show_number_heading_and_shot_count_and_removed_ones_are_greyed(panel, state):
    assert texts(panel) == ["1  INT. KITCHEN - NIGHT\n3 shots", "2  EXT. LIGHTHOUSE - DAY\n1 shot"]
    with state.folder.transaction():
        scenes.update_scene(state.db, 1, removed=True)
    state.reload()
    assert texts(panel)[1] == "1  INT. KITCHEN - NIGHT  (removed)\n3 shots"
    assert panel.model.index(1).data(Qt.ItemDataRole.ForegroundRole) == DIM_TEXT
    assert panel.model.data(panel.model.index(0), Qt.ItemDataRole.ForegroundRole) is None


def test_the_filter_matches_number_heading_location_and_synopsis(panel, state):
    state.perform(ops.EditScene(1, "synopsis", "Ella waits for Tom"))
    panel.filter_edit.setText("lighthouse")
    assert [panel.proxy.index(r, 0).data(SceneRole.scene_id) for r in range(panel.proxy.rowCount())] == [2]
    assert not panel.list_view.dragEnabled()  # no reordering among hidden rows
    panel.filter_edit.setText("WAITS")
    assert panel.proxy.rowCount() == 1 and panel.proxy.index(0, 0).data(SceneRole.scene_id) == 1
    panel.filter_edit.setText("2")
    assert panel.proxy.rowCount() == 1 and panel.proxy.index(0, 0).data(SceneRole.scene_id) == 2
    panel.filter_edit.clear()
    assert panel.proxy.rowCount() == 2 and panel.list_view.dragEnabled()


def test_dragging_a_scene_reorders_the_film_and_one_undo_restores_it(panel, state):
    model = panel.model
    mime = model.mimeData([model.index(1)])
    assert model.dropMimeData(mime, MOVE, 0, 0, QModelIndex()) is False
    assert scene_order(state) == [2, 1]
    assert texts(panel)[0].startswith("2  EXT. LIGHTHOUSE")
    state.undo_stack.undo()
    assert scene_order(state) == [1, 2]
    # Dropped onto another scene, it takes that scene's place; through the filter proxy too.
    panel.proxy.dropMimeData(model.mimeData([model.index(0)]), MOVE, -1, 0, panel.proxy.index(1, 0))
    assert scene_order(state) == [2, 1] and state.undo_stack.count() == 1
    state.undo_stack.undo()


def test_a_scene_dragged_down_lands_between_the_scenes_it_was_dropped_between(panel, state):
    with state.folder.transaction():
        cellar = scenes.insert_scene(state.db, Scene("3", "INT. CELLAR - DAY", position=2))
    state.reload()
    panel.model.dropMimeData(panel.model.mimeData([panel.model.index(0)]), MOVE, 2, 0, QModelIndex())
    assert scene_order(state) == [2, 1, cellar]
    state.undo_stack.undo()
    assert scene_order(state) == [1, 2, cellar]


def test_shots_dropped_on_a_scene_move_to_its_end_as_one_edit(panel, state):
    model = panel.model
    assert model.canDropMimeData(shot_ids_mime([2, 1]), MOVE, -1, 0, model.index(1))
    assert not model.canDropMimeData(shot_ids_mime([2, 1]), MOVE, 1, 0, QModelIndex())  # between scenes: no
    model.dropMimeData(shot_ids_mime([2, 1]), MOVE, -1, 0, model.index(1))
    assert shot_order(state, 2) == [4, 1, 2] and shot_order(state, 1) == [3]
    assert texts(panel)[1].endswith("3 shots")
    assert state.undo_stack.count() == 1 and state.undo_stack.undoText() == "Move 2 shots to scene 2"
    state.undo_stack.undo()
    assert shot_order(state, 1) == [1, 2, 3] and shot_order(state, 2) == [4]
    # Shots already at the end of the scene stay where they are.
    model.dropMimeData(shot_ids_mime([4]), MOVE, -1, 0, model.index(1))
    assert state.undo_stack.count() == 1 and state.undo_stack.canRedo()


def test_clicking_a_scene_activates_it(panel, qtbot):
    index = panel.proxy.index(1, 0)
    with qtbot.waitSignal(panel.scene_activated) as activated:
        qtbot.mouseClick(panel.list_view.viewport(), Qt.MouseButton.LeftButton, pos=panel.list_view.visualRect(index).center())
    assert activated.args == [2]


def test_the_current_shots_scene_is_selected_without_activating_it(panel, state):
    activated = []
    panel.scene_activated.connect(activated.append)
    state.set_current_shot(4)
    assert panel.selected_scene_id() == 2
    state.set_current_shot(2)
    assert panel.selected_scene_id() == 1
    state.perform(ops.MoveScene(2, 0))  # a reload keeps the selection
    assert panel.selected_scene_id() == 1 and panel.list_view.currentIndex().row() == 1
    assert activated == []
