"""Shot lists read back with the csv module and openpyxl, checked against the store."""

import csv
import errno
import json
import zipfile

import openpyxl
import pytest

from previz_app.animatic.timeline import build_timeline
from previz_app.domain.vocabulary import TakeKind
from previz_app.engine.base import Cancelled
from previz_app.export.files import ExportError
from previz_app.export.shotlist import SHOTLIST_COLUMNS, XLSX_MAX_TEXT, ShotListExport, export_shotlist
from previz_app.store import operations, scenes, shots, takes
from previz_app.store.media import add_media
from tests.animatic.heroes import give_heroes

CAFE = "Café – «quote» 東京"


@pytest.fixture
def crewed(drafted):
    """`drafted` with hero frames and the fields a crew reads filled in, accents included."""
    give_heroes(drafted)
    first, second = shots.list_shots(drafted.db)[:2]
    kitchen = scenes.list_scenes(drafted.db)[0]
    edits = [
        operations.EditScene(kitchen.id, "heading", f"INT. {CAFE} - NIGHT"),
        operations.EditShot(first.id, "notes", CAFE),
        operations.EditShot(first.id, "movement", "pan"),
        operations.EditShot(first.id, "direction", "left"),
        operations.EditShot(first.id, "lens_mm", 32.5),
        operations.EditShot(first.id, "duration", 2.25),
        operations.EditShot(first.id, "seed", 42),
        operations.EditShot(first.id, "prompt_override", f"a lamp-lit kitchen, {CAFE}"),
        operations.EditShot(first.id, "negative_prompt", "blurry, text"),
        operations.EditShot(second.id, "transition_in", "dissolve"),
        operations.EditShot(second.id, "transition_seconds", 0.5),
        operations.EditShot(second.id, "seed", 2**62),  # beyond what a spreadsheet number holds exactly
    ]
    for edit in edits:
        operations.perform(drafted.db, edit)
    return drafted


def expected_rows(folder, scene_numbers=None):
    """What each row should say, from the store and the animatic's timeline."""
    timeline = build_timeline(folder.db)
    rows = []
    for item in timeline.shots:
        shot, scene = item.shot, item.scene
        if scene_numbers is not None and scene.number not in scene_numbers:
            continue
        hero = takes.get_take(folder.db, shot.hero_take_id) if shot.hero_take_id else None
        recipe = json.loads(hero.recipe) if hero and hero.kind == TakeKind.generated else {}
        cut = shot.transition_in == "cut" and shot.transition_out == "cut"
        rows.append({
            "Scene": scene.number, "Scene heading": scene.heading, "Shot": shot.number,
            "Size": shot.size.value, "Angle": shot.angle.value, "Movement": shot.movement.value,
            "Direction": shot.direction.value or None, "Lens (mm)": shot.lens_mm, "Duration (s)": shot.duration,
            "TC in": timeline.timecode(item.start), "TC out": timeline.timecode(item.end),
            "Characters": ", ".join(shot.characters) or None, "Action": shot.action or None,
            "Dialogue": shot.dialogue or None, "Notes": shot.notes or None,
            "Transition in": shot.transition_in.value, "Transition out": shot.transition_out.value,
            "Transition (s)": None if cut else shot.transition_seconds,
            "Prompt override": shot.prompt_override or None, "Negative prompt": shot.negative_prompt or None,
            "Seed": shot.seed,
            "Hero take": hero.id if hero else None,
            "Hero file": f"media/{hero.media_hash[:2]}/{hero.media_hash}" if hero else None,
            "Hero engine": recipe.get("engine") or None, "Hero model": recipe.get("model") or None,
            "Hero seed": recipe.get("seed"), "Hero prompt": recipe.get("prompt") or None,
        })
    return rows


