"""Undo and Redo for a window of its own (the pitch deck editor, the plate dialog's wall
editor) over the project's one undo stack: the main window's Edit menu does not reach
a dialog that has the focus, so the dialog carries the same two actions."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QToolButton, QWidget

REDO_KEY = QKeySequence("Ctrl+Shift+Z")  # everywhere, beside the platform's own (Ctrl+Y on Windows)


class UndoActions(QObject):
    """`undo_action` (Ctrl+Z) and `redo_action` (Ctrl+Shift+Z) on `widget`'s window,
    enabled and named after the edit they would take back or do again ("Undo Save
    wall", in the text and tooltip; a button says "Undo"). `before()`, when given, runs
    first: a form saves what is being typed, so Undo takes that typing back first."""

    def __init__(self, stack: QUndoStack, widget: QWidget, before: Callable[[], None] | None = None) -> None:
        super().__init__(widget)
        self.stack, self._before = stack, before
        self.undo_action = QAction("Undo", widget)
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = QAction("Redo", widget)
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        self.redo_action.setShortcuts(redo_keys + ([] if REDO_KEY in redo_keys else [REDO_KEY]))
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setIconText(action.text())  # the buttons stay short; their tooltips name the edit
        widget.addActions([self.undo_action, self.redo_action])
        self.undo_action.triggered.connect(self.undo)
        self.redo_action.triggered.connect(self.redo)
        for signal in (stack.canUndoChanged, stack.canRedoChanged, stack.undoTextChanged, stack.redoTextChanged):
            signal.connect(self._on_stack_changed)
        self._on_stack_changed()

    def undo(self) -> None:
        """Run `before`, then undo the newest edit."""
        if self._before is not None:
            self._before()
        self.stack.undo()

    def redo(self) -> None:
        """Run `before`, then redo (nothing, when `before` saved a new edit)."""
        if self._before is not None:
            self._before()
        self.stack.redo()

    def buttons(self) -> list[QToolButton]:
        """A tool button for each action, for the window's layout."""
        made = []
        for action in (self.undo_action, self.redo_action):
            button = QToolButton()
            button.setDefaultAction(action)
            made.append(button)
        return made

    def _on_stack_changed(self, *_args) -> None:
        self.undo_action.setEnabled(self.stack.canUndo())
        self.undo_action.setText(f"Undo {self.stack.undoText()}".strip())
        self.undo_action.setToolTip(self.undo_action.text())
        self.redo_action.setEnabled(self.stack.canRedo())
        self.redo_action.setText(f"Redo {self.stack.redoText()}".strip())
        self.redo_action.setToolTip(self.redo_action.text())
