"""The pitch deck written as PPTX and PDF from the stored deck, read back with
python-pptx and pypdf: same pages in the same order, real text and tables, recipes in
the notes and the metadata, and no file left behind by a failure or a cancel."""

import errno
import io
import json
from dataclasses import replace

import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Pt
from pypdf import PdfReader

from previz_app.domain.deck import (
    SECTIONS,
    BudgetLine,
    CastStatus,
    Comparable,
    Deck,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
)
from previz_app.domain.vocabulary import TakeKind
from previz_app.engine.base import Cancelled
from previz_app.export import deck as deck_module
from previz_app.export.deck import DeckExport, deck_pages, deck_pdf_bytes, export_deck
from previz_app.export.files import ExportError
from previz_app.export.pictures import MissingImageError
from previz_app.store import operations, shots, takes
from previz_app.store.deck import write_deck
from previz_app.store.media import add_media
from tests.animatic.heroes import give_heroes

RECIPE = {"engine": "diffusers", "model": "tiny-sd15-lighthouse", "seed": 4242,
          "prompt": "a lighthouse at dusk — rain, café light"}
LOGLINE = "A lighthouse keeper's daughter comes home the night the lamp goes out, and has to light it by hand."


def generated_take(folder, shot_id, colour, recipe=RECIPE):
    buffer = io.BytesIO()
    Image.new("RGB", (480, 270), colour).save(buffer, "PNG")
    digest = add_media(folder.db, folder.media, buffer.getvalue(), "image/png")
    return takes.record_take(folder.db, shot_id, TakeKind.generated, digest, len(buffer.getvalue()), json.dumps(recipe))


@pytest.fixture
def stored(drafted):
    """`drafted` with blocking heroes, a diffusers key art and a full deck saved: (folder, deck)."""
    give_heroes(drafted)
    listed = shots.list_shots(drafted.db)
    key_art = generated_take(drafted, listed[0].id, (30, 60, 120))
    heroes = [shot.hero_take_id for shot in listed]
    deck = Deck(
        title="The Last Lighthouse", key_art_take_id=key_art, logline=LOGLINE,
        synopsis="Ella returns to Fairhead. " * 40, director_statement="Hand-made light.",
        producer_statement="One island, one house, six weeks.", tone="Cold blues, warm lamplight.",
        mood_take_ids=tuple(heroes[:3]),
        characters=(DeckCharacter("Ella", "The daughter.", "Jane Doe", CastStatus.attached, heroes[1]),
                    DeckCharacter("Tom", "The brother.", "Sam Star", CastStatus.wishlist)),
        sequence_shot_ids=tuple(shot.id for shot in listed),
        comparables=(Comparable("Moon", 2009, 5_000_000, 9_700_000, "the-numbers.com", "2026-01-02"),
                     Comparable("Aftersun", 2022, 2_000_000, 5_400_000, "boxofficemojo.com", "2026-01-02")),
        budget_lines=(BudgetLine("Above the line", 400_000), BudgetLine("Production", 1_500_000),
                      BudgetLine("Post", 600_000)),
        financing=(FinancingSource("Equity", 1_000_000, True), FinancingSource("Tax credit", 125_000, True),
                   FinancingSource("Presales", 1_375_000, False)),
        schedule=(ScheduleItem("Shoot", "2026-09-01", "2026-10-15"),),
        team=(TeamMember("Ana Director", "Director", "Two shorts at Clermont."),),
        contact="Fairhead Films\nhello@fairhead.example",
    )
    write_deck(drafted.db, deck)
    return drafted, deck


def export(folder, out, **kwargs):
    return export_deck(folder.db, folder.media, DeckExport(out), **kwargs)


def slide_texts(slide):
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def slide_tables(slide):
    return [[[cell.text for cell in row.cells] for row in shape.table.rows] for shape in slide.shapes if shape.has_table]


