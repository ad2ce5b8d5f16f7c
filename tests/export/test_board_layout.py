"""The board layout: grids, pages, frames in the film's aspect, captions that fit."""

import math

import pytest

from previz_app.domain.model import Scene, Shot
from previz_app.domain.vocabulary import Direction, Movement, ShotSize
from previz_app.export.board_layout import (
    ASCENT,
    LAYOUTS,
    MARGIN,
    BoardFields,
    BoardSpec,
    camera_line,
    caption_size,
    dialogue_text,
    lay_out_page,
    page_size,
    paginate,
    panel_frames,
    parse_layout,
)
from previz_app.export.contact_sheet import trim_box
from previz_app.export.fonts import text_width

LANDSCAPE = {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 6: (3, 2), 9: (3, 3), 12: (4, 3)}
PORTRAIT = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 6: (2, 3), 9: (3, 3), 12: (3, 4)}
LONG = "MARA hauls a canvas sack of groceries up the slope while the wind flattens the gorse. " * 6


def scene(number="1", heading="INT. KITCHEN - NIGHT", scene_id=1):
    return Scene(number, heading, id=scene_id)


def shot(number="1A", **values):
    values.setdefault("action", "ELLA pours tea. TOM watches from the door.")
    return Shot(1, number=number, **values)


def lay_out_board(board, scenes):
    """Every page, as the board export lays them out: paged, then each page laid out."""
    pages = paginate(scenes, board.per_page)
    return [lay_out_page(board, page, number, len(pages)) for number, page in enumerate(pages, start=1)]


def spec(paper="a4", orientation="landscape", layout="6", aspect=2.39, **values):
    width, height = page_size(paper, orientation)
    columns, rows = parse_layout(layout, orientation)
    return BoardSpec("Two Rooms", aspect, width, height, columns, rows, **values)


@pytest.mark.parametrize("count", sorted(LAYOUTS))
def test_a_panel_count_takes_the_grid_that_suits_the_paper(count):
    assert parse_layout(str(count), "landscape") == LANDSCAPE[count]
    assert parse_layout(f" {count} ", "Portrait") == PORTRAIT[count]


def test_a_grid_is_columns_by_rows():
    assert parse_layout("3x2") == (3, 2)
    assert parse_layout("2X5", "portrait") == (2, 5)
    assert parse_layout("4×3") == (4, 3)


@pytest.mark.parametrize("text, message", [
    ("5", "cannot lay out 5 panels"), ("16", "cannot lay out 16"), ("0", "cannot lay out 0"),
    ("4x4", "16 panels a page; at most 12"), ("13x1", "at most 12"), ("0x3", "at least one column"),
    ("three", "neither a grid"), ("3x", "neither a grid"), ("", "neither a grid"),
])
def test_other_layouts_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_layout(text, "landscape")


def test_paper_sizes_are_in_points_and_turn_with_the_orientation():
    assert page_size("a4", "portrait") == (595.28, 841.89)
    assert page_size("A4", "landscape") == (841.89, 595.28)
    assert page_size("letter", "landscape") == (792, 612)
    assert page_size("tabloid", "portrait") == (792, 1224)
    with pytest.raises(ValueError, match="unknown paper 'a3'.*a4, letter, tabloid"):
        page_size("a3", "portrait")
    with pytest.raises(ValueError, match="orientation 'sideways'"):
        page_size("a4", "sideways")
    with pytest.raises(ValueError, match="orientation"):
        parse_layout("6", "upright")


def test_each_scene_starts_a_page():
    one, two = scene("1", scene_id=1), scene("2", scene_id=2)
    pages = paginate([(one, [shot(f"1{i}") for i in range(7)]), (two, []), (scene("3", scene_id=3), [shot("3")])], 6)
    assert [(page.scene.number, len(page.shots)) for page in pages] == [("1", 6), ("1", 1), ("3", 1)]


