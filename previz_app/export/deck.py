"""The producer's pitch deck, written as PowerPoint (.pptx) or PDF from one layout, and
the PDF of a few sections for the editor's live preview."""

from __future__ import annotations

import io
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from ..domain.deck import SECTIONS, Deck, DeckWarning, MoneySummary, check_deck, money_summary
from ..engine.base import Cancelled
from ..store.deck import read_deck
from ..store.media import MediaStore
from ..store.transaction import read_snapshot
from .deck_layout import MUTED, PAPER, DeckLayout, Page, text_block
from .deck_pdf import write_pdf
from .deck_pptx import write_pptx
from .deck_sections import CONTENT, lay_out_deck
from .files import staged_output

WRITERS = {".pptx": write_pptx, ".pdf": write_pdf}


@dataclass(frozen=True)
class DeckExport:
    out: Path  # .pptx or .pdf, by suffix


@dataclass(frozen=True)
class DeckReport:
    out: Path
    pages: int
    warnings: tuple[DeckWarning, ...]  # check_deck's: what a financier would question
    money: MoneySummary
    omitted: tuple[str, ...]  # SECTIONS keys left out because empty
    currency: str  # the deck's, for the money


def export_deck(
    db: Database,
    media: MediaStore,
    request: DeckExport,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DeckReport:
    """Write the project's stored pitch deck to `request.out`, .pptx or .pdf by suffix,
    calling `progress(done, pages)` as pages are drawn and polling `cancelled()`.

    Raises ValueError for another suffix, pictures.MissingImageError naming a picture
    that is missing ("key art", "mood board image 3", "shot 12A"), files.ExportError
    when the file cannot be written (a full disk, a missing folder) and
    engine.base.Cancelled on cancel; then no file is left and an old one is kept."""
    out = Path(request.out)
    writer = WRITERS.get(out.suffix.lower())
    if writer is None:
        raise ValueError(f"a pitch deck is written as .pptx or .pdf, not {out.suffix or 'a file without a suffix'!r}")
    _check(cancelled)
    deck, layout = _laid_out(db, media)
    total = len(layout.pages)

    def before_page(index: int) -> None:
        _check(cancelled)
        if progress is not None:
            progress(index, total)

    with staged_output(out) as temporary:
        writer(layout, temporary, before_page)
        _check(cancelled)
    if progress is not None:
        progress(total, total)
    return DeckReport(out, total, tuple(check_deck(deck)), money_summary(deck), layout.omitted, deck.currency)


def deck_pages(db: Database, media: MediaStore, deck: Deck | None = None,
               sections: Collection[str] | None = None) -> tuple[Page, ...]:
    """The pages `deck` (default: the stored one) lays out to, each with its section,
    heading and number; with `sections`, only theirs. Decodes no picture. Raises
    ValueError for an unknown section."""
    return _laid_out(db, media, deck, sections)[1].pages


def deck_pdf_bytes(db: Database, media: MediaStore, deck: Deck | None = None,
                   sections: Collection[str] | None = None) -> bytes:
    """`deck` (default: the stored one) as PDF bytes; with `sections` (SECTIONS keys)
    only their pages, numbered as in the whole deck: the editor's live preview. When
    none of them has a page (all empty), one page says so.

    Raises ValueError for an unknown section and pictures.MissingImageError as
    `export_deck` does."""
    layout = _laid_out(db, media, deck, sections)[1]
    if not layout.pages:
        layout = DeckLayout(layout.title, (_empty_page(sections or ()),), layout.omitted)
    buffer = io.BytesIO()
    write_pdf(layout, buffer)
    return buffer.getvalue()


def _laid_out(db: Database, media: MediaStore, deck: Deck | None = None,
              sections: Collection[str] | None = None) -> tuple[Deck, DeckLayout]:
    """`deck` (default: the stored one) and its layout, read in one snapshot: a shot
    deleted meanwhile cannot be in the deck read but gone from the shots listed."""
    with read_snapshot(db):
        deck = read_deck(db) if deck is None else deck
        return deck, lay_out_deck(db, media, deck, sections)


def _empty_page(sections: Collection[str]) -> Page:
    keys = [key for key in SECTIONS if key in sections] or ["title"]
    names = ", ".join(SECTIONS[key] for key in keys)
    message = f"{names}: nothing to show yet. An empty section is left out of the deck."
    block = text_block(CONTENT.x, CONTENT.y, CONTENT.w, message, 14, "italic", MUTED)
    return Page(keys[0], names, 0, (block,), PAPER)


def _check(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled()
