"""The main window: opening, creating, importing; failures shown and nothing changed."""

import hashlib
import threading
import time
from pathlib import Path

from previz_app.domain.model import Project
from previz_app.domain.vocabulary import TakeKind
from tests.conftest import SAMPLE
from previz_app.store import open_project, scenes, shots
from previz_app.store.schema import MIGRATION_SET

BROKEN_FDX = '<?xml version="1.0"?><FinalDraft><Content><Paragraph Type="Scene Heading"><Text>INT. HALL'


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_opening_a_project_shows_its_board_and_remembers_it(make_main_window, drafted):
    window = make_main_window(drafted.path)
    board = window.workspace.board
    assert board.model.rowCount() == len(shots.list_shots(drafted.db))
    assert window.workspace.state.current_shot_id == shots.list_shots(drafted.db)[0].id
    assert window.recent.paths()[0] == str(drafted.path.resolve())
    assert "Film" in window.windowTitle()
    window.close_project()
    assert window.workspace is None and window.stack.currentWidget() is window.start_page
    assert window.start_page.recent_list.count() == 1


def test_a_project_from_a_newer_previz_shows_the_error_and_changes_nothing(make_main_window, folder, qtbot):
    path = folder.path
    folder.db["_sqlite_migrations"].insert({"migration_set": MIGRATION_SET, "name": "9999_from_the_future", "applied_at": "2030"})
    folder.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    folder.close()
    before, files = digest(path / "project.db"), sorted(p.name for p in path.iterdir())
    window = make_main_window()
    with qtbot.waitSignal(window.error_shown) as shown:
        assert not window.open_project(path)
    assert "newer version of previz" in shown.args[0] and "9999_from_the_future" in shown.args[0]
    assert window.workspace is None
    assert digest(path / "project.db") == before and sorted(p.name for p in path.iterdir()) == files
    assert window.recent.paths() == []


def test_importing_a_screenplay_runs_in_the_background_and_fills_the_board(make_main_window, folder, qtbot):
    window = make_main_window(folder.path)
    assert window.workspace.board.model.rowCount() == 0
    with qtbot.waitSignal(window.import_finished, timeout=20_000) as finished:
        window.import_screenplay(SAMPLE)
    assert finished.args == [True]
    assert window.workspace.board.model.rowCount() == len(shots.list_shots(folder.db)) > 0
    assert window.workspace.scenes.model.rowCount() == len(scenes.list_scenes(folder.db))


def test_a_broken_screenplay_is_reported_and_the_project_is_untouched(make_main_window, drafted, tmp_path, qtbot):
    before = [(s.id, s.action) for s in shots.list_shots(drafted.db)]
    broken = tmp_path / "broken.fdx"
    broken.write_text(BROKEN_FDX, encoding="utf-8")
    window = make_main_window(drafted.path)
    errors = []
    window.error_shown.connect(errors.append)
    with qtbot.waitSignal(window.import_finished, timeout=20_000) as finished:
        window.import_screenplay(broken)
    assert finished.args == [False]
    assert len(errors) == 1 and "broken.fdx" in errors[0] and "not changed" in errors[0]
    assert [(s.id, s.action) for s in shots.list_shots(drafted.db)] == before
    assert window.workspace.board.model.rowCount() == len(before)


def test_a_new_project_from_a_broken_screenplay_is_removed_again(make_main_window, tmp_path, qtbot):
    from previz_app.ui.start import NewProjectChoice

    broken = tmp_path / "broken.fdx"
    broken.write_text(BROKEN_FDX, encoding="utf-8")
    window = make_main_window()
    with qtbot.waitSignal(window.import_finished, timeout=20_000):
        assert window.create_project(NewProjectChoice(tmp_path / "Hall.previz", Project(title="Hall"), broken))
    assert not (tmp_path / "Hall.previz").exists()
    assert window.workspace is None and window.recent.paths() == []


def test_creating_over_a_full_folder_is_refused(make_main_window, tmp_path, qtbot):
    from previz_app.ui.start import NewProjectChoice

    taken = tmp_path / "Taken.previz"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    window = make_main_window()
    with qtbot.waitSignal(window.error_shown) as shown:
        assert not window.create_project(NewProjectChoice(taken, Project(title="Taken")))
    assert "already exists" in shown.args[0]
    assert (taken / "keep.txt").read_text() == "mine"


