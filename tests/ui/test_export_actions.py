"""The Export menu: boards, shot list and pitch deck run on one runner with progress and
an outcome shown in a message; the deck's financier checks are shown after its export;
the menu follows the open project; closing waits for a running export."""

import csv
import threading
import time
from pathlib import Path

import openpyxl
import pytest
import shiboken6
from pptx import Presentation
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QPushButton

from previz_app.domain.deck import BudgetLine, Comparable, Deck, FinancingSource, check_deck, money_summary
from previz_app.engine.base import Cancelled
from previz_app.export.boards import BoardExport
from previz_app.export.deck import DeckReport
from previz_app.export.files import ExportError
from previz_app.export.shotlist import ShotListReport
from previz_app.store import shots
from previz_app.store.deck import write_deck
from previz_app.ui import deck_images, deck_preview
from previz_app.ui.board_export import OTHER_EXPORT_RUNNING, BoardExportDialog
from previz_app.ui.deck_editor import DeckEditorDialog
from previz_app.ui.export_actions import ExportActions, deck_summary

ACTIONS = ["Export &Boards…", "Export Shot &List…", "Export Pitch &Deck…", "Edit Pitch Deck…", "LED-wall &Plate…"]


class HeldExport:
    """An export that writes nothing and runs until cancelled (or fails with `error`)."""

    def __init__(self, error=None):
        self.error = error
        self.started, self.returned = threading.Event(), threading.Event()

    def __call__(self, db, media, request, progress=None, cancelled=None):
        self.started.set()
        try:
            if self.error is not None:
                raise self.error
            while not cancelled():
                progress(1, 4)
                time.sleep(0.005)
            raise Cancelled()
        finally:
            self.returned.set()


@pytest.fixture
def window(qapp):
    # Not qtbot.addWidget: qtbot deletes its widgets before the fixtures' teardown, and
    # the actions (the window's children) must close first, as a workspace closes them.
    made = QMainWindow()
    yield made
    for box in made.findChildren(QMessageBox):
        box.close()
    made.close()
    made.deleteLater()


@pytest.fixture
def make_exports(state, services, window, thumbnails):
    made = []

    def make(**exports):
        actions = ExportActions(state, services, window, thumbnails=thumbnails, **exports)
        made.append(actions)
        return actions

    yield make
    for actions in made:
        if shiboken6.isValid(actions):
            assert actions.close(10_000)


@pytest.fixture
def save_as(monkeypatch):
    """Answer the save-file dialog with (path, filter); remembers what it was asked."""
    asked = []

    def answer(path, chosen_filter=""):
        def fake(parent, title, directory, filters, *args, **kwargs):
            asked.append((title, directory, filters))
            return str(path), chosen_filter

        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
        return asked

    return answer


def outcome(qtbot, exports) -> QMessageBox:
    qtbot.waitUntil(lambda: exports.message is not None, timeout=60_000)
    return exports.message


def test_the_export_menu_follows_the_open_project(make_main_window, drafted):
    window = make_main_window()
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles.index("E&xport") == titles.index("&Animatic") + 1
    assert not window.export_menu.isEnabled() and window.export_menu.actions() == []
    assert window.open_project(drafted.path)
    entries = [action for action in window.export_menu.actions() if not action.isSeparator()]
    assert [action.text() for action in entries] == ACTIONS
    assert window.export_menu.isEnabled() and all(action.isEnabled() for action in entries)
    assert entries == window.workspace.exports.actions
    window.workspace.exports.boards_action.trigger()
    assert isinstance(window.workspace.exports.board_dialog, BoardExportDialog)
    assert window.workspace.exports.board_dialog.isVisible()
    assert window.close_project()
    assert not window.export_menu.isEnabled() and window.export_menu.actions() == []


def test_the_shot_list_is_exported_to_the_chosen_csv(state, make_exports, save_as, qtbot, tmp_path):
    exports = make_exports()
    asked = save_as(tmp_path / "crew list", "CSV, UTF-8 (*.csv)")  # typed without a suffix
    exports.shotlist_action.trigger()
    box = outcome(qtbot, exports)
    _title, directory, filters = asked[0]
    assert Path(directory).parent == state.folder.exports_dir and directory.endswith("_shotlist.xlsx")
    assert "(*.csv)" in filters and "(*.xlsx)" in filters
    out = tmp_path / "crew list.csv"
    count = len(shots.list_shots(state.db))
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == count + 1
    assert box.icon() == QMessageBox.Icon.Information and box.text() == f"Wrote {count} shots to {out}."


def test_the_shot_list_is_exported_to_xlsx(state, make_exports, save_as, qtbot, tmp_path):
    exports = make_exports()
    save_as(tmp_path / "list.xlsx", "CSV, UTF-8 (*.csv)")  # the typed suffix wins
    assert exports.ask_shotlist()
    outcome(qtbot, exports)
    sheet = openpyxl.load_workbook(tmp_path / "list.xlsx").active
    assert sheet.max_row == len(shots.list_shots(state.db)) + 1


