"""The pitch deck editor's live preview: the section's pages as the PDF prints them,
built off the GUI thread after the last edit; what it cannot draw is said; closing
stops it, and the project's close waits for a build in flight."""

import threading

from PySide6.QtGui import QImage
from shiboken6 import isValid as shiboken_valid

from previz_app.domain.deck import Deck, TeamMember
from previz_app.store import operations as ops
from previz_app.store import shots, takes
from previz_app.ui import deck_preview

from .deck_fixtures import (
    LOGLINE,
    dialog_fixture,  # noqa: F401 - the fixture dialog
    make_dialog_fixture,  # noqa: F401 - the fixture make_dialog
    stored,
    type_and_finish,
)


class HeldBuild:
    """deck_pdf_bytes, held until `release` is set; says when it started and returned."""

    def __init__(self):
        self.started, self.release, self.returned = threading.Event(), threading.Event(), threading.Event()
        self.real = deck_preview.deck_pdf_bytes

    def __call__(self, *args, **kwargs):
        self.started.set()
        try:
            self.release.wait(10)
            return self.real(*args, **kwargs)
        finally:
            self.returned.set()


def non_white_share(image: QImage) -> float:
    small = image.scaled(160, 90)
    pixels = [small.pixelColor(x, y) for x in range(small.width()) for y in range(small.height())]
    return sum(1 for p in pixels if min(p.red(), p.green(), p.blue()) < 200) / len(pixels)


def test_the_preview_draws_the_page_and_follows_the_logline(dialog, state, qtbot):
    dialog.show_section("logline")
    type_and_finish(qtbot, dialog.forms["logline"].text_edit, LOGLINE)
    preview = dialog.preview
    qtbot.waitUntil(lambda: not preview.is_busy() and bool(preview.pages()), timeout=20_000)
    first = preview.pages()[0]
    assert first.width() == deck_preview.RENDER_WIDTH
    assert 0.002 < non_white_share(first) < 0.9  # text on paper, not a blank or a black page
    assert not preview.page_label.pixmap().isNull()

    type_and_finish(qtbot, dialog.forms["logline"].text_edit, " " + LOGLINE.upper() * 3)
    qtbot.waitUntil(lambda: not preview.is_busy() and bool(preview.pages()) and preview.pages()[0] != first,
                    timeout=20_000)
    assert non_white_share(preview.pages()[0]) > non_white_share(first)


def test_the_preview_says_why_a_page_cannot_be_drawn(dialog, state, qtbot):
    take = takes.get_take(state.db, shots.list_shots(state.db)[0].hero_take_id)
    state.folder.media.path(take.media_hash).unlink()
    state.perform(ops.EditDeck(Deck(key_art_take_id=take.id)))
    dialog.show_section("title")
    qtbot.waitUntil(lambda: not dialog.preview.is_busy() and bool(dialog.preview.message()), timeout=20_000)
    assert "cannot be drawn" in dialog.preview.message()
    assert "key art" in dialog.preview.message().lower()
    assert dialog.preview.pages() == []
    assert dialog.preview.page_label.text() == dialog.preview.message()


def test_an_empty_section_previews_a_note_not_a_page(dialog, qtbot):
    dialog.show_section("team")
    assert dialog.preview.pages() == [] and "is empty" in dialog.preview.message()


def test_closing_while_the_preview_renders_does_not_crash(make_dialog, state, services, qtbot, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = deck_preview.deck_pdf_bytes

    def slow(*args, **kwargs):
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(deck_preview, "deck_pdf_bytes", slow)
    dialog = make_dialog(owned=False)  # deleted here, not by qtbot
    dialog.show_section("logline")
    type_and_finish(qtbot, dialog.forms["logline"].text_edit, LOGLINE)
    qtbot.waitUntil(started.is_set, timeout=5_000)
    dialog.close()
    dialog.deleteLater()
    qtbot.waitUntil(lambda: not shiboken_valid(dialog), timeout=2_000)
    release.set()
    assert services.pool.waitForDone(20_000)
    qtbot.wait(50)  # the result, if any, is delivered to nobody
    assert stored(state).logline == LOGLINE  # the project is still fine
    # The project goes on changing; nothing of the dialog is left listening.
    state.shots_changed.emit([1])
    state.board_changed.emit()
    state.perform(ops.EditDeck(Deck(logline="later")))
    qtbot.wait(400)


def test_pages_of_a_long_section_can_be_stepped_through(dialog, state, qtbot):
    team = tuple(TeamMember(f"Member {n}", "Role", "A long biography. " * 40) for n in range(12))
    state.perform(ops.EditDeck(Deck(team=team)))
    dialog.show_section("team")
    preview = dialog.preview
    qtbot.waitUntil(lambda: not preview.is_busy() and bool(preview.pages()), timeout=20_000)
    assert len(preview.pages()) >= 2
    assert preview.next_button.isVisible() and preview.page_count_label.text() == f"Page 1 of {len(preview.pages())}"
    preview.next_button.click()
    assert preview.current_page() == 1 and preview.page_count_label.text().startswith("Page 2 of")


def test_stop_waits_for_a_build_in_flight(make_dialog, qtbot, monkeypatch):
    build = HeldBuild()
    monkeypatch.setattr(deck_preview, "deck_pdf_bytes", build)
    dialog = make_dialog()  # previews the title page
    qtbot.waitUntil(build.started.is_set, timeout=5_000)
    threading.Timer(0.2, build.release.set).start()
    assert dialog.preview.stop(10_000)
    assert build.returned.is_set()  # over, not merely told to stop
    assert not dialog.preview.is_busy()


def test_reopening_while_a_cancelled_build_ends_shows_the_old_pages_until_the_new(make_dialog, state, qtbot,
                                                                                 monkeypatch):
    state.perform(ops.EditDeck(Deck(logline=LOGLINE)))
    dialog = make_dialog()
    dialog.show_section("logline")
    preview = dialog.preview
    qtbot.waitUntil(lambda: not preview.is_busy() and bool(preview.pages()), timeout=20_000)
    build = HeldBuild()
    monkeypatch.setattr(deck_preview, "deck_pdf_bytes", build)
    shown = []
    show = preview._show_result
    monkeypatch.setattr(preview, "_show_result", lambda pages, message: (shown.append((len(pages), message)),
                                                                          show(pages, message)))
    dialog.show_section("title")
    qtbot.waitUntil(build.started.is_set, timeout=5_000)
    dialog.close()  # cancels the build
    dialog.show()
    dialog.show_section("logline")
    build.release.set()
    qtbot.waitUntil(lambda: bool(shown) and not preview.is_busy(), timeout=20_000)
    assert build.returned.is_set()
    assert [count for count, _message in shown] == [1]  # the cancelled build showed nothing
    assert preview.message() == "" and len(preview.pages()) == 1
