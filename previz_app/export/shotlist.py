"""The shot list a crew works from: one row per shot in film order, as CSV or XLSX.

CSV is UTF-8 with a byte-order mark, because Excel reads a CSV without one in the
system's legacy code page and garbles every accent; other readers skip the mark.
A text cell that starts like a formula (= + - @) gets a leading apostrophe in the
CSV, so a spreadsheet shows it as text instead of running it. XLSX cells are typed:
numbers are numbers, text is text (never a formula).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from sqlite_utils import Database
from xlsxwriter.exceptions import FileCreateError

from ..domain.model import Scene, Shot, Take
from ..domain.timecode import format_timecode, frame_boundaries, timecode_frames
from ..domain.vocabulary import TransitionIn, TransitionOut
from ..engine.base import Cancelled
from ..store import scenes as scene_rows
from ..store import settings, shots, takes
from ..store.media import MediaStore
from ..store.transaction import read_snapshot
from .files import staged_output
from .pictures import provenance
from .selection import select_scenes

Cell = str | int | float | None


@dataclass(frozen=True)
class _Column:
    heading: str
    width: int  # XLSX column width, in characters
    kind: str  # "text", "wrap" (long text), "number" (lens, seconds) or "whole" (ids, seeds)


_COLUMNS = (
    _Column("Scene", 7, "text"),
    _Column("Scene heading", 30, "wrap"),
    _Column("Shot", 7, "text"),
    _Column("Size", 9, "text"),
    _Column("Angle", 7, "text"),
    _Column("Movement", 11, "text"),
    _Column("Direction", 9, "text"),
    _Column("Lens (mm)", 9, "number"),
    _Column("Duration (s)", 11, "number"),
    _Column("TC in", 12, "text"),
    _Column("TC out", 12, "text"),
    _Column("Characters", 18, "wrap"),
    _Column("Action", 40, "wrap"),
    _Column("Dialogue", 40, "wrap"),
    _Column("Notes", 30, "wrap"),
    _Column("Transition in", 14, "text"),
    _Column("Transition out", 14, "text"),
    _Column("Transition (s)", 12, "number"),
    _Column("Prompt override", 40, "wrap"),
    _Column("Negative prompt", 30, "wrap"),
    _Column("Seed", 12, "whole"),
    _Column("Hero take", 9, "whole"),
    _Column("Hero file", 24, "text"),
    _Column("Hero engine", 11, "text"),
    _Column("Hero model", 24, "text"),
    _Column("Hero seed", 12, "whole"),
    _Column("Hero prompt", 50, "wrap"),
)
SHOTLIST_COLUMNS: tuple[str, ...] = tuple(column.heading for column in _COLUMNS)

# Excel keeps 15 significant digits; a larger seed is written as text so it survives.
_EXACT_IN_EXCEL = 10**15
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_TEXT = 32_767  # characters Excel holds in a cell


@dataclass(frozen=True)
class ShotListExport:
    out: Path  # .csv or .xlsx (chosen by suffix; anything else is a ValueError)
    scenes: str = ""  # "" whole film; "3"; "3-7" (by film order); "2,5,9" (see selection.select_scenes)


@dataclass(frozen=True)
class ShotListReport:
    out: Path
    shots: int


def export_shotlist(
    db: Database,
    media: MediaStore,
    request: ShotListExport,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ShotListReport:
    """Write the shot list of the scenes `request.scenes` names to `request.out`, one row
    per shot in film order with the columns SHOTLIST_COLUMNS. TC in/out are the record
    timecodes of the whole-film animatic (TC out is the frame after the shot, as in an
    EDL). `progress(done, total)` is called per shot and once more when the file is
    written; `cancelled()` is polled per shot.

    Raises ValueError for a suffix other than .csv/.xlsx, an unknown scene or nothing
    to list; ExportError when the file cannot be written (nothing is left behind);
    engine.base.Cancelled when cancelled (no file is written)."""
    out = Path(request.out)
    writer = _WRITERS.get(out.suffix.lower())
    if writer is None:
        raise ValueError(f"cannot write a shot list as {out.name!r}: name the file .csv or .xlsx")
    with read_snapshot(db):  # the app may edit the project while its worker thread exports
        project = settings.read_project(db)
        active = scene_rows.list_scenes(db, include_removed=False)
        chosen = {scene.id: scene for scene in select_scenes(active, request.scenes)}
        film = [shot for shot in shots.list_shots(db) if shot.scene_id in {scene.id for scene in active}]
        listed = [(index, shot) for index, shot in enumerate(film) if shot.scene_id in chosen]
        heroes = takes.get_takes(db, [shot.hero_take_id for _index, shot in listed if shot.hero_take_id is not None])
    if not listed:
        where = "the scenes chosen have" if request.scenes else "the project has"
        raise ValueError(f"no shots to list: {where} no shots")
    bounds = frame_boundaries([shot.duration for shot in film], project.fps)
    first = timecode_frames(project.start_timecode, project.fps)
    total = len(listed) + 1
    rows: list[tuple[Cell, ...]] = []
    for done, (index, shot) in enumerate(listed):
        if cancelled is not None and cancelled():
            raise Cancelled()
        timecodes = tuple(format_timecode(first + bounds[at], project.fps) for at in (index, index + 1))
        rows.append(_row(chosen[shot.scene_id], shot, timecodes, heroes.get(shot.hero_take_id), media))
        if progress is not None:
            progress(done + 1, total)
    if cancelled is not None and cancelled():
        raise Cancelled()
    with staged_output(out) as temporary:
        writer(temporary, rows, project.title)
    if progress is not None:
        progress(total, total)
    return ShotListReport(out, len(rows))


def _row(scene: Scene, shot: Shot, timecodes: tuple[str, ...], hero: Take | None, media: MediaStore) -> tuple[Cell, ...]:
    made = provenance(hero, f"Shot {shot.number}") if hero is not None else None
    plain_cut = shot.transition_in == TransitionIn.cut and shot.transition_out == TransitionOut.cut
    hero_file = ""
    if hero is not None:
        path = media.path(hero.media_hash)
        hero_file = path.relative_to(media.root.parent).as_posix()  # media/ab/abcdef…, as in the project folder
    return (
        scene.number,
        scene.heading,
        shot.number,
        shot.size.value,
        shot.angle.value,
        shot.movement.value,
        shot.direction.value,
        shot.lens_mm,
        shot.duration,
        *timecodes,
        ", ".join(shot.characters),
        shot.action,
        shot.dialogue,
        shot.notes,
        shot.transition_in.value,
        shot.transition_out.value,
        None if plain_cut else shot.transition_seconds,  # a length means nothing on a cut
        shot.prompt_override,
        shot.negative_prompt,
        shot.seed,
        hero.id if hero is not None else None,
        hero_file,
        made.engine if made else "",
        made.model if made else "",
        made.seed if made else None,
        made.prompt if made else "",
    )


def _write_csv(path: Path, rows: list[tuple[Cell, ...]], title: str) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHOTLIST_COLUMNS)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _write_xlsx(path: Path, rows: list[tuple[Cell, ...]], title: str) -> None:
    # constant_memory streams each row to disk, so a long film's list needs little memory.
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_numbers": False, "strings_to_urls": False})
    workbook.set_properties({"title": f"{title} — shot list" if title else "Shot list", "comments": "Written by previz"})
    header = workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#E8E8E8", "text_wrap": True, "valign": "top"})
    formats = {
        "text": workbook.add_format({"valign": "top"}),
        "wrap": workbook.add_format({"valign": "top", "text_wrap": True}),
        "number": workbook.add_format({"valign": "top", "num_format": "0.0##"}),
        "whole": workbook.add_format({"valign": "top", "num_format": "0"}),
    }
    sheet = workbook.add_worksheet("Shot list")
    for index, column in enumerate(_COLUMNS):
        sheet.set_column(index, index, column.width, formats[column.kind])
    sheet.freeze_panes(1, 3)  # the header row, and scene / heading / shot while scrolling right
    sheet.set_landscape()
    sheet.repeat_rows(0)
    sheet.fit_to_pages(1, 0)
    for index, heading in enumerate(SHOTLIST_COLUMNS):
        sheet.write_string(0, index, heading, header)
    for number, row in enumerate(rows, start=1):
        for index, (column, value) in enumerate(zip(_COLUMNS, row)):
            style = formats[column.kind]
            if value is None or value == "":
                continue
            if isinstance(value, str):
                _write_text(sheet, number, index, value, style)
            elif column.kind == "whole" and abs(value) >= _EXACT_IN_EXCEL:
                sheet.write_string(number, index, str(value), formats["text"])
            else:
                sheet.write_number(number, index, value, style)
    sheet.autofilter(0, 0, len(rows), len(_COLUMNS) - 1)
    try:
        workbook.close()
    except FileCreateError as exc:
        # xlsxwriter wraps the OSError (a full disk); unwrap it so staged_output names the file and the cause.
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))
        raise cause from exc


def _write_text(sheet, row: int, column: int, text: str, style) -> None:
    """Write `text` to a cell. xlsxwriter cuts text beyond Excel's limit without a
    word (write_string returns -2); such text is cut here instead, saying so in the
    cell, so nobody takes a cut-off prompt for the whole one. The CSV keeps it all."""
    if sheet.write_string(row, column, text, style) == -2:
        note = "… [truncated: {:,} more characters; see the CSV]"
        keep = XLSX_MAX_TEXT - len(note.format(len(text)))
        sheet.write_string(row, column, text[:keep] + note.format(len(text) - keep), style)


_WRITERS: dict[str, Callable[[Path, list[tuple[Cell, ...]], str], None]] = {".csv": _write_csv, ".xlsx": _write_xlsx}