def test_nothing_happens_when_the_save_dialog_is_cancelled(make_exports, save_as):
    exports = make_exports()
    save_as("")
    assert not exports.ask_shotlist() and not exports.ask_deck()
    assert not exports.runner.is_running() and exports.message is None


def test_the_pitch_deck_export_shows_the_financiers_checks(state, make_exports, save_as, qtbot, tmp_path):
    deck = Deck(
        title="The Last Lighthouse", logline="A keeper and a storm.", budget_total=1_000_000,
        budget_lines=(BudgetLine("Above the line", 400_000), BudgetLine("Below the line", 500_000)),
        financing=(FinancingSource("Regional fund", 300_000, True), FinancingSource("Presales", 500_000, False)),
        comparables=(Comparable("Blockbuster", 2019, 90_000_000),),
    )
    write_deck(state.db, deck)
    warnings = check_deck(deck)
    assert len(warnings) == 3  # budget lines, financing, comparable
    exports = make_exports()
    save_as(tmp_path / "pitch.pptx", "PowerPoint (*.pptx)")
    exports.deck_action.trigger()
    box = outcome(qtbot, exports)
    slides = len(Presentation(tmp_path / "pitch.pptx").slides)
    text = box.text()
    assert box.icon() == QMessageBox.Icon.Warning
    assert text.startswith(f"Wrote {slides} pages to {tmp_path / 'pitch.pptx'}.")
    assert "Secured financing: 30% of the budget (USD 300,000 of USD 1,000,000)." in text
    for warning in warnings:
        assert warning.message in text
    assert "Left out, being empty:" in text and "Synopsis" in text


def test_a_consistent_deck_exports_without_warnings(state, make_exports, save_as, qtbot, tmp_path):
    write_deck(state.db, Deck(logline="A keeper and a storm.", budget_lines=(BudgetLine("All", 100),),
                              financing=(FinancingSource("Us", 100, True),)))
    exports = make_exports()
    save_as(tmp_path / "pitch", "PDF (*.pdf)")
    assert exports.ask_deck()
    box = outcome(qtbot, exports)
    assert (tmp_path / "pitch.pdf").read_bytes().startswith(b"%PDF")
    assert box.icon() == QMessageBox.Icon.Information and "question" not in box.text()
    assert "Secured financing: 100% of the budget" in box.text()


def test_a_failed_export_shows_why(make_exports, save_as, qtbot, tmp_path):
    exports = make_exports(shotlist=HeldExport(error=ExportError("cannot write x.csv: the disk is full")))
    save_as(tmp_path / "x.csv", "CSV, UTF-8 (*.csv)")
    exports.shotlist_action.trigger()
    box = outcome(qtbot, exports)
    assert box.icon() == QMessageBox.Icon.Critical
    assert box.text() == "The shot list was not exported: cannot write x.csv: the disk is full"


def test_cancelling_the_progress_stops_the_export(state, make_exports, save_as, window, qtbot, tmp_path):
    export = HeldExport()
    exports = make_exports(deck=export)
    errors = []
    state.error_reported.connect(errors.append)
    save_as(tmp_path / "pitch.pptx", "PowerPoint (*.pptx)")
    exports.deck_action.trigger()
    assert export.started.wait(10) and exports.progress is not None
    with qtbot.waitSignal(exports.runner.cancelled, timeout=10_000):
        exports.progress.findChild(QPushButton).click()
    # The user asked for it: a note in the status bar, not an error.
    assert window.statusBar().currentMessage() == "Export cancelled; nothing was written." and errors == []
    assert exports.message is None and exports.progress is None and not (tmp_path / "pitch.pptx").exists()


class LateToCancel:
    """An export that keeps reporting progress, and notices a cancel a second late."""

    def __init__(self):
        self.returned = threading.Event()

    def __call__(self, db, media, request, progress=None, cancelled=None):
        noticed, deadline = None, time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                progress(1, 400)
                if cancelled() and noticed is None:
                    noticed = time.monotonic()
                if noticed is not None and time.monotonic() - noticed > 1.0:
                    break
                time.sleep(0.01)
            raise Cancelled()
        finally:
            self.returned.set()


def test_the_progress_stays_hidden_after_cancel_while_the_export_stops(make_exports, save_as, qtbot, tmp_path):
    exports = make_exports(deck=LateToCancel())
    save_as(tmp_path / "pitch.pptx", "PowerPoint (*.pptx)")
    exports.deck_action.trigger()
    qtbot.waitUntil(lambda: exports.progress is not None and exports.progress.isVisible(), timeout=5_000)
    progress = exports.progress
    progress.findChild(QPushButton).click()
    qtbot.wait(400)  # progress still comes in
    assert exports.progress is progress and not progress.isVisible()
    qtbot.waitUntil(lambda: exports.progress is None, timeout=5_000)


