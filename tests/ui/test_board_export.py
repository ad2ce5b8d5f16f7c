"""Exporting boards from the window: the dialog builds the export the user asked for,
validates the layout and scenes inline, previews the first page off the GUI thread, and
runs the export on the runner with progress, cancel and the outcome."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from previz_app.engine.base import Cancelled
from previz_app.export.boards import BoardExport, BoardFields, BoardReport, board_page_count, export_boards
from previz_app.export.files import ExportError, staged_output
from previz_app.store import scenes, shots
from previz_app.ui import board_export
from previz_app.ui.board_export import BoardExportDialog
from previz_app.ui.export_runner import ExportRunner
from previz_app.ui.images import pil_from_qimage


class SlowExport:
    """Stands in for `export_boards`: writes the output through `staged_output` one page
    at a time, polling `cancelled()`; with `hold` it keeps writing until cancelled, with
    `error` it fails."""

    def __init__(self, pages=3, hold=False, error=None):
        self.pages, self.hold, self.error = pages, hold, error
        self.started, self.returned = threading.Event(), threading.Event()
        self.request = None

    def __call__(self, db, media, request, progress=None, cancelled=None):
        self.request = request
        self.started.set()
        try:
            if self.error is not None:
                raise self.error
            with staged_output(Path(request.out)) as temporary, open(temporary, "wb") as handle:
                page = 0
                while page < self.pages or self.hold:
                    if cancelled():
                        raise Cancelled()
                    handle.write(b"page\n")
                    page += 1
                    progress(min(page, self.pages), self.pages)
                    time.sleep(0.002)
            return BoardReport(Path(request.out), (Path(request.out),), self.pages, self.pages * 2)
        finally:
            self.returned.set()


@pytest.fixture
def make_dialog(state, qtbot):
    runners = []

    def make(export=export_boards, show=True):
        runner = ExportRunner(state.folder, export)
        runners.append(runner)
        dialog = BoardExportDialog(state, runner)
        qtbot.addWidget(dialog)
        if show:
            dialog.show()
        return dialog

    yield make
    for runner in runners:
        assert runner.cancel_and_wait(10_000)


def wait_for_preview(qtbot, dialog):
    """Wait until the preview shows what the options now say; its pixels as an array."""
    wanted = dialog.options(Path("preview.pdf"))
    qtbot.waitUntil(lambda: dialog.preview_request == wanted and dialog.preview_image is not None, timeout=20_000)
    return np.asarray(pil_from_qimage(dialog.preview_image).convert("L"), dtype=np.int16)


def test_the_dialog_builds_the_export_that_was_asked_for(state, make_dialog, tmp_path):
    dialog = make_dialog(show=False)
    default = dialog.request()
    assert default.out.parent == state.folder.exports_dir and default.out.suffix == ".pdf"
    assert (default.layout, default.paper, default.orientation, default.scenes) == ("6", "a4", "landscape", "")
    assert default.fields == BoardFields() and not default.watermark
    dialog.path_edit.setText(str(tmp_path / "boards v2.pdf"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".png"))
    assert dialog.path_edit.text() == str(tmp_path / "boards v2.png")
    dialog.layout_combo.setCurrentText("4x3")
    dialog.paper_combo.setCurrentIndex(dialog.paper_combo.findData("tabloid"))
    dialog.orientation_combo.setCurrentIndex(dialog.orientation_combo.findData("portrait"))
    dialog.field_checks["camera"].setChecked(False)
    dialog.field_checks["notes"].setChecked(False)
    dialog.watermark_check.setChecked(True)
    dialog.scenes_combo.setCurrentIndex(dialog.scenes_combo.findData(board_export.SCENES_TYPED))
    dialog.scenes_edit.setText("1-2")
    assert dialog.request() == BoardExport(
        tmp_path / "boards v2.png", layout="4x3", paper="tabloid", orientation="portrait",
        fields=BoardFields(camera=False, notes=False), scenes="1-2", watermark=True,
    )
    second = scenes.list_scenes(state.db)[1]
    state.set_current_shot(shots.list_shots(state.db, second.id)[0].id)
    dialog.scenes_combo.setCurrentIndex(dialog.scenes_combo.findData(board_export.SCENES_CURRENT))
    assert dialog.request().scenes == second.number


def test_a_bad_scene_range_shows_the_error_inline_and_disables_export(make_dialog):
    dialog = make_dialog()
    assert dialog.export_button.isEnabled() and not dialog.options_error_label.text()
    dialog.scenes_combo.setCurrentIndex(dialog.scenes_combo.findData(board_export.SCENES_TYPED))
    assert dialog.scenes_edit.isEnabled()
    dialog.scenes_edit.setText("1-9")
    assert dialog.options_error_label.text() == "Scenes: no scene 9; scenes are 1 to 2"
    assert dialog.options_error_label.isVisible() and not dialog.export_button.isEnabled()
    assert not dialog.start_export()
    dialog.scenes_edit.setText("2-1")
    assert "runs backwards" in dialog.options_error_label.text() and not dialog.export_button.isEnabled()
    dialog.scenes_edit.setText("1-2")
    assert not dialog.options_error_label.text() and dialog.export_button.isEnabled()
    dialog.scenes_combo.setCurrentIndex(dialog.scenes_combo.findData(board_export.SCENES_CURRENT))
    dialog.state.set_current_shot(None)
    assert "Select a shot" in dialog.options_error_label.text() and not dialog.export_button.isEnabled()


def test_a_custom_grid_is_accepted_and_a_layout_that_cannot_print_is_refused(make_dialog):
    dialog = make_dialog()
    dialog.layout_combo.setCurrentText("2 x 2")
    assert dialog.request().layout == "2 x 2" and dialog.export_button.isEnabled()
    dialog.layout_combo.setCurrentText("5")
    assert dialog.options_error_label.text().startswith("Panels per page: ")
    assert not dialog.export_button.isEnabled()
    dialog.layout_combo.setCurrentText("6x3")
    assert "at most 12" in dialog.options_error_label.text()


def test_the_preview_shows_the_first_page_and_the_page_count(state, make_dialog, qtbot):
    dialog = make_dialog()
    pixels = wait_for_preview(qtbot, dialog)
    assert pixels.shape[1] > pixels.shape[0] > 300  # A4 landscape at 72 dpi: 842 x 595
    assert pixels.std() > 10 and len(np.unique(pixels)) > 20  # printed, not a blank page
    assert (pixels < 128).mean() > 0.01  # ink
    expected = board_page_count(state.db, dialog.request())
    assert expected >= 2 and dialog.pages_label.text() == f"{expected} pages"
    assert not dialog.preview_label.pixmap().isNull()


def test_changing_the_layout_renders_the_preview_again(make_dialog, qtbot):
    dialog = make_dialog()
    six = wait_for_preview(qtbot, dialog)
    six_pages = dialog.page_count
    dialog.layout_combo.setCurrentText("1")
    one = wait_for_preview(qtbot, dialog)
    assert dialog.preview_request.layout == "1" and dialog.page_count > six_pages
    assert one.shape == six.shape and np.abs(one - six).mean() > 2  # another page
    dialog.orientation_combo.setCurrentIndex(dialog.orientation_combo.findData("portrait"))
    portrait = wait_for_preview(qtbot, dialog)
    assert portrait.shape[0] > portrait.shape[1]


def test_a_burst_of_changes_renders_once_and_shows_the_newest(make_dialog, qtbot, monkeypatch):
    rendered = []
    real = board_export.render_board_page

    def counting(db, media, request, page=0, dpi=72):
        rendered.append(request)
        return real(db, media, request, page, dpi)

    monkeypatch.setattr(board_export, "render_board_page", counting)
    dialog = make_dialog()
    wait_for_preview(qtbot, dialog)
    rendered.clear()
    for layout in ("1", "2", "3", "4", "9"):
        dialog.layout_combo.setCurrentText(layout)
    dialog.watermark_check.setChecked(True)
    wait_for_preview(qtbot, dialog)
    assert dialog.preview_request.layout == "9" and dialog.preview_request.watermark
    assert len(rendered) == 1 and rendered[0] == dialog.preview_request


def test_the_export_writes_a_pdf_with_a_page_per_shot_at_one_a_page(state, make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    dialog.path_edit.setText(str(tmp_path / "boards.pdf"))
    dialog.layout_combo.setCurrentText("1")
    dialog.field_checks["dialogue"].setChecked(False)
    with qtbot.waitSignal(dialog.runner.ended, timeout=60_000):
        assert dialog.start_export()
        assert not dialog.export_button.isEnabled() and dialog.cancel_button.isEnabled()
        assert not dialog.options_widget.isEnabled() and not dialog.layout_combo.isEnabled()
    count = len(shots.list_shots(state.db))
    assert len(PdfReader(tmp_path / "boards.pdf").pages) == count > 2
    assert dialog.message_label.text().startswith(f"Exported {count} pages ({count} shots). Written:")
    assert str(tmp_path / "boards.pdf") in dialog.message_label.text()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() > 0
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_cancel_mid_export_leaves_no_file(make_dialog, qtbot, tmp_path):
    export = SlowExport(pages=5, hold=True)
    dialog = make_dialog(export)
    out = tmp_path / "out"  # tmp_path holds the project
    out.mkdir()
    dialog.path_edit.setText(str(out / "boards.pdf"))
    with qtbot.waitSignal(dialog.runner.progressed, timeout=10_000):  # pages are being written
        dialog.export_button.click()
    assert any(path.name.endswith(".tmp") for path in out.iterdir())  # mid-write
    with qtbot.waitSignal(dialog.runner.cancelled, timeout=10_000):
        dialog.cancel_button.click()
    assert export.returned.is_set()
    assert dialog.message_label.text() == "Export cancelled; nothing was written."
    assert list(out.iterdir()) == []


def test_cancelling_the_real_export_leaves_no_file(make_dialog, qtbot, tmp_path):
    def export(db, media, request, progress=None, cancelled=None):
        def held_progress(done, total):
            progress(done, total)
            deadline = time.monotonic() + 10
            while not cancelled() and time.monotonic() < deadline:  # until the click lands
                time.sleep(0.002)

        return export_boards(db, media, request, held_progress, cancelled)

    dialog = make_dialog(export)
    dialog.layout_combo.setCurrentText("1")
    out = tmp_path / "out"
    out.mkdir()
    dialog.path_edit.setText(str(out / "boards.pdf"))
    with qtbot.waitSignal(dialog.runner.progressed, timeout=30_000):
        dialog.export_button.click()
    with qtbot.waitSignal(dialog.runner.cancelled, timeout=30_000):
        dialog.cancel_button.click()
    assert dialog.message_label.text() == "Export cancelled; nothing was written."
    assert list(out.iterdir()) == []


def test_a_failure_shows_its_message(make_dialog, qtbot, tmp_path):
    message = f"cannot write {tmp_path / 'boards.pdf'}: the disk is full; free some space and export again"
    dialog = make_dialog(SlowExport(error=ExportError(message)))
    dialog.path_edit.setText(str(tmp_path / "boards.pdf"))
    with qtbot.waitSignal(dialog.runner.ended, timeout=10_000):
        dialog.export_button.click()
    assert dialog.message_label.text() == f"Export failed: {message}"
    assert dialog.progress_bar.value() == 0 and dialog.export_button.isEnabled()


def test_the_dialog_comes_back_when_its_export_ends(make_dialog, qtbot, tmp_path):
    dialog = make_dialog(SlowExport(pages=3))
    dialog.path_edit.setText(str(tmp_path / "boards.pdf"))
    with qtbot.waitSignal(dialog.runner.ended, timeout=10_000):
        dialog.export_button.click()
        dialog.close()
    assert dialog.isVisible() and "Exported 3 pages (6 shots)" in dialog.message_label.text()


def test_another_export_on_the_shared_runner_is_not_taken_for_its_own(make_dialog, qtbot, tmp_path):
    dialog = make_dialog(SlowExport(pages=2))
    other = SlowExport(pages=4, hold=True)
    assert dialog.runner.start(BoardExport(tmp_path / "other.pdf"), other)
    assert other.started.wait(10)
    assert not dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert not dialog.start_export() and "Another export is running" in dialog.message_label.text()
    dialog.message_label.clear()
    with qtbot.waitSignal(dialog.runner.cancelled, timeout=10_000):
        dialog.runner.cancel()
    qtbot.waitUntil(lambda: not dialog.runner.is_running())
    assert dialog.message_label.text() == "" and dialog.export_button.isEnabled()


def test_stop_preview_waits_for_a_render_in_flight(make_dialog, qtbot, monkeypatch):
    release, began, returned = threading.Event(), threading.Event(), threading.Event()
    real = board_export.render_board_page

    def slow(db, media, request, page=0, dpi=72):
        began.set()
        try:
            release.wait(10)
            return real(db, media, request, page, dpi)
        finally:
            returned.set()

    monkeypatch.setattr(board_export, "render_board_page", slow)
    dialog = make_dialog()
    qtbot.waitUntil(began.is_set, timeout=10_000)
    threading.Timer(0.2, release.set).start()
    assert dialog.stop_preview(10_000)
    assert returned.is_set()  # the render is over, not merely told to stop
    preview = dialog.preview_request
    dialog.layout_combo.setCurrentText("1")  # a stopped preview renders nothing more
    qtbot.wait(board_export.PREVIEW_DELAY_MS + 100)
    assert dialog.preview_request is preview
