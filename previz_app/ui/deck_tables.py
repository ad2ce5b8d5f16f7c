"""The pitch deck's lists as editable tables: characters, comparable titles, budget
lines, financing sources, schedule and team. A committed cell becomes a new tuple of
entries; a cell that does not parse (a money amount that is not a whole number) is
marked and explained, and nothing is saved until it is fixed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain.deck import (
    CastStatus,
)
from .deck_columns import NEW_ENTRIES, STRETCH_MIN, Column, cell_text, cell_value
from .export_dialog import ERROR_STYLE

INVALID = QColor(150, 45, 45)
class EntryTable(QWidget):
    """One list of the deck as a table with Add / Remove / Move up / Move down.
    `entries_edited(tuple)` carries the whole new list after each committed change.
    `pick_image(current_take_id)` (for an image column) returns (chosen, take_id)."""

    entries_edited = Signal(tuple)

    def __init__(
        self, entry_type: type, columns: tuple[Column, ...],
        pick_image: Callable[[int | None], tuple[bool, int | None]] | None = None, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.entry_type, self.columns, self.pick_image = entry_type, columns, pick_image
        self.image_label: Callable[[int], str] | None = None  # names a picture ("2A · take 9")
        self._entries: tuple = ()
        self._invalid: dict[tuple[int, int], str] = {}
        self._loading = False
        self._refill = False  # rows arrived while a cell was being typed in

        self.table = QTableWidget(0, len(columns))
        self.table.setHorizontalHeaderLabels([c.header for c in columns])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.viewport().installEventFilter(self)

        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

        self.table.cellChanged.connect(self._on_cell_changed)
        # After the view's own slot: it is done with the editor (no longer editing) then.
        self.table.itemDelegate().closeEditor.connect(self._on_editor_closed)
        self.table.cellDoubleClicked.connect(self._on_cell_double_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.add_button.clicked.connect(self.add_entry)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns(event.size().width())
        return super().eventFilter(watched, event)

    def _fit_columns(self, available: int) -> None:
        # Numbers, flags and pictures keep their width; text columns share the rest, and
        # in a narrow window give way down to a readable width, then the table scrolls.
        widths = [column.width or STRETCH_MIN for column in self.columns]
        flexible = [i for i, column in enumerate(self.columns) if column.kind == "text"]
        room = available - sum(widths)
        share = sum(widths[i] for i in flexible)
        if flexible and share:
            scale = max(0.6, 1 + room / share)
            for i in flexible:
                widths[i] = int(widths[i] * scale)
        for index, width in enumerate(widths):
            self.table.setColumnWidth(index, width)
        self.table.resizeRowsToContents()

    # -- showing -----------------------------------------------------------------------

    def entries(self) -> tuple:
        return self._entries

    def load(self, entries: tuple) -> None:
        """Show `entries`, unless they are what is shown already. While a cell is being
        typed in they are shown once it closes (a reload must not throw away what the
        user is typing), and what it commits is saved on them, not on the rows shown."""
        entries = tuple(entries)
        if entries == self._entries and self.table.rowCount() == len(entries):
            return
        if self.table.state() == QAbstractItemView.State.EditingState:
            self._entries, self._refill = entries, True
            return
        self._fill(entries)

    def commit_pending(self) -> None:
        """Save the cell being typed in, if any, and close its editor."""
        editor = self.table.indexWidget(self.table.currentIndex())
        if self.table.state() == QAbstractItemView.State.EditingState and editor is not None:
            self.table.commitData(editor)
            self.table.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def _on_editor_closed(self, *_args) -> None:
        if self._refill:
            self._refill = False
            self._fill(self._entries)

    @contextmanager
    def _loading_cells(self) -> Iterator[None]:
        # Cells set here are what is stored, not edits: cellChanged is ignored meanwhile.
        self._loading = True
        try:
            yield
        finally:
            self._loading = False

    def _fill(self, entries: tuple, select: int | None = None) -> None:
        self._entries, self._invalid = entries, {}
        with self._loading_cells():
            self.table.setRowCount(len(entries))
            for row, entry in enumerate(entries):
                for col, column in enumerate(self.columns):
                    self._set_cell(row, col, column, getattr(entry, column.field))
            self.table.resizeRowsToContents()
        if select is not None and 0 <= select < len(entries):
            self.table.selectRow(select)
        self._show_errors()
        self._update_buttons()

    def _set_cell(self, row: int, col: int, column: Column, value: Any) -> None:
        if column.kind == "status":
            combo = QComboBox()
            combo.addItems([status.value for status in CastStatus])
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda _text, combo=combo: self._on_status_changed(combo))
            holder = QWidget()  # keeps the combo its own height in a tall row
            holder_layout = QVBoxLayout(holder)
            holder_layout.setContentsMargins(2, 0, 2, 0)
            holder_layout.addWidget(combo, 0, Qt.AlignmentFlag.AlignVCenter)
            self.table.setCellWidget(row, col, holder)
            return
        item = QTableWidgetItem()
        if column.kind == "check":
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
        else:
            item.setText(self._text(column, value))
            if column.kind in ("amount", "optional_amount", "year"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column.kind == "image":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setToolTip("Double-click to choose the character's image")
        self.table.setItem(row, col, item)

    def _text(self, column: Column, value: Any) -> str:
        if column.kind == "image" and value is not None and self.image_label is not None:
            return self.image_label(value)
        return cell_text(column, value)

    def refresh_images(self) -> None:
        """Name the pictures again (the project's takes were read again)."""
        for col, column in enumerate(self.columns):
            if column.kind == "image":
                for row, entry in enumerate(self._entries):
                    self._tidy_cell(row, column.field, getattr(entry, column.field))

    def _update_buttons(self) -> None:
        rows = self._selected_rows()
        self.remove_button.setEnabled(bool(rows))
        self.up_button.setEnabled(len(rows) == 1 and rows[0] > 0)
        self.down_button.setEnabled(len(rows) == 1 and rows[0] < len(self._entries) - 1)

    def _selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    # -- editing -----------------------------------------------------------------------

    def _on_cell_changed(self, row: int, col: int) -> None:
        if self._loading or row >= len(self._entries):
            return
        column, item = self.columns[col], self.table.item(row, col)
        if column.kind == "check":
            value: Any = item.checkState() == Qt.CheckState.Checked
        elif column.kind == "image":
            return
        else:
            try:
                value = cell_value(column, item.text())
            except ValueError as exc:
                self._invalid[(row, col)] = f"Row {row + 1}, {column.header}: {exc}. Not saved."
                self._show_errors()
                return
        self._invalid.pop((row, col), None)
        self._commit_field(row, column.field, value)

    def _on_status_changed(self, combo: QComboBox) -> None:
        if self._loading:
            return
        col = next(i for i, c in enumerate(self.columns) if c.kind == "status")
        row = next((r for r in range(self.table.rowCount()) if self.status_combo(r) is combo), None)
        if row is not None and row < len(self._entries):
            self._commit_field(row, self.columns[col].field, CastStatus(combo.currentText()))

    def status_combo(self, row: int) -> QComboBox | None:
        """The cast status combo of `row` (a characters table), if any."""
        col = next((i for i, c in enumerate(self.columns) if c.kind == "status"), None)
        holder = None if col is None else self.table.cellWidget(row, col)
        return None if holder is None else holder.findChild(QComboBox)

    def _on_cell_double_clicked(self, row: int, col: int) -> None:
        if self.columns[col].kind != "image" or self.pick_image is None or row >= len(self._entries):
            return
        chosen, take_id = self.pick_image(getattr(self._entries[row], self.columns[col].field))
        if chosen:
            self._commit_field(row, self.columns[col].field, take_id)

    def _commit_field(self, row: int, field: str, value: Any) -> None:
        entry = self._entries[row]
        changed = getattr(entry, field) != value
        if changed:
            self._entries = self._entries[:row] + (replace(entry, **{field: value}),) + self._entries[row + 1:]
        self._tidy_cell(row, field, value)
        self._show_errors()
        if changed:
            self.entries_edited.emit(self._entries)

    def _tidy_cell(self, row: int, field: str, value: Any) -> None:
        # "1250000" is shown back as "1,250,000": what was saved, as the deck prints it.
        col = next(i for i, c in enumerate(self.columns) if c.field == field)
        column = self.columns[col]
        if column.kind in ("check", "status"):
            return
        item, text = self.table.item(row, col), self._text(column, value)
        if item is not None and item.text() != text:
            with self._loading_cells():
                item.setText(text)

    def add_entry(self) -> None:
        """Append a blank entry (saved at once) and start editing its first cell."""
        entries = self._entries + (NEW_ENTRIES[self.entry_type](),)
        row = len(entries) - 1
        self._fill(entries, select=row)
        self.entries_edited.emit(entries)
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))

    def remove_selected(self) -> None:
        rows = set(self._selected_rows())
        if rows:
            entries = tuple(e for i, e in enumerate(self._entries) if i not in rows)
            self._fill(entries, select=min(min(rows), len(entries) - 1))
            self.entries_edited.emit(entries)

    def move_selected(self, step: int) -> None:
        rows = self._selected_rows()
        if len(rows) != 1 or not 0 <= rows[0] + step < len(self._entries):
            return
        row, entries = rows[0], list(self._entries)
        entries[row], entries[row + step] = entries[row + step], entries[row]
        self._fill(tuple(entries), select=row + step)
        self.entries_edited.emit(tuple(entries))

    # -- bad input ---------------------------------------------------------------------

    def invalid_cells(self) -> dict[tuple[int, int], str]:
        return dict(self._invalid)

    def _show_errors(self) -> None:
        with self._loading_cells():
            for row in range(self.table.rowCount()):
                for col in range(len(self.columns)):
                    item = self.table.item(row, col)
                    if item is None:
                        continue
                    message = self._invalid.get((row, col))
                    item.setBackground(QBrush(INVALID) if message else QBrush())
                    if self.columns[col].kind != "image":
                        item.setToolTip(message or "")
        self.error_label.setText("\n".join(self._invalid.values()))
        self.error_label.setVisible(bool(self._invalid))