def pdf_texts(reader):
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_pptx_and_pdf_have_the_same_pages_in_the_same_order(stored, tmp_path):
    folder, _deck = stored
    pptx_report = export(folder, tmp_path / "deck.pptx")
    pdf_report = export(folder, tmp_path / "deck.pdf")
    presentation = Presentation(tmp_path / "deck.pptx")
    reader = PdfReader(tmp_path / "deck.pdf")
    assert len(presentation.slides) == len(reader.pages) == pptx_report.pages == pdf_report.pages
    assert presentation.slide_width == 12192000 and presentation.slide_height == 6858000
    # Each page's heading, found independently in the slide's text boxes and the PDF page's text.
    texts = pdf_texts(reader)
    headings = []
    for slide, text in zip(presentation.slides, texts):
        boxes = slide_texts(slide)
        heading = next(box for box in boxes if box in SECTIONS.values() or box.endswith("(continued)")
                       or box == "The Last Lighthouse")
        assert heading in text
        headings.append(heading.removesuffix(" (continued)"))
    expected = ["The Last Lighthouse", *(name for key, name in SECTIONS.items() if key != "title")]
    assert list(dict.fromkeys(headings)) == expected
    assert pptx_report.omitted == () and pptx_report.money.secured_total == 1_125_000


def test_the_logline_is_editable_text_in_both(stored, tmp_path):
    folder, _deck = stored
    export(folder, tmp_path / "deck.pptx")
    export(folder, tmp_path / "deck.pdf")
    slide = Presentation(tmp_path / "deck.pptx").slides[1]
    [box] = [shape for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text == LOGLINE]
    assert box.text_frame.word_wrap is True  # wrapped by the frame, not broken into lines by us
    assert box.text_frame.paragraphs[0].runs[0].font.size == Pt(24)
    assert box.text_frame.paragraphs[0].runs[0].font.name == "Arial"
    assert LOGLINE in pdf_texts(PdfReader(tmp_path / "deck.pdf"))[1]


def test_money_pages_are_native_tables_and_say_what_is_secured(stored, tmp_path):
    folder, _deck = stored
    export(folder, tmp_path / "deck.pptx")
    export(folder, tmp_path / "deck.pdf")
    slides = Presentation(tmp_path / "deck.pptx").slides
    tables = {}
    for slide in slides:
        for table in slide_tables(slide):
            tables[table[0][0]] = table  # by the first header cell
    assert tables["Title"][1][:4] == ["Moon", "2009", "USD 5,000,000", "USD 9,700,000"]
    assert tables["Category"][-1] == ["Total", "USD 2,500,000", "100.0%"]
    assert tables["Source"][1:4] == [["Equity", "USD 1,000,000", "Yes", "40.0%"],
                                     ["Tax credit", "USD 125,000", "Yes", "5.0%"],
                                     ["Presales", "USD 1,375,000", "No", "55.0%"]]
    assert tables["Phase"][1] == ["Shoot", "2026-09-01", "2026-10-15"]
    secured = "Secured: 45% of USD 2,500,000"
    assert any(secured in slide_texts(slide) for slide in slides)
    pdf = pdf_texts(PdfReader(tmp_path / "deck.pdf"))
    assert any(secured in text for text in pdf)
    assert any("Moon 2009 USD 5,000,000 USD 9,700,000" in text for text in pdf)


def test_generated_pictures_carry_their_recipe_in_notes_and_metadata(stored, tmp_path):
    folder, deck = stored
    export(folder, tmp_path / "deck.pptx")
    export(folder, tmp_path / "deck.pdf")
    title = Presentation(tmp_path / "deck.pptx").slides[0]
    notes = title.notes_slide.notes_text_frame.text
    assert "Key art" in notes and "tiny-sd15-lighthouse" in notes and "seed 4242" in notes
    assert "a lighthouse at dusk — rain, café light" in notes
    assert any(shape.shape_type == 13 for shape in title.shapes)  # a picture
    reader = PdfReader(tmp_path / "deck.pdf")
    metadata = reader.metadata
    assert metadata.title == "The Last Lighthouse" and metadata.author == "previz" and metadata.creator == "previz"
    recipes = json.loads(metadata["/PrevizProvenance"])
    key_art = next(item for item in recipes if item["image"] == "Key art")
    assert key_art == {"image": "Key art", "take": deck.key_art_take_id, "engine": "diffusers",
                       "model": "tiny-sd15-lighthouse", "seed": 4242, "prompt": RECIPE["prompt"]}
    assert {item["image"] for item in recipes} >= {"Mood board image 1", "Character Ella", "Shot 1"}


