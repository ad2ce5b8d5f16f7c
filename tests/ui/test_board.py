"""The shot board: a model over the store's film order, drag and drop as one undoable
edit, the board's edit actions, painting the hero frame, and 2,000 shots without a
widget each."""

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, QPoint, QPointF, Qt, QThreadPool
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtWidgets import QWidget

from previz_app.domain.model import Project, Scene, Shot
from previz_app.domain.vocabulary import ShotSize, TakeKind
from previz_app.engine.request import FrameRequest, encode_png
from previz_app.store import create_project, scenes, shots
from previz_app.store import operations as ops
from previz_app.ui.board_model import COPIED_FIELDS, SHOT_FIELDS_MIME, BoardModel, BoardRole
from previz_app.ui.board_view import MAX_PANEL_WIDTH, BoardView
from previz_app.ui.state import ProjectState
from previz_app.ui.thumbnails import ThumbnailCache

MOVE = Qt.DropAction.MoveAction


@pytest.fixture
def pool():
    made = QThreadPool()
    yield made
    made.waitForDone(10_000)  # no thumbnail load outlives its cache


@pytest.fixture
def thumbnails(state, tmp_path, pool):
    return ThumbnailCache(state.folder.media.root, tmp_path / "thumbs", pool)


@pytest.fixture
def make_board(shown):
    """A shown board over a project state and a thumbnail cache; qtbot closes it."""
    return lambda on_state, cache: shown(BoardView(on_state, cache), 900, 600)


@pytest.fixture
def board(make_board, state, thumbnails):
    return make_board(state, thumbnails)


def order(state):
    """Shot ids per scene id, in the store's order."""
    found = {}
    for shot in shots.list_shots(state.db):
        found.setdefault(shot.scene_id, []).append(shot.id)
    return found


def solid_png(folder, colour):
    image = Image.new("RGB", (478, 200), colour)
    data = encode_png(image, FrameRequest(478, 200))
    return folder.media.put(data), len(data)


def drop(model, rows, before_row):
    mime = model.mimeData([model.index(r) for r in rows])
    return model.dropMimeData(mime, MOVE, before_row, 0, QModelIndex())


def test_rows_follow_the_store_order_numbers_and_scenes(state, thumbnails):
    model = BoardModel(state, thumbnails)
    stored = shots.list_shots(state.db)
    rows = [model.index(r) for r in range(model.rowCount())]
    assert [i.data(BoardRole.shot_id) for i in rows] == [s.id for s in stored]
    assert [i.data() for i in rows] == ["1", "1A", "1B", "2"]
    assert [i.data(BoardRole.scene_start) for i in rows] == [True, False, False, True]
    assert rows[3].data(BoardRole.scene_label) == "2  EXT. LIGHTHOUSE - DAY"
    assert model.row_of(stored[2].id) == 2 and model.shot_id_at(2) == stored[2].id and model.shot_id_at(9) is None


def test_a_drop_within_a_scene_reorders_the_store_and_one_undo_restores_it(state, thumbnails):
    model = BoardModel(state, thumbnails)
    before = order(state)
    assert drop(model, [2], 0) is False  # the store moved it; Qt must not remove rows
    assert order(state)[1] == [3, 1, 2]
    assert [model.index(r).data() for r in range(3)] == ["1", "1A", "1B"]  # renumbered
    assert model.index(0).data(BoardRole.shot_id) == 3
    assert state.undo_stack.count() == 1
    state.undo_stack.undo()
    assert order(state) == before
    assert [model.index(r).data(BoardRole.shot_id) for r in range(4)] == [1, 2, 3, 4]


def test_a_drop_across_scenes_lands_before_the_target_shot_in_its_scene(state, thumbnails):
    model = BoardModel(state, thumbnails)
    before = order(state)
    drop(model, [0], 3)
    assert order(state) == {1: [2, 3], 2: [1, 4]}
    state.undo_stack.undo()
    assert order(state) == before


def test_several_shots_move_in_film_order_as_one_edit(state, thumbnails):
    model = BoardModel(state, thumbnails)
    before = order(state)
    drop(model, [2, 0], model.rowCount())  # indexes out of order, dropped past the end
    assert order(state) == {1: [2], 2: [4, 1, 3]}
    assert state.undo_stack.count() == 1 and state.undo_stack.undoText() == "Move 2 shots"
    state.undo_stack.undo()
    assert order(state) == before
    # Moving forward within a scene counts places with the moved shots taken out.
    state.perform(ops.InsertShot(1, 3))
    new_id = order(state)[1][3]
    drop(model, [0, 1], 3)
    assert order(state)[1] == [3, 1, 2, new_id]
    state.undo_stack.undo()
    state.undo_stack.undo()
    # Dropping shots next to themselves changes nothing and leaves no undo step.
    drop(model, [1, 2], 1)
    assert order(state) == before and state.undo_stack.index() == 0


