"""ProjectState: edits go through the undo stack as store operations and say what changed."""

import threading

from previz_app.domain.vocabulary import ShotSize
from previz_app.store import shots
from previz_app.store import operations as ops
from previz_app.ui.workers import run_in_background


def test_an_edit_persists_signals_and_undoes(state, qtbot):
    shot = shots.list_shots(state.db)[0]
    with qtbot.waitSignal(state.shots_changed) as changed:
        assert state.perform(ops.EditShot(shot.id, "size", "ECU"))
    assert changed.args == [[shot.id]]
    assert state.shot(shot.id).size is ShotSize.ecu
    assert state.undo_stack.count() == 1 and state.undo_stack.undoText() == "Edit shot size"
    state.undo_stack.undo()
    assert state.shot(shot.id).size is shot.size
    state.undo_stack.redo()
    assert state.shot(shot.id).size is ShotSize.ecu


def test_a_refused_edit_reports_and_never_reaches_the_stack(state, qtbot):
    shot = shots.list_shots(state.db)[0]
    with qtbot.waitSignal(state.error_reported) as reported:
        assert not state.perform(ops.MoveShot(shot.id, shot.scene_id, 99))
    assert "Move shot" in reported.args[0] and "outside the scene" in reported.args[0]
    assert state.undo_stack.count() == 0


def test_a_move_reloads_the_board_and_deleting_the_current_shot_clears_it(state, qtbot):
    first = shots.list_shots(state.db)[0]
    state.set_current_shot(first.id)
    with qtbot.waitSignals([state.board_changed, state.scenes_changed, state.current_shot_changed]):
        state.perform(ops.DeleteShots([first.id]))
    assert state.current_shot_id is None
    state.undo_stack.undo()
    assert shots.get_shot(state.db, first.id).action == first.action


def test_background_tasks_report_on_the_gui_thread(qtbot, services):
    gui = threading.get_ident()
    seen = {}

    def work(control):
        seen["worker"] = threading.get_ident()
        control.progress(1, 2)
        return 42

    def done(value):
        seen["done"] = (value, threading.get_ident())

    task = run_in_background(services.pool, work, on_success=done, parent=services.pool)
    progress = []
    task.progressed.connect(lambda a, b: progress.append((a, b, threading.get_ident())))
    qtbot.waitUntil(lambda: "done" in seen)
    assert seen["done"] == (42, gui) and seen["worker"] != gui
    assert [p[:2] for p in progress] == [(1, 2)] and progress[0][2] == gui


def test_a_failing_task_reports_its_exception(qtbot, services):
    failures = []
    run_in_background(services.pool, lambda control: 1 / 0, on_failure=failures.append, parent=services.pool)
    qtbot.waitUntil(lambda: bool(failures))
    assert isinstance(failures[0], ZeroDivisionError)