def test_pdf_embeds_its_fonts_and_jpeg_pictures(stored, tmp_path):
    folder, _deck = stored
    export(folder, tmp_path / "deck.pdf")
    reader = PdfReader(tmp_path / "deck.pdf")
    fonts, filters = {}, set()
    for page in reader.pages:
        resources = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = "/FontFile2" in font["/FontDescriptor"].get_object()
        for image in resources.get("/XObject", {}).values():
            chain = image.get_object()["/Filter"]
            filters.add(tuple(chain) if isinstance(chain, list) else (chain,))
    assert fonts and all(fonts.values()), fonts
    assert filters == {("/DCTDecode",)}  # JPEG as is: not re-encoded, not inflated by ASCII85


def test_one_picture_shown_many_times_at_one_size_is_embedded_once(stored, tmp_path):
    folder, deck = stored
    write_deck(folder.db, Deck(mood_take_ids=(deck.key_art_take_id,) * 8))  # one page of 4 x 2 equal cells
    export(folder, tmp_path / "deck.pdf")
    [page] = [page for page in PdfReader(tmp_path / "deck.pdf").pages if "/XObject" in page["/Resources"]]
    xobjects = page["/Resources"]["/XObject"]
    assert len(xobjects) == 1 and page.get_contents().get_data().count(b" Do") == 8


def test_an_empty_section_is_left_out_of_both(stored, tmp_path):
    folder, deck = stored
    full = export(folder, tmp_path / "full.pdf").pages
    write_deck(folder.db, replace(deck, team=(), producer_statement="  "))
    report_pptx = export(folder, tmp_path / "deck.pptx")
    report_pdf = export(folder, tmp_path / "deck.pdf")
    assert report_pptx.pages == report_pdf.pages == full - 2
    assert set(report_pdf.omitted) == {"team", "producer_statement"}
    slides = Presentation(tmp_path / "deck.pptx").slides
    assert len(slides) == full - 2
    assert not any(text in ("Team", "Producer's statement") for slide in slides for text in slide_texts(slide))
    pdf = pdf_texts(PdfReader(tmp_path / "deck.pdf"))
    assert len(pdf) == full - 2 and not any(text.startswith(("Team", "Producer's statement")) for text in pdf)
    assert any(text.startswith("Director's statement") for text in pdf)  # the check can see a heading


@pytest.mark.parametrize("suffix", [".pptx", ".pdf"])
def test_a_missing_key_art_or_mood_picture_is_named_and_nothing_written(stored, tmp_path, suffix):
    folder, deck = stored
    out = tmp_path / f"deck{suffix}"
    folder.media.path(takes.get_take(folder.db, deck.key_art_take_id).media_hash).unlink()
    with pytest.raises(MissingImageError, match="key art"):
        export(folder, out)
    listed = shots.list_shots(folder.db)
    gone = generated_take(folder, listed[3].id, (9, 9, 9))
    folder.media.path(takes.get_take(folder.db, gone).media_hash).unlink()
    write_deck(folder.db, replace(deck, key_art_take_id=None, mood_take_ids=(*deck.mood_take_ids[:2], gone)))
    with pytest.raises(MissingImageError, match="mood board image 3"):
        export(folder, out)
    assert not out.exists() and not list(tmp_path.glob(".deck*"))


def _fail_after_writing(path):
    with open(path, "wb") as handle:
        handle.write(b"half a file")
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("suffix", [".pptx", ".pdf"])
def test_a_full_disk_is_an_export_error_and_the_old_file_is_kept(stored, tmp_path, monkeypatch, suffix):
    folder, _deck = stored
    out = tmp_path / f"deck{suffix}"
    out.write_bytes(b"the deck from yesterday")
    monkeypatch.setattr("pptx.presentation.Presentation.save", lambda self, file: _fail_after_writing(file))
    monkeypatch.setattr("reportlab.pdfgen.canvas.Canvas.save", lambda self: _fail_after_writing(self._filename))
    with pytest.raises(ExportError, match="disk is full"):
        export(folder, out)
    assert out.read_bytes() == b"the deck from yesterday"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_an_unwritable_place_is_an_export_error(stored, tmp_path):
    folder, _deck = stored
    with pytest.raises(ExportError, match="does not exist"):
        export(folder, tmp_path / "no such folder" / "deck.pdf")
    (tmp_path / "deck.pptx").mkdir()  # a folder where the file should go
    with pytest.raises(ExportError, match="cannot write"):
        export(folder, tmp_path / "deck.pptx")
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


