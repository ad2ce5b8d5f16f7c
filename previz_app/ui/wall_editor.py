"""Editing an LED wall: its name, its sections (flat or curved, the cabinets they are
built of) and the pixels one processor output drives, with the figures the wall comes
to — canvas, cabinets, pixels per degree, outputs — worked out again on every edit.
Walls are kept in the project (one undoable edit each) and as JSON files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.wall import (
    Cabinet,
    WallCanvas,
    WallProfile,
    WallSection,
    profile_from_dict,
    profile_json,
    wall_canvas,
)
from ..store import ProjectError, walls
from ..store.operations import Operation
from ..store.wall_operations import DeleteWall, SaveWall
from .export_dialog import ERROR_STYLE, counted
from .state import ProjectState

# (field, header, unit decimals, largest value, kinds it applies to). The ranges let a
# user type what a wall cannot be (a zero radius, a 400° arc) so that check_profile
# says why, rather than the field quietly refusing the keystroke.
FIELDS: tuple[tuple[str, str, int, float, tuple[str, ...]], ...] = (
    ("width_mm", "Cabinet W (mm)", 1, 10_000, ("flat", "curved")),
    ("height_mm", "Cabinet H (mm)", 1, 10_000, ("flat", "curved")),
    ("pitch_mm", "Pitch (mm)", 4, 10_000, ("flat", "curved")),
    ("height_m", "Height (m)", 3, 1_000, ("flat", "curved")),
    ("width_m", "Width (m)", 3, 1_000, ("flat",)),
    ("viewer_distance_m", "Viewer (m)", 3, 1_000, ("flat",)),
    ("radius_m", "Radius (m)", 3, 1_000, ("curved",)),
    ("arc_deg", "Arc (°)", 2, 720, ("curved",)),
)
KINDS = (("Curved", "curved"), ("Flat", "flat"))
CABINET_FIELDS = ("width_mm", "height_mm", "pitch_mm")
# The wall of the benchmark: 270° of 2.84 mm pixels, 6 m tall round an 11.4 m radius.
DEFAULT_WALL = WallProfile("LED wall", (WallSection("curved", Cabinet(500, 500, 2.84), 6.0, radius_m=11.4, arc_deg=270),))
NEW_FLAT = WallSection("flat", Cabinet(500, 500, 2.84), 6.0, width_m=10.0, viewer_distance_m=8.0)
JSON_FILTER = "Wall profile (*.json)"


class WallEditorWidget(QWidget):
    """One wall being edited. `profile()` is the wall as typed, `error()` why it cannot
    be a wall ("" when it can), `canvas()` what it comes to (None with an error).
    `profile_changed` follows every edit. With a project `state`, the project's stored
    walls are offered (the first is edited to begin with), and Save / Delete keep or
    remove the typed wall as an undoable edit."""

    profile_changed = Signal()

    def __init__(self, state: ProjectState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._error = ""
        self._canvas: WallCanvas | None = None
        self._loading = False  # set_profile fills many fields: one profile_changed for all

        self.stored_combo = QComboBox()
        self.stored_combo.setMinimumContentsLength(16)
        self.stored_combo.setToolTip("The walls kept in this project")
        self.save_button = QPushButton("Save in project")
        self.delete_button = QPushButton("Delete")
        self.load_json_button = QPushButton("Load JSON…")
        self.save_json_button = QPushButton("Save JSON…")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("The wall's name")
        self.capacity_spin = QSpinBox()
        self.capacity_spin.setRange(1, 2_000_000_000)
        self.capacity_spin.setGroupSeparatorShown(True)
        self.capacity_spin.setSuffix(" px")
        self.capacity_spin.setToolTip("Pixels one processor output drives")
        self.table = QTableWidget(0, 1 + len(FIELDS))
        self.table.setHorizontalHeaderLabels(["Kind"] + [header for _f, header, *_ in FIELDS])
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.add_button = QPushButton("Add section")
        self.remove_button = QPushButton("Remove section")
        self.figures_label = QLabel()
        self.figures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.status_label = QLabel()  # what Save, Delete and the JSON buttons did
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        self._lay_out()

        self.name_edit.textChanged.connect(self._on_edited)
        self.capacity_spin.valueChanged.connect(self._on_edited)
        self.add_button.clicked.connect(lambda: self.add_section())
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.stored_combo.activated.connect(self._on_stored_activated)
        self.save_button.clicked.connect(self.save_to_project)
        self.delete_button.clicked.connect(self.delete_from_project)
        self.load_json_button.clicked.connect(self._on_load_json_clicked)
        self.save_json_button.clicked.connect(self._on_save_json_clicked)
        if state is not None:
            # Undo and redo of a Save or Delete change the stored walls too.
            state.undo_stack.indexChanged.connect(self._on_history_changed)
        self.reload_stored()
        self.set_profile(DEFAULT_WALL)
        if self.stored_combo.currentData() is not None:  # the project's own wall, once it has one
            self.load_stored(self.stored_combo.currentData())

    def _lay_out(self) -> None:
        stored = QHBoxLayout()
        stored.addWidget(QLabel("Stored walls"))
        stored.addWidget(self.stored_combo, 1)
        for button in (self.save_button, self.delete_button, self.load_json_button, self.save_json_button):
            stored.addWidget(button)
        names = QHBoxLayout()
        names.addWidget(QLabel("Name"))
        names.addWidget(self.name_edit, 1)
        names.addWidget(QLabel("Output capacity"))
        names.addWidget(self.capacity_spin)
        sections = QHBoxLayout()
        sections.addStretch(1)
        sections.addWidget(self.add_button)
        sections.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(stored)
        layout.addLayout(names)
        layout.addWidget(self.table)
        layout.addLayout(sections)
        layout.addWidget(self.figures_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)

    # -- the profile -------------------------------------------------------------------

    def profile(self) -> WallProfile:
        """The wall as typed, checked or not (see `error`)."""
        sections = tuple(self._section(row) for row in range(self.table.rowCount()))
        return WallProfile(self.name_edit.text().strip(), sections, self.capacity_spin.value())

    def _section(self, row: int) -> WallSection:
        values = {name: self.cell(row, name).value() for name, *_ in FIELDS}
        cabinet = Cabinet(*(values.pop(name) for name in CABINET_FIELDS))
        kind = self.cell(row, "kind").currentData()
        if kind == "curved":  # what does not apply to a kind is kept in its field, not in the wall
            values["width_m"] = values["viewer_distance_m"] = 0.0
        else:
            values["radius_m"] = values["arc_deg"] = 0.0
        return WallSection(kind, cabinet, **values)

    def set_profile(self, profile: WallProfile) -> None:
        """Show `profile` for editing (one `profile_changed`)."""
        self._loading = True
        try:
            self.name_edit.setText(profile.name)
            self.capacity_spin.setValue(profile.output_capacity)
            self.table.setRowCount(0)
            for section in profile.sections:
                self._append_row(section)
        finally:
            self._loading = False
        self._on_edited()

    def error(self) -> str:
        """Why the typed wall cannot be a wall; "" when it can."""
        return self._error

    def canvas(self) -> WallCanvas | None:
        """What the typed wall comes to; None while it has an error."""
        return self._canvas

    def cell(self, row: int, name: str) -> QComboBox | QDoubleSpinBox:
        """The field `name` ("kind", or a FIELDS name) of section `row`."""
        column = 0 if name == "kind" else 1 + [field for field, *_ in FIELDS].index(name)
        return self.table.cellWidget(row, column)

    def add_section(self, section: WallSection | None = None) -> None:
        """Add a section at the right-hand end: `section`, or a copy of the last one's
        cabinets continuing as a flat run."""
        if section is None:
            last = self._section(self.table.rowCount() - 1) if self.table.rowCount() else None
            section = NEW_FLAT if last is None else WallSection(
                "flat", last.cabinet, last.height_m, width_m=NEW_FLAT.width_m, viewer_distance_m=NEW_FLAT.viewer_distance_m)
        self._append_row(section)
        self._on_edited()

    def remove_section(self, row: int) -> None:
        if 0 <= row < self.table.rowCount():
            self.table.removeRow(row)
            self._on_edited()

    def _append_row(self, section: WallSection) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        kind = QComboBox()
        for text, data in KINDS:
            kind.addItem(text, data)
        kind.setCurrentIndex(max(0, kind.findData(section.kind)))
        self.table.setCellWidget(row, 0, kind)
        for column, (name, _header, decimals, top, _kinds) in enumerate(FIELDS, 1):
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals)
            spin.setRange(0, top)
            spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
            spin.setFrame(False)
            source = section.cabinet if name in CABINET_FIELDS else section
            spin.setValue(getattr(source, name))
            self.table.setCellWidget(row, column, spin)
            spin.valueChanged.connect(self._on_edited)
        kind.currentIndexChanged.connect(self._on_edited)
        self._fit_table()

    def _fit_table(self) -> None:
        # A wall has a few sections: the table is as tall as its rows, never scrolled.
        rows = max(self.table.rowCount(), 1)
        height = self.table.horizontalHeader().sizeHint().height() + rows * self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(height + 2 * self.table.frameWidth())

    def _on_remove_clicked(self) -> None:
        row = self.table.currentRow()
        self.remove_section(row if row >= 0 else self.table.rowCount() - 1)

    def _on_edited(self, *_args) -> None:
        if self._loading:
            return
        for row in range(self.table.rowCount()):
            kind = self.cell(row, "kind").currentData()
            for name, _header, _decimals, _top, kinds in FIELDS:
                self.cell(row, name).setEnabled(kind in kinds)
        self.remove_button.setEnabled(self.table.rowCount() > 1)
        profile = self.profile()
        try:
            self._canvas, self._error = wall_canvas(profile), ""
        except ValueError as exc:
            self._canvas, self._error = None, str(exc)
        self.error_label.setText(self._error)
        self.error_label.setVisible(bool(self._error))
        self.figures_label.setText(figures_text(self._canvas) if self._canvas else "")
        self.figures_label.setEnabled(self._canvas is not None)
        self.save_button.setEnabled(self.state is not None and not self._error and bool(profile.name))
        self.save_json_button.setEnabled(not self._error)
        self.profile_changed.emit()

    # -- the project's walls -----------------------------------------------------------

    def reload_stored(self) -> None:
        """List the project's walls again, keeping the one chosen."""
        chosen = self.stored_combo.currentData()
        self.stored_combo.clear()
        stored = walls.wall_names(self.state.db) if self.state is not None else []
        if not stored:
            self.stored_combo.addItem("No walls stored yet" if self.state is not None else "No project", None)
        for name in stored:
            self.stored_combo.addItem(name, name)
        self.stored_combo.setCurrentIndex(max(0, self.stored_combo.findData(chosen)))
        self.stored_combo.setEnabled(bool(stored))
        self.delete_button.setEnabled(bool(stored))

    def load_stored(self, name: str) -> bool:
        """Edit the project's wall `name`; False (saying why) when it is not there."""
        try:
            profile = walls.get_wall(self.state.db, name)
        except (ValueError, ProjectError) as exc:  # gone meanwhile, or damaged by hand
            self._say(f"Cannot load the wall {name!r}: {exc}", error=True)
            return False
        self.set_profile(profile)
        self._say(f"Loaded {name!r} from the project.")
        return True

    def save_to_project(self) -> bool:
        """Keep the typed wall in the project under its name (one undoable edit)."""
        profile = self.profile()
        if self.state is None or self._error or not profile.name:
            self._say("Name the wall and correct it before saving it." if self.state else "No project is open.", error=True)
            return False
        return self._perform(SaveWall(profile), profile.name, f"Saved {profile.name!r} in the project.")

    def delete_from_project(self) -> bool:
        """Remove the wall chosen among the stored ones from the project (undoable)."""
        name = self.stored_combo.currentData()
        if self.state is None or name is None:
            return False
        return self._perform(DeleteWall(name), None, f"Deleted {name!r} from the project (Undo brings it back).")

    def _perform(self, operation: Operation, choose: str | None, done: str) -> bool:
        errors: list[str] = []

        def collect(message: str) -> None:
            errors.append(message)

        self.state.error_reported.connect(collect)
        try:
            performed = self.state.perform(operation)
        finally:
            self.state.error_reported.disconnect(collect)
        self.reload_stored()
        if choose is not None:
            self.stored_combo.setCurrentIndex(max(0, self.stored_combo.findData(choose)))
        self._say(done if performed else "; ".join(errors) or f"{operation.label} failed", error=not performed)
        return performed

    def _on_stored_activated(self, index: int) -> None:
        name = self.stored_combo.itemData(index)
        if name is not None:
            self.load_stored(name)

    def _on_history_changed(self, _index: int) -> None:
        self.reload_stored()

    # -- JSON files --------------------------------------------------------------------

    def load_json(self, path: Path) -> bool:
        """Edit the wall in the JSON file `path`; False (saying why) when it is not one."""
        try:
            profile = profile_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            self._say(f"Cannot load {Path(path).name}: {exc}", error=True)
            return False
        self.set_profile(profile)
        self._say(f"Loaded {Path(path).name}.")
        return True

    def save_json(self, path: Path) -> bool:
        """Write the typed wall to `path` as JSON; False (saying why) when it cannot."""
        if self._error:
            self._say(f"Correct the wall before saving it: {self._error}", error=True)
            return False
        try:
            Path(path).write_text(profile_json(self.profile()) + "\n", encoding="utf-8")
        except OSError as exc:
            self._say(f"Cannot write {Path(path).name}: {exc.strerror or exc}", error=True)
            return False
        self._say(f"Saved {path}.")
        return True

    def _on_load_json_clicked(self) -> None:
        self._ask_path(QFileDialog.getOpenFileName, "Load a wall profile", self.load_json)

    def _on_save_json_clicked(self) -> None:
        self._ask_path(QFileDialog.getSaveFileName, "Save the wall profile", self.save_json)

    def _ask_path(self, ask: Callable, caption: str, then: Callable[[Path], bool]) -> None:
        start = str(self.state.folder.exports_dir / f"{self.profile().name or 'wall'}.json") if self.state else ""
        chosen, _ = ask(self, caption, start, JSON_FILTER)
        if chosen:
            then(Path(chosen))

    def _say(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))


def figures_text(canvas: WallCanvas) -> str:
    """What a wall comes to, in a few lines: canvas, pixels per degree, cabinets (per
    section) and processor outputs."""
    density = f"{canvas.pixels_per_degree:.1f} px/°" if canvas.pixels_per_degree else "px/° unknown without a viewer distance"
    if len(canvas.sections) == 1:
        grid = f"{canvas.sections[0].columns} columns × {canvas.sections[0].rows} rows"
    else:
        grid = ", ".join(f"section {number}: {section.columns} × {section.rows}"
                         for number, section in enumerate(canvas.sections, 1)) + " (columns × rows)"
    return "\n".join((
        f"Canvas {canvas.width_px:,} × {canvas.height_px:,} px ({canvas.pixels / 1e6:.1f} MP) · {density}",
        f"{canvas.cabinets:,} cabinet{'' if canvas.cabinets == 1 else 's'} of {canvas.cabinet_px[0]} × {canvas.cabinet_px[1]} px: {grid}",
        f"{counted(canvas.outputs, 'processor output')} at {canvas.output_capacity:,} px each",
    ))
