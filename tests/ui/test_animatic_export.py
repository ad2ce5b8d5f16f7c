"""Exporting the animatic from the window: the dialog builds the export the user asked
for, the runner renders it on its own thread and connection with progress, cancels and
waits for it, and the menu actions open the dialogs and clear the music bed."""

import dataclasses
import sqlite3
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import opentimelineio as otio
import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QKeySequence

from previz_app.animatic import export as export_module
from previz_app.animatic.export import AnimaticExport, ExportReport, export_animatic
from previz_app.animatic.picture import Picture
from previz_app.engine.base import Cancelled
from previz_app.store import operations as ops
from previz_app.store import scenes, shots
from previz_app.store.media import add_media
from previz_app.ui.animatic_actions import AnimaticActions
from previz_app.ui.animatic_export import AnimaticExportDialog, ExportRunner, beside


class FakeExport:
    """Stands in for `export_animatic`: reads the project through the connection it is
    given, reports `frames` progress steps, writes the output file, and remembers where
    and how it ran. With `hold`, it loops until cancelled; `error` makes it fail."""

    def __init__(self, frames=48, hold=False, error=None):
        self.frames, self.hold, self.error = frames, hold, error
        self.started, self.returned = threading.Event(), threading.Event()
        self.thread = self.db = self.request = None
        self.shot_count = None

    def __call__(self, db, media, request, progress=None, cancelled=None):
        self.thread, self.db, self.request = threading.get_ident(), db, request
        self.started.set()
        try:
            self.shot_count = db.execute("SELECT count(*) FROM shots").fetchone()[0]
            if self.error is not None:
                raise self.error
            while self.hold:
                if cancelled():
                    raise Cancelled()
                time.sleep(0.002)
            for done in range(1, self.frames + 1):
                progress(done, self.frames)
            Path(request.out).write_bytes(b"video")
            return ExportReport([Path(request.out)], self.frames, Fraction(self.frames, 24))
        finally:
            self.returned.set()


@pytest.fixture
def make_runner(state, qtbot):
    made = []

    def make(export):
        runner = ExportRunner(state.folder, export)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        assert runner.cancel_and_wait(10_000)


@pytest.fixture
def make_dialog(state, qtbot, make_runner):
    def make(export):
        dialog = AnimaticExportDialog(state, make_runner(export))
        qtbot.addWidget(dialog)
        return dialog

    return make


def test_the_runner_exports_on_its_own_thread_and_connection_with_progress(state, make_runner, qtbot, tmp_path):
    export = FakeExport(frames=48)
    runner = make_runner(export)
    steps = []
    runner.progressed.connect(lambda done, total: steps.append((done, total)))
    out = tmp_path / "film.mp4"
    with qtbot.waitSignal(runner.succeeded, timeout=10_000) as succeeded:
        assert runner.start(AnimaticExport(out))
    report = succeeded.args[0]
    assert report.written == [out] and out.read_bytes() == b"video"
    assert export.thread != threading.get_ident() and export.db is not state.db
    assert export.shot_count == len(shots.list_shots(state.db))  # it read the project
    with pytest.raises(sqlite3.ProgrammingError):  # its connection was closed at the end
        export.db.execute("SELECT 1")
    qtbot.waitUntil(lambda: bool(steps) and steps[-1] == (48, 48))
    assert steps == sorted(steps) and all(total == 48 for _done, total in steps)
    assert not runner.is_running()