@pytest.mark.parametrize("paper", ["a4", "letter", "tabloid"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("count", sorted(LAYOUTS))
@pytest.mark.parametrize("aspect", [1.33, 2.39])
def test_panels_keep_the_film_aspect_inside_their_cells_and_captions_fit(paper, orientation, count, aspect):
    board = spec(paper, orientation, str(count), aspect)
    shots = [shot(f"1{chr(65 + i)}", action=LONG, dialogue="ELLA: " + LONG, notes=LONG) for i in range(count)]
    page = lay_out_page(board, paginate([(scene(), shots)], count)[0], 1, 1)
    assert len(page.panels) == count
    footer_rule = page.rules[1][1]
    header_rule = page.rules[0][1]
    for panel in page.panels:
        frame = panel.frame
        assert frame.width / frame.height == pytest.approx(aspect)
        assert MARGIN - 1e-6 <= frame.x and frame.right <= board.width - MARGIN + 1e-6
        assert header_rule < frame.y and frame.bottom < footer_rule
        assert panel.caption, "a long caption is clipped, never dropped"
        for run in panel.caption:
            assert run.size >= 6
            assert run.x >= MARGIN - 1e-6
            assert run.x + text_width(run.text, run.size, run.style) <= board.width - MARGIN + 0.01
            assert run.y - ASCENT * run.size >= frame.y - 1e-6
            assert run.y + 0.24 * run.size < footer_rule, "caption runs into the footer"
    frames = [panel.frame for panel in page.panels]
    for index, first in enumerate(frames):  # no two pictures overlap
        for second in frames[index + 1:]:
            assert first.right <= second.x or second.right <= first.x or first.bottom <= second.y or second.bottom <= first.y


def test_captions_stay_in_their_cell_and_do_not_overlap_the_panel_below():
    board = spec("letter", "portrait", "12")
    shots = [shot(f"1{chr(65 + i)}", action=LONG, dialogue="TOM: " + LONG) for i in range(12)]
    page = lay_out_page(board, paginate([(scene(), shots)], 12)[0], 1, 1)
    above, below = page.panels[0], page.panels[3]  # same column, next row
    last = max(run.y for run in above.caption)
    assert last + 0.24 * above.caption[-1].size <= below.frame.y
    assert above.caption[-1].text.endswith("…")


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_twelve_up_on_letter_stays_readable_and_captions_shrink_with_the_panel(orientation):
    sizes = {}
    for count in (1, 6, 12):
        page = lay_out_board(spec("letter", orientation, str(count)), [(scene(), [shot()])])[0]
        sizes[count] = page.panels[0].caption[0].size
    assert sizes[12] >= 6
    assert sizes[1] > sizes[6] > sizes[12]
    assert caption_size(10_000, 10_000) == 11 and caption_size(50, 50) >= 6


def test_the_caption_reads_number_camera_duration_then_action_dialogue_and_notes():
    one = shot("3B", size=ShotSize.ms, movement=Movement.dolly_in, lens_mm=35, duration=3, action="She turns.",
               dialogue="ELLA: You came back.", notes="Hold on the lamp.", characters=("ELLA",))
    runs = lay_out_board(spec(), [(scene(), [one])])[0].panels[0].caption
    assert [(run.text, run.style) for run in runs] == [
        ("3B", "bold"), ("3.0 s", "regular"), ("MS · EYE · PUSH IN · 35 mm", "regular"),
        ("She turns.", "regular"), ("ELLA: You came back.", "italic"), ("Note: Hold on the lamp.", "regular")]
    number, duration, camera = runs[:3]
    assert number.y == duration.y == camera.y  # one line
    assert number.x < camera.x < duration.x
    assert [run.y for run in runs[3:]] == sorted(run.y for run in runs[3:]) and runs[3].y > number.y


def test_each_caption_field_can_be_turned_off():
    one = shot("3B", action="She turns.", dialogue="ELLA: You came back.", notes="Hold on the lamp.")
    everything = {run.text for run in lay_out_board(spec(), [(scene(), [one])])[0].panels[0].caption}
    for name, text in [("number", "3B"), ("camera", "MS · EYE · STATIC · 35 mm"), ("duration", "3.0 s"),
                       ("action", "She turns."), ("dialogue", "ELLA: You came back."), ("notes", "Note: Hold on the lamp.")]:
        assert text in everything
        fields = BoardFields(**{name: False})
        texts = {run.text for run in lay_out_board(spec(fields=fields), [(scene(), [one])])[0].panels[0].caption}
        assert texts == everything - {text}, name
    bare = lay_out_board(spec(fields=BoardFields(False, False, False, False, False, False)), [(scene(), [one])])[0]
    assert bare.panels[0].caption == ()


def test_camera_lines_name_moves_the_way_a_crew_says_them():
    assert camera_line(Shot(size=ShotSize.two_shot, movement=Movement.pan, direction=Direction.left, lens_mm=27.5)) \
        == "TWO SHOT · EYE · PAN LEFT · 27.5 mm"
    assert camera_line(Shot(size=ShotSize.cu, movement=Movement.dolly_out, lens_mm=85)) == "CU · EYE · PULL OUT · 85 mm"


def test_dialogue_keeps_its_speakers_and_names_a_lone_speaker():
    drafted = Shot(dialogue="MARA (flat, careful) (beat): Tom.\nTOM: Mara.", characters=("MARA", "TOM"))
    assert dialogue_text(drafted) == "MARA (flat, careful) (beat): Tom.\nTOM: Mara."
    assert dialogue_text(Shot(dialogue="You came back.\nAfter all this time.", characters=("ELLA",))) \
        == "ELLA: You came back. After all this time."
    assert dialogue_text(Shot(dialogue="You came back.", characters=("ELLA", "TOM"))) == "You came back."
    assert dialogue_text(Shot(dialogue="ELLA: Hello\nagain")) == "ELLA: Hello again"


def test_the_header_names_film_and_scene_and_the_footer_counts_pages():
    pages = lay_out_board(spec(layout="1", date="2025-03-01"), [(scene("4", "EXT. PIER - DAWN"), [shot(), shot("4A")])])
    assert [run.text for run in pages[1].header] == ["Two Rooms", "Scene 4 · EXT. PIER - DAWN"]
    assert [run.text for run in pages[1].footer] == ["2025-03-01", "Page 2 of 2"]
    right = pages[1].footer[1]
    assert right.x + text_width(right.text, right.size) == pytest.approx(pages[1].width - MARGIN)


def test_a_watermark_only_when_asked_diagonal_and_centred():
    plain = lay_out_board(spec(), [(scene(), [shot()])])[0]
    marked = lay_out_board(spec(watermark=True), [(scene(), [shot()])])[0]
    assert plain.watermark is None
    mark = marked.watermark
    assert mark.text == "CONFIDENTIAL"
    assert (mark.x, mark.y) == (marked.width / 2, marked.height / 2)
    assert mark.angle == pytest.approx(math.degrees(math.atan2(marked.height, marked.width)))
    assert text_width(mark.text, mark.size, "bold") < math.hypot(marked.width, marked.height)


def test_pictures_can_be_framed_before_captions_are_set():
    board = spec(layout="6")
    page = lay_out_board(board, [(scene(), [shot(f"1{i}") for i in range(6)])])[0]
    assert panel_frames(board) == tuple(panel.frame for panel in page.panels)


def test_a_picture_a_pixel_off_the_film_aspect_is_trimmed_a_different_one_is_not():
    assert trim_box(1280, 536, 2.39) is None  # within rounding: already fits
    assert trim_box(320, 136, 2.39) == (0, 1, 320, 135)  # 2.35: trimmed top and bottom
    assert trim_box(1000, 400, 2.39) == (22, 0, 978, 400)  # 2.5: trimmed at the sides
    assert trim_box(1024, 768, 2.39) is None  # 4:3 in scope: shown whole
