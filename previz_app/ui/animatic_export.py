"""Exporting the animatic from the window: the dialog that says what to write and the
runner that renders it on a thread of its own."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..animatic.export import (
    AnimaticExport,
    ExportReport,
    default_size,
    export_animatic,
)
from ..domain.timecode import timecode_frames
from ..engine.base import Cancelled
from ..store import ProjectFolder, scenes
from ..store import operations as ops
from .state import ProjectState
from .workers import BackgroundTask, TaskControl, run_in_background, wait_for_tasks

ExportFunction = Callable[..., ExportReport]
FORMATS = (("MP4 (H.264)", ".mp4"), ("MOV (ProRes 422 HQ)", ".mov"), ("PNG frames (a folder)", ""))
WIDTHS = (1280, 1920, 3840)
CLOSE_WAIT_MS = 30_000


class ExportRunner(QObject):
    """Runs one export at a time on a thread of its own (it takes minutes; the shared
    pool stays free for thumbnails and imports), with its own database connection.
    Exactly one of `succeeded`, `failed`, `cancelled` follows a start, then `ended`; a
    start refused because an export is running gets `failed` alone, and an export let
    go by `cancel_and_wait` gets none."""

    started = Signal()
    progressed = Signal(int, int)  # frames done, frames in all
    succeeded = Signal(object)  # ExportReport
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, folder: ProjectFolder, export: ExportFunction = export_animatic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder, self._export = folder, export
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._task: BackgroundTask | None = None

    def is_running(self) -> bool:
        return self._task is not None and self._task.running

    def start(self, request: AnimaticExport) -> bool:
        """Start exporting `request`; False (and `failed`) when an export is running."""
        if self.is_running():
            self.failed.emit("An export is already running; wait for it or cancel it first")
            return False
        folder, export = self.folder, self._export

        def work(control: TaskControl) -> ExportReport:
            if control.cancelled:
                raise Cancelled()  # cancelled before it began: the project may be closed
            db = folder.connect()
            try:
                # render_animatic reports about ten times a second: few queued events.
                return export(db, folder.media, request, control.progress, lambda: control.cancelled)
            finally:
                db.close()

        self._task = run_in_background(self.pool, work, self._on_succeeded, self._on_failed, parent=self)
        self._task.progressed.connect(self.progressed)
        self._task.ended.connect(self.ended)
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def cancel_and_wait(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Cancel a running export and wait, deaf to user input, until its result is in
        and its thread has let go of the project (the project is closing). True when
        nothing is left running. False when the export did not stop in time: it is let
        go to end on its own (it touches only its own connection and the output
        files), and nothing here waits for it or hears from it again."""
        if self._task is None:
            return True
        self._task.cancel()
        deadline = time.monotonic() + timeout_ms / 1000
        if wait_for_tasks([self._task], timeout_ms) and self.pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000))):
            return True
        self._let_go()
        return False

    def _let_go(self) -> None:
        # ~QThreadPool waits for its runnable: deleting this runner (or a gc of its
        # pool) would freeze the GUI until the export noticed the cancel. The
        # application holds the pool, and the task that says when the thread is done,
        # until then.
        task, pool = self._task, self.pool
        self._task = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        holder = QCoreApplication.instance()
        pool.setParent(holder)
        if not task.running:  # its result is in; its thread is a moment from done
            pool.deleteLater()
            return
        for signal in (task.progressed, task.succeeded, task.failed, task.ended):
            signal.disconnect()
        task.setParent(holder)
        task.ended.connect(pool.deleteLater)

    def _on_succeeded(self, report: ExportReport) -> None:
        self.succeeded.emit(report)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(str(exc) or type(exc).__name__)


def beside(out: Path, suffix: str) -> Path:
    """A file next to the output with its name: `film.mp4` -> `film.otio`; a PNG folder
    `film` -> `film.otio` beside the folder."""
    return out.with_suffix(suffix) if out.suffix else out.with_name(out.name + suffix)