def test_edits_undo_from_the_edit_menu_and_survive_a_reopen(make_main_window, drafted):
    window = make_main_window(drafted.path)
    state = window.workspace.state
    first = shots.list_shots(drafted.db)[0]
    from previz_app.store import operations as ops

    assert state.perform(ops.EditShot(first.id, "duration", 6.5))
    undo = next(a for a in window.edit_menu.actions() if a.text().startswith("&Undo") or a.text().startswith("Undo"))
    undo.trigger()
    assert shots.get_shot(drafted.db, first.id).duration == first.duration
    assert state.perform(ops.EditShot(first.id, "duration", 4.5))
    window.close_project()
    with open_project(drafted.path) as reopened:
        assert shots.get_shot(reopened.db, first.id).duration == 4.5


def test_layout_panel_size_and_shortcuts_are_remembered_and_standard(make_main_window, drafted):
    from PySide6.QtGui import QKeySequence

    window = make_main_window(drafted.path)
    window.workspace.board.set_panel_width(360)
    redo = next(a for a in window.edit_menu.actions() if "Redo" in a.text())
    assert QKeySequence("Ctrl+Shift+Z") in redo.shortcuts() and QKeySequence("Ctrl+Y") in redo.shortcuts()
    window.close_project()
    assert window.open_project(drafted.path)
    assert window.workspace.board.panel_width() == 360
    assert window.services.settings.value("window/state") is not None


def test_an_open_project_is_kept_out_of_full_collections_and_freed_on_close(make_main_window, drafted, folder):
    import gc
    import weakref

    window = make_main_window(drafted.path)
    assert gc.get_freeze_count() > 0  # the board's rows and the views are frozen
    old_state = weakref.ref(window.workspace.state)
    assert window.open_project(folder.path)  # switching closes the first project
    assert old_state() is None  # deleted and collected, not frozen with the next one
    window.close_project()
    assert gc.get_freeze_count() == 0


def slow_background_media(monkeypatch, seconds=0.4):
    """Media writes off the GUI thread take a while, so an import is still running."""
    from previz_app.store.media import MediaStore

    put = MediaStore.put

    def slow(self, data):
        if threading.current_thread() is not threading.main_thread():
            time.sleep(seconds)
        return put(self, data)

    monkeypatch.setattr(MediaStore, "put", slow)


def test_closing_keeps_an_unsaved_sketch_and_an_import_still_running(make_main_window, drafted, tmp_path, monkeypatch, qtbot):
    from PIL import Image

    from previz_app.store import takes
    from tests.ui.test_sketch import drag, line

    window = make_main_window(drafted.path)
    workspace = window.workspace
    sketched, imported = (s.id for s in shots.list_shots(drafted.db)[:2])
    dialog = workspace.open_sketch(sketched)
    drag(dialog.canvas, line(100))
    assert dialog.canvas.is_modified()
    picture = tmp_path / "ref.png"
    Image.new("RGB", (64, 32), (10, 90, 200)).save(picture)
    slow_background_media(monkeypatch)
    workspace.state.set_current_shot(imported)
    task = workspace.inspector.takes_view.import_files([str(picture)])
    assert task.running
    assert window.close_project()
    assert [t.kind for t in takes.list_takes(drafted.db, sketched)] == [TakeKind.drawn]
    assert [t.kind for t in takes.list_takes(drafted.db, imported)] == [TakeKind.imported]


def test_a_sketch_that_cannot_be_saved_keeps_the_project_open(make_main_window, drafted, monkeypatch, qtbot):
    from previz_app.store import takes
    from previz_app.store.errors import MediaWriteError
    from previz_app.store.media import MediaStore
    from tests.ui.test_sketch import drag, line

    window = make_main_window(drafted.path)
    shot_id = shots.list_shots(drafted.db)[0].id
    dialog = window.workspace.open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    put = MediaStore.put

    def full(self, data):
        raise MediaWriteError("cannot write media file: No space left on device")

    monkeypatch.setattr(MediaStore, "put", full)
    with qtbot.waitSignal(window.error_shown):
        assert not window.close_project()
    assert window.workspace is not None and dialog.isVisible() and dialog.canvas.is_modified()
    monkeypatch.setattr(MediaStore, "put", put)  # space freed
    assert window.close_project()
    assert [t.kind for t in takes.list_takes(drafted.db, shot_id)] == [TakeKind.drawn]
