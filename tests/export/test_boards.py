"""Storyboard boards, read back with pypdf and Pillow: pages, text, pictures, fonts,
contact sheets, and the failures that must leave no file."""

import errno
import math
from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageStat
from pypdf.generic import ContentStream

from previz_app.domain.model import Scene, Shot
from previz_app.engine.base import Cancelled
from previz_app.export import files as export_files
from previz_app.export.board_layout import BoardSpec, panel_frames
from previz_app.export.boards import (
    BLOCKING_MAX_SIDE,
    BoardExport,
    BoardFields,
    BoardReport,
    board_page_count,
    export_boards,
    render_board_page,
)
from previz_app.export.files import ExportError
from previz_app.export.fonts import FACES
from previz_app.export.pictures import MissingImageError
from previz_app.store import operations, scenes, settings, shots, takes
from tests.animatic.heroes import give_heroes

COUNTS = {"1": 7, "2": 1, "3": 13}  # shots per scene of the `boarded` project
LANDSCAPE = {"1": 1, "2": 2, "3": 3, "4": 4, "6": 6, "9": 9, "12": 12}


@pytest.fixture
def boarded(folder):
    """Three scenes of 7, 1 and 13 shots (and a removed scene), each shot with a hero."""
    for position, (number, count) in enumerate(COUNTS.items()):
        scene_id = scenes.insert_scene(folder.db, Scene(number, f"INT. ROOM {number} - DAY", position=position))
        for index in range(count):
            shots.append_shot(folder.db, Shot(scene_id, action=f"Action of scene {number} shot {index}.",
                                              dialogue=f"ELLA: Line {number}-{index}." if index % 2 else "",
                                              notes="Practical lamp." if index == 0 else "", characters=("ELLA",)))
    gone = scenes.insert_scene(folder.db, Scene("9", "EXT. CUT - NIGHT", position=9, removed=True))
    shots.append_shot(folder.db, Shot(gone, action="A scene the rewrite removed."))
    give_heroes(folder)
    return folder


def export(folder, out, **values):
    return export_boards(folder.db, folder.media, BoardExport(Path(out), **values))


def page_texts(path):
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def drawn_images(page):
    """How many times the page draws an image XObject."""
    xobjects = page["/Resources"].get("/XObject", {})
    images = {name for name, ref in xobjects.items() if ref.get_object()["/Subtype"] == "/Image"}
    operations = ContentStream(page.get_contents(), page.pdf).operations
    return sum(1 for operands, operator in operations if operator == b"Do" and operands[0] in images)


def leftovers(folder_path):
    return sorted(path.name for path in Path(folder_path).iterdir() if path.name.startswith("."))


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("layout", sorted(LANDSCAPE, key=int))
def test_every_layout_pages_each_scene_on_its_own(boarded, tmp_path, layout, orientation):
    per_page = LANDSCAPE[layout]
    expected = sum(math.ceil(count / per_page) for count in COUNTS.values())
    report = export(boarded, tmp_path / "boards.pdf", layout=layout, orientation=orientation, date="2025-03-01")
    assert report == BoardReport(tmp_path / "boards.pdf", (tmp_path / "boards.pdf",), expected, sum(COUNTS.values()))
    reader = pypdf.PdfReader(tmp_path / "boards.pdf")
    assert len(reader.pages) == expected
    width, height = (float(side) for side in reader.pages[0].mediabox.upper_right)
    assert (width > height) == (orientation == "landscape")
    headings = [number for number, count in COUNTS.items() for _ in range(math.ceil(count / per_page))]
    for index, (page, number) in enumerate(zip(reader.pages, headings)):
        text = page.extract_text()
        assert f"Page {index + 1} of {expected}" in text and "2025-03-01" in text
        assert f"Scene {number} · INT. ROOM {number} - DAY" in text
        assert drawn_images(page) == text.count("Action of scene")
    assert board_page_count(boarded.db, BoardExport(tmp_path / "x.pdf", layout=layout, orientation=orientation)) == expected