class AnimaticExportDialog(QDialog):
    """What to export, and the export's progress and outcome. Closing it while an export
    runs leaves the export running; the dialog comes back when it ends."""

    def __init__(self, state: ProjectState, runner: ExportRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export animatic")
        self.state, self.runner = state, runner
        self._request: AnimaticExport | None = None
        project = state.project()

        self.path_edit = QLineEdit(str(state.folder.exports_dir / f"{_file_stem(project.title)}_animatic.mp4"))
        self.browse_button = QPushButton("Browse…")
        self.format_combo = QComboBox()
        for text, suffix in FORMATS:
            self.format_combo.addItem(text, suffix)
        self.scene_combo = QComboBox()
        self.scene_combo.addItem("All scenes", None)
        for scene in scenes.list_scenes(state.db, include_removed=False):
            self.scene_combo.addItem(f"{scene.number} — {scene.heading}", scene.number)
        self.width_combo = QComboBox()
        for width in WIDTHS:
            w, h = default_size(project, width)
            self.width_combo.addItem(f"{w} × {h}", (w, h))
        self.width_combo.setCurrentIndex(WIDTHS.index(1920))
        # A project setting (the timecode an editor's timeline starts at), edited here
        # because this is where it matters; a change is one undoable edit.
        self.timecode_edit = QLineEdit(project.start_timecode)
        self.timecode_edit.setToolTip("Start timecode, HH:MM:SS:FF (non-drop-frame)")
        self.captions_check = QCheckBox("Burn in captions (dialogue)")
        self.info_check = QCheckBox("Burn in shot number and timecode")
        self.otio_check = QCheckBox("OpenTimelineIO (.otio)")
        self.edl_check = QCheckBox("CMX 3600 EDL (.edl)")
        self.fcpxml_check = QCheckBox("Final Cut Pro 7 XML (.xml)")
        self.srt_check = QCheckBox("SubRip captions (.srt)")
        self.vtt_check = QCheckBox("WebVTT captions (.vtt)")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel export")
        self.close_button = QPushButton("Close")

        output = QHBoxLayout()
        output.addWidget(self.path_edit, 1)
        output.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Output", output)
        form.addRow("Scenes", self.scene_combo)
        form.addRow("Size", self.width_combo)
        form.addRow("Start timecode", self.timecode_edit)
        form.addRow("Burn-ins", _column(self.captions_check, self.info_check))
        form.addRow("Beside it", _column(self.otio_check, self.edl_check, self.fcpxml_check, self.srt_check, self.vtt_check))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(runner.cancel)
        self.close_button.clicked.connect(self.reject)
        runner.started.connect(self._on_running_changed)
        state.project_changed.connect(self._on_project_changed)
        runner.ended.connect(self._on_running_changed)
        runner.progressed.connect(self._on_progressed)
        runner.succeeded.connect(self._on_succeeded)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        self._on_running_changed()

    # -- the request -------------------------------------------------------------------

    def output_path(self) -> Path:
        """The output as typed, with the chosen format's suffix; relative to the project's
        exports folder. Raises ValueError when nothing is typed."""
        text = self.path_edit.text().strip()
        if not text:
            raise ValueError("Choose where to write the animatic")
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.state.folder.exports_dir / path
        if path.suffix.lower() in (".mp4", ".mov"):
            path = path.with_suffix("")
        return path.with_name(path.name + self.format_combo.currentData())

    def request(self) -> AnimaticExport:
        """The export the dialog describes. Raises ValueError when nothing is typed."""
        out = self.output_path()

        def sidecar(check: QCheckBox, suffix: str) -> Path | None:
            return beside(out, suffix) if check.isChecked() else None

        return AnimaticExport(
            out, scene=self.scene_combo.currentData(), size=self.width_combo.currentData(),
            burn_captions=self.captions_check.isChecked(), burn_info=self.info_check.isChecked(),
            otio=sidecar(self.otio_check, ".otio"), edl=sidecar(self.edl_check, ".edl"),
            fcpxml=sidecar(self.fcpxml_check, ".xml"), srt=sidecar(self.srt_check, ".srt"),
            vtt=sidecar(self.vtt_check, ".vtt"),
        )

    def _on_format_changed(self, _index: int) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(self.output_path()))

    def _on_browse_clicked(self) -> None:
        current = self.path_edit.text().strip() or str(self.state.folder.exports_dir)
        if self.format_combo.currentData():
            suffix = self.format_combo.currentData()
            chosen, _ = QFileDialog.getSaveFileName(self, "Export animatic", current, f"Video (*{suffix})")
        else:
            # A folder for the frames: name it here, it is made by the export.
            chosen, _ = QFileDialog.getSaveFileName(self, "Export frames into a new folder", current)
        if chosen:
            self.path_edit.setText(chosen)
            self._on_format_changed(self.format_combo.currentIndex())

    # -- running -----------------------------------------------------------------------

    def start_export(self) -> bool:
        try:
            request = self.request()
        except ValueError as exc:
            self._show_message(str(exc), error=True)
            return False
        project, timecode = self.state.project(), self.timecode_edit.text().strip()
        if timecode != project.start_timecode:
            try:
                timecode_frames(timecode, project.fps)
            except ValueError as exc:
                self._show_message(f"Start timecode: {exc}", error=True)
                return False
            if not self.state.perform(ops.EditProject("start_timecode", timecode)):
                return False
        if Path(request.out).parent == self.state.folder.exports_dir:
            self.state.folder.exports_dir.mkdir(exist_ok=True)  # projects from before it existed
        self._show_message(f"Exporting {Path(request.out).name}…")
        self.progress_bar.setRange(0, 0)  # busy until the first frame says how many
        self._request = request
        return self.runner.start(request)

    def _on_project_changed(self) -> None:
        # An undo or another program may have changed it; the field shows the project.
        self.timecode_edit.setText(self.state.project().start_timecode)

    def _on_running_changed(self) -> None:
        running = self.runner.is_running()
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for widget in (self.path_edit, self.browse_button, self.format_combo, self.scene_combo, self.width_combo, self.timecode_edit):
            widget.setEnabled(not running)
        if not running and self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)

    def _on_progressed(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def _on_succeeded(self, report: ExportReport) -> None:
        lines = [f"Exported {report.frames} frames ({float(report.seconds):.1f} s). Written:"]
        lines += [f"  {path}" for path in report.written]
        if report.shot_media:
            lines.append(f"  and {len(report.shot_media)} shot media files in {report.shot_media[0].parent}")
        self._show_message("\n".join(lines))
        self._come_back()

    def _on_failed(self, message: str) -> None:
        self.progress_bar.setValue(0)
        self._show_message(f"Export failed: {message}", error=True)
        self._come_back()

    def _on_cancelled(self) -> None:
        self.progress_bar.setValue(0)
        self._show_message("Export cancelled; nothing was written.")

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message_label.setStyleSheet("color: #d04040;" if error else "")
        self.message_label.setText(text)

    def _come_back(self) -> None:
        if not self.isVisible():
            self.show()
        self.raise_()


def _column(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        column.addWidget(widget)
    return holder


def _file_stem(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title.strip()).strip("._") or "animatic"
