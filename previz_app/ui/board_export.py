"""Printing the boards from the window: the dialog that says what to print, with a live
preview of the first page rendered off the GUI thread, and the export's progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QThreadPool
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..engine.base import Cancelled
from ..export.boards import (
    LAYOUTS,
    BoardExport,
    BoardFields,
    BoardReport,
    board_page_count,
    parse_layout,
    render_board_page,
)
from ..export.selection import select_scenes
from ..store import scenes
from .export_dialog import ERROR_STYLE, ExportDialog, combo_box, counted, started_here
from .export_runner import ExportRunner
from .images import qimage_from_pil
from .latest_task import LatestTask
from .state import ProjectState
from .workers import TaskControl

PAPERS = (("A4", "a4"), ("US Letter", "letter"), ("Tabloid (11 × 17 in)", "tabloid"))
FORMATS = (("PDF", ".pdf"), ("PNG contact sheets", ".png"))
FIELDS = (("number", "Shot number"), ("camera", "Camera"), ("duration", "Duration"),
          ("action", "Action"), ("dialogue", "Dialogue"), ("notes", "Notes"))
SCENES_ALL, SCENES_CURRENT, SCENES_TYPED = "all", "current", "typed"
PREVIEW_DELAY_MS = 250  # options change in bursts (typing a range, clicking through layouts)
PREVIEW_DPI = 72
PREVIEW_SIZE = QSize(520, 380)
OTHER_EXPORT_RUNNING = "Another export is running; Export is available again when it ends."


class BoardExportDialog(ExportDialog):
    """What to print, a preview of its first page and the export's progress and outcome.
    The runner may be shared with other exports: the dialog answers only to the export
    it started. Closing it while its export runs leaves the export running; the dialog
    comes back when it ends."""

    def __init__(self, state: ProjectState, runner: ExportRunner, parent: QWidget | None = None,
                 *, pool: QThreadPool | None = None) -> None:
        super().__init__(state, runner, parent, what="boards", formats=FORMATS)
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
        self.pool = pool
        self.preview_image: QImage | None = None
        self.preview_request: BoardExport | None = None  # what preview_image shows
        self.page_count: int | None = None
        self._previews = LatestTask(pool, PREVIEW_DELAY_MS, self)
        self._previews.pause()  # rendered once shown

        self.layout_combo = QComboBox()
        self.layout_combo.setEditable(True)  # or type COLUMNSxROWS
        self.layout_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.layout_combo.addItems([str(count) for count in LAYOUTS])
        self.layout_combo.setCurrentText("6")
        self.layout_combo.setToolTip("Panels per page, or a grid of columns × rows such as 4x3")
        self.orientation_combo = combo_box((("Landscape", "landscape"), ("Portrait", "portrait")))
        self.paper_combo = combo_box(PAPERS)
        self.field_checks = {key: QCheckBox(text) for key, text in FIELDS}
        for check in self.field_checks.values():
            check.setChecked(True)
        self.scenes_combo = combo_box((("Whole film", SCENES_ALL), ("Current scene", SCENES_CURRENT), ("Scenes…", SCENES_TYPED)))
        self.scenes_edit = QLineEdit()
        self.scenes_edit.setPlaceholderText("3-7 or 2,5,9")
        self.options_error_label = QLabel()  # why these options cannot be printed
        self.options_error_label.setStyleSheet(ERROR_STYLE)
        self.options_error_label.setWordWrap(True)
        self.watermark_check = QCheckBox("CONFIDENTIAL watermark")
        self.path_edit.setMinimumWidth(320)  # the file's name stays readable
        self.preview_label = QLabel("Preparing preview…")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setMinimumSize(PREVIEW_SIZE)
        self.preview_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview_label.setStyleSheet("background: #2a2a2a; color: #a0a0a0;")
        self.pages_label = QLabel()
        self._build_layout()
        self.resize(1100, 580)
        self.export_button.setFocus()

        for signal in (self.orientation_combo.currentIndexChanged, self.paper_combo.currentIndexChanged,
                       self.scenes_combo.currentIndexChanged, self.layout_combo.currentTextChanged,
                       self.scenes_edit.textChanged, self.watermark_check.toggled,
                       *(check.toggled for check in self.field_checks.values())):
            signal.connect(self._on_options_changed)
        # What the page shows changed: an edit, an undo, a new take.
        for signal in (state.project_changed, state.scenes_changed, state.board_changed, state.shots_changed,
                       state.takes_changed):
            signal.connect(self._on_options_changed)
        state.current_shot_changed.connect(self._on_current_shot_changed)
        self._on_options_changed()
        self._on_running_changed()

    def _build_layout(self) -> None:
        fields = QWidget()
        grid = QGridLayout(fields)
        grid.setContentsMargins(0, 0, 0, 0)
        for index, check in enumerate(self.field_checks.values()):
            grid.addWidget(check, index // 3, index % 3)
        scene_row = QHBoxLayout()
        scene_row.addWidget(self.scenes_combo)
        scene_row.addWidget(self.scenes_edit, 1)
        self.options_widget = QWidget()  # disabled as one while an export runs
        self.inputs = (self.options_widget,)
        form = QFormLayout(self.options_widget)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Panels per page", self.layout_combo)
        form.addRow("Paper", self.paper_combo)
        form.addRow("Orientation", self.orientation_combo)
        form.addRow("Captions", fields)
        form.addRow("Scenes", scene_row)
        form.addRow("", self.options_error_label)
        form.addRow("", self.watermark_check)
        form.addRow("Format", self.format_combo)
        form.addRow("Output", self._output_row())
        preview = QVBoxLayout()
        preview.addWidget(self.preview_label, 1)
        preview.addWidget(self.pages_label, 0, Qt.AlignmentFlag.AlignRight)
        top = QHBoxLayout()
        top.addWidget(self.options_widget, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(preview, 1)
        self._lay_out(top, 1)

    # -- the request -------------------------------------------------------------------

    def scene_spec(self) -> str:
        """The scenes as BoardExport wants them. Raises ValueError, in words for the
        user, for a scene or range the project does not have."""
        choice = self.scenes_combo.currentData()
        if choice == SCENES_ALL:
            return ""
        if choice == SCENES_CURRENT:
            current = self.state.current_shot_id
            if current is None:
                raise ValueError("Select a shot on the board to print its scene")
            scene_id = self.state.shot(current).scene_id
            return next(scene.number for scene in scenes.list_scenes(self.state.db) if scene.id == scene_id)
        spec = self.scenes_edit.text().strip()
        if not spec:
            raise ValueError("Type the scenes to print, such as 3-7 or 2,5,9")
        try:
            select_scenes(scenes.list_scenes(self.state.db, include_removed=False), spec)
        except ValueError as exc:
            raise ValueError(f"Scenes: {exc}") from exc
        return spec

    def options(self, out: Path) -> BoardExport:
        """The export the options describe, written to `out`. Raises ValueError for a
        layout or scenes that cannot be printed."""
        layout, orientation = self.layout_combo.currentText().strip(), self.orientation_combo.currentData()
        try:
            parse_layout(layout, orientation)
        except ValueError as exc:
            raise ValueError(f"Panels per page: {exc}") from exc
        return BoardExport(
            out, layout=layout, paper=self.paper_combo.currentData(), orientation=orientation,
            fields=BoardFields(**{key: check.isChecked() for key, check in self.field_checks.items()}),
            scenes=self.scene_spec(), watermark=self.watermark_check.isChecked(),
        )

    def request(self) -> BoardExport:
        """The export the dialog describes. Raises ValueError for a bad option or no output."""
        return self.options(self.output_path())

    def _browse_labels(self, suffix: str) -> tuple[str, str]:
        name = "PDF" if suffix == ".pdf" else "PNG (first sheet's name; the pages are numbered)"
        return "Export boards", f"{name} (*{suffix})"

    def _on_options_changed(self, *_args) -> None:
        self.scenes_edit.setEnabled(self.scenes_combo.currentData() == SCENES_TYPED)
        try:
            request = self.options(Path("preview.pdf"))
        except ValueError as exc:
            request, self._options_error = None, str(exc)
        else:
            self._options_error = ""
        self.options_error_label.setText(self._options_error)
        self.options_error_label.setVisible(bool(self._options_error))
        self.preview_label.setEnabled(not self._options_error)  # greyed: not what would print
        if self._options_error and self.preview_image is None:
            self.preview_label.setText("No preview until the options can be printed")
        self._update_buttons()
        if request is not None:
            self._render_preview(request)  # the last change of a burst renders

    def _on_current_shot_changed(self, _shot_id: int) -> None:
        if self.scenes_combo.currentData() == SCENES_CURRENT:
            self._on_options_changed()

    # -- the preview -------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._previews.resume()  # what changed while it was hidden

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._previews.pause()

    def preview_ready(self) -> bool:
        """Whether the preview shows the options as they are (nothing left to render)."""
        return self.preview_image is not None and not self._previews.is_busy()

    def _render_preview(self, request: BoardExport) -> None:
        folder = self.state.folder

        def work(control: TaskControl) -> tuple[QImage, int]:
            db = folder.connect()
            try:
                count = board_page_count(db, request)
                if control.cancelled:
                    raise Cancelled()
                image = render_board_page(db, folder.media, request, 0, PREVIEW_DPI)
            finally:
                db.close()
            return qimage_from_pil(image), count

        self._previews.submit(work, lambda result: self._on_preview_ready(request, result), self._on_preview_failed)

    def _on_preview_ready(self, request: BoardExport, result: tuple[QImage, int]) -> None:
        self.preview_image, self.page_count = result
        self.preview_request = request
        self.pages_label.setText(counted(self.page_count, "page"))
        self._show_preview()

    def _on_preview_failed(self, exc: BaseException) -> None:
        self.preview_image = self.preview_request = self.page_count = None
        self.preview_label.setPixmap(QPixmap())
        self.preview_label.setText(f"No preview: {exc}")
        self.pages_label.setText("")

    def _show_preview(self) -> None:
        if self.preview_image is None:
            return
        ratio = self.preview_label.devicePixelRatioF()
        pixmap = QPixmap.fromImage(self.preview_image.scaled(
            self.preview_label.size() * ratio, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        pixmap.setDevicePixelRatio(ratio)
        self.preview_label.setPixmap(pixmap)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_preview()

    def stop_preview(self, timeout_ms: int = 5_000) -> bool:
        """Render no more previews and wait for one being rendered (the project is
        closing); True when none is left running."""
        return self._previews.stop(timeout_ms)

    # -- running -----------------------------------------------------------------------

    def start_export(self) -> bool:
        if self.runner.is_running():
            self._show_message(OTHER_EXPORT_RUNNING, error=True)
            return False
        return super().start_export()

    def _mine(self) -> bool:
        return started_here(self.runner, self._request)

    def _on_running_changed(self) -> None:
        super()._on_running_changed()
        # Export is disabled while another export (a shot list, a deck) runs: say why.
        other = self.runner.is_running() and not self._mine()
        if other:
            self._show_message(OTHER_EXPORT_RUNNING)
        elif self.message_label.text() == OTHER_EXPORT_RUNNING:
            self._show_message("")
        self.export_button.setToolTip(OTHER_EXPORT_RUNNING if other else "")

    def _report_text(self, report: BoardReport) -> str:
        lines = [f"Exported {counted(report.pages, 'page')} ({counted(report.shots, 'shot')}). Written:"]
        lines += [f"  {path}" for path in report.files[:3]]
        if len(report.files) > 3:
            lines.append(f"  and {len(report.files) - 3} more in {report.files[0].parent}")
        return "\n".join(lines)
