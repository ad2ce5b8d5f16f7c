"""Exporting the animatic from the window: the dialog that says what to write and the
runner that renders it on a thread of its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from ..animatic.export import AnimaticExport, ExportReport, default_size
from ..domain.timecode import timecode_frames
from ..store import operations as ops
from ..store import scenes
from .export_dialog import ExportDialog
from .export_runner import CLOSE_WAIT_MS, ExportFunction, ExportRunner  # noqa: F401 - where callers import them from
from .state import ProjectState

FORMATS = (("MP4 (H.264)", ".mp4"), ("MOV (ProRes 422 HQ)", ".mov"), ("PNG frames (a folder)", ""))
WIDTHS = (1280, 1920, 3840)


def beside(out: Path, suffix: str) -> Path:
    """A file next to the output with its name: `film.mp4` -> `film.otio`; a PNG folder
    `film` -> `film.otio` beside the folder."""
    return out.with_suffix(suffix) if out.suffix else out.with_name(out.name + suffix)


class AnimaticExportDialog(ExportDialog):
    """What to export, and the export's progress and outcome. Closing it while an export
    runs leaves the export running; the dialog comes back when it ends."""

    def __init__(self, state: ProjectState, runner: ExportRunner, parent: QWidget | None = None) -> None:
        super().__init__(state, runner, parent, what="animatic", formats=FORMATS)
        project = state.project()
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
        self.inputs = (self.path_edit, self.browse_button, self.format_combo, self.scene_combo, self.width_combo,
                       self.timecode_edit)

        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Output", self._output_row())
        form.addRow("Scenes", self.scene_combo)
        form.addRow("Size", self.width_combo)
        form.addRow("Start timecode", self.timecode_edit)
        form.addRow("Burn-ins", _column(self.captions_check, self.info_check))
        form.addRow("Beside it", _column(self.otio_check, self.edl_check, self.fcpxml_check, self.srt_check, self.vtt_check))
        self._lay_out(form)

        state.project_changed.connect(self._on_project_changed)
        self._on_running_changed()

    # -- the request -------------------------------------------------------------------

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

    def _browse_labels(self, suffix: str) -> tuple[str, str]:
        if suffix:
            return "Export animatic", f"Video (*{suffix})"
        return "Export frames into a new folder", ""  # a folder for the frames: named here, made by the export

    # -- running -----------------------------------------------------------------------

    def _before_export(self) -> bool:
        project, timecode = self.state.project(), self.timecode_edit.text().strip()
        if timecode != project.start_timecode:
            try:
                timecode_frames(timecode, project.fps)
            except ValueError as exc:
                self._show_message(f"Start timecode: {exc}", error=True)
                return False
            if not self.state.perform(ops.EditProject("start_timecode", timecode)):
                return False
        return True

    def _on_project_changed(self) -> None:
        # An undo or another program may have changed it; the field shows the project.
        self.timecode_edit.setText(self.state.project().start_timecode)

    def _report_text(self, report: ExportReport) -> str:
        lines = [f"Exported {report.frames} frames ({float(report.seconds):.1f} s). Written:"]
        lines += [f"  {path}" for path in report.written]
        if report.shot_media:
            lines.append(f"  and {len(report.shot_media)} shot media files in {report.shot_media[0].parent}")
        return "\n".join(lines)


def _column(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        column.addWidget(widget)
    return holder
