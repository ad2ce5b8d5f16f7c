"""The inspector: every field of the current shot, the prompt it will produce, its
takes, and the buttons that ask for frames. Each committed edit is one undo step."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QThreadPool, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
    QScrollArea, QSpinBox, QStackedWidget, QVBoxLayout, QWidget,
)

from ..domain.model import MAX_LENS_MM, MAX_SHOT_SECONDS, MAX_TRANSITION_SECONDS, MIN_LENS_MM, SHOT_FIELDS, Shot
from ..domain.vocabulary import MOVE_DIRECTIONS, Angle, Direction, Movement, ShotSize, TransitionIn, TransitionOut
from ..engine.frames import ShotContext, shot_context
from ..engine.prompts import build_prompt
from ..store import operations as ops
from .sound import SoundWidget
from .state import ProjectState
from .takes_view import TakesView, request_of
from .thumbnails import ThumbnailCache

SIZE_NAMES = {
    ShotSize.ecu: "Extreme close-up", ShotSize.cu: "Close-up", ShotSize.mcu: "Medium close-up",
    ShotSize.ms: "Medium shot", ShotSize.mws: "Medium wide shot", ShotSize.ws: "Wide shot",
    ShotSize.ews: "Extreme wide shot", ShotSize.ots: "Over the shoulder", ShotSize.pov: "Point of view",
    ShotSize.insert: "Insert", ShotSize.two_shot: "Two shot",
}
ANGLE_NAMES = {
    Angle.eye: "Eye level", Angle.high: "High angle", Angle.low: "Low angle",
    Angle.bird: "Bird's-eye", Angle.worm: "Worm's-eye", Angle.dutch: "Dutch angle",
}
TRANSITION_NAMES = {
    TransitionIn.cut: "Cut", TransitionIn.dissolve: "Dissolve", TransitionIn.fade_from_black: "Fade from black",
    TransitionOut.fade_to_black: "Fade to black",
}
# The shortest transition: one frame at 25 fps.
MIN_TRANSITION_SECONDS = 0.04
LABELS = {
    "size": "Size", "angle": "Angle", "movement": "Movement", "direction": "Direction", "lens_mm": "Lens",
    "duration": "Duration", "characters": "Characters", "action": "Action", "dialogue": "Dialogue",
    "notes": "Notes", "prompt_override": "Prompt override", "negative_prompt": "Negative prompt",
    "seed": "Seed", "locked_number": "Locked number", "transition_in": "Transition in",
    "transition_out": "Transition out", "transition_seconds": "Transition length",
}
TEXT_FIELDS = ("action", "dialogue", "notes", "prompt_override", "negative_prompt")
CHOICES = {"size": ShotSize, "angle": Angle, "movement": Movement, "transition_in": TransitionIn, "transition_out": TransitionOut}
# The shot's sound has a widget of its own; every other field has one editor in the form.
SOUND_FIELDS = ("audio_hash", "audio_level_db")
FORM_FIELDS = tuple(field for field in SHOT_FIELDS if field not in SOUND_FIELDS)


def choice_text(member: Any) -> str:
    """How a vocabulary choice reads in a menu: "Close-up (CU)", "Dolly in (dolly_in)"."""
    if member == Direction.none:
        return "None"
    if isinstance(member, (TransitionIn, TransitionOut)):
        return TRANSITION_NAMES[member]
    names = {**SIZE_NAMES, **ANGLE_NAMES}
    name = names.get(member, member.value.replace("_", " ").capitalize())
    return f"{name} ({member.value})"


class CommitTextEdit(QPlainTextEdit):
    """A plain-text editor that asks for its text to be committed when it loses focus,
    so one burst of typing becomes one edit."""

    commit_requested = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.commit_requested.emit()


class InspectorView(QWidget):
    """The current shot's fields, prompt, takes and generation buttons."""

    generate_requested = Signal(list, int)  # shot ids, number of variations
    refine_requested = Signal(int)  # take id
    regenerate_requested = Signal(int)  # take id
    sketch_requested = Signal(int, int)  # shot id, take id (-1: a blank sketch)

    def __init__(
        self, state: ProjectState, thumbnails: ThumbnailCache, parent: QWidget | None = None,
        *, pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self._shot_id: int | None = None
        self.editors: dict[str, QWidget] = {}

        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.takes_view = TakesView(state, thumbnails, pool=pool)
        self.generate_button = QPushButton("Generate")
        self.variations_button = QPushButton("Variations")
        self.variations_spin = QSpinBox()
        self.variations_spin.setRange(1, 16)
        self.variations_spin.setValue(4)
        self.refine_button = QPushButton("Refine")
        self.refine_button.setToolTip("A new frame from the selected take (img2img)")
        self.regenerate_button = QPushButton("Regenerate (same seed)")
        self.sketch_button = QPushButton("Sketch…")
        self.prompt_text = QPlainTextEdit()
        self.prompt_text.setReadOnly(True)
        self.prompt_text.setMaximumHeight(120)
        self.sound = SoundWidget(state, "audio_hash", "audio_level_db", pool=pool)

        self.pages = QStackedWidget()
        self.empty_page = QLabel("Select a shot")
        self.empty_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.empty_page)
        self.pages.addWidget(self._build_shot_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)

        self.takes_view.selected_take_changed.connect(self._on_selected_take_changed)
        self.generate_button.clicked.connect(self._on_generate_clicked)
        self.variations_button.clicked.connect(self._on_variations_clicked)
        self.refine_button.clicked.connect(self._on_refine_clicked)
        self.regenerate_button.clicked.connect(self._on_regenerate_clicked)
        self.sketch_button.clicked.connect(self._on_sketch_clicked)
        state.current_shot_changed.connect(self._on_current_shot_changed)
        state.shots_changed.connect(self._on_shots_changed)
        # Renumbering (a locked number) and scene or project edits change the header and prompt.
        for signal in (state.board_changed, state.scenes_changed, state.project_changed):
            signal.connect(self._on_context_changed)
        self._on_current_shot_changed(-1 if state.current_shot_id is None else state.current_shot_id)

    # -- building ----------------------------------------------------------------------

    def _build_shot_page(self) -> QWidget:
        form = QFormLayout()
        for field in FORM_FIELDS:
            editor = self._make_editor(field)
            self.editors[field] = editor
            form.addRow(LABELS.get(field, field), editor)
        form.addRow("Sound", self.sound)
        generation = QHBoxLayout()
        generation.addWidget(self.generate_button)
        generation.addWidget(self.variations_button)
        generation.addWidget(self.variations_spin)
        generation.addStretch(1)
        from_take = QHBoxLayout()
        for button in (self.refine_button, self.regenerate_button, self.sketch_button):
            from_take.addWidget(button)
        from_take.addStretch(1)

        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.header)
        column.addWidget(self.takes_view)
        column.addLayout(generation)
        column.addLayout(from_take)
        column.addLayout(form)
        column.addWidget(QLabel("Prompt"))
        column.addWidget(self.prompt_text)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        return scroll

    def _make_editor(self, field: str) -> QWidget:
        commit = lambda *_args: self._commit(field)  # noqa: E731 - one handler per field
        if field in CHOICES or field == "direction":
            editor = QComboBox()
            for member in CHOICES.get(field, ()):
                editor.addItem(choice_text(member), member.value)
            editor.activated.connect(commit)
        elif field in ("lens_mm", "duration", "transition_seconds"):
            editor = QDoubleSpinBox()
            if field == "lens_mm":
                editor.setRange(MIN_LENS_MM, MAX_LENS_MM)
                editor.setDecimals(1)
                editor.setSuffix(" mm")
            elif field == "transition_seconds":
                editor.setRange(MIN_TRANSITION_SECONDS, MAX_TRANSITION_SECONDS)
                editor.setDecimals(2)
                editor.setSingleStep(0.25)
                editor.setSuffix(" s")
            else:
                editor.setRange(0.1, MAX_SHOT_SECONDS)
                editor.setDecimals(2)
                editor.setSingleStep(0.1)
                editor.setSuffix(" s")
            editor.setKeyboardTracking(False)
            editor.editingFinished.connect(commit)
        elif field in TEXT_FIELDS:
            editor = CommitTextEdit()
            editor.setTabChangesFocus(True)
            editor.setMaximumHeight(72)
            editor.commit_requested.connect(commit)
        else:
            editor = QLineEdit()
            editor.setPlaceholderText({"seed": "automatic", "locked_number": "automatic", "characters": "ELLA, TOM"}[field])
            editor.editingFinished.connect(commit)
        return editor

    # -- showing the shot --------------------------------------------------------------

    def shot_id(self) -> int | None:
        return self._shot_id

    def _on_current_shot_changed(self, shot_id: int) -> None:
        self._commit_pending()
        self._shot_id = None if shot_id < 0 else shot_id
        self._refresh(force=True)

    def _on_shots_changed(self, shot_ids: list) -> None:
        if self._shot_id in shot_ids:
            self._refresh()

    def _on_context_changed(self) -> None:
        if self._shot_id is not None:
            self._refresh()

    def _refresh(self, force: bool = False) -> None:
        """Show the stored shot. Unless `force`d, text the user is still typing is kept
        (a frame finishing in the background must not wipe it)."""
        context = self._context()
        shown = context is not None
        self.pages.setCurrentIndex(1 if shown else 0)
        for editor in self.editors.values():
            editor.setEnabled(shown)
        for button in (self.generate_button, self.variations_button, self.sketch_button):
            button.setEnabled(shown)
        self._on_selected_take_changed()
        if context is None:
            self.header.setText("")
            self.prompt_text.setPlainText("")
            self.sound.show_sound(None, None, 0.0)
            return
        shot = context.shot
        self.header.setText(f"Shot {shot.number} — {context.scene.heading}")
        # A length only matters where the shot has a transition to time.
        timed = shot.transition_in != TransitionIn.cut or shot.transition_out != TransitionOut.cut
        self.editors["transition_seconds"].setEnabled(timed)
        self.sound.show_sound(partial(ops.EditShot, shot.id), shot.audio_hash, shot.audio_level_db)
        for field in FORM_FIELDS:
            editor = self.editors[field]
            typing = isinstance(editor, (QLineEdit, QPlainTextEdit)) and _is_modified(editor)
            if force or not typing:
                self._show_value(field, context.shot)
        prompt, negative = build_prompt(context.project, context.scene, context.shot, context.characters, context.location)
        self.prompt_text.setPlainText(f"{prompt}\n\nNegative: {negative}")

    def _context(self) -> ShotContext | None:
        if self._shot_id is None:
            return None
        try:
            return shot_context(self.state.folder, self._shot_id)
        except ValueError:  # deleted; the state clears the current shot right after
            return None

    def _show_value(self, field: str, shot: Shot) -> None:
        editor = self.editors[field]
        value = getattr(shot, field)
        with QSignalBlocker(editor):
            if field == "direction":
                editor.clear()
                for member in Direction:
                    if member == Direction.none or member in MOVE_DIRECTIONS[shot.movement]:
                        editor.addItem(choice_text(member), member.value)
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(editor.findData(value.value))
            elif isinstance(editor, QDoubleSpinBox):
                editor.setValue(value)
            elif isinstance(editor, QLineEdit):
                editor.setText(", ".join(value) if field == "characters" else ("" if value is None else str(value)))
            else:
                editor.setPlainText(value)
                editor.document().setModified(False)

    # -- editing -----------------------------------------------------------------------

    def _editor_value(self, field: str) -> Any:
        editor = self.editors[field]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QDoubleSpinBox):
            return editor.value()
        if isinstance(editor, QLineEdit):
            return editor.text()
        return editor.toPlainText()

    def _commit(self, field: str, shot_id: int | None = None) -> None:
        """Turn the editor's value into one edit of the shot, if it changed it."""
        shot_id = self._shot_id if shot_id is None else shot_id
        if shot_id is None:
            return
        try:
            shot = self.state.shot(shot_id)
        except ValueError:
            return
        showing = shot_id == self._shot_id
        editor = self.editors[field]
        if isinstance(editor, (QLineEdit, QPlainTextEdit)):
            _set_unmodified(editor)  # committed now: the refresh this edit causes may replace it
        try:
            operation = ops.EditShot(shot_id, field, self._editor_value(field))
        except ValueError as exc:
            self.state.report_error(str(exc))
            if showing:
                self._show_value(field, shot)
            return
        if _same(editor, operation.value, getattr(shot, field)):
            if showing:
                self._show_value(field, shot)  # shows the stored spelling ("ella" -> "ELLA")
            return
        if not self.state.perform(operation) and showing:
            self._show_value(field, self.state.shot(shot_id))

    def _commit_pending(self) -> None:
        """Keep typing not yet committed before another shot replaces it."""
        if self._shot_id is None:
            return
        for field in FORM_FIELDS:
            editor = self.editors[field]
            if isinstance(editor, (QLineEdit, QPlainTextEdit)) and _is_modified(editor):
                self._commit(field, self._shot_id)

    def flush(self) -> bool:
        """Wait for sounds still being imported (the project is closing). False if some
        did not finish in time."""
        return self.sound.flush()

    # -- buttons -----------------------------------------------------------------------

    def _on_selected_take_changed(self, *_args) -> None:
        take = self.takes_view.selected_take() if self._shot_id is not None else None
        self.refine_button.setEnabled(take is not None)
        self.regenerate_button.setEnabled(take is not None and request_of(take) is not None)

    def _on_generate_clicked(self) -> None:
        if self._shot_id is not None:
            self.generate_requested.emit([self._shot_id], 1)

    def _on_variations_clicked(self) -> None:
        if self._shot_id is not None:
            self.generate_requested.emit([self._shot_id], self.variations_spin.value())

    def _on_refine_clicked(self) -> None:
        take_id = self.takes_view.selected_take_id()
        if take_id is not None:
            self.refine_requested.emit(take_id)

    def _on_regenerate_clicked(self) -> None:
        take = self.takes_view.selected_take()
        if take is not None and request_of(take) is not None:
            self.regenerate_requested.emit(take.id)

    def _on_sketch_clicked(self) -> None:
        if self._shot_id is not None:
            take_id = self.takes_view.selected_take_id()
            self.sketch_requested.emit(self._shot_id, -1 if take_id is None else take_id)


def _is_modified(editor: QLineEdit | QPlainTextEdit) -> bool:
    return editor.isModified() if isinstance(editor, QLineEdit) else editor.document().isModified()


def _set_unmodified(editor: QLineEdit | QPlainTextEdit) -> None:
    if isinstance(editor, QLineEdit):
        editor.setModified(False)
    else:
        editor.document().setModified(False)


def _same(editor: QWidget, new: Any, old: Any) -> bool:
    if isinstance(editor, QDoubleSpinBox):
        # The box shows the stored value rounded; an untouched box must not be an edit.
        return abs(float(new) - float(old)) < 0.5 * 10 ** -editor.decimals()
    return new == old