def test_the_pdf_carries_numbers_dialogue_and_metadata_as_text(drafted, tmp_path):
    give_heroes(drafted)
    export(drafted, tmp_path / "b.pdf", layout="4")
    reader = pypdf.PdfReader(tmp_path / "b.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ("Film", "Scene 1 · INT. KITCHEN - NIGHT", "Scene 2 · EXT. LIGHTHOUSE - DAY", "1A", "1B",
                     "ELLA: You came back.", "TOM: The lamp was out.", "ELLA pours tea. TOM watches from the door.",
                     "WS · EYE · STATIC", "3.0 s", "1.5 s", "Page 1 of 2", "Page 2 of 2"):
        assert expected in text
    assert "CONFIDENTIAL" not in text
    assert reader.metadata.title == "Film — storyboards"
    assert reader.metadata.creator == "previz"
    assert reader.metadata.subject == "Storyboards, scenes 1, 2"


def test_fonts_are_embedded_and_images_are_jpeg(boarded, tmp_path):
    export(boarded, tmp_path / "b.pdf")
    reader = pypdf.PdfReader(tmp_path / "b.pdf")
    fonts, filters = {}, set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = "/FontFile2" in font["/FontDescriptor"] if "/FontDescriptor" in font else False
        for ref in page["/Resources"]["/XObject"].values():
            filters.add(str(ref.get_object()["/Filter"]))
    assert fonts and all(fonts.values()), fonts  # every font embedded, no bare Helvetica
    # The three bundled faces, by the names their files carry (DejaVuSans, DejaVuSans-Bold, ...).
    assert {name.split("+")[-1] for name in fonts} == {Path(file).stem for _name, file in FACES.values()}
    assert filters == {"['/DCTDecode']"} or filters == {"/DCTDecode"}


def test_pictures_are_embedded_at_their_printed_size_never_larger_never_scaled_up(folder, tmp_path):
    scene_id = scenes.insert_scene(folder.db, Scene("1", "INT. ROOM - DAY"))
    for _ in range(2):
        shots.append_shot(folder.db, Shot(scene_id))
    give_heroes(folder, size=(1280, 536))
    export(folder, tmp_path / "small.pdf", layout="12", dpi=72)
    export(folder, tmp_path / "large.pdf", layout="1", dpi=300)
    small = [image.image for image in pypdf.PdfReader(tmp_path / "small.pdf").pages[0].images]
    frame = panel_frames(BoardSpec("", 2.39, 841.89, 595.28, 4, 3, date="x"))[0]
    assert len(small) == 2 and all(image.width <= math.ceil(frame.width) + 1 for image in small)
    assert all(image.width > frame.width - 2 for image in small)  # scaled to the print, not below it
    large = [image.image for page in pypdf.PdfReader(tmp_path / "large.pdf").pages for image in page.images]
    assert [image.size for image in large] == [(1280, 536)] * 2  # 770 pt at 300 dpi wants more: kept as is


def test_a_field_turned_off_is_not_printed(drafted, tmp_path):
    give_heroes(drafted)
    export(drafted, tmp_path / "b.pdf", fields=BoardFields(dialogue=False, camera=False))
    text = "\n".join(page_texts(tmp_path / "b.pdf"))
    assert "ELLA pours tea" in text and "1A" in text and "1.5 s" in text
    assert "You came back" not in text and "The lamp was out" not in text
    assert "EYE" not in text and "mm" not in text


def test_the_watermark_appears_only_when_asked(boarded, tmp_path):
    export(boarded, tmp_path / "plain.pdf", scenes="2")
    export(boarded, tmp_path / "marked.pdf", scenes="2", watermark=True)
    assert "CONFIDENTIAL" not in page_texts(tmp_path / "plain.pdf")[0]
    assert "CONFIDENTIAL" in page_texts(tmp_path / "marked.pdf")[0]


@pytest.mark.parametrize("spec, numbers", [("2", ["2"]), ("2-3", ["2", "3", "3", "3"]),
                                           ("1,3", ["1", "1", "3", "3", "3"]),
                                           ("", ["1", "1", "2", "3", "3", "3"])])
