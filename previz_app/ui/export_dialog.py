"""What the export dialogs (animatic, boards) have in common: where to write, in which
format, and the export's progress, cancel and outcome on an `ExportRunner`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .export_runner import ExportRunner
from .state import ProjectState

ERROR_COLOR = "#d04040"  # one colour for what went wrong, in every export and deck window
ERROR_STYLE = f"color: {ERROR_COLOR};"


class ExportDialog(QDialog):
    """The base of a dialog that exports `what` ("animatic", "boards") in one of `formats`
    ((text, suffix) pairs; "" for a folder) on `runner`. It holds the output field, the
    format, Browse, the progress bar, the message and the Export / Cancel / Close buttons,
    and answers the runner's signals. A subclass adds its options, disables `inputs`
    while an export runs, lays itself out with `_lay_out`, calls `_on_running_changed()`
    once built, and gives `request()`, `_report_text()` and `_browse_labels()`. Closing
    the dialog while its export runs leaves the export running; the dialog comes back
    when it ends."""

    def __init__(self, state: ProjectState, runner: ExportRunner, parent: QWidget | None, *, what: str,
                 formats: tuple[tuple[str, str], ...]) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {what}")
        self.state, self.runner, self.what = state, runner, what
        self._suffixes = tuple(suffix for _text, suffix in formats if suffix)  # replaced by the chosen one's
        self._request: Any = None  # the export this dialog started
        self._options_error = ""  # why the options cannot be exported; "" when they can
        self.inputs: tuple[QWidget, ...] = ()  # disabled while an export runs

        default = f"{file_stem(state.project().title, what)}_{what}{formats[0][1]}"
        self.path_edit = QLineEdit(str(state.folder.exports_dir / default))
        self.browse_button = QPushButton("Browse…")
        self.format_combo = combo_box(formats)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel export")
        self.close_button = QPushButton("Close")

        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(runner.cancel)
        self.close_button.clicked.connect(self.reject)
        runner.started.connect(self._on_running_changed)
        runner.ended.connect(self._on_running_changed)
        runner.progressed.connect(self._on_progressed)
        runner.succeeded.connect(self._on_succeeded)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)

    def _output_row(self) -> QHBoxLayout:
        """The output field with its Browse button, for the subclass's form."""
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        return row

    def _lay_out(self, options: QLayout, stretch: int = 0) -> None:
        """Lay the dialog out: `options` on top, then the progress, the message and the buttons."""
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(options, stretch)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)

    # -- the request -------------------------------------------------------------------

    def output_path(self) -> Path:
        """The output as typed, with the chosen format's suffix; relative to the project's
        exports folder. Raises ValueError when nothing is typed."""
        text = self.path_edit.text().strip()
        if not text:
            raise ValueError(f"Choose where to write the {self.what}")
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.state.folder.exports_dir / path
        if path.suffix.lower() in self._suffixes:
            path = path.with_suffix("")
        return path.with_name(path.name + self.format_combo.currentData())

    def request(self) -> Any:
        """The export the dialog describes, its `out` the `output_path()`. Raises
        ValueError, in words for the user, when it cannot be exported."""
        raise NotImplementedError

    def _browse_labels(self, suffix: str) -> tuple[str, str]:
        """The save dialog's caption and file filter for the format with `suffix`."""
        raise NotImplementedError

    def _on_format_changed(self, _index: int) -> None:
        if self.path_edit.text().strip():
            self.path_edit.setText(str(self.output_path()))

    def _on_browse_clicked(self) -> None:
        current = self.path_edit.text().strip() or str(self.state.folder.exports_dir)
        caption, name_filter = self._browse_labels(self.format_combo.currentData())
        chosen, _ = QFileDialog.getSaveFileName(self, caption, current, name_filter)
        if chosen:
            self.path_edit.setText(chosen)
            self._on_format_changed(self.format_combo.currentIndex())

    # -- running -----------------------------------------------------------------------

    def start_export(self) -> bool:
        """Start the export the dialog describes on the runner; False when it did not
        start (the dialog says why)."""
        try:
            request = self.request()
        except ValueError as exc:
            self._show_message(str(exc), error=True)
            return False
        if not self._before_export():
            return False
        if Path(request.out).parent == self.state.folder.exports_dir:
            self.state.folder.exports_dir.mkdir(exist_ok=True)  # projects from before it existed
        self._show_message(f"Exporting {Path(request.out).name}…")
        self.progress_bar.setRange(0, 0)  # busy until the export's first step says how many
        self._request = request
        return self.runner.start(request)

    def _before_export(self) -> bool:
        """Last steps once the request is built; False (having said why) stops the export."""
        return True

    def _report_text(self, report: Any) -> str:
        """What a finished export wrote, for the message."""
        raise NotImplementedError

    def _mine(self) -> bool:
        """Whether the runner's signals are about this dialog's export. A dialog on a
        runner that other exports share answers only to the export it started."""
        return True

    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        self.export_button.setEnabled(not running and not self._options_error)
        self.cancel_button.setEnabled(running and self._mine())

    def _on_running_changed(self) -> None:
        running = self.runner.is_running()
        for widget in self.inputs:
            widget.setEnabled(not running)
        self._update_buttons()
        if not running and self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)

    def _on_progressed(self, done: int, total: int) -> None:
        if self._mine():
            self.progress_bar.setRange(0, max(total, 1))
            self.progress_bar.setValue(done)

    def _on_succeeded(self, report: Any) -> None:
        if self._mine():
            self._show_message(self._report_text(report))
            self._come_back()

    def _on_failed(self, message: str) -> None:
        if self._mine():
            self.progress_bar.setValue(0)
            self._show_message(f"Export failed: {message}", error=True)
            self._come_back()

    def _on_cancelled(self) -> None:
        if self._mine():
            self.progress_bar.setValue(0)
            self._show_message("Export cancelled; nothing was written.")

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message_label.setStyleSheet(ERROR_STYLE if error else "")
        self.message_label.setText(text)

    def _come_back(self) -> None:
        if not self.isVisible():
            self.show()
        self.raise_()


def started_here(runner: ExportRunner, request: Any) -> bool:
    """Whether the runner's latest start was `request`: a view sharing the runner
    answers only to the signals of the export it started."""
    return request is not None and runner.request is request


def counted(number: int, noun: str) -> str:
    """"1 page", "3 pages": `number` with `noun`, plural unless it is one."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def combo_box(items: tuple[tuple[str, Any], ...]) -> QComboBox:
    """A combo box of (text, data) items."""
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


def file_stem(title: str, fallback: str) -> str:
    """`title` as a file name's stem (`fallback` when nothing of it is left)."""
    return re.sub(r"[^\w.-]+", "_", title.strip()).strip("._") or fallback
