"""Making an LED-wall plate from the window: the wall (edited, or one the project
keeps), the picture (a take, a file, or an environment generated for the wall), a
preview of the plate on the wall's canvas with its tiles outlined, and the export of
the tiles and their sidecar with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..domain.wall import WallProfile
from ..export.plate import PlateExport, PlateReport, export_plate
from ..export.plate_preview import preview_plate
from .export_dialog import ExportDialog, counted, started_here
from .export_runner import ExportFunction, ExportRunner
from .plate_generate import wall_coverage
from .plate_preview import UPDATING, PlatePreviewView, Previewer
from .plate_source import PlateSourcePicture, PlateSourceWidget
from .services import Services
from .state import ProjectState
from .theme import DIM_TEXT
from .wall_editor import WallEditorWidget

FORMATS = (
    ("OpenEXR: ACEScg, half float", "exr"),
    ("TIFF: 16-bit sRGB", "tiff"),
    ("PNG: 16-bit sRGB", "png16"),
    ("PNG: 8-bit sRGB", "png8"),
    ("ProRes 4444 movies", "prores"),
)
# A plate is a folder whatever its format: the base dialog's data (a suffix) is "" for
# every format, and the format's key is kept in a role of its own.
FORMAT_ROLE = Qt.ItemDataRole.UserRole + 1
DEFAULT_FOLDER = "plate"  # in the project's exports folder
STEM = "plate"  # tiles plate_001.exr…, sidecar plate.json
OTHER_WALL = "The environment was made for another wall (its span or height differs): generate it again"
PlateExporter = Callable[..., PlateReport]  # export_plate's shape


def plate_export_function(export: PlateExporter = export_plate) -> ExportFunction:
    """`export` in the shape an ExportRunner runs: a plate needs nothing of the project's
    database, only the request."""

    def run(_db, _media, request: PlateExport, progress=None, cancelled=None) -> PlateReport:
        return export(request, progress, cancelled)

    return run


class PlateDialog(ExportDialog):
    """The plate's wall, source, preview and export. `runner` runs plate exports
    (`plate_export_function`); `services` gives the engines for generating and the
    configured model. Pictures are read and previews computed (by `previewer`) in
    `pool`; environments are generated on a thread of their own. Closing the dialog
    cancels a generation and lets go of what can be read again; closing it while its
    export runs leaves the export running, and the dialog comes back when it ends."""

    def __init__(self, state: ProjectState, runner: ExportRunner, parent: QWidget | None = None, *,
                 services: Services, pool: QThreadPool | None = None, previewer: Previewer = preview_plate) -> None:
        super().__init__(state, runner, parent, what="LED-wall plate", formats=tuple((text, "") for text, _key in FORMATS))
        for index, (_text, key) in enumerate(FORMATS):
            self.format_combo.setItemData(index, key, FORMAT_ROLE)
        self.pool = pool or services.pool
        self.path_edit.setText(str(state.folder.exports_dir / DEFAULT_FOLDER))
        self.path_edit.setMinimumWidth(320)
        self.path_edit.setToolTip("The folder the tiles and their sidecar go into: a new or empty one, "
                                  "or an earlier plate's, which is replaced")
        self.wall_editor = WallEditorWidget(state)
        self.source = PlateSourceWidget(state, services, self.pool, self.wall_profile)
        self.preview = PlatePreviewView(self.pool, previewer=previewer)
        self.preview.pause()  # computed once shown
        self._away = True  # hidden, with the source's pictures let go
        self.lowpass_spin = QDoubleSpinBox()
        self.lowpass_spin.setRange(0, 8)
        self.lowpass_spin.setSingleStep(0.25)
        self.lowpass_spin.setSuffix(" px")
        self.lowpass_spin.setSpecialValueText("Off")
        self.lowpass_spin.setToolTip("An extra blur in wall pixels, against moiré on camera")
        self.dither_check = QCheckBox("Dither (against banding in skies)")
        self.dither_check.setChecked(True)
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(0.04, 3600)
        self.seconds_spin.setValue(10)
        self.seconds_spin.setSuffix(" s")
        self.seconds_spin.setToolTip("How long each tile's movie plays (one frame, repeated)")
        self.inputs = (self.path_edit, self.browse_button, self.format_combo, self.lowpass_spin,
                       self.dither_check, self.seconds_spin)
        self._build_layout()
        self.resize(1200, 880)

        self.wall_editor.profile_changed.connect(self._on_options_changed)
        self.source.source_changed.connect(self._on_options_changed)
        self.lowpass_spin.valueChanged.connect(self._on_options_changed)
        self._on_format_changed(0)
        self._on_options_changed()
        self._on_running_changed()

    def _build_layout(self) -> None:
        wall_box = QGroupBox("Wall")
        QVBoxLayout(wall_box).addWidget(self.wall_editor)
        source_box = QGroupBox("Source")
        QVBoxLayout(source_box).addWidget(self.source)
        output_box = QGroupBox("Output")
        output = QFormLayout(output_box)
        output.addRow("Folder", self._output_row())
        output.addRow("Format", self.format_combo)
        output.addRow("", self.dither_check)
        output.addRow("Movie length", self.seconds_spin)
        output.addRow("Low-pass", self.lowpass_spin)
        note = QLabel(f"Tiles follow the cabinets, each at most one output's pixels; {STEM}.json says where each goes. "
                      "A generated source is saved beside them.")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {DIM_TEXT.name()};")
        output.addRow(note)
        self.output_form = output
        preview_box = QGroupBox("Preview: the plate on the wall's canvas, tiles outlined")
        QVBoxLayout(preview_box).addWidget(self.preview)
        middle = QHBoxLayout()
        middle.addWidget(source_box, 1)
        middle.addWidget(output_box, 1)
        options = QVBoxLayout()
        options.addWidget(wall_box)
        options.addLayout(middle)
        options.addWidget(preview_box, 1)
        self._lay_out(options, 1)

    # -- the request -------------------------------------------------------------------

    def wall_profile(self) -> WallProfile | None:
        """The wall as edited, or None while it has an error."""
        return None if self.wall_editor.error() else self.wall_editor.profile()

    def format_key(self) -> str:
        """The chosen format's key ("exr", "tiff", "png16", "png8", "prores")."""
        return self.format_combo.currentData(FORMAT_ROLE)

    def request(self) -> PlateExport:
        wall = self.wall_profile()
        if wall is None:
            raise ValueError(f"Correct the wall first: {self.wall_editor.error()}")
        picture = self.source.picture()
        if picture is None:
            raise ValueError("Choose the plate's source first: a take, a picture file, or generate one")
        if other_wall(picture, wall):
            raise ValueError(OTHER_WALL)
        return PlateExport(
            out=self.output_path(), wall=wall, source=picture.export, kind=self.source.kind(),
            format=self.format_key(), lowpass=self.lowpass_spin.value(), stem=STEM,
            dither=self.dither_check.isChecked(), seconds=self.seconds_spin.value(), save_source=picture.generated,
            source_recipe=picture.recipe,
        )

    def _on_browse_clicked(self) -> None:
        current = self.path_edit.text().strip() or str(self.state.folder.exports_dir)
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the plate", current)
        if chosen:
            self.path_edit.setText(chosen)

    def _on_format_changed(self, _index: int) -> None:
        fmt = self.format_key()
        for widget, shown in ((self.dither_check, fmt == "png8"), (self.seconds_spin, fmt == "prores")):
            self.output_form.setRowVisible(widget, shown)

    def _on_options_changed(self, *_args) -> None:
        wall, picture = self.wall_profile(), self.source.picture()
        unusable = OTHER_WALL if picture is not None and wall is not None and other_wall(picture, wall) else ""
        if wall is None:
            self._options_error = f"The wall: {self.wall_editor.error()}"
        else:
            self._options_error = unusable or ("" if picture is not None else "No source yet")
        if picture is None and self.source.is_reading():
            unusable = UPDATING  # the newest preview stays, greyed, until the picture is read
        self.preview.show_plate(picture.pixels if picture else None, self.source.kind(), wall,
                                self.lowpass_spin.value(), unusable)
        self._update_buttons()

    # -- the preview, shown and hidden ---------------------------------------------------

    def preview_ready(self) -> bool:
        """Whether the preview shows the wall and source as they are (nothing left to
        read, generate or compute)."""
        return not self.source.is_busy() and self.preview.is_ready()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._away:  # not a window coming back from being minimised
            self._away = False
            self.source.generator.refresh_choices()  # the settings' model and the scenes may have changed
            self.preview.resume()
            self.source.bring_back()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if not event.spontaneous() and not self._away:  # closed, not minimised
            self._away = True
            self.source.generator.cancel()
            self.source.generator.release_engines()
            self.preview.pause()
            self.source.put_away()

    def stop(self, timeout_ms: int = 5_000) -> bool:
        """Compute, read and generate no more, waiting up to `timeout_ms` for what runs
        (the project is closing). True when nothing is left running."""
        previewing = self.preview.stop(timeout_ms)
        return self.source.stop(timeout_ms) and previewing

    # -- running -----------------------------------------------------------------------

    def _mine(self) -> bool:
        return started_here(self.runner, self._request)

    def _report_text(self, report: PlateReport) -> str:
        tiles = [path for path in report.files if path.suffix != ".json" and not path.stem.endswith("_source")]
        canvas = report.canvas
        lines = [(f"Wrote {counted(len(tiles), 'tile')} of the {canvas.width_px:,} × {canvas.height_px:,} px canvas, "
                  f"and {STEM}.json, into {report.out}")]
        if report.warning:
            lines.append(f"Warning: {report.warning}")
        return "\n".join(lines)


def other_wall(picture: PlateSourcePicture, wall: WallProfile) -> bool:
    """Whether `picture` was generated for a wall whose span or height differs from
    `wall`'s (it would be stretched over this one)."""
    if picture.coverage is None:
        return False
    try:
        return wall_coverage(wall) != picture.coverage
    except ValueError:  # a wall the reprojection cannot take: its own error says so
        return False