@pytest.mark.parametrize("suffix", [".pptx", ".pdf"])
def test_cancel_leaves_no_file_and_progress_counts_pages(stored, tmp_path, suffix):
    folder, _deck = stored
    out = tmp_path / f"deck{suffix}"
    calls = []
    with pytest.raises(Cancelled):
        export(folder, out, progress=lambda done, total: calls.append((done, total)), cancelled=lambda: len(calls) >= 3)
    assert calls == [(0, calls[0][1]), (1, calls[0][1]), (2, calls[0][1])]
    assert not out.exists() and list(tmp_path.glob(f".deck{suffix}*")) == []
    calls.clear()
    report = export(folder, out, progress=lambda done, total: calls.append((done, total)), cancelled=lambda: False)
    assert calls == [(done, report.pages) for done in range(report.pages + 1)]


@pytest.mark.parametrize("suffix", [".pptx", ".pdf"])
def test_a_cancel_once_the_file_is_written_removes_it(stored, tmp_path, suffix):
    folder, _deck = stored
    out = tmp_path / f"deck{suffix}"
    out.write_bytes(b"the deck from yesterday")
    pages = export(folder, tmp_path / f"first{suffix}").pages
    polls = []
    # Polled once before, once a page, and once when the file is written: cancel at that last one.
    with pytest.raises(Cancelled):
        export(folder, out, cancelled=lambda: polls.append(1) or len(polls) > pages + 1)
    assert len(polls) == pages + 2
    assert out.read_bytes() == b"the deck from yesterday" and list(tmp_path.glob(f".deck{suffix}*")) == []


def test_the_deck_reads_one_state_while_another_connection_deletes_a_key_shot(stored, tmp_path, monkeypatch):
    folder, _deck = stored
    last = shots.list_shots(folder.db)[-1]  # the lighthouse shot: a key sequence, in no other section
    other, read = folder.connect(), deck_module.read_deck

    def read_then_delete(db):
        found = read(db)
        operations.perform(other, operations.DeleteShots([last.id]))  # the app, right after the deck was read
        return found

    monkeypatch.setattr(deck_module, "read_deck", read_then_delete)
    try:
        report = export(folder, tmp_path / "deck.pdf")
    finally:
        other.close()
    texts = pdf_texts(PdfReader(tmp_path / "deck.pdf"))
    assert report.pages == len(texts) and any(last.action in text for text in texts)
    assert last.id not in {shot.id for shot in shots.list_shots(folder.db)}  # the delete itself went through


def test_the_report_carries_the_money_and_its_currency(stored, tmp_path):
    folder, deck = stored
    write_deck(folder.db, replace(deck, currency="EUR"))
    report = export(folder, tmp_path / "deck.pptx")
    assert report.currency == "EUR" and report.money.secured_total == 1_125_000 and report.money.budget == 2_500_000


def test_another_suffix_is_a_value_error(stored, tmp_path):
    folder, _deck = stored
    with pytest.raises(ValueError, match=r"\.pptx or \.pdf.*\.key"):
        export(folder, tmp_path / "deck.key")


def test_the_preview_has_only_the_pages_asked_for(stored, tmp_path):
    folder, deck = stored
    reader = PdfReader(io.BytesIO(deck_pdf_bytes(folder.db, folder.media, sections={"budget", "financing"})))
    texts = pdf_texts(reader)
    assert len(texts) == 2 and texts[0].startswith("Budget") and "Secured: 45% of USD 2,500,000" in texts[1]
    # An unsaved deck from the editor, with the section emptied: one page says so.
    edited = replace(deck, synopsis="")
    reader = PdfReader(io.BytesIO(deck_pdf_bytes(folder.db, folder.media, edited, sections={"synopsis"})))
    assert len(reader.pages) == 1 and "nothing to show" in reader.pages[0].extract_text()
    whole = PdfReader(io.BytesIO(deck_pdf_bytes(folder.db, folder.media)))
    assert len(whole.pages) == export(folder, tmp_path / "deck.pdf").pages
    pages = deck_pages(folder.db, folder.media, sections={"financing"})
    assert [(page.section, page.heading) for page in pages] == [("financing", "Financing plan")]
    assert pages[0].number == [page.section for page in deck_pages(folder.db, folder.media)].index("financing") + 1
