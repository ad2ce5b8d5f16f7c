"""The Export menu's entries for one open project: boards, shot list, pitch deck, the
pitch deck's editor, and LED-wall plates."""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QProgressDialog, QWidget

from ..domain.deck import SECTIONS, format_money, format_share
from ..export.boards import export_boards
from ..export.deck import DeckExport, DeckReport, export_deck
from ..export.shotlist import ShotListExport, ShotListReport, export_shotlist
from .board_export import BoardExportDialog
from .deck_editor import DeckEditorDialog
from .export_dialog import counted, file_stem, started_here
from .export_runner import CLOSE_WAIT_MS, ExportFunction, ExportRunner
from .plate_dialog import PlateDialog, plate_export_function
from .services import Services
from .state import ProjectState
from .thumbnails import ThumbnailCache

SHOTLIST_FILTERS = {"Excel workbook (*.xlsx)": ".xlsx", "CSV, UTF-8 (*.csv)": ".csv"}
DECK_FILTERS = {"PowerPoint (*.pptx)": ".pptx", "PDF (*.pdf)": ".pdf"}
CANCELLED = "Export cancelled; nothing was written."
STATUS_MS = 10_000  # how long a status bar message stays


class ExportActions(QObject):
    """The export entries of one open project's menus: Export Boards…, Export Shot
    List…, Export Pitch Deck…, Edit Pitch Deck…, LED-wall Plate…. One runner does every
    export, one at a time; the board dialog shares it. Plates have a runner of their
    own: a plate takes minutes and needs none of the project's database. While an export runs, Export Shot List… and Export
    Pitch Deck… are disabled; Export Boards… stays, as the board dialog shows its own
    export's progress and says why it cannot start another. `close()` before the
    project closes."""

    def __init__(self, state: ProjectState, services: Services, window: QWidget, parent: QObject | None = None, *,
                 thumbnails: ThumbnailCache, boards: ExportFunction = export_boards,
                 shotlist: ExportFunction = export_shotlist, deck: ExportFunction = export_deck,
                 plate: ExportFunction | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.state, self.services, self.window, self.thumbnails = state, services, window, thumbnails
        self._shotlist, self._deck = shotlist, deck
        self.runner = ExportRunner(state.folder, boards, self)
        self.plate_runner = ExportRunner(state.folder, plate or plate_export_function(), self)
        self.board_dialog: BoardExportDialog | None = None
        self.deck_editor: DeckEditorDialog | None = None
        self.plate_dialog: PlateDialog | None = None
        self.progress: QProgressDialog | None = None
        self.message: QMessageBox | None = None  # the latest outcome shown
        self._request: ShotListExport | DeckExport | None = None  # the export started here
        self.boards_action = QAction("Export &Boards…", self)
        self.boards_action.setShortcut(QKeySequence.StandardKey.Print)  # the boards are what a crew prints
        self.shotlist_action = QAction("Export Shot &List…", self)
        self.deck_action = QAction("Export Pitch &Deck…", self)
        self.edit_deck_action = QAction("Edit Pitch Deck…", self)
        self.plate_action = QAction("LED-wall &Plate…", self)
        self.actions = [self.boards_action, self.shotlist_action, self.deck_action, self.edit_deck_action,
                        self.plate_action]
        self.boards_action.triggered.connect(self.show_board_dialog)
        self.shotlist_action.triggered.connect(self.ask_shotlist)
        self.deck_action.triggered.connect(self.ask_deck)
        self.edit_deck_action.triggered.connect(self.show_deck_editor)
        self.plate_action.triggered.connect(self.show_plate_dialog)
        self.runner.started.connect(self._on_running_changed)
        self.runner.ended.connect(self._on_running_changed)
        self.runner.progressed.connect(self._on_progressed)
        self.runner.succeeded.connect(self._on_succeeded)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)

    # -- dialogs -----------------------------------------------------------------------

    def show_board_dialog(self) -> BoardExportDialog:
        if self.board_dialog is None:
            self.board_dialog = BoardExportDialog(self.state, self.runner, self.window, pool=self.services.pool)
        self.board_dialog.show()
        self.board_dialog.raise_()
        return self.board_dialog

    def show_deck_editor(self) -> DeckEditorDialog:
        if self.deck_editor is None:
            self.deck_editor = DeckEditorDialog(self.state, self.window, thumbnails=self.thumbnails, pool=self.services.pool)
        self.deck_editor.show()
        self.deck_editor.raise_()
        self.deck_editor.activateWindow()
        return self.deck_editor

    def show_plate_dialog(self) -> PlateDialog:
        if self.plate_dialog is None:
            self.plate_dialog = PlateDialog(self.state, self.plate_runner, self.window, services=self.services,
                                            pool=self.services.pool)
        self.plate_dialog.show()
        self.plate_dialog.raise_()
        self.plate_dialog.activateWindow()
        return self.plate_dialog

    def ask_shotlist(self) -> bool:
        """Ask where to write the shot list, then export it; False when not started."""
        out = self._ask_path("Export shot list", "shotlist", SHOTLIST_FILTERS)
        return out is not None and self.export_shotlist(out)

    def ask_deck(self) -> bool:
        """Ask where to write the pitch deck, then export it; False when not started."""
        out = self._ask_path("Export pitch deck", "deck", DECK_FILTERS)
        return out is not None and self.export_deck(out)

    def _ask_path(self, title: str, what: str, filters: dict[str, str]) -> Path | None:
        stem = file_stem(self.state.project().title, "film")
        default = self.state.folder.exports_dir / f"{stem}_{what}{next(iter(filters.values()))}"
        chosen, chosen_filter = QFileDialog.getSaveFileName(self.window, title, str(default), ";;".join(filters))
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() not in filters.values():  # typed without one: the chosen type's
            path = path.with_name(path.name + filters.get(chosen_filter, next(iter(filters.values()))))
        return path

    # -- running -----------------------------------------------------------------------

    def export_shotlist(self, out: Path) -> bool:
        """Export the whole film's shot list to `out` (.csv or .xlsx) on the runner."""
        return self._start(ShotListExport(Path(out)), self._shotlist, f"Exporting the shot list to {Path(out).name}…")

    def export_deck(self, out: Path) -> bool:
        """Export the pitch deck to `out` (.pptx or .pdf) on the runner."""
        return self._start(DeckExport(Path(out)), self._deck, f"Exporting the pitch deck to {Path(out).name}…")

    def _start(self, request: ShotListExport | DeckExport, export: ExportFunction, text: str) -> bool:
        if self.runner.is_running():
            self._show("Export", "Another export is running; wait for it or cancel it first.", QMessageBox.Icon.Warning)
            return False
        if request.out.parent == self.state.folder.exports_dir:
            self.state.folder.exports_dir.mkdir(exist_ok=True)  # projects from before it existed
        self._request = request
        self.runner.start(request, export)
        self.progress = QProgressDialog(text, "Cancel", 0, 0, self.window)
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(500)  # quick exports never show it
        self.progress.canceled.connect(self.runner.cancel)
        return True

    def _mine(self) -> bool:
        return started_here(self.runner, self._request)

    def _on_running_changed(self) -> None:
        idle = not self.runner.is_running()
        for action in (self.shotlist_action, self.deck_action):
            action.setEnabled(idle)

    def _end_progress(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect(self.runner.cancel)  # reset() emits canceled
            self.progress.reset()
            self.progress.deleteLater()
            self.progress = None

    def _on_progressed(self, done: int, total: int) -> None:
        # After Cancel, progress still queued would show the dialog again.
        if self._mine() and self.progress is not None and not self.progress.wasCanceled():
            self.progress.setMaximum(max(total, 1))
            self.progress.setValue(done)

    def _on_succeeded(self, report: object) -> None:
        if not self._mine():
            return
        self._end_progress()
        if isinstance(report, DeckReport):
            self._show("Pitch deck exported", deck_summary(report),
                       QMessageBox.Icon.Warning if report.warnings else QMessageBox.Icon.Information)
        elif isinstance(report, ShotListReport):
            self._show("Shot list exported", f"Wrote {counted(report.shots, 'shot')} to {report.out}.",
                       QMessageBox.Icon.Information)

    def _on_failed(self, message: str) -> None:
        if not self._mine():
            return
        self._end_progress()
        what = "pitch deck" if isinstance(self._request, DeckExport) else "shot list"
        self._show("Export failed", f"The {what} was not exported: {message}", QMessageBox.Icon.Critical)

    def _on_cancelled(self) -> None:
        if not self._mine():
            return
        self._end_progress()
        # The user asked for it: a note in the window's status bar, not an error.
        if isinstance(self.window, QMainWindow):
            self.window.statusBar().showMessage(CANCELLED, STATUS_MS)

    def _show(self, title: str, text: str, icon: QMessageBox.Icon) -> None:
        """A window-modal message that does not block the caller (as MainWindow.show_error)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
        self.message = box

    def close(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Cancel a running export (and plate) and wait for it, stop the board preview,
        the deck editor's preview and picture reading, and the plate dialog's preview,
        reading and generating (waiting for them too), close the dialogs and remove the
        actions. False if something was still running when `timeout_ms` ran out."""
        finished = self.runner.cancel_and_wait(timeout_ms)
        finished = self.plate_runner.cancel_and_wait(timeout_ms) and finished
        self._end_progress()
        if self.board_dialog is not None:
            finished = self.board_dialog.stop_preview(timeout_ms) and finished
        if self.deck_editor is not None:
            finished = self.deck_editor.stop(timeout_ms) and finished
        if self.plate_dialog is not None:
            finished = self.plate_dialog.stop(timeout_ms) and finished
        for dialog in (self.board_dialog, self.deck_editor, self.plate_dialog):
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.close()
                dialog.deleteLater()
        self.board_dialog = self.deck_editor = self.plate_dialog = None
        self.deleteLater()  # its actions go with it, and leave every menu they were in
        return finished


def deck_summary(report: DeckReport) -> str:
    """What a producer checks after exporting the deck: where it went, how much of the
    budget is secured, what a financier would question and which sections were empty."""
    money, currency = report.money, report.currency
    lines = [f"Wrote {counted(report.pages, 'page')} to {report.out}.", ""]
    if money.secured_share is None:
        lines.append("No budget yet: the deck shows no secured share.")
    else:
        lines.append(f"Secured financing: {format_share(money.secured_share)} of the budget "
                     f"({format_money(money.secured_total, currency)} of {format_money(money.budget, currency)}).")
    if report.warnings:
        lines += ["", "A financier would question:"]
        lines += [f"• {SECTIONS.get(warning.section, warning.section)}: {warning.message}" for warning in report.warnings]
    if report.omitted:
        lines += ["", "Left out, being empty: " + ", ".join(SECTIONS.get(key, key) for key in report.omitted) + "."]
    return "\n".join(lines)
