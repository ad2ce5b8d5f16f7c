"""One form per section of the pitch deck. A form shows its part of a Deck (`load`)
and says which fields a committed edit changed (`edited(dict)`); the editor turns that
into one undoable store edit. A reload never overwrites a field being typed in."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from ..domain.deck import (
    BudgetLine,
    Comparable,
    Deck,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
    format_money,
    format_share,
    money_summary,
)
from .deck_columns import (
    BUDGET_COLUMNS,
    CHARACTER_COLUMNS,
    COMPARABLE_COLUMNS,
    FINANCING_COLUMNS,
    SCHEDULE_COLUMNS,
    TEAM_COLUMNS,
    Column,
    format_amount,
    parse_amount,
)
from .deck_images import CatalogState, ImagePicker
from .deck_tables import EntryTable
from .export_dialog import ERROR_COLOR, ERROR_STYLE
from .thumbnails import ThumbnailCache

INVALID_STYLE = f"border: 1px solid {ERROR_COLOR}; background: #4a2626;"


class CommitTextEdit(QPlainTextEdit):
    """Plain text that commits when focus leaves it (a QPlainTextEdit has no
    editingFinished of its own): `editing_finished` follows a change, once."""

    editing_finished = Signal()

    def set_text(self, text: str) -> None:
        """Show `text` unless the user is typing here."""
        if self.hasFocus() and self.document().isModified():
            return
        if self.toPlainText() != text:
            self.setPlainText(text)
        self.document().setModified(False)

    def commit(self) -> None:
        if self.document().isModified():
            self.document().setModified(False)
            self.editing_finished.emit()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.commit()


def set_line(edit: QLineEdit, text: str) -> None:
    """Show `text` in `edit` unless the user is typing there."""
    if edit.hasFocus() and edit.isModified():
        return
    if edit.text() != text:
        edit.setText(text)  # clears isModified
    edit.setModified(False)


def commit_line(edit: QLineEdit, commit: Callable[[str], None]) -> None:
    """Call `commit(text)` when `edit` finishes an edit that changed something."""
    def finished() -> None:
        if edit.isModified():
            edit.setModified(False)
            commit(edit.text())

    edit.editingFinished.connect(finished)


class SectionForm(QWidget):
    """The base of the section forms."""

    edited = Signal(dict)  # Deck field -> new value

    def __init__(self, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        if hint:
            label = QLabel(hint)
            label.setWordWrap(True)
            label.setStyleSheet("color: #969696;")
            self.layout_.addWidget(label)

    def load(self, deck: Deck) -> None:
        raise NotImplementedError

    def commit_pending(self) -> None:
        """Commit what is typed but not yet committed (the dialog closes, or undoes)."""
        for table in self.findChildren(EntryTable):
            table.commit_pending()
        for edit in self.findChildren(CommitTextEdit):
            edit.commit()
        for edit in self.findChildren(QLineEdit):
            if edit.isModified():  # (a table's closed cell editor has nobody listening)
                edit.editingFinished.emit()


class TextForm(SectionForm):
    """One text of the deck: the logline, synopsis, a statement, the contact."""

    def __init__(self, field: str, hint: str, lines: int = 0, placeholder: str = "", parent=None) -> None:
        super().__init__(hint, parent)
        self.field = field
        self.text_edit = CommitTextEdit()
        self.text_edit.setPlaceholderText(placeholder)
        if lines:
            self.text_edit.setFixedHeight(self.text_edit.fontMetrics().lineSpacing() * lines + 16)
        self.layout_.addWidget(self.text_edit, 1)
        if lines:
            self.layout_.addStretch(1)
        self.text_edit.editing_finished.connect(lambda: self.edited.emit({field: self.text_edit.toPlainText()}))

    def load(self, deck: Deck) -> None:
        self.text_edit.set_text(getattr(deck, self.field))


class TitleForm(SectionForm):
    """The title (the project's by default) and the key art."""

    def __init__(self, project_title: str, catalog: CatalogState, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__("The deck opens on its title over the key art.", parent)
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText(project_title or "The project's title")
        self.key_art = ImagePicker(catalog, thumbnails, multiple=False)
        form = QFormLayout()
        form.addRow("Title", self.title_edit)
        self.layout_.addLayout(form)
        self.layout_.addWidget(QLabel("Key art"))
        self.layout_.addWidget(self.key_art, 1)
        commit_line(self.title_edit, lambda text: self.edited.emit({"title": text.strip()}))
        self.key_art.chosen_changed.connect(
            lambda chosen: self.edited.emit({"key_art_take_id": chosen[0] if chosen else None}))

    def load(self, deck: Deck) -> None:
        set_line(self.title_edit, deck.title)
        self.key_art.set_chosen(() if deck.key_art_take_id is None else (deck.key_art_take_id,))


class ToneForm(SectionForm):
    """Words for the tone and look, and the mood board beside them."""

    def __init__(self, catalog: CatalogState, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__("The tone and look: a few lines, and the frames that show it.", parent)
        self.tone_edit = CommitTextEdit()
        self.tone_edit.setPlaceholderText("Weathered, intimate, lit by a single turning lamp…")
        self.tone_edit.setFixedHeight(self.tone_edit.fontMetrics().lineSpacing() * 4 + 16)
        self.mood = ImagePicker(catalog, thumbnails, multiple=True)
        self.layout_.addWidget(self.tone_edit)
        self.layout_.addWidget(QLabel("Mood board"))
        self.layout_.addWidget(self.mood, 1)
        self.tone_edit.editing_finished.connect(lambda: self.edited.emit({"tone": self.tone_edit.toPlainText()}))
        self.mood.chosen_changed.connect(lambda chosen: self.edited.emit({"mood_take_ids": tuple(chosen)}))

    def load(self, deck: Deck) -> None:
        self.tone_edit.set_text(deck.tone)
        self.mood.set_chosen(deck.mood_take_ids)


class SequencesForm(SectionForm):
    """Key sequences: shots, shown by their hero frames, in the order chosen."""

    def __init__(self, catalog: CatalogState, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__("The shots that sell the film, shown by their hero frames.", parent)
        self.shots = ImagePicker(catalog, thumbnails, shots=True, multiple=True)
        self.layout_.addWidget(self.shots, 1)
        self.shots.chosen_changed.connect(lambda chosen: self.edited.emit({"sequence_shot_ids": tuple(chosen)}))

    def load(self, deck: Deck) -> None:
        self.shots.set_chosen(deck.sequence_shot_ids)


class TableForm(SectionForm):
    """A list of the deck as a table."""

    def __init__(self, field: str, entry_type: type, columns: tuple[Column, ...], hint: str,
                 pick_image=None, parent=None) -> None:
        super().__init__(hint, parent)
        self.field = field
        self.table = EntryTable(entry_type, columns, pick_image)
        self.layout_.addWidget(self.table, 1)
        self.table.entries_edited.connect(lambda entries: self.edited.emit({field: tuple(entries)}))

    def load(self, deck: Deck) -> None:
        self.table.load(getattr(deck, self.field))


class BudgetForm(SectionForm):
    """The budget top sheet: currency, the stated total, and the lines under it."""

    def __init__(self, parent=None) -> None:
        super().__init__("Whole amounts in the deck's currency. Leave the total empty to use the lines' sum.", parent)
        self.currency_edit = QLineEdit()
        self.currency_edit.setMaxLength(8)
        self.currency_edit.setFixedWidth(90)
        self.total_edit = QLineEdit()
        self.total_edit.setPlaceholderText("the lines' sum")
        self.total_error = QLabel()
        self.total_error.setStyleSheet(ERROR_STYLE)
        self.total_error.setWordWrap(True)
        self.total_error.hide()
        self.lines_total = QLabel()
        self._loaded_total: int | None = None
        self.table = EntryTable(BudgetLine, BUDGET_COLUMNS)
        form = QFormLayout()
        form.addRow("Currency", self.currency_edit)
        form.addRow("Total", self.total_edit)
        form.addRow("", self.total_error)
        form.addRow("Lines add up to", self.lines_total)
        self.layout_.addLayout(form)
        self.layout_.addWidget(self.table, 1)
        commit_line(self.currency_edit, lambda text: self.edited.emit({"currency": text.strip().upper() or "USD"}))
        commit_line(self.total_edit, self._on_total_committed)
        self.table.entries_edited.connect(lambda entries: self.edited.emit({"budget_lines": tuple(entries)}))

    def _on_total_committed(self, text: str) -> None:
        try:
            total = parse_amount(text, required=False)
        except ValueError as exc:
            self.total_error.setText(f"{exc}. Not saved.")
            self.total_error.show()
            self.total_edit.setStyleSheet(INVALID_STYLE)
            return
        self._clear_total_error()
        self.total_edit.setText(format_amount(total))
        self.edited.emit({"budget_total": total})

    def _clear_total_error(self) -> None:
        self.total_error.hide()
        self.total_edit.setStyleSheet("")

    def load(self, deck: Deck) -> None:
        set_line(self.currency_edit, deck.currency)
        # Bad input stays on screen (marked) until it is fixed, or the total changes underneath it (undo).
        if self.total_error.isHidden() or deck.budget_total != self._loaded_total:
            self._clear_total_error()
            set_line(self.total_edit, format_amount(deck.budget_total))
        self._loaded_total = deck.budget_total
        self.lines_total.setText(format_money(money_summary(deck).lines_total, deck.currency))
        self.table.load(deck.budget_lines)


def money_line(deck: Deck) -> str:
    """"Budget USD 1,000,000 · financing USD 900,000 · secured USD 450,000 (45% of the budget)"."""
    money = money_summary(deck)
    share = money.secured_share
    parts = [f"Budget {format_money(money.budget, deck.currency)}",
             f"financing {format_money(money.financing_total, deck.currency)}",
             f"secured {format_money(money.secured_total, deck.currency)}"
             + (f" ({format_share(share)} of the budget)" if share is not None else "")]
    return " · ".join(parts)


def make_forms(project_title: str, catalog: CatalogState, thumbnails: ThumbnailCache,
               pick_image: Callable[[int | None], tuple[bool, int | None]]) -> dict[str, SectionForm]:
    """A form for every SECTIONS key."""
    forms = {
        "title": TitleForm(project_title, catalog, thumbnails),
        "logline": TextForm("logline", "The film in one or two sentences: who wants what, and what stands in the way.",
                            lines=4),
        "synopsis": TextForm("synopsis", "The story in a page; blank lines start new paragraphs."),
        "director_statement": TextForm("director_statement", "Why this film, why now, and how it will look and feel."),
        "producer_statement": TextForm("producer_statement", "The audience, the market, and why this team."),
        "tone": ToneForm(catalog, thumbnails),
        "characters": TableForm("characters", DeckCharacter, CHARACTER_COLUMNS,
                                "The leads, who plays them (attached or wished for), and a picture of each "
                                "(double-click Image).", pick_image),
        "sequences": SequencesForm(catalog, thumbnails),
        "comparables": TableForm("comparables", Comparable, COMPARABLE_COLUMNS,
                                 "Films like this one, with figures a financier can check: say where they "
                                 "come from and when you read them."),
        "budget": BudgetForm(),
        "financing": TableForm("financing", FinancingSource, FINANCING_COLUMNS,
                               "Each source with its amount; tick the ones that are secured (signed)."),
        "schedule": TableForm("schedule", ScheduleItem, SCHEDULE_COLUMNS,
                              "Development, prep, shoot, post, delivery: when each starts and ends."),
        "team": TableForm("team", TeamMember, TEAM_COLUMNS, "The key creatives and producers."),
        "contact": TextForm("contact", "Who to call: names, company, email, phone.", lines=6),
    }
    characters = forms["characters"].table
    characters.image_label = lambda take_id: tile.label if (tile := catalog.tile(take_id)) else f"take {take_id}"
    catalog.catalog_changed.connect(characters.refresh_images)
    return forms