def test_editing_a_shot_changes_only_its_row(state, thumbnails, qtbot):
    model = BoardModel(state, thumbnails)
    changed, resets = [], []
    model.dataChanged.connect(lambda top, bottom, roles: changed.append((top.row(), bottom.row())))
    model.modelReset.connect(lambda: resets.append(True))
    state.perform(ops.EditShot(2, "size", "ECU"))
    assert changed == [(1, 1)] and not resets
    assert model.index(1).data(BoardRole.shot).size is ShotSize.ecu
    assert model.index(0).data(BoardRole.shot).size is not ShotSize.ecu


def test_delete_removes_the_selection_and_undo_brings_it_back(board, state):
    view = board.list_view
    view.selectionModel().select(board.model.index(1), view.selectionModel().SelectionFlag.Select)
    view.selectionModel().select(board.model.index(3), view.selectionModel().SelectionFlag.Select)
    assert board.selected_shot_ids() == [2, 4]
    board.delete_action.trigger()
    assert order(state) == {1: [1, 3]}
    assert board.model.rowCount() == 2
    state.undo_stack.undo()
    assert order(state) == {1: [1, 2, 3], 2: [4]}


def test_new_shot_goes_after_the_current_one_with_the_default_duration(board, state):
    state.perform(ops.EditProject("default_shot_duration", 4.5))
    state.set_current_shot(1)
    board.insert_action.trigger()
    scene_one = order(state)[1]
    new_id = scene_one[1]
    assert len(scene_one) == 4 and new_id not in (1, 2, 3)
    assert state.shot(new_id).duration == 4.5
    assert board.selected_shot_ids() == [new_id] and state.current_shot_id == new_id
    state.undo_stack.undo()
    assert order(state)[1] == [1, 2, 3]


def test_copy_then_paste_makes_shots_with_the_same_fields(board, state):
    state.perform(ops.EditShot(1, "notes", "push in slowly"))
    state.perform(ops.EditShot(2, "lens_mm", 85))
    board.list_view.selectAll()
    board.list_view.selectionModel().select(board.model.index(2), board.list_view.selectionModel().SelectionFlag.Deselect)
    board.list_view.selectionModel().select(board.model.index(3), board.list_view.selectionModel().SelectionFlag.Deselect)
    board.copy_action.trigger()
    clipboard = QGuiApplication.clipboard().mimeData()
    assert clipboard.hasFormat(SHOT_FIELDS_MIME) and clipboard.text().splitlines()[1].startswith("1A\t")
    assert board.paste_action.isEnabled()
    state.set_current_shot(4)
    board.paste_action.trigger()
    new_ids = order(state)[2][1:]
    assert len(new_ids) == 2 and board.selected_shot_ids() == new_ids
    for original, copy in zip((1, 2), new_ids):
        a, b = state.shot(original), state.shot(copy)
        assert {f: getattr(a, f) for f in COPIED_FIELDS} == {f: getattr(b, f) for f in COPIED_FIELDS}
        assert b.scene_id == 2 and b.hero_take_id is None
    assert state.undo_stack.undoText() == "Paste 2 shots"
    state.undo_stack.undo()
    assert order(state)[2] == [4]


def test_the_current_shot_follows_the_view_and_leads_it(board, state, qtbot):
    emitted = []
    state.current_shot_changed.connect(emitted.append)
    board.list_view.setCurrentIndex(board.model.index(2))
    assert state.current_shot_id == 3 and emitted == [3]
    state.set_current_shot(4)
    assert board.list_view.currentIndex().row() == 3 and board.selected_shot_ids() == [4]
    assert emitted == [3, 4]  # no echo back from the view
    # A reset (here a move) keeps the selection by shot id, wherever the shot went.
    board.model.move_shots([1], 4)
    assert board.selected_shot_ids() == [4] and board.list_view.currentIndex().row() == 2


def test_a_hero_thumbnail_loads_in_the_background_and_repaints_its_row(state, thumbnails, qtbot):
    digest, size = solid_png(state.folder, (200, 40, 40))
    state.record_take(3, TakeKind.imported, digest, size)
    model = BoardModel(state, thumbnails)
    assert model.index(2).data(BoardRole.hero_digest) == digest
    assert model.data(model.index(2), BoardRole.pixmap) is None  # loading
    with qtbot.waitSignal(model.dataChanged) as changed:
        pass
    assert changed.args[0].row() == changed.args[1].row() == 2
    pixmap = model.index(2).data(BoardRole.pixmap)
    assert pixmap.toImage().pixelColor(10, 10).red() > 180
    assert model.data(model.index(1), BoardRole.pixmap) is None
    assert model.data(model.index(1), BoardRole.hero_digest) is None


