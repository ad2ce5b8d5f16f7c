"""The pitch deck's layout model: sections in order, empty ones left out, long text
paginated without losing a word, pictures fitted and their recipes on the page."""

import io
import json

import pytest
from PIL import Image

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
    empty_sections,
)
from previz_app.domain.vocabulary import TakeKind
from previz_app.export.deck_layout import (
    PAGE_HEIGHT,
    PAGE_WIDTH,
    ImageBlock,
    Rect,
    ShapeBlock,
    TableBlock,
    TextBlock,
    flow_text,
    placed_jpeg,
    text_block,
)
from previz_app.export.deck_sections import lay_out_deck
from previz_app.export.fonts import text_width
from previz_app.export.pictures import MissingImageError
from previz_app.store import shots, takes
from previz_app.store.media import add_media
from tests.animatic.heroes import give_heroes

RECIPE = {"engine": "diffusers", "model": "tiny-sd15", "seed": 4242, "prompt": "a lighthouse in a storm, dusk"}


def generated_take(folder, shot_id, colour, recipe=RECIPE, size=(400, 300)):
    """A generated take of `shot_id` whose picture is a flat `colour`."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    digest = add_media(folder.db, folder.media, buffer.getvalue(), "image/png")
    return takes.record_take(folder.db, shot_id, TakeKind.generated, digest, len(buffer.getvalue()), json.dumps(recipe))


def words(count, start=0):
    return " ".join(f"w{n}" for n in range(start, start + count))


@pytest.fixture
def pictured(drafted):
    """`drafted` with blocking hero frames and one diffusers take: (folder, shots, that take's id)."""
    give_heroes(drafted)
    listed = shots.list_shots(drafted.db)
    return drafted, listed, generated_take(drafted, listed[0].id, (200, 40, 40))


def all_text_blocks(page):
    return [block for block in page.blocks if isinstance(block, TextBlock)]


def test_pages_follow_sections_order_and_leave_empty_ones_out(pictured):
    folder, listed, take_id = pictured
    deck = Deck(logline="One night.", synopsis="Storm.", tone="Cold.", mood_take_ids=(take_id,),
                sequence_shot_ids=(listed[0].id,), budget_lines=(BudgetLine("Shoot", 100),), contact="hello@x")
    layout = lay_out_deck(folder.db, folder.media, deck)
    sections = [page.section for page in layout.pages]
    assert sections == ["title", "logline", "synopsis", "tone", "sequences", "budget", "contact"]
    assert set(layout.omitted) == set(empty_sections(deck))
    assert "team" in layout.omitted and "characters" in layout.omitted
    assert [page.number for page in layout.pages] == list(range(1, len(layout.pages) + 1))
    # The title page is the project's title when the deck has none.
    assert layout.title == "Film" and layout.pages[0].heading == "Film"
    for page in layout.pages[1:]:
        texts = [block.text for block in all_text_blocks(page)]
        assert page.heading in texts and "Film" in texts and str(page.number) in texts  # heading and footer


def test_a_long_synopsis_goes_on_to_more_pages_without_losing_a_word(drafted):
    paragraphs = [words(400, start) for start in range(0, 2000, 400)]
    layout = lay_out_deck(drafted.db, drafted.media, Deck(synopsis="\n\n".join(paragraphs)))
    pages = [page for page in layout.pages if page.section == "synopsis"]
    assert len(pages) >= 2
    assert [page.heading for page in pages] == ["Synopsis"] + ["Synopsis (continued)"] * (len(pages) - 1)
    placed = []
    for page in pages:
        for block in all_text_blocks(page)[3:]:  # after the heading and the footer
            height = sum(len(p.lines) for p in block.paragraphs) * block.leading
            assert height + block.space_after * (len(block.paragraphs) - 1) <= block.rect.h + 0.01  # in its frame
            for paragraph in block.paragraphs:
                assert paragraph.text.split() == " ".join(paragraph.lines).split()
                for line in paragraph.lines:
                    assert text_width(line, block.size) <= block.rect.w + 0.01
                placed += paragraph.text.split()
    assert placed == words(2000).split()


@pytest.mark.parametrize("count", [40, 55, 62, 75, 90, 130])
def test_flowing_text_never_leaves_a_single_line_of_a_paragraph_behind(count):
    frames = [Rect(0, 0, 120, 15 * 5)]  # five lines a page
    pages = flow_text(words(count), 10, lambda _page: frames, leading=15)
    pieces = [paragraph for page in pages for block in page for paragraph in block.paragraphs]
    assert len(pieces) > 1
    assert all(2 <= len(piece.lines) <= 5 for piece in pieces), [len(piece.lines) for piece in pieces]
    assert " ".join(piece.text for piece in pieces).split() == words(count).split()


def test_a_paragraph_that_would_leave_one_line_behind_moves_on_whole():
    frames = [Rect(0, 0, 120, 15 * 5)]  # five lines: the first paragraph takes three, two are left
    text = f"{words(14)}\n{words(12, start=14)}"  # three lines each
    pages = flow_text(text, 10, lambda _page: frames, leading=15)
    assert [[[len(p.lines) for p in block.paragraphs] for block in page] for page in pages] == [[[3]], [[3]]]
    assert pages[1][0].paragraphs[0].text == words(12, start=14)


def test_text_block_cuts_to_max_lines_with_an_ellipsis():
    block = text_block(0, 0, 120, words(200), 10, max_lines=3, leading=13)
    assert sum(len(p.lines) for p in block.paragraphs) == 3
    assert block.paragraphs[-1].lines[-1].endswith("…") and block.text.endswith("…")
    assert block.rect.h == pytest.approx(39)


def test_characters_paginate_three_a_page_with_their_cast_marker(pictured):
    folder, _listed, take_id = pictured
    cast = tuple(DeckCharacter(f"Person {n}", "Says little.", f"Actor {n}",
                               CastStatus.attached if n % 2 else CastStatus.wishlist, take_id if n == 0 else None)
                 for n in range(7))
    layout = lay_out_deck(folder.db, folder.media, Deck(characters=cast))
    pages = [page for page in layout.pages if page.section == "characters"]
    assert len(pages) == 3
    first = [block.text for block in all_text_blocks(pages[0])]
    assert first.count("WISHLIST") == 2 and first.count("ATTACHED") == 1
    assert "Person 0" in first and "Actor 1" in first and "Person 3" not in first
    assert any(isinstance(block, ImageBlock) and block.what == "character Person 0" for block in pages[0].blocks)


def test_key_sequences_are_in_film_order_with_hero_or_blocking_panel(drafted):
    listed = shots.list_shots(drafted.db)
    take_id = generated_take(drafted, listed[1].id, (10, 200, 10))  # only shot 2 has a hero
    deck = Deck(sequence_shot_ids=tuple(shot.id for shot in reversed(listed)))
    layout = lay_out_deck(drafted.db, drafted.media, deck)
    [page] = [page for page in layout.pages if page.section == "sequences"]
    images = [block for block in page.blocks if isinstance(block, ImageBlock)]
    assert [block.what for block in images] == [f"shot {shot.number}" for shot in listed]
    hero = images[1]
    assert hero.provenance is not None and hero.provenance.take_id == take_id and hero.provenance.seed == 4242
    assert images[0].provenance is None  # no frame yet: the blocking diagram, made by no one's recipe
    panel = images[0].load()
    assert panel.size[0] > 100 and len(panel.getcolors(maxcolors=1 << 16) or ()) > 2  # a drawn diagram, not a blank
    assert "a lighthouse in a storm, dusk" in page.notes and "seed 4242" in page.notes and "tiny-sd15" in page.notes


def test_tables_hold_the_money_figures(drafted):
    deck = Deck(comparables=(Comparable("Moon", 2009, 5_000_000, 9_700_000, "the-numbers.com", "2026-01-02"),),
                budget_total=2_500_000, budget_lines=(BudgetLine("Above the line", 400_000), BudgetLine("Shoot", 2_100_000)),
                financing=(FinancingSource("Equity", 1_000_000, True), FinancingSource("Tax credit", 125_000, True),
                           FinancingSource("Presales", 1_375_000, False)),
                schedule=(ScheduleItem("Shoot", "2026-09-01", "2026-10-15"),))
    layout = lay_out_deck(drafted.db, drafted.media, deck)
    tables = {page.section: [block for block in page.blocks if isinstance(block, TableBlock)] for page in layout.pages}
    [comparables] = tables["comparables"]
    assert comparables.header[:4] == ("Title", "Year", "Budget", "Worldwide gross")
    assert comparables.rows == (("Moon", "2009", "USD 5,000,000", "USD 9,700,000", "the-numbers.com", "2026-01-02"),)
    assert comparables.numeric == (False, True, True, True, False, False)
    [budget] = tables["budget"]
    assert budget.total and budget.rows[-1][:2] == ("Total", "USD 2,500,000")
    assert budget.rows[0] == ("Above the line", "USD 400,000", "16.0%")
    [financing] = tables["financing"]
    assert [row[2] for row in financing.rows[:-1]] == ["Yes", "Yes", "No"]
    [page] = [page for page in layout.pages if page.section == "financing"]
    assert "Secured: 45% of USD 2,500,000" in [block.text for block in all_text_blocks(page)]
    assert tables["schedule"][0].rows == (("Shoot", "2026-09-01", "2026-10-15"),)


@pytest.mark.parametrize(("secured", "share"), [(998_000, "99.8%"), (1_000_000, "100%"), (200, "under 0.1%")])
def test_the_secured_share_never_rounds_to_all_or_nothing(drafted, secured, share):
    deck = Deck(budget_total=1_000_000, financing=(FinancingSource("Equity", secured, True),
                                                   FinancingSource("Presales", 1_000_000 - secured, False)))
    [page] = [page for page in lay_out_deck(drafted.db, drafted.media, deck).pages if page.section == "financing"]
    texts = [block.text for block in all_text_blocks(page)]
    assert share in texts  # the headline beside the table
    assert f"Secured: {share} of USD 1,000,000" in texts


def test_every_section_that_runs_over_says_so_on_its_later_pages(pictured):
    folder, _listed, take_id = pictured
    deck = Deck(tone="Cold.", mood_take_ids=(take_id,) * 7, characters=(DeckCharacter("Ella"),) * 4,
                budget_lines=tuple(BudgetLine(f"Line {n}", 1000) for n in range(20)),
                team=(TeamMember("Ana", "Director"),) * 7)
    headings: dict[str, list[str]] = {}
    for page in lay_out_deck(folder.db, folder.media, deck).pages:
        headings.setdefault(page.section, []).append(page.heading)
    for key in ("tone", "characters", "budget", "team"):
        assert headings[key] == [SECTIONS[key], f"{SECTIONS[key]} (continued)"], key


def test_a_long_table_goes_on_to_another_page_with_the_total_last(drafted):
    lines = tuple(BudgetLine(f"Line {n}", 1000 + n) for n in range(40))
    layout = lay_out_deck(drafted.db, drafted.media, Deck(budget_lines=lines))
    tables = [block for page in layout.pages if page.section == "budget"
              for block in page.blocks if isinstance(block, TableBlock)]
    assert len(tables) >= 3
    assert [row[0] for table in tables for row in table.rows] == [f"Line {n}" for n in range(40)] + ["Total"]
    assert [table.total for table in tables] == [False] * (len(tables) - 1) + [True]
    assert all(table.rect.bottom <= 480 for table in tables)


def test_every_block_is_on_its_page(pictured):
    folder, listed, take_id = pictured
    deck = Deck(key_art_take_id=take_id, logline=words(60), synopsis=words(900), tone=words(300),
                mood_take_ids=(take_id,) * 9, characters=(DeckCharacter("A", words(300)),),
                sequence_shot_ids=tuple(shot.id for shot in listed), team=(TeamMember("B", "Producer", words(200)),),
                contact=words(20))
    for page in lay_out_deck(folder.db, folder.media, deck).pages:
        for block in page.blocks:
            rect = block.rect
            assert 0 <= rect.x and rect.right <= PAGE_WIDTH + 0.01 and 0 <= rect.y and rect.bottom <= PAGE_HEIGHT + 0.01
            if isinstance(block, TextBlock):
                assert all(text_width(line, block.size, block.style) <= rect.w + 0.01
                           for paragraph in block.paragraphs for line in paragraph.lines), block.text


def test_only_the_pages_of_the_sections_asked_for_numbered_as_in_the_deck(drafted):
    deck = Deck(logline="One night.", synopsis="Storm.", contact="hello@x")
    layout = lay_out_deck(drafted.db, drafted.media, deck, sections={"contact"})
    assert [(page.section, page.number) for page in layout.pages] == [("contact", 4)]
    with pytest.raises(ValueError, match="unknown deck section.*budgett"):
        lay_out_deck(drafted.db, drafted.media, deck, sections={"budgett"})


def test_placed_pictures_fill_or_fit_their_rect():
    image = Image.new("RGB", (400, 100), "red")
    cover = ImageBlock(Rect(10, 20, 144, 144), lambda: image, "x", None)
    picture, rect = placed_jpeg(cover, dpi=72)
    assert rect == cover.rect and Image.open(io.BytesIO(picture.data)).size == (100, 100)  # cropped, never enlarged
    contain = ImageBlock(Rect(0, 0, 200, 200), lambda: image, "x", None, fit="contain")
    picture, rect = placed_jpeg(contain, dpi=144)
    assert (rect.w, rect.h) == (200, 50) and rect.y == 75
    with Image.open(io.BytesIO(picture.data)) as decoded:
        assert decoded.format == "JPEG" and decoded.size == (picture.width, picture.height) == (400, 100)


def test_a_mood_picture_whose_file_is_gone_is_named(pictured):
    folder, listed, take_id = pictured
    gone = generated_take(folder, listed[2].id, (1, 2, 3))
    folder.media.path(takes.get_take(folder.db, gone).media_hash).unlink()
    layout = lay_out_deck(folder.db, folder.media, Deck(mood_take_ids=(take_id, take_id, gone)))
    images = [block for page in layout.pages for block in page.blocks if isinstance(block, ImageBlock)]
    placed_jpeg(images[0])
    with pytest.raises(MissingImageError, match="mood board image 3"):
        placed_jpeg(images[2])


def test_the_key_art_band_darkens_under_the_title(pictured):
    folder, _listed, take_id = pictured
    layout = lay_out_deck(folder.db, folder.media, Deck(key_art_take_id=take_id, logline="One night."))
    title = layout.pages[0]
    assert isinstance(title.blocks[0], ImageBlock) and title.blocks[0].rect == Rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT)
    band = max((block for block in title.blocks if isinstance(block, ShapeBlock)), key=lambda block: block.rect.h)
    texts = {block.text: block for block in all_text_blocks(title)}
    assert band.opacity < 1 and texts["Film"].rect.y >= band.rect.y and texts["One night."].rect.bottom <= PAGE_HEIGHT
    assert title.provenances[0].image == "Key art" and SECTIONS["title"]
