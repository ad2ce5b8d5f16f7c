"""The pacing view: bars are the store's durations in film order, scene lines sit
between scenes, edits redraw, a click on a bar makes its shot current."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from previz_app.store import operations as ops
from previz_app.store import scenes, shots
from previz_app.ui.pacing import PacingView, running_time
from previz_app.ui.theme import ACCENT


@pytest.fixture
def pacing(state, shown):
    return shown(PacingView(state), 900, 360)


def film(state):
    return shots.list_shots(state.db)


def viewport_point(view, x, y) -> QPoint:
    """Where the data point (x, y) is drawn, in the plot's viewport coordinates."""
    scene_point = view.plot.getViewBox().mapViewToScene(QPointF(x, y))
    return view.plot.mapFromScene(scene_point)


def test_bars_are_the_stores_durations_in_film_order(state, pacing):
    in_order = film(state)
    assert pacing.bar_shot_ids() == [s.id for s in in_order]
    assert pacing.bar_heights() == [s.duration for s in in_order]
    assert len(in_order) > 2


def test_each_scene_starts_at_a_line_between_its_first_shot_and_the_one_before(state, pacing):
    in_order = film(state)
    starts = [i for i, s in enumerate(in_order) if i == 0 or s.scene_id != in_order[i - 1].scene_id]
    assert len(starts) == 2  # the fixture has two scenes
    assert pacing.boundary_positions() == [i - 0.5 for i in starts]
    ticks = pacing.scene_axis._tickLevels[0]
    assert [label for _, label in ticks] == [s.number for s in scenes.list_scenes(state.db)]
    assert [x - 0.5 for x, _ in ticks] == pacing.boundary_positions()


def test_editing_a_duration_redraws_its_bar_and_undo_restores_it(state, pacing, qtbot):
    second = film(state)[1]
    assert state.perform(ops.EditShot(second.id, "duration", 7.5))
    qtbot.waitUntil(lambda: pacing.bar_heights()[1] == 7.5)
    state.undo_stack.undo()
    qtbot.waitUntil(lambda: pacing.bar_heights()[1] == second.duration)


def test_deleting_a_shot_drops_its_bar(state, pacing, qtbot):
    first = film(state)[0]
    assert state.perform(ops.DeleteShots([first.id]))
    qtbot.waitUntil(lambda: first.id not in pacing.bar_shot_ids())
    assert pacing.bar_shot_ids() == [s.id for s in film(state)]


def test_shot_at_finds_a_bar_by_its_centre_and_nothing_between_bars(state, pacing):
    ids = pacing.bar_shot_ids()
    heights = pacing.bar_heights()
    assert pacing.shot_at(2.0, heights[2] / 2) == ids[2]
    assert pacing.shot_at(2.5, heights[2] / 2) is None  # the gap between bars 2 and 3
    assert pacing.shot_at(2.0, heights[2] + 1.0) is None  # above the bar
    assert pacing.shot_at(len(ids) + 1.0, 0.5) is None


def test_clicking_a_bar_makes_its_shot_current(state, pacing, qtbot):
    ids, heights = pacing.bar_shot_ids(), pacing.bar_heights()
    with qtbot.waitSignal(state.current_shot_changed) as changed:
        qtbot.mouseClick(pacing.plot.viewport(), Qt.MouseButton.LeftButton, pos=viewport_point(pacing, 3, heights[3] / 2))
    assert changed.args == [ids[3]] and state.current_shot_id == ids[3]


def test_clicking_between_bars_selects_nothing(state, pacing, qtbot):
    state.set_current_shot(pacing.bar_shot_ids()[0])
    qtbot.mouseClick(pacing.plot.viewport(), Qt.MouseButton.LeftButton, pos=viewport_point(pacing, 3.5, 0.5))
    assert state.current_shot_id == pacing.bar_shot_ids()[0]


def test_the_total_is_the_running_time_of_every_shot(state, pacing, qtbot):
    in_order = film(state)
    total = sum(s.duration for s in in_order)
    expected = f"Total {running_time(total)} · {len(in_order)} shots · 2 scenes"
    assert pacing.total_label.text() == expected
    assert state.perform(ops.EditShot(in_order[0].id, "duration", in_order[0].duration + 60))
    qtbot.waitUntil(lambda: pacing.total_label.text() == f"Total {running_time(total + 60)} · {len(in_order)} shots · 2 scenes")


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (59.4, "0:59"), (272, "4:32"), (600.6, "10:01"), (3600, "1:00:00"), (3725, "1:02:05")]
)
def test_running_time_is_m_ss_then_h_mm_ss(seconds, text):
    assert running_time(seconds) == text


def _pixel(view, x, y):
    image = view.plot.grab().toImage()
    point = viewport_point(view, x, y)
    return image.pixelColor(point + view.plot.viewport().pos())


def test_the_current_shots_bar_is_drawn_in_the_accent_colour(state, pacing, qtbot):
    ids, heights = pacing.bar_shot_ids(), pacing.bar_heights()
    assert _pixel(pacing, 1, heights[1] / 2) != ACCENT
    state.set_current_shot(ids[1])
    assert pacing.highlighted_bar() == (1.0, heights[1])
    qtbot.waitUntil(lambda: _pixel(pacing, 1, heights[1] / 2) == ACCENT)
    assert _pixel(pacing, 2, heights[2] / 2) != ACCENT
    state.set_current_shot(None)
    assert pacing.highlighted_bar() is None
    qtbot.waitUntil(lambda: _pixel(pacing, 1, heights[1] / 2) != ACCENT)


def test_a_thousand_shot_film_is_one_chart_not_an_item_per_shot(state, pacing, qtbot):
    scene_id = film(state)[0].scene_id
    inserts = [ops.InsertShot(scene_id, 0) for _ in range(1000)]
    assert state.perform(ops.Compound("Insert many", inserts))
    qtbot.waitUntil(lambda: len(pacing.bar_heights()) == len(film(state)))
    bars = [item for item in pacing.plot.getPlotItem().items if type(item).__name__ == "BarGraphItem"]
    assert len(bars) == 3 and len(pacing.bar_heights()) > 1000

    many = film(state)[10:60]  # more than the view reads one by one
    assert state.perform(ops.Compound("Retime", [ops.EditShot(s.id, "duration", 1.5) for s in many]))
    qtbot.waitUntil(lambda: pacing.bar_heights() == [s.duration for s in film(state)])
    assert pacing.bar_heights()[10:60] == [1.5] * 50


def test_shots_of_a_scene_the_script_no_longer_has_are_left_out(state, pacing, qtbot):
    first_scene, second_scene = scenes.list_scenes(state.db)
    with state.folder.transaction():
        scenes.update_scene(state.db, second_scene.id, removed=True)
    state.reload()
    kept = [s for s in film(state) if s.scene_id == first_scene.id]
    qtbot.waitUntil(lambda: pacing.bar_shot_ids() == [s.id for s in kept])
    assert pacing.boundary_positions() == [-0.5]
    assert pacing.total_label.text().endswith(f"· {len(kept)} shots · 1 scene")