def test_the_panel_paints_the_hero_frame(board, state, qtbot):
    colour = (30, 200, 90)
    digest, size = solid_png(state.folder, colour)
    with qtbot.waitSignal(state.takes_changed):
        state.record_take(2, TakeKind.imported, digest, size)
    assert board.model.index(1).data(BoardRole.hero_digest) == digest
    qtbot.waitUntil(lambda: board.visible_thumbnails_pending() == 0)
    image = board.list_view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()

    def pixel(row):
        centre = board.delegate.frame_rect(board.list_view.visualRect(board.model.index(row))).center()
        return image.pixelColor(round(centre.x() * ratio), round(centre.y() * ratio)).getRgb()[:3]

    assert all(abs(a - b) <= 8 for a, b in zip(pixel(1), colour)), pixel(1)
    assert abs(pixel(0)[1] - colour[1]) > 40  # no frame there: not green


def test_zoom_changes_the_panel_size_within_its_bounds(board):
    before = board.list_view.visualRect(board.model.index(0)).width()
    board.zoom_in_action.trigger()
    assert board.panel_width() == board.zoom_slider.value() == 280
    assert board.list_view.visualRect(board.model.index(0)).width() == before + 40
    board.set_panel_width(10_000)
    assert board.panel_width() == MAX_PANEL_WIDTH and not board.zoom_in_action.isEnabled()


def test_a_drop_point_lands_between_panels(board, state):
    view, model = board.list_view, board.model
    first = view.visualRect(model.index(0))
    assert view.drop_row_at(first.center() - QPoint(10, 0)) == 0
    assert view.drop_row_at(first.center() + QPoint(10, 0)) == 1
    last = view.visualRect(model.index(3))
    assert view.drop_row_at(QPoint(last.right() + 20, last.bottom() + 200)) == 4
    # A drop on the left half of the first panel puts the dragged shot first.
    mime = model.mimeData([model.index(2)])
    event = QDropEvent(QPointF(first.center() - QPoint(10, 0)), MOVE, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    view.dropEvent(event)
    assert order(state)[1] == [3, 1, 2]


def test_a_drop_on_the_right_half_of_a_scenes_last_panel_lands_at_that_scenes_end(board, state):
    view, model = board.list_view, board.model
    assert order(state) == {1: [1, 2, 3], 2: [4]}
    last_of_first_scene = view.visualRect(model.index(2))
    mime = model.mimeData([model.index(3)])
    point = QPointF(last_of_first_scene.center() + QPoint(10, 0))
    view.dropEvent(QDropEvent(point, MOVE, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert order(state) == {1: [1, 2, 3, 4]}
    state.undo_stack.undo()
    assert order(state) == {1: [1, 2, 3], 2: [4]}


def test_a_new_aspect_ratio_reshapes_the_panels_and_scene_headings_follow_edits(board, state, qtbot):
    before = board.list_view.visualRect(board.model.index(0))
    state.perform(ops.EditProject("aspect_ratio", 1.33))
    qtbot.waitUntil(lambda: board.list_view.visualRect(board.model.index(0)).height() > before.height())
    assert board.list_view.visualRect(board.model.index(0)).width() == before.width()
    state.perform(ops.EditScene(2, "heading", "EXT. CLIFF - DAY"))
    assert board.model.index(3).data(BoardRole.scene_label) == "2  EXT. CLIFF - DAY"


def test_the_context_menu_actions_ask_for_frames_and_sketches(board, qtbot):
    board.select_all_action.trigger()
    with qtbot.waitSignal(board.generate_requested) as generate:
        board.generate_action.trigger()
    assert generate.args == [[1, 2, 3, 4]]
    board.list_view.setCurrentIndex(board.model.index(1))
    with qtbot.waitSignal(board.sketch_requested) as sketch:
        board.sketch_action.trigger()
    assert sketch.args == [2]


@pytest.fixture
def big_state(tmp_path, qapp):
    with create_project(tmp_path / "Big", Project(title="Big", aspect_ratio=1.78)) as folder:
        with folder.transaction():
            for s in range(20):
                scene_id = scenes.insert_scene(folder.db, Scene(str(s + 1), f"INT. ROOM {s + 1} - DAY", position=s))
                for _ in range(100):
                    shots.append_shot(folder.db, Shot(scene_id=scene_id))
        made = ProjectState(folder)
        yield made
        made.undo_stack.clear()


def test_two_thousand_shots_load_without_a_widget_per_shot(make_board, board, big_state, tmp_path, pool):
    big = make_board(big_state, ThumbnailCache(big_state.folder.media.root, tmp_path / "big-thumbs", pool))
    assert big.model.rowCount() == 2000
    assert [big.model.index(r).data() for r in range(2000)] == [s.number for s in shots.list_shots(big_state.db)]
    big.list_view.scrollToBottom()
    big.list_view.viewport().grab()
    assert len(big.findChildren(QWidget)) == len(board.findChildren(QWidget))
    big.scroll_to_scene(big.model.index(1000).data(BoardRole.scene_id))
    assert 0 <= big.list_view.visualRect(big.model.index(1000)).top() < 10  # scene 11 starts the view
