"""A wall's sections as a table, a row each: the kind (flat or curved), the cabinets it
is built of and its size, each field enabled only where it applies to the row's kind."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QDoubleSpinBox, QHeaderView, QTableWidget, QWidget

from ..domain.wall import Cabinet, WallSection

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


class WallSectionsTable(QTableWidget):
    """The sections being edited. `sections()` reads them as typed; `sections_changed`
    follows every edit of a field (and `append_section`, `remove_section`)."""

    sections_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 1 + len(FIELDS), parent)
        self.setHorizontalHeaderLabels(["Kind"] + [header for _f, header, *_ in FIELDS])
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self._fit()

    def sections(self) -> tuple[WallSection, ...]:
        return tuple(self.section(row) for row in range(self.rowCount()))

    def section(self, row: int) -> WallSection:
        """Section `row` as typed; what does not apply to its kind is kept in its field,
        not in the section."""
        values = {name: self.cell(row, name).value() for name, *_ in FIELDS}
        cabinet = Cabinet(*(values.pop(name) for name in CABINET_FIELDS))
        kind = self.cell(row, "kind").currentData()
        if kind == "curved":
            values["width_m"] = values["viewer_distance_m"] = 0.0
        else:
            values["radius_m"] = values["arc_deg"] = 0.0
        return WallSection(kind, cabinet, **values)

    def cell(self, row: int, name: str) -> QComboBox | QDoubleSpinBox:
        """The field `name` ("kind", or a FIELDS name) of section `row`."""
        column = 0 if name == "kind" else 1 + [field for field, *_ in FIELDS].index(name)
        return self.cellWidget(row, column)

    def set_sections(self, sections: tuple[WallSection, ...]) -> None:
        """Show `sections` instead of those shown (one `sections_changed`)."""
        self.blockSignals(True)  # its own signal only; the fields are new
        try:
            self.setRowCount(0)
            for section in sections:
                self.append_section(section)
        finally:
            self.blockSignals(False)
        self.sections_changed.emit()

    def append_section(self, section: WallSection) -> None:
        """Add `section` as the last row."""
        row = self.rowCount()
        self.insertRow(row)
        kind = QComboBox()
        for text, data in KINDS:
            kind.addItem(text, data)
        kind.setCurrentIndex(max(0, kind.findData(section.kind)))
        self.setCellWidget(row, 0, kind)
        for column, (name, _header, decimals, top, _kinds) in enumerate(FIELDS, 1):
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals)
            spin.setRange(0, top)
            spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
            spin.setFrame(False)
            spin.setValue(getattr(section.cabinet if name in CABINET_FIELDS else section, name))
            self.setCellWidget(row, column, spin)
            spin.valueChanged.connect(self._on_field_changed)
        kind.currentIndexChanged.connect(self._on_field_changed)
        self._fit()
        self._on_field_changed()

    def remove_section(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.removeRow(row)
            self._fit()
            self._on_field_changed()

    def _on_field_changed(self, *_args) -> None:
        for row in range(self.rowCount()):
            kind = self.cell(row, "kind").currentData()
            for name, _header, _decimals, _top, kinds in FIELDS:
                self.cell(row, name).setEnabled(kind in kinds)
        self.sections_changed.emit()

    def _fit(self) -> None:
        # A wall has a few sections: the table is as tall as its rows, never scrolled.
        rows = max(self.rowCount(), 1)
        height = self.horizontalHeader().sizeHint().height() + rows * self.verticalHeader().defaultSectionSize()
        self.setFixedHeight(height + 2 * self.frameWidth())
