"""A label that says what just happened in a panel (read, saved, refused), in the
error colour when it went wrong."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from .export_dialog import ERROR_STYLE


class MessageLabel(QLabel):
    """Plain, wrapped, selectable text set by `say`; with `hide_empty` it takes no room
    while it has nothing to say."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, hide_empty: bool = False) -> None:
        super().__init__(parent)
        self._hide_empty = hide_empty
        self.error = False
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.say(text)

    def say(self, text: str, error: bool = False) -> None:
        """Show `text`, in the error colour when `error`."""
        self.error = error
        self.setStyleSheet(ERROR_STYLE if error else "")
        self.setText(text)
        if self._hide_empty:
            self.setVisible(bool(text))
