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
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
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
from .message_label import MessageLabel
from .state import ProjectState
from .undo_actions import UndoActions
from .wall_sections import WallSectionsTable

# The wall of the benchmark: 270° of 2.84 mm pixels, 6 m tall round an 11.4 m radius.
DEFAULT_WALL = WallProfile("LED wall", (WallSection("curved", Cabinet(500, 500, 2.84), 6.0, radius_m=11.4, arc_deg=270),))
NEW_FLAT = WallSection("flat", Cabinet(500, 500, 2.84), 6.0, width_m=10.0, viewer_distance_m=8.0)
JSON_FILTER = "Wall profile (*.json)"
MAX_JSON_BYTES = 1_000_000  # a wall profile is a few hundred bytes; anything near this is another file
NOT_STORED = "Not in the project"  # the stored-walls entry while the wall shown is none of them


class WallEditorWidget(QWidget):
    """One wall being edited. `profile()` is the wall as typed, `error()` why it cannot
    be a wall ("" when it can), `canvas()` what it comes to (None with an error).
    `profile_changed` follows every edit. With a project `state`, the project's stored
    walls are offered (the first is edited to begin with); Save keeps the typed wall
    and Delete removes the stored wall being edited (`stored_name`, which the button
    names), each one undoable edit, with Undo and Redo beside them."""

    profile_changed = Signal()

    def __init__(self, state: ProjectState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.stored_name: str | None = None  # the project's wall being edited, if it is one
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
        self.undo_actions = UndoActions(state.undo_stack, self) if state is not None else None
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("The wall's name")
        self.capacity_spin = QSpinBox()
        self.capacity_spin.setRange(1, 2_000_000_000)
        self.capacity_spin.setGroupSeparatorShown(True)
        self.capacity_spin.setSuffix(" px")
        self.capacity_spin.setToolTip("Pixels one processor output drives")
        self.table = WallSectionsTable()
        self.add_button = QPushButton("Add section")
        self.remove_button = QPushButton("Remove section")
        self.figures_label = QLabel()
        self.figures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.status_label = MessageLabel(hide_empty=True)  # what Save, Delete and the JSON buttons did
        self._lay_out()

        self.name_edit.textChanged.connect(self._on_edited)
        self.capacity_spin.valueChanged.connect(self._on_edited)
        self.table.sections_changed.connect(self._on_edited)
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
        stored = walls.wall_names(state.db) if state is not None else []
        if stored:  # the project's own wall, once it has one
            self.load_stored(stored[0])

    def _lay_out(self) -> None:
        stored = QHBoxLayout()
        stored.addWidget(QLabel("Stored walls"))
        stored.addWidget(self.stored_combo, 1)
        for button in (self.save_button, self.delete_button, self.load_json_button, self.save_json_button):
            stored.addWidget(button)
        for button in self.undo_actions.buttons() if self.undo_actions else ():
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
        return WallProfile(self.name_edit.text().strip(), self.table.sections(), self.capacity_spin.value())

    def set_profile(self, profile: WallProfile) -> None:
        """Show `profile` for editing (one `profile_changed`)."""
        self._loading = True
        try:
            self.name_edit.setText(profile.name)
            self.capacity_spin.setValue(profile.output_capacity)
            self.table.set_sections(profile.sections)
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
        """The field `name` ("kind", or a wall_sections.FIELDS name) of section `row`."""
        return self.table.cell(row, name)

    def add_section(self, section: WallSection | None = None) -> None:
        """Add a section at the right-hand end: `section`, or a copy of the last one's
        cabinets continuing as a flat run."""
        if section is None:
            last = self.table.section(self.table.rowCount() - 1) if self.table.rowCount() else None
            section = NEW_FLAT if last is None else WallSection(
                "flat", last.cabinet, last.height_m, width_m=NEW_FLAT.width_m, viewer_distance_m=NEW_FLAT.viewer_distance_m)
        self.table.append_section(section)

    def remove_section(self, row: int) -> None:
        self.table.remove_section(row)

    def _on_remove_clicked(self) -> None:
        row = self.table.currentRow()
        self.remove_section(row if row >= 0 else self.table.rowCount() - 1)

    def _on_edited(self, *_args) -> None:
        if self._loading:
            return
        self.remove_button.setEnabled(self.table.rowCount() > 1)
        profile = self.profile()
        try:
            self._canvas, self._error = wall_canvas(profile), ""
        except ValueError as exc:
            self._canvas, self._error = None, str(exc) or type(exc).__name__
        self.error_label.setText(self._error)
        self.error_label.setVisible(bool(self._error))
        self.figures_label.setText(figures_text(self._canvas) if self._canvas else "")
        self.figures_label.setEnabled(self._canvas is not None)
        self.save_button.setEnabled(self.state is not None and not self._error and bool(profile.name))
        self.save_json_button.setEnabled(not self._error)
        self.profile_changed.emit()

    # -- the project's walls -----------------------------------------------------------

    def reload_stored(self) -> None:
        """List the project's walls again, the one being edited chosen (NOT_STORED
        first when it is none of them); Delete names it."""
        stored = walls.wall_names(self.state.db) if self.state is not None else []
        shown = self.stored_name if self.stored_name in stored else None
        self.stored_combo.clear()
        if not stored:
            self.stored_combo.addItem("No walls stored yet" if self.state is not None else "No project", None)
        elif shown is None:
            self.stored_combo.addItem(NOT_STORED, None)
        for name in stored:
            self.stored_combo.addItem(name, name)
        self.stored_combo.setCurrentIndex(max(0, self.stored_combo.findData(shown)))
        self.stored_combo.setEnabled(bool(stored))
        self.delete_button.setEnabled(shown is not None)
        elided = shown if shown is None or len(shown) <= 24 else shown[:23] + "…"
        self.delete_button.setText("Delete" if shown is None else f"Delete “{elided}”")
        self.delete_button.setToolTip("" if shown is None else f"Remove the wall “{shown}” from the project")

    def load_stored(self, name: str) -> bool:
        """Edit the project's wall `name`; False (saying why) when it is not there."""
        try:
            profile = walls.get_wall(self.state.db, name)
        except (ValueError, ProjectError) as exc:  # gone meanwhile, or damaged by hand
            self.status_label.say(f"Cannot load the wall {name!r}: {str(exc) or type(exc).__name__}", error=True)
            self.reload_stored()  # back to the wall still being edited
            return False
        self.set_profile(profile)
        self._edit_stored(name)
        self.status_label.say(f"Loaded {name!r} from the project.")
        return True

    def save_to_project(self) -> bool:
        """Keep the typed wall in the project under its name (one undoable edit); it
        becomes the stored wall being edited."""
        profile = self.profile()
        if self.state is None or self._error or not profile.name:
            self.status_label.say("Name the wall and correct it before saving it." if self.state
                                  else "No project is open.", error=True)
            return False
        return self._perform(SaveWall(profile), profile.name, f"Saved {profile.name!r} in the project.")

    def delete_from_project(self) -> bool:
        """Remove the stored wall being edited (the one Delete names) from the project
        (undoable); the fields keep its values."""
        name = self.stored_name
        if self.state is None or name is None or name not in walls.wall_names(self.state.db):
            return False
        return self._perform(DeleteWall(name), name, f"Deleted {name!r} from the project (Undo brings it back).")

    def _perform(self, operation: Operation, name: str, done: str) -> bool:
        errors: list[str] = []

        def collect(message: str) -> None:
            errors.append(message)

        self.state.error_reported.connect(collect)
        try:
            performed = self.state.perform(operation)
        finally:
            self.state.error_reported.disconnect(collect)
        if performed:
            self._edit_stored(name)
        else:
            self.reload_stored()
        self.status_label.say(done if performed else "; ".join(errors) or f"{operation.label} failed", error=not performed)
        return performed

    def _edit_stored(self, name: str | None) -> None:
        self.stored_name = name
        self.reload_stored()

    def _on_stored_activated(self, index: int) -> None:
        name = self.stored_combo.itemData(index)
        if name is not None:
            self.load_stored(name)
        else:
            self.reload_stored()  # NOT_STORED chosen: the wall shown is still the one edited

    def _on_history_changed(self, _index: int) -> None:
        self.reload_stored()

    # -- JSON files --------------------------------------------------------------------

    def load_json(self, path: Path) -> bool:
        """Edit the wall in the JSON file `path` (a wall of no project's until saved);
        False (saying why) when it is not one, or too large to be one."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_JSON_BYTES:
                raise ValueError(f"it is {size / 1e6:.1f} MB; a wall profile is a small JSON file, "
                                 f"at most {MAX_JSON_BYTES // 1_000_000} MB")
            profile = profile_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            self.status_label.say(f"Cannot load {path.name}: {reason}", error=True)
            return False
        self.set_profile(profile)
        self._edit_stored(None)
        self.status_label.say(f"Loaded {path.name}.")
        return True

    def save_json(self, path: Path) -> bool:
        """Write the typed wall to `path` as JSON; False (saying why) when it cannot."""
        if self._error:
            self.status_label.say(f"Correct the wall before saving it: {self._error}", error=True)
            return False
        try:
            Path(path).write_text(profile_json(self.profile()) + "\n", encoding="utf-8")
        except OSError as exc:
            self.status_label.say(f"Cannot write {Path(path).name}: {exc.strerror or exc}", error=True)
            return False
        self.status_label.say(f"Saved {path}.")
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