def as_csv_text(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_lists_every_shot_in_film_order_with_its_fields(crewed, tmp_path):
    out = tmp_path / "shots.csv"
    report = export_shotlist(crewed.db, crewed.media, ShotListExport(out))
    expected = expected_rows(crewed)
    assert report.shots == len(expected) == len(shots.list_shots(crewed.db)) == 4
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    with open(out, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(SHOTLIST_COLUMNS)
    rows = read_csv(out)
    assert rows == [{key: as_csv_text(value) for key, value in row.items()} for row in expected]
    first = rows[0]
    assert first["Notes"] == CAFE and CAFE in first["Scene heading"]
    assert (first["Movement"], first["Direction"], first["Lens (mm)"], first["Duration (s)"], first["Seed"]) == (
        "pan", "left", "32.5", "2.25", "42")
    assert rows[1]["Seed"] == str(2**62) and rows[1]["Transition (s)"] == "0.5"
    assert first["Hero engine"] == "blocking" and first["Hero prompt"]
    assert (first["Prompt override"], first["Negative prompt"]) == (f"a lamp-lit kitchen, {CAFE}", "blurry, text")
    assert rows[1]["Prompt override"] == rows[1]["Negative prompt"] == ""
    assert all((crewed.path / row["Hero file"]).is_file() for row in rows)  # the name is the file in the project


def test_xlsx_has_typed_cells_a_frozen_bold_header_and_the_same_rows(crewed, tmp_path):
    out = tmp_path / "shots.xlsx"
    export_shotlist(crewed.db, crewed.media, ShotListExport(out))
    sheet = openpyxl.load_workbook(out).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(SHOTLIST_COLUMNS)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "D2"
    expected = expected_rows(crewed)
    expected[1]["Seed"] = str(2**62)  # kept exact as text
    assert [dict(zip(SHOTLIST_COLUMNS, row)) for row in values[1:]] == expected
    column = {heading: index for index, heading in enumerate(SHOTLIST_COLUMNS)}
    for row in sheet.iter_rows(min_row=2):
        for heading in ("Lens (mm)", "Duration (s)", "Hero take", "Hero seed"):
            assert row[column[heading]].data_type == "n", heading
        assert isinstance(row[column["Duration (s)"]].value, (int, float))
    assert sheet.cell(2, column["Seed"] + 1).value == 42 and sheet.cell(2, column["Notes"] + 1).value == CAFE
    assert sheet.cell(2, column["Action"] + 1).alignment.wrap_text
    assert sheet.column_dimensions["M"].width > sheet.column_dimensions["A"].width  # action is wide, scene narrow


def test_text_that_looks_like_a_formula_stays_text(crewed, tmp_path):
    shot = shots.list_shots(crewed.db)[3]
    operations.perform(crewed.db, operations.EditShot(shot.id, "action", '=HYPERLINK("http://x","click")'))
    operations.perform(crewed.db, operations.EditShot(shot.id, "dialogue", "- Run!"))
    export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "shots.csv"))
    export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "shots.xlsx"))
    row = read_csv(tmp_path / "shots.csv")[3]
    assert row["Action"] == "'" + '=HYPERLINK("http://x","click")' and row["Dialogue"] == "'- Run!"
    cell = openpyxl.load_workbook(tmp_path / "shots.xlsx").active.cell(5, SHOTLIST_COLUMNS.index("Action") + 1)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","click")'


def test_text_beyond_excels_cell_limit_is_cut_visibly_in_xlsx_and_whole_in_csv(crewed, tmp_path):
    shot = shots.list_shots(crewed.db)[2]
    long = "".join(f"word{index} " for index in range(8000))  # 70,890 characters; a cell holds 32,767
    operations.perform(crewed.db, operations.EditShot(shot.id, "prompt_override", long))
    export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "shots.csv"))
    export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "shots.xlsx"))
    assert read_csv(tmp_path / "shots.csv")[2]["Prompt override"] == long
    cell = openpyxl.load_workbook(tmp_path / "shots.xlsx").active.cell(4, SHOTLIST_COLUMNS.index("Prompt override") + 1)
    kept = len(cell.value.partition("… [truncated: ")[0])
    assert len(cell.value) <= XLSX_MAX_TEXT and kept > 32_000 and long.startswith(cell.value[:kept])
    assert cell.value.endswith(f"… [truncated: {len(long) - kept:,} more characters; see the CSV]")