def test_while_an_export_runs_the_others_wait_and_the_board_dialog_says_why(make_exports, save_as, qtbot,
                                                                           tmp_path):
    held = HeldExport()
    exports = make_exports(shotlist=held)
    asked = save_as(tmp_path / "list.csv", "CSV, UTF-8 (*.csv)")
    exports.shotlist_action.trigger()
    assert held.started.wait(10)
    assert not exports.shotlist_action.isEnabled() and not exports.deck_action.isEnabled()
    assert exports.boards_action.isEnabled() and exports.edit_deck_action.isEnabled()
    exports.deck_action.trigger()  # disabled: no save dialog, no refusal after it
    assert len(asked) == 1 and exports.message is None
    dialog = exports.show_board_dialog()
    assert not dialog.export_button.isEnabled()
    assert dialog.message_label.text() == OTHER_EXPORT_RUNNING == dialog.export_button.toolTip()
    with qtbot.waitSignal(exports.runner.ended, timeout=10_000):
        exports.runner.cancel()
    assert all(action.isEnabled() for action in exports.actions)
    assert dialog.export_button.isEnabled() and dialog.message_label.text() == ""


def test_one_export_at_a_time(make_exports, save_as, qtbot, tmp_path):
    held = HeldExport()
    exports = make_exports(boards=held)
    assert exports.runner.start(BoardExport(tmp_path / "boards.pdf"))
    assert held.started.wait(10)
    save_as(tmp_path / "list.csv", "CSV, UTF-8 (*.csv)")
    assert not exports.ask_shotlist()
    assert "Another export is running" in exports.message.text()
    assert not (tmp_path / "list.csv").exists()


def test_the_shot_list_report_is_not_taken_by_the_board_dialog(make_exports, save_as, qtbot, tmp_path):
    exports = make_exports()
    dialog = exports.show_board_dialog()
    save_as(tmp_path / "list.csv", "CSV, UTF-8 (*.csv)")
    with qtbot.waitSignal(exports.runner.ended, timeout=30_000):
        assert exports.ask_shotlist()
    assert isinstance(exports.message, QMessageBox) and dialog.message_label.text() == ""
    assert dialog.export_button.isEnabled()


def test_close_cancels_a_running_export_and_waits(make_exports, save_as, tmp_path):
    export = HeldExport()
    exports = make_exports(shotlist=export)
    exports.show_board_dialog()
    save_as(tmp_path / "list.csv", "CSV, UTF-8 (*.csv)")
    exports.shotlist_action.trigger()
    assert export.started.wait(10)
    runner = exports.runner
    assert exports.close(10_000)
    assert export.returned.is_set() and not runner.is_running() and runner.pool.activeThreadCount() == 0
    assert exports.board_dialog is None and exports.progress is None


def test_edit_pitch_deck_opens_one_editor(make_exports):
    exports = make_exports()
    exports.edit_deck_action.trigger()
    editor = exports.deck_editor
    assert isinstance(editor, DeckEditorDialog) and editor.isVisible()
    exports.edit_deck_action.trigger()
    assert exports.deck_editor is editor
    editor.close()


def test_shot_list_report_counts_are_shown_in_words(make_exports, save_as, qtbot, tmp_path):
    def one_shot(db, media, request, progress=None, cancelled=None):
        Path(request.out).write_text("Scene,Shot\n1,1A\n")
        return ShotListReport(Path(request.out), 1)

    exports = make_exports(shotlist=one_shot)
    save_as(tmp_path / "one.csv", "CSV, UTF-8 (*.csv)")
    exports.ask_shotlist()
    assert outcome(qtbot, exports).text() == f"Wrote 1 shot to {tmp_path / 'one.csv'}."


def test_close_waits_for_the_deck_editors_preview_and_pictures(make_exports, qtbot, monkeypatch):
    held = {name: (threading.Event(), threading.Event()) for name in ("build", "read")}  # started, returned
    release = threading.Event()

    def holding(name, real):
        def run(*args, **kwargs):
            started, returned = held[name]
            started.set()
            try:
                release.wait(10)
                return real(*args, **kwargs)
            finally:
                returned.set()
        return run

    monkeypatch.setattr(deck_preview, "deck_pdf_bytes", holding("build", deck_preview.deck_pdf_bytes))
    monkeypatch.setattr(deck_images, "read_catalog", holding("read", deck_images.read_catalog))
    exports = make_exports()
    exports.show_deck_editor()
    qtbot.waitUntil(lambda: all(started.is_set() for started, _ in held.values()), timeout=5_000)
    threading.Timer(0.2, release.set).start()
    assert exports.close(10_000)
    assert all(returned.is_set() for _, returned in held.values())  # over before the project closes


def test_the_deck_summary_gives_the_secured_share_to_a_tenth_of_a_percent(tmp_path):
    deck = Deck(currency="EUR", budget_total=1_000_000, budget_lines=(BudgetLine("All", 1_000_000),),
                financing=(FinancingSource("Fund", 998_000, True), FinancingSource("Gap", 2_000, False)))
    report = DeckReport(out=tmp_path / "deck.pdf", pages=4, warnings=tuple(check_deck(deck)),
                        money=money_summary(deck), omitted=("team",), currency=deck.currency)
    text = deck_summary(report)
    assert text.startswith(f"Wrote 4 pages to {tmp_path / 'deck.pdf'}.")
    assert "Secured financing: 99.8% of the budget (EUR 998,000 of EUR 1,000,000)." in text
    assert "question" not in text and text.endswith("Left out, being empty: Team.")