def test_scenes_select_the_pages(boarded, tmp_path, spec, numbers):
    report = export(boarded, tmp_path / "b.pdf", scenes=spec, layout="6")
    texts = page_texts(tmp_path / "b.pdf")
    assert [next(number for number in COUNTS if f"Scene {number} ·" in text) for text in texts] == numbers
    assert report.shots == sum(COUNTS[number] for number in dict.fromkeys(numbers))
    assert "A scene the rewrite removed" not in "".join(texts)


def test_png_sheets_one_per_page_at_the_paper_size_and_density(boarded, tmp_path):
    report = export(boarded, tmp_path / "sheet.png", scenes="1", layout="6", dpi=100)
    assert report.pages == 2 and report.files == (tmp_path / "sheet-01.png", tmp_path / "sheet-02.png")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Film.previz", "sheet-01.png", "sheet-02.png"]
    first, second = (Image.open(path) for path in report.files)
    assert first.format == "PNG" and first.size == (round(841.89 * 100 / 72), round(595.28 * 100 / 72))
    assert first.info["dpi"] == pytest.approx((100, 100), abs=0.01)
    frame = panel_frames(BoardSpec("", 2.39, 841.89, 595.28, 3, 2))[1]
    box = tuple(round(side * 100 / 72) for side in (frame.x + 2, frame.y + 2, frame.right - 2, frame.bottom - 2))
    drawn = ImageStat.Stat(first.convert("L").crop(box)).stddev[0]
    empty = ImageStat.Stat(second.convert("L").crop(box)).stddev[0]  # page 2 has one panel: slot 2 is blank
    assert empty == 0 and drawn > 10


def test_png_sheets_replace_an_older_longer_board(boarded, tmp_path):
    for number in (1, 2, 3):
        (tmp_path / f"sheet-0{number}.png").write_bytes(b"old")
    (tmp_path / "sheet-notes.png").write_bytes(b"mine")
    export(boarded, tmp_path / "sheet.png", scenes="2", dpi=50)
    assert sorted(path.name for path in tmp_path.glob("sheet*")) == ["sheet-01.png", "sheet-notes.png"]
    assert Image.open(tmp_path / "sheet-01.png").size == (round(841.89 * 50 / 72), round(595.28 * 50 / 72))
    assert leftovers(tmp_path) == []  # the older pages set aside while the new one moved in are gone


def test_the_preview_is_the_sheet_page(boarded, tmp_path):
    request = BoardExport(tmp_path / "unused.pdf", scenes="1", layout="6", date="2025-03-01")
    preview = render_board_page(boarded.db, boarded.media, request, page=1, dpi=50)
    export(boarded, tmp_path / "sheet.png", scenes="1", layout="6", date="2025-03-01", dpi=50)
    assert preview.mode == "RGB"
    sheet = Image.open(tmp_path / "sheet-02.png").convert("RGB")
    assert preview.size == sheet.size and preview.tobytes() == sheet.tobytes()
    assert not (tmp_path / "unused.pdf").exists()
    with pytest.raises(ValueError, match="the board has 2 pages; there is no page 3"):
        render_board_page(boarded.db, boarded.media, request, page=2)


def test_a_shot_without_a_hero_shows_its_blocking_panel(folder, tmp_path):
    scene_id = scenes.insert_scene(folder.db, Scene("1", "INT. ROOM - DAY"))
    shots.append_shot(folder.db, Shot(scene_id, action="No frame yet."))
    export(folder, tmp_path / "b.pdf")
    export(folder, tmp_path / "b.png", dpi=72)
    page = pypdf.PdfReader(tmp_path / "b.pdf").pages[0]
    assert drawn_images(page) == 1
    frame = panel_frames(BoardSpec("", 2.39, 841.89, 595.28, 3, 2))[0]
    box = (round(frame.x) + 2, round(frame.y) + 2, round(frame.right) - 2, round(frame.bottom) - 2)
    assert ImageStat.Stat(Image.open(tmp_path / "b-01.png").convert("L").crop(box)).stddev[0] > 10


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_a_single_blocking_panel_prints_at_the_requested_density(folder, tmp_path, paper):
    scene_id = scenes.insert_scene(folder.db, Scene("1", "INT. ROOM - DAY"))
    shots.append_shot(folder.db, Shot(scene_id, action="No frame yet."))
    export(folder, tmp_path / "b.pdf", layout="1", paper=paper, dpi=300)
    [image] = [image.image for image in pypdf.PdfReader(tmp_path / "b.pdf").pages[0].images]
    width, height = (841.89, 595.28) if paper == "a4" else (792.0, 612.0)
    frame = panel_frames(BoardSpec("", 2.39, width, height, 1, 1))[0]
    assert image.width >= round(frame.width / 72 * 300) - 1 > 2900  # not the old 1920 px: 300 dpi on paper
    assert image.width <= math.ceil(frame.width / 72 * 300) + 1