def test_the_list_reads_one_state_while_another_connection_deletes_a_shot(crewed, tmp_path, monkeypatch):
    listed, other, deleted = shots.list_shots, crewed.connect(), []

    def list_then_delete(db, *args, **kwargs):
        found = listed(db, *args, **kwargs)
        if not deleted:  # the app deletes the last shot and its takes right after the export listed them
            deleted.append(found[-1])
            operations.perform(other, operations.DeleteShots([found[-1].id]))
        return found

    monkeypatch.setattr(shots, "list_shots", list_then_delete)
    try:
        rows = read_csv(export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "s.csv")).out)
    finally:
        other.close()
    assert [row["Shot"] for row in rows][-1] == deleted[0].number
    assert rows[-1]["Hero take"] == str(deleted[0].hero_take_id) != ""  # its take, as it was when listed
    assert len(listed(crewed.db)) == len(rows) - 1


def test_scene_selection_keeps_the_whole_films_timecodes(crewed, tmp_path):
    out = tmp_path / "scene2.csv"
    report = export_shotlist(crewed.db, crewed.media, ShotListExport(out, scenes="2"))
    rows = read_csv(out)
    expected = expected_rows(crewed, {"2"})
    assert report.shots == 1 and [row["Shot"] for row in rows] == [row["Shot"] for row in expected] == ["2"]
    assert rows[0]["TC in"] == expected[0]["TC in"] != "01:00:00:00"
    export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "both.csv", scenes="1,2"))
    assert [row["Shot"] for row in read_csv(tmp_path / "both.csv")] == [shot.number for shot in shots.list_shots(crewed.db)]


def test_a_shot_without_a_generated_hero_has_no_recipe(drafted, tmp_path):
    first = shots.list_shots(drafted.db)[0]
    digest = add_media(drafted.db, drafted.media, b"\x89PNG drawn by hand", "image/png")
    with drafted.transaction():
        take_id = takes.record_take(drafted.db, first.id, TakeKind.drawn, digest, 18)
    rows = read_csv(export_shotlist(drafted.db, drafted.media, ShotListExport(tmp_path / "s.csv")).out)
    assert (rows[0]["Hero take"], rows[0]["Hero file"]) == (str(take_id), f"media/{digest[:2]}/{digest}")
    assert rows[0]["Hero engine"] == rows[0]["Hero prompt"] == ""
    assert all(row["Hero take"] == row["Hero file"] == "" for row in rows[1:])


@pytest.mark.parametrize(
    ("name", "scenes", "message"),
    [("shots.pdf", "", "name the file .csv or .xlsx"), ("shots.csv", "9", "no scene 9"), ("shots.csv", "2-1", "backwards")],
)
def test_bad_requests_are_refused_before_any_file(drafted, tmp_path, name, scenes, message):
    with pytest.raises(ValueError, match=message):
        export_shotlist(drafted.db, drafted.media, ShotListExport(tmp_path / name, scenes=scenes))
    assert not (tmp_path / name).exists()


def _full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


class _FullDiskWriter:
    def __init__(self, *_args, **_kwargs):
        pass

    writerow = writerows = staticmethod(_full_disk)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_full_disk_leaves_the_old_file_and_no_temporary(crewed, tmp_path, monkeypatch, suffix):
    out = tmp_path / f"shots{suffix}"
    out.write_bytes(b"the list from yesterday")
    if suffix == ".csv":
        monkeypatch.setattr(csv, "writer", _FullDiskWriter)
    else:  # xlsxwriter writes its zip at close() and wraps the OSError in its own error
        monkeypatch.setattr(zipfile.ZipFile, "write", _full_disk)
        monkeypatch.setattr(zipfile.ZipFile, "writestr", _full_disk)
    with pytest.raises(ExportError, match="disk is full"):
        export_shotlist(crewed.db, crewed.media, ShotListExport(out))
    assert out.read_bytes() == b"the list from yesterday"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["Film.previz", "two_rooms.fountain", out.name])


def test_progress_counts_shots_and_cancel_leaves_nothing(crewed, tmp_path):
    calls = []
    export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "a.csv"), lambda *call: calls.append(call))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    calls.clear()
    with pytest.raises(Cancelled):
        export_shotlist(crewed.db, crewed.media, ShotListExport(tmp_path / "b.xlsx"),
                        lambda done, total: calls.append(done), lambda: len(calls) >= 2)
    assert calls == [1, 2]
    assert not (tmp_path / "b.xlsx").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]
