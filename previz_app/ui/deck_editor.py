"""The pitch deck editor: the deck's sections on the left, the chosen section's form in
the middle, its pages as the PDF prints them on the right, and what a financier would
question beneath. Every committed edit is one undoable store edit (Edit pitch deck)."""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QCloseEvent, QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.deck import SECTIONS, Deck, check_deck, empty_sections
from ..store import operations as ops
from ..store.deck import read_deck
from .deck_forms import SectionForm, make_forms, money_line
from .deck_images import CatalogState, pick_take
from .deck_preview import DeckPreviewView
from .export_dialog import ERROR_STYLE
from .state import ProjectState
from .theme import DIM_TEXT
from .thumbnails import ThumbnailCache
from .undo_actions import UndoActions

KEYS = list(SECTIONS)
SectionRole = Qt.ItemDataRole.UserRole + 1
OMITTED_TIP = "(omitted: empty)"
WARNING_MARK = "  ⚠"


class DeckEditorDialog(QDialog):
    """A non-modal window over the project's pitch deck, drawing its pictures with the
    window's `thumbnails` and working in `pool` (the window's threads by default).

    Undo and Redo act on saved edits. What is being typed (a text, a table cell) is
    saved first, as leaving the field would save it: so Undo takes back the typing
    first, and Redo after new typing finds nothing to redo (new typing is a new edit)."""

    def __init__(self, state: ProjectState, parent: QWidget | None = None, *,
                 thumbnails: ThumbnailCache, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.pool = pool or QThreadPool.globalInstance()
        self.thumbnails = thumbnails
        self.setWindowTitle(f"Pitch deck — {state.project().title}")
        self.setModal(False)
        self.setSizeGripEnabled(True)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1440, 900)
        self.deck = Deck()
        self._stale = False

        self.catalog = CatalogState(state, self.pool, self)
        self.forms: dict[str, SectionForm] = make_forms(
            state.project().title, self.catalog, self.thumbnails, self._pick_character_image)
        self.section_list = QListWidget()
        self.section_list.setSpacing(3)
        self.section_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        for key in KEYS:
            item = QListWidgetItem(SECTIONS[key])
            item.setData(SectionRole, key)
            self.section_list.addItem(item)
            self.stack.addWidget(self._page(key, self.forms[key]))
        self._fit_section_list()
        self.preview = DeckPreviewView(state.folder, self.pool)

        self.money_label = QLabel()
        self.money_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.money_label.setStyleSheet("font-weight: bold;")
        self.warnings_list = QListWidget()
        self.warnings_list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.warnings_list.setWordWrap(True)
        self.warnings_list.setToolTip("Click a warning to open its section")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet(ERROR_STYLE)
        self.undo_actions = UndoActions(state.undo_stack, self, before=self.commit_typing)
        self.undo_action, self.redo_action = self.undo_actions.undo_action, self.undo_actions.redo_action
        self.close_button = QPushButton("Close")
        self._lay_out()

        self.section_list.currentRowChanged.connect(self._on_section_changed)
        self.warnings_list.itemClicked.connect(self._on_warning_clicked)
        self.close_button.clicked.connect(self.close)
        for form in self.forms.values():
            form.edited.connect(self._on_form_edited)
        state.deck_changed.connect(self._on_deck_changed)
        # Deleting a take or shot drops it from the deck too (the store does it).
        state.board_changed.connect(self._on_deck_changed)
        state.error_reported.connect(self._on_error_reported)
        state.project_changed.connect(self._on_project_changed)
        self._reload()
        self.catalog.reload()
        self.section_list.setCurrentRow(0)

    def _page(self, key: str, form: SectionForm) -> QWidget:
        heading = QLabel(SECTIONS[key])
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        heading.setFont(font)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(heading)
        layout.addWidget(form, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _lay_out(self) -> None:
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(6, 6, 0, 0)
        preview_layout.addWidget(QLabel("Preview"))
        preview_layout.addWidget(self.preview, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.section_list)
        splitter.addWidget(self.stack)
        splitter.addWidget(preview_box)
        splitter.setStretchFactor(1, 4)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([self.section_list.minimumWidth(), 700, 550])
        splitter.setChildrenCollapsible(False)
        buttons = QHBoxLayout()
        for button in self.undo_actions.buttons():
            buttons.addWidget(button)
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.money_label)
        layout.addWidget(self.warnings_list)
        layout.addLayout(buttons)

    # -- what is shown -----------------------------------------------------------------

    def current_section(self) -> str:
        return KEYS[max(0, self.section_list.currentRow())]

    def preview_ready(self) -> bool:
        """Whether the preview shows the current section's pages (nothing left to build)."""
        return bool(self.preview.pages()) and not self.preview.is_busy()

    def show_section(self, key: str) -> None:
        """Select the section `key` (a SECTIONS key). Raises ValueError for another key."""
        if key not in SECTIONS:
            raise ValueError(f"no deck section {key!r}; the sections are {', '.join(KEYS)}")
        self.section_list.setCurrentRow(KEYS.index(key))

    def warnings_text(self) -> str:
        """The financier's warnings as shown, one a line."""
        return "\n".join(self.warnings_list.item(row).text() for row in range(self.warnings_list.count()))

    def _on_warning_clicked(self, item: QListWidgetItem) -> None:
        key = item.data(SectionRole)
        if key is not None:  # "Nothing a financier would question" has no section
            self.show_section(key)

    def _on_section_changed(self, row: int) -> None:
        if row >= 0:
            self.stack.setCurrentIndex(row)
            self.preview.show_section(self.deck, KEYS[row])

    def _reload(self) -> None:
        self.deck = read_deck(self.state.db)
        for form in self.forms.values():
            form.load(self.deck)
        self._show_sections()
        self._show_money()
        self.preview.show_section(self.deck, self.current_section())

    def _show_sections(self) -> None:
        # An empty section is dimmed, not renamed: the names keep the list narrow.
        empty = set(empty_sections(self.deck))
        flagged = {warning.section for warning in check_deck(self.deck)}
        for row, key in enumerate(KEYS):
            item = self.section_list.item(row)
            item.setText(SECTIONS[key] + (WARNING_MARK if key in flagged else ""))
            item.setData(Qt.ItemDataRole.ForegroundRole, DIM_TEXT if key in empty else None)
            item.setToolTip(OMITTED_TIP if key in empty else "")

    def _fit_section_list(self) -> None:
        # As wide as the longest name with its warning mark, so no name is cut off.
        metrics = self.section_list.fontMetrics()
        text = max((SECTIONS[key] + WARNING_MARK for key in KEYS), key=metrics.horizontalAdvance)
        margins = 2 * (self.section_list.frameWidth() + self.section_list.spacing()) + 24  # the item's padding
        scroll = self.section_list.verticalScrollBar().sizeHint().width()
        self.section_list.setMinimumWidth(metrics.horizontalAdvance(text) + margins + scroll)

    def _show_money(self) -> None:
        self.money_label.setText(money_line(self.deck))
        self.warnings_list.clear()
        warnings = check_deck(self.deck)
        for warning in warnings:
            item = QListWidgetItem(f"⚠ {SECTIONS[warning.section]}: {warning.message}")
            item.setData(SectionRole, warning.section)
            self.warnings_list.addItem(item)
        if not warnings:
            item = QListWidgetItem("Nothing a financier would question in the money.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setData(SectionRole, None)
            self.warnings_list.addItem(item)
        # As tall as its lines, up to three; more scroll.
        rows = min(self.warnings_list.count(), 3)
        line = self.warnings_list.fontMetrics().lineSpacing() + 6
        self.warnings_list.setFixedHeight(rows * line + 2 * self.warnings_list.frameWidth() + 4)

    # -- edits -------------------------------------------------------------------------

    def _on_form_edited(self, changes: dict) -> None:
        # On what is stored, not on what was last shown: the deck may have changed
        # without a signal (`previz deck --load` while the app is open).
        stored = read_deck(self.state.db)
        deck = replace(stored, **changes)
        if deck == stored:
            return
        self.status_label.clear()
        if not self.state.perform(ops.EditDeck(deck)):
            self._reload()  # refused: the form shows what is stored again

    def commit_typing(self) -> None:
        """Save what is typed but not yet saved, in every section."""
        for form in self.forms.values():
            form.commit_pending()

    def undo(self) -> None:
        """Save what is being typed, then undo the newest edit (that typing, if any)."""
        self.undo_actions.undo()

    def redo(self) -> None:
        """Save what is being typed, then redo (nothing, when that saved something)."""
        self.undo_actions.redo()

    def _on_deck_changed(self) -> None:
        if not self.isVisible():
            self._stale = True  # read again when shown; the project may be closing
            return
        self._reload()

    def _on_project_changed(self) -> None:
        title = self.state.project().title
        self.setWindowTitle(f"Pitch deck — {title}")
        self.forms["title"].title_edit.setPlaceholderText(title or "The project's title")
        self.preview.show_section(self.deck, self.current_section())  # an untitled deck prints the project's title

    def _on_error_reported(self, message: str) -> None:
        if message.startswith(ops.EditDeck.label) and self.isVisible():
            self.status_label.setText(message)

    def _pick_character_image(self, current: int | None) -> tuple[bool, int | None]:
        return pick_take(self.catalog, self.thumbnails, current, self, "Choose the character's picture")

    # -- window ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.preview.resume()
        self.catalog.resume()  # reads the pictures again if they changed while hidden
        if self._stale:
            self._stale = False
            self._reload()
        else:
            self.preview.show_section(self.deck, self.current_section())

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.catalog.pause()  # a hidden editor does not read the project after every change

    def closeEvent(self, event: QCloseEvent) -> None:
        self.commit_typing()  # what is typed but not committed is kept, as every other edit is
        self.preview.stop()
        super().closeEvent(event)

    def stop(self, timeout_ms: int) -> bool:
        """Start no more background work, cancel what runs and wait up to `timeout_ms`
        for it to end (the project is closing). True when nothing is left running."""
        deadline = time.monotonic() + timeout_ms / 1000
        self.catalog.stop()  # cancelled now; waited for after the preview
        previewing = self.preview.stop(timeout_ms)
        reading = self.catalog.stop(max(1, round((deadline - time.monotonic()) * 1000)))
        return previewing and reading