def test_a_blocking_panel_is_capped_on_a_large_page(folder, tmp_path):
    scene_id = scenes.insert_scene(folder.db, Scene("1", "INT. ROOM - DAY"))
    shots.append_shot(folder.db, Shot(scene_id))
    export(folder, tmp_path / "b.pdf", layout="1", paper="tabloid", dpi=600)
    [image] = [image.image for image in pypdf.PdfReader(tmp_path / "b.pdf").pages[0].images]
    assert max(image.size) == BLOCKING_MAX_SIDE  # 1152 pt at 600 dpi would be 9600 px


def test_the_board_reads_one_state_while_another_connection_deletes_a_shot(boarded, tmp_path, monkeypatch):
    listed, other, deleted = shots.list_shots, boarded.connect(), []
    before = len(listed(boarded.db))

    def list_then_delete(db, *args, **kwargs):
        found = listed(db, *args, **kwargs)
        if not deleted:  # the app deletes scene 3's last shot (and its takes) right after the export listed them
            deleted.append(next(shot for shot in reversed(found) if shot.action.startswith("Action of scene 3 ")))
            operations.perform(other, operations.DeleteShots([deleted[0].id]))
        return found

    monkeypatch.setattr(shots, "list_shots", list_then_delete)
    try:
        report = export(boarded, tmp_path / "b.pdf", scenes="3", layout="12")
    finally:
        other.close()
    assert report.shots == COUNTS["3"] and deleted
    assert f"Action of scene 3 shot {COUNTS['3'] - 1}." in "".join(page_texts(tmp_path / "b.pdf"))
    assert len(listed(boarded.db)) == before - 1  # the delete itself went through


def test_progress_counts_shots_to_the_end(boarded, tmp_path):
    calls = []
    export_boards(boarded.db, boarded.media, BoardExport(tmp_path / "b.pdf"), progress=lambda *call: calls.append(call))
    total = sum(COUNTS.values())
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {done for done, _ in calls} == set(range(total + 1))


def hero_path(folder, number):
    shot = next(shot for shot in shots.list_shots(folder.db) if shot.number == number)
    return folder.media.path(takes.get_take(folder.db, shot.hero_take_id).media_hash)


@pytest.mark.parametrize("suffix", ["pdf", "png"])
def test_a_missing_hero_image_names_the_shot_and_writes_nothing(boarded, tmp_path, suffix):
    hero_path(boarded, "3C").unlink()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(MissingImageError, match="shot 3C: its image .* is missing"):
        export(boarded, out / f"b.{suffix}")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("suffix", ["pdf", "png"])
def test_a_truncated_hero_image_names_the_shot_and_writes_nothing(boarded, tmp_path, suffix):
    path = hero_path(boarded, "3F")
    path.write_bytes(path.read_bytes()[:300])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(MissingImageError, match="shot 3F: its image .* cannot be read"):
        export(boarded, out / f"b.{suffix}", dpi=50)
    assert list(out.iterdir()) == []