def test_the_runner_runs_the_real_export(state, qtbot, tmp_path):
    runner = ExportRunner(state.folder)  # export_animatic itself
    request = AnimaticExport(tmp_path / "film.mp4", scene="2", size=(128, 54), otio=tmp_path / "film.otio")
    with qtbot.waitSignal(runner.ended, timeout=60_000):
        with qtbot.waitSignal(runner.succeeded, timeout=60_000) as succeeded:
            runner.start(request)
    report = succeeded.args[0]
    assert {tmp_path / "film.mp4", tmp_path / "film.otio"} <= set(report.written)
    with av.open(str(tmp_path / "film.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (128, 54)
        assert sum(1 for _frame in container.decode(stream)) == report.frames > 0
    timeline = otio.adapters.read_from_file(str(tmp_path / "film.otio"))
    assert len(list(timeline.find_clips())) == len(shots.list_shots(state.db, scenes.find_scene(state.db, "2").id))


def test_a_second_export_is_refused_while_one_runs(make_runner, qtbot, tmp_path):
    export = FakeExport(hold=True)
    runner = make_runner(export)
    assert runner.start(AnimaticExport(tmp_path / "a.mp4"))
    with qtbot.waitSignal(runner.failed) as failed:
        assert not runner.start(AnimaticExport(tmp_path / "b.mp4"))
    assert "already running" in failed.args[0]
    assert export.started.wait(10) and export.request.out == tmp_path / "a.mp4"


def test_cancel_and_wait_stops_the_export_and_its_thread(make_runner, qtbot, tmp_path):
    export = FakeExport(hold=True)
    runner = make_runner(export)
    outcomes = []
    for name in ("succeeded", "failed", "cancelled"):
        getattr(runner, name).connect(lambda *args, name=name: outcomes.append(name))
    runner.start(AnimaticExport(tmp_path / "film.mp4"))
    assert export.started.wait(10)
    assert runner.is_running()
    assert runner.cancel_and_wait(10_000)
    assert export.returned.is_set() and not runner.is_running()
    assert runner.pool.activeThreadCount() == 0
    assert outcomes == ["cancelled"]  # delivered before cancel_and_wait returned
    assert runner.cancel_and_wait(10)  # nothing left to wait for


class StuckExport:
    """An export stuck in one long step: it looks at cancel only once `release` is set
    (or after ten seconds), then reads the project through its connection."""

    def __init__(self):
        self.started, self.release, self.returned = threading.Event(), threading.Event(), threading.Event()
        self.shot_count = None

    def __call__(self, db, media, request, progress=None, cancelled=None):
        self.started.set()
        try:
            self.release.wait(10)
            self.shot_count = db.execute("SELECT count(*) FROM shots").fetchone()[0]
            if cancelled():
                raise Cancelled()
            return ExportReport([], 0, Fraction(0))
        finally:
            self.returned.set()


def test_an_export_that_does_not_stop_in_time_is_let_go_without_blocking(state, qtbot, tmp_path):
    export = StuckExport()
    runner = ExportRunner(state.folder, export)
    heard = []
    for name in ("succeeded", "failed", "cancelled", "ended"):
        getattr(runner, name).connect(lambda *args, name=name: heard.append(name))
    runner.start(AnimaticExport(tmp_path / "film.mp4"))
    assert export.started.wait(10)
    pool = runner.pool
    assert not runner.cancel_and_wait(50)
    assert not runner.is_running() and runner.pool is not pool
    # What closing the project does: the runner and its children go, the state closes.
    runner.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(runner)
    assert not export.returned.is_set()  # deleting the runner did not wait for the export
    state.close()
    assert shiboken6.isValid(pool)  # held until its thread is done
    export.release.set()
    qtbot.waitUntil(lambda: not shiboken6.isValid(pool), timeout=10_000)  # then let go
    assert export.returned.is_set()
    assert export.shot_count > 0  # its own connection outlived the project's
    assert heard == []  # nobody was told anything after the runner let go


def test_a_failed_export_reports_its_message(make_runner, qtbot, tmp_path):
    runner = make_runner(FakeExport(error=ValueError("no scene numbered '9'")))
    with qtbot.waitSignal(runner.failed, timeout=10_000) as failed:
        runner.start(AnimaticExport(tmp_path / "film.mp4", scene="9"))
    assert failed.args == ["no scene numbered '9'"]


def test_the_dialog_builds_the_export_that_was_asked_for(state, make_dialog, tmp_path):
    dialog = make_dialog(FakeExport())
    assert dialog.output_path().parent == state.folder.exports_dir and dialog.output_path().suffix == ".mp4"
    dialog.path_edit.setText(str(tmp_path / "cut v2.mp4"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".mov"))
    assert dialog.path_edit.text() == str(tmp_path / "cut v2.mov")
    dialog.scene_combo.setCurrentIndex(dialog.scene_combo.findData("2"))
    for check in (dialog.info_check, dialog.otio_check, dialog.edl_check, dialog.fcpxml_check, dialog.vtt_check):
        check.setChecked(True)
    request = dialog.request()
    assert request == AnimaticExport(
        tmp_path / "cut v2.mov", scene="2", size=dialog.width_combo.currentData(), burn_captions=False, burn_info=True,
        otio=tmp_path / "cut v2.otio", edl=tmp_path / "cut v2.edl", fcpxml=tmp_path / "cut v2.xml", srt=None,
        vtt=tmp_path / "cut v2.vtt",
    )
    width, height = request.size
    assert width == 1920 and height % 2 == 0 and abs(width / height - 2.39) < 0.01


def test_png_frames_go_to_a_folder_with_the_files_beside_it(make_dialog, tmp_path):
    dialog = make_dialog(FakeExport())
    dialog.path_edit.setText(str(tmp_path / "boards.mp4"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(""))
    dialog.srt_check.setChecked(True)
    request = dialog.request()
    assert request.out == tmp_path / "boards" and request.srt == tmp_path / "boards.srt"
    assert beside(tmp_path / "x.mp4", ".edl") == tmp_path / "x.edl"


def test_an_empty_output_is_refused_in_the_dialog(make_dialog):
    export = FakeExport()
    dialog = make_dialog(export)
    dialog.path_edit.setText("  ")
    assert not dialog.start_export()
    assert "where to write" in dialog.message_label.text()
    assert not export.started.is_set()


def test_the_start_timecode_is_a_project_edit_made_with_the_export(make_dialog, state, qtbot, tmp_path):
    export = FakeExport()
    dialog = make_dialog(export)
    dialog.path_edit.setText(str(tmp_path / "film.mp4"))
    assert dialog.timecode_edit.text() == "01:00:00:00"
    dialog.timecode_edit.setText("01:00:00:24")  # no frame 24 at 24 fps
    assert not dialog.start_export()
    assert "out of range" in dialog.message_label.text() and not export.started.is_set()
    dialog.timecode_edit.setText("00:59:50:00")
    with qtbot.waitSignal(dialog.runner.ended, timeout=10_000):
        assert dialog.start_export()
    assert state.project().start_timecode == "00:59:50:00"
    state.undo_stack.undo()
    assert state.project().start_timecode == "01:00:00:00"
    assert dialog.timecode_edit.text() == "01:00:00:00"  # the field follows the project


def test_the_dialog_shows_progress_and_the_written_files(make_dialog, qtbot, tmp_path):
    export = FakeExport(frames=30)
    dialog = make_dialog(export)
    dialog.path_edit.setText(str(tmp_path / "film.mp4"))
    dialog.export_button.click()
    assert not dialog.export_button.isEnabled() and dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.runner.ended, timeout=10_000):
        pass
    assert (dialog.progress_bar.value(), dialog.progress_bar.maximum()) == (30, 30)
    assert "Exported 30 frames (1.2 s)" in dialog.message_label.text()
    assert str(tmp_path / "film.mp4") in dialog.message_label.text()
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_the_dialog_shows_an_error(make_dialog, qtbot, tmp_path):
    dialog = make_dialog(FakeExport(error=ValueError("nothing to play: the project has no shots")))
    dialog.path_edit.setText(str(tmp_path / "film.mp4"))
    with qtbot.waitSignal(dialog.runner.ended, timeout=10_000):
        dialog.export_button.click()
    assert dialog.message_label.text() == "Export failed: nothing to play: the project has no shots"


def test_the_dialogs_cancel_button_stops_the_real_export_mid_render_leaving_nothing(make_dialog, qtbot, tmp_path, monkeypatch):
    seen = threading.Event()  # the export has asked about cancel since the click
    out = tmp_path / "out"
    out.mkdir()
    mid_render = []  # what the folder held when the export saw the cancel

    class Waiting:
        """The last shot's frames: they wait until the export has seen the cancel, so the
        render cannot end first."""

        def __init__(self, size):
            self.size = size

        def picture(self, index):
            seen.wait(10)
            return Picture.black(self.size)

    monkeypatch.setattr(export_module, "ai_sources", lambda db, media, timeline, size: {len(timeline.shots) - 1: Waiting(size)})

    def export(db, media, request, progress=None, cancelled=None):
        def asked() -> bool:
            if cancelled():
                if not seen.is_set():
                    mid_render.append(sorted(out.rglob("*")))
                seen.set()
                return True
            return False

        return export_animatic(db, media, dataclasses.replace(request, size=(128, 54)), progress, asked)

    dialog = make_dialog(export)
    dialog.path_edit.setText(str(out / "film.mp4"))
    for check in (dialog.otio_check, dialog.srt_check):  # written first, under temporary names
        check.setChecked(True)
    with qtbot.waitSignal(dialog.runner.progressed, timeout=30_000):  # frames are being written
        dialog.export_button.click()
    with qtbot.waitSignal(dialog.runner.cancelled, timeout=30_000):
        dialog.cancel_button.click()
    assert seen.is_set() and mid_render[0]  # it had begun writing
    assert dialog.message_label.text() == "Export cancelled; nothing was written."
    assert list(out.iterdir()) == []  # no video, no timeline, no captions, no shot media


@pytest.fixture
def animatic(state, services, qtbot):
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    export = FakeExport(hold=True)
    made = AnimaticActions(state, services, window, export=export)
    made.fake_export = export
    return made


def test_the_actions_and_the_clear_music_bed_edit(animatic, state):
    assert [a.text() for a in animatic.actions] == ["Export &Animatic…", "Set &Music Bed…", "Clear Music Bed"]
    assert animatic.export_action.shortcut() == QKeySequence("Ctrl+Shift+E")
    assert not animatic.clear_music_action.isEnabled()
    with state.folder.transaction():  # the project's music must be a recorded media file
        digest = add_media(state.db, state.folder.media, b"pretend music", "audio/wav", "theme.wav")
    assert state.perform(ops.EditProject("music_hash", digest))
    assert animatic.clear_music_action.isEnabled()
    animatic.clear_music_action.trigger()
    assert state.project().music_hash is None and not animatic.clear_music_action.isEnabled()
    state.undo_stack.undo()
    assert state.project().music_hash == digest and animatic.clear_music_action.isEnabled()


def test_the_actions_open_their_dialogs(animatic):
    animatic.export_action.trigger()
    animatic.music_action.trigger()
    assert animatic.export_dialog.isVisible() and animatic.music_dialog.isVisible()
    assert animatic.music_dialog.sound.level_spin.value() == -12.0


def test_closing_cancels_a_running_export_and_waits(animatic, tmp_path):
    dialog = animatic.show_export_dialog()
    dialog.path_edit.setText(str(tmp_path / "film.mp4"))
    dialog.export_button.click()
    assert animatic.fake_export.started.wait(10)
    runner = animatic.runner
    assert animatic.close(10_000)
    assert animatic.fake_export.returned.is_set() and not runner.is_running()
    assert runner.pool.activeThreadCount() == 0
    assert animatic.export_dialog is None
