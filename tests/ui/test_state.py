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


def written(folder, colour=(10, 200, 30)):
    from PIL import Image

    from previz_app.engine.base import FrameResult
    from previz_app.engine.frames import write_frame
    from previz_app.engine.request import FrameRequest

    return write_frame(folder.media, FrameResult(Image.new("RGB", (16, 8), colour), FrameRequest(16, 8, seed=3)))


def test_frames_are_recorded_by_the_writer_and_reported_on_the_gui_thread(state, qtbot):
    from previz_app.store import takes

    shot = shots.list_shots(state.db)[1]
    frame = written(state.folder)
    gui, heard = threading.get_ident(), []
    with qtbot.waitSignal(state.takes_changed) as changed:
        state.record_frame_later(shot.id, frame, None, lambda take_id: heard.append((take_id, threading.get_ident())))
    qtbot.waitUntil(lambda: bool(heard))
    assert changed.args == [shot.id]
    take_id, thread = heard[0]
    assert thread == gui and takes.get_take(state.db, take_id).media_hash == frame.digest
    assert state.shot(shot.id).hero_take_id == take_id


def test_closing_writes_the_frames_still_pending(drafted, qapp):
    from previz_app.store import open_project, takes
    from previz_app.ui.state import ProjectState

    shot_ids = [s.id for s in shots.list_shots(drafted.db)]
    path = drafted.path
    state = ProjectState(open_project(path))
    heard = []
    for shot_id in shot_ids:
        state.record_frame_later(shot_id, written(state.folder), None, heard.append)
    state.close()  # no event loop ran: close itself writes and reports
    assert len(heard) == len(shot_ids) and None not in heard
    assert all(len(takes.list_takes(drafted.db, shot_id)) == 1 for shot_id in shot_ids)


def test_a_failed_undo_clears_the_history_instead_of_drifting(state, qtbot, tmp_path):
    shot = shots.list_shots(state.db)[0]
    assert state.perform(ops.EditShot(shot.id, "notes", "first"))
    blocker = state.folder.connect()
    blocker.execute("PRAGMA busy_timeout = 0")
    state.db.execute("PRAGMA busy_timeout = 50")
    blocker.conn.execute("BEGIN IMMEDIATE")  # another writer (a CLI run) holds the lock
    try:
        with qtbot.waitSignal(state.error_reported) as reported:
            state.undo_stack.undo()
    finally:
        blocker.conn.rollback()
        blocker.close()
    assert "locked" in reported.args[0]
    qtbot.waitUntil(lambda: state.undo_stack.count() == 0)
    assert state.shot(shot.id).notes == "first"  # the store kept the edit; nothing drifted