def test_a_folder_that_does_not_exist_is_an_export_error(boarded, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        export(boarded, tmp_path / "nowhere" / "b.pdf")


def full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_keeps_the_old_pdf(boarded, tmp_path, monkeypatch):
    old = tmp_path / "b.pdf"
    old.write_bytes(b"%PDF old board")
    monkeypatch.setattr("reportlab.pdfgen.canvas.Canvas.save", full_disk)
    with pytest.raises(ExportError, match="the disk is full"):
        export(boarded, old)
    assert old.read_bytes() == b"%PDF old board"
    assert leftovers(tmp_path) == []


def test_a_full_disk_keeps_the_old_sheets(boarded, tmp_path, monkeypatch):
    old = tmp_path / "sheet-01.png"
    old.write_bytes(b"old page")
    monkeypatch.setattr(export_files.os, "replace", full_disk)
    with pytest.raises(ExportError, match="the disk is full"):
        export(boarded, tmp_path / "sheet.png", dpi=40)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Film.previz", "sheet-01.png"]
    assert old.read_bytes() == b"old page"


def test_sheets_moved_before_a_failing_move_are_taken_back(boarded, tmp_path, monkeypatch):
    replace, moves = export_files.os.replace, []

    def second_move_fails(source, target):
        moves.append(target)
        if len(moves) == 2:
            full_disk()
        replace(source, target)

    monkeypatch.setattr(export_files.os, "replace", second_move_fails)
    with pytest.raises(ExportError, match="the disk is full"):
        export(boarded, tmp_path / "sheet.png", dpi=40)
    assert len(moves) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Film.previz"]


@pytest.mark.parametrize("failing", [1, 2, 3, 4])
def test_a_failing_move_puts_every_older_page_back_byte_for_byte(boarded, tmp_path, monkeypatch, failing):
    # Scene 1 at 6 a page is two pages over three older ones: two set aside, two moved in.
    older = {f"sheet-0{number}.png": f"older page {number}".encode() for number in (1, 2, 3)}
    for name, data in older.items():
        (tmp_path / name).write_bytes(data)
    replace, moves = export_files.os.replace, []

    def one_move_fails(source, target):
        moves.append(target)
        if len(moves) == failing:
            full_disk()
        replace(source, target)

    monkeypatch.setattr(export_files.os, "replace", one_move_fails)
    with pytest.raises(ExportError, match="the disk is full"):
        export(boarded, tmp_path / "sheet.png", scenes="1", layout="6", dpi=36)
    assert len(moves) >= failing
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()} == older
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", ["pdf", "png"])
def test_cancel_leaves_no_file_and_keeps_the_old_one(boarded, tmp_path, suffix):
    old = tmp_path / ("b.pdf" if suffix == "pdf" else "b-01.png")
    old.write_bytes(b"old")
    polls = []

    def cancelled():
        polls.append(1)
        return len(polls) > 5

    with pytest.raises(Cancelled):
        export_boards(boarded.db, boarded.media, BoardExport(tmp_path / f"b.{suffix}", dpi=40), cancelled=cancelled)
    assert len(polls) == 6  # polled once a shot, stopped at the first yes
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["Film.previz", old.name])
    assert old.read_bytes() == b"old"


def test_a_board_without_shots_is_refused(folder, tmp_path):
    scenes.insert_scene(folder.db, Scene("1", "INT. EMPTY - DAY"))
    with pytest.raises(ValueError, match="nothing to board: the film has no shots"):
        export(folder, tmp_path / "b.pdf")
    assert not (tmp_path / "b.pdf").exists()


@pytest.mark.parametrize("values, message", [
    ({"out": "b.docx"}, "written as .pdf or .png"), ({"paper": "a3"}, "unknown paper"),
    ({"layout": "5"}, "cannot lay out 5 panels"), ({"dpi": 10}, "between 36 and 1200 dpi"),
    ({"out": "b.png", "dpi": 900}, "PNG sheets go up to 600 dpi"), ({"scenes": "7"}, "no scene 7"),
    ({"orientation": "diagonal"}, "orientation"),
])
def test_a_bad_request_is_refused_before_anything_is_written(boarded, tmp_path, values, message):
    values = {"out": "b.pdf", **values}
    values["out"] = tmp_path / values["out"]
    with pytest.raises(ValueError, match=message):
        export_boards(boarded.db, boarded.media, BoardExport(**values))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Film.previz"]


def test_the_title_comes_from_the_project(boarded, tmp_path):
    settings.update_project(boarded.db, title="The Last Lighthouse")
    export(boarded, tmp_path / "b.pdf", scenes="2")
    assert "The Last Lighthouse" in page_texts(tmp_path / "b.pdf")[0]
    assert pypdf.PdfReader(tmp_path / "b.pdf").metadata.title == "The Last Lighthouse — storyboards"
