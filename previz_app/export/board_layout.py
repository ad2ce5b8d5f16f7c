"""Where everything on a storyboard page goes, in points from the page's top-left
corner: the shots paged scene by scene, the header and footer, each panel's frame
in the film's aspect ratio and its caption, already wrapped and clipped.

Pure geometry and text measure (export/fonts.py): the PDF (board_pdf) and the PNG
contact sheets (contact_sheet) draw the same layout, so lines break alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..domain.model import Scene, Shot
from ..domain.vocabulary import Direction, Movement, ShotSize
from .fonts import ellipsize, text_width, wrap_text

# Portrait (width, height) in points.
PAPERS: dict[str, tuple[float, float]] = {"a4": (595.28, 841.89), "letter": (612.0, 792.0), "tabloid": (792.0, 1224.0)}
ORIENTATIONS = ("landscape", "portrait")
# Panels per page -> (columns, rows) for (landscape, portrait): the grid follows the paper.
LAYOUTS: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {
    1: ((1, 1), (1, 1)), 2: ((2, 1), (1, 2)), 3: ((3, 1), (1, 3)), 4: ((2, 2), (2, 2)),
    6: ((3, 2), (2, 3)), 9: ((3, 3), (3, 3)), 12: ((4, 3), (3, 4)),
}
MAX_PANELS = 12
MARGIN = 36.0  # half an inch: inside every office printer's unprintable edge
TITLE_PT, SCENE_PT, FOOTER_PT = 12.0, 10.0, 8.0
# Caption size follows the panel width, within what still reads on paper.
MIN_CAPTION_PT, MAX_CAPTION_PT, CAPTION_PER_WIDTH = 6.5, 11.0, 1 / 25
LEADING = 1.22
ASCENT = 0.76  # the face's ascent per point of size: baseline = top + ASCENT * size
WATERMARK = "CONFIDENTIAL"
NOTE_GREY = 0.35

_SPEAKER = re.compile(r"^(?P<name>[^:()]{1,40}?)\s*(?:\([^)]*\)\s*)*:")
MOVES = {Movement.dolly_in: "PUSH IN", Movement.dolly_out: "PULL OUT", Movement.handheld: "HANDHELD"}


@dataclass(frozen=True)
class BoardFields:
    """What prints under each panel; each can be turned off."""

    number: bool = True  # shot number (always bold, top-left of the caption)
    camera: bool = True  # size / angle / movement / lens, e.g. "MS · EYE · PUSH IN · 35 mm"
    duration: bool = True  # "3.0 s"
    action: bool = True
    dialogue: bool = True
    notes: bool = True


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class TextRun:
    """Text set from its baseline's left end (`x`, `y`), `size` points high; `grey`
    0 is black, 1 white."""

    text: str
    x: float
    y: float
    size: float
    style: str = "regular"
    grey: float = 0.0


@dataclass(frozen=True, slots=True)
class Watermark:
    """Text centred on (`x`, `y`), turned `angle` degrees counter-clockwise."""

    text: str
    x: float
    y: float
    size: float
    angle: float


@dataclass(frozen=True, slots=True)
class PanelBox:
    """One shot: `frame` is its picture's rectangle in the film's aspect ratio."""

    shot: Shot
    frame: Rect
    caption: tuple[TextRun, ...]


@dataclass(frozen=True, slots=True)
class PageBox:
    number: int  # from 1
    count: int
    width: float
    height: float
    header: tuple[TextRun, ...]
    footer: tuple[TextRun, ...]
    rules: tuple[tuple[float, float, float, float], ...]  # hairlines x1, y1, x2, y2
    panels: tuple[PanelBox, ...]
    watermark: Watermark | None


@dataclass(frozen=True, slots=True)
class BoardPage:
    """The shots of one page, all from `scene` (each scene starts a page)."""

    scene: Scene
    shots: tuple[Shot, ...]


@dataclass(frozen=True)
class BoardSpec:
    """What every page of one board shares."""

    title: str
    aspect: float
    width: float
    height: float
    columns: int
    rows: int
    fields: BoardFields = BoardFields()
    date: str = ""
    watermark: bool = False

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


def page_size(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) in points of `paper` ("a4", "letter", "tabloid") turned to
    `orientation` ("landscape", "portrait"). Raises ValueError for anything else."""
    key = str(paper).strip().lower()
    if key not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; expected one of: {', '.join(PAPERS)}")
    short, long = PAPERS[key]
    return (long, short) if _orientation(orientation) == "landscape" else (short, long)


def parse_layout(text: str, orientation: str = "landscape") -> tuple[int, int]:
    """(columns, rows) of a layout: "COLSxROWS" ("3x2") or a panel count (1, 2, 3, 4,
    6, 9, 12) laid out to suit `orientation`. Raises ValueError for another count, a
    grid of more than 12 panels or text that is neither."""
    landscape = _orientation(orientation) == "landscape"
    spec = str(text).strip().lower().replace("×", "x")
    counts = ", ".join(str(count) for count in LAYOUTS)
    if spec.isdigit():
        count = int(spec)
        if count not in LAYOUTS:
            raise ValueError(f"cannot lay out {count} panels a page; choose {counts}, or a grid such as 3x2")
        return LAYOUTS[count][0 if landscape else 1]
    columns, sep, rows = spec.partition("x")
    if not (sep and columns.strip().isdigit() and rows.strip().isdigit()):
        raise ValueError(f"layout {text!r} is neither a grid such as 3x2 (columns x rows) nor a panel count ({counts})")
    grid = (int(columns), int(rows))
    if min(grid) < 1:
        raise ValueError(f"layout {text!r} needs at least one column and one row")
    if grid[0] * grid[1] > MAX_PANELS:
        raise ValueError(f"layout {text!r} has {grid[0] * grid[1]} panels a page; at most {MAX_PANELS} stay readable")
    return grid


def paginate(scenes: Sequence[tuple[Scene, Sequence[Shot]]], per_page: int) -> list[BoardPage]:
    """The shots cut into pages of at most `per_page`; each scene starts a page, so a
    page header names one scene. Scenes without shots get no page."""
    return [BoardPage(scene, tuple(shots[start:start + per_page]))
            for scene, shots in scenes for start in range(0, len(shots), per_page)]


def lay_out_page(spec: BoardSpec, page: BoardPage, number: int, count: int) -> PageBox:
    """Page `number` of `count` (from 1): header, footer, rules, panels, watermark."""
    header_bottom, footer_top = _header_bottom(), _footer_top(spec)
    panels = tuple(PanelBox(shot, slot.frame, _caption(shot, spec.fields, slot.x, slot.top, slot.width, slot.size, slot.lines))
                   for shot, slot in zip(page.shots, _slots(spec)))
    rules = ((MARGIN, header_bottom, spec.width - MARGIN, header_bottom),
             (MARGIN, footer_top, spec.width - MARGIN, footer_top))
    return PageBox(number, count, spec.width, spec.height, _header(spec, page.scene), _footer(spec, number, count),
                   rules, panels, _watermark(spec) if spec.watermark else None)


def panel_frames(spec: BoardSpec) -> tuple[Rect, ...]:
    """The picture frame of each place on a page, in reading order: the same on
    every page, so pictures can be prepared before their captions are set."""
    return tuple(slot.frame for slot in _slots(spec))


def caption_size(cell_w: float, cell_h: float) -> float:
    """Caption type size in points for a panel cell: a 12-up sheet on Letter still
    prints at 6.5 pt, a single panel at 11 pt."""
    return round(max(MIN_CAPTION_PT, min(MAX_CAPTION_PT, cell_w * CAPTION_PER_WIDTH, cell_h / 16)), 2)


def camera_line(shot: Shot) -> str:
    """"MS · EYE · PUSH IN · 35 mm": size, angle, move (with its direction), lens."""
    size = "TWO SHOT" if shot.size is ShotSize.two_shot else str(shot.size.value)
    move = MOVES.get(shot.movement, str(shot.movement.value).replace("_", " ").upper())
    if shot.direction is not Direction.none:
        move += f" {str(shot.direction.value).upper()}"
    return f"{size} · {str(shot.angle.value).upper()} · {move} · {shot.lens_mm:g} mm"


def dialogue_text(shot: Shot) -> str:
    """The shot's speeches, one a line, each led by its speaker: drafted dialogue is
    stored as "NAME (aside): words" lines. A line typed without a speaker goes on with
    the speech before it, or, first, gets the shot's character when it has just one."""
    speaker = shot.characters[0] if len(shot.characters) == 1 else ""
    speeches: list[str] = []
    for line in (" ".join(line.split()) for line in shot.dialogue.splitlines() if line.strip()):
        match = _SPEAKER.match(line)
        if match is not None and match["name"] == match["name"].upper():
            speeches.append(line)
        elif speeches:
            speeches[-1] += " " + line
        else:
            speeches.append(f"{speaker}: {line}" if speaker else line)
    return "\n".join(speeches)


def _orientation(orientation: str) -> str:
    key = str(orientation).strip().lower()
    if key not in ORIENTATIONS:
        raise ValueError(f"unknown orientation {orientation!r}; expected landscape or portrait")
    return key


def _header(spec: BoardSpec, scene: Scene) -> tuple[TextRun, ...]:
    inner = spec.width - 2 * MARGIN
    baseline = MARGIN + ASCENT * TITLE_PT
    title = ellipsize(spec.title or "Untitled", TITLE_PT, inner * 0.45, "bold")
    label = " · ".join(part for part in (f"Scene {scene.number}" if scene.number else "", scene.heading) if part)
    room = inner - text_width(title, TITLE_PT, "bold") - 2 * SCENE_PT
    label = ellipsize(label, SCENE_PT, room, "regular")
    return (TextRun(title, MARGIN, baseline, TITLE_PT, "bold"),
            TextRun(label, spec.width - MARGIN - text_width(label, SCENE_PT), baseline, SCENE_PT))


def _header_bottom() -> float:
    return MARGIN + TITLE_PT * LEADING + 4


def _footer(spec: BoardSpec, number: int, count: int) -> tuple[TextRun, ...]:
    baseline = spec.height - MARGIN
    page = f"Page {number} of {count}"
    return (TextRun(spec.date, MARGIN, baseline, FOOTER_PT, grey=NOTE_GREY),
            TextRun(page, spec.width - MARGIN - text_width(page, FOOTER_PT), baseline, FOOTER_PT))


def _footer_top(spec: BoardSpec) -> float:
    return spec.height - MARGIN - ASCENT * FOOTER_PT - 5


def _watermark(spec: BoardSpec) -> Watermark:
    diagonal = math.hypot(spec.width, spec.height)
    size = 0.55 * diagonal / text_width(WATERMARK, 1.0, "bold")
    return Watermark(WATERMARK, spec.width / 2, spec.height / 2, size, math.degrees(math.atan2(spec.height, spec.width)))


@dataclass(frozen=True, slots=True)
class _Slot:
    """One place on a page: the picture's frame and the caption's box."""

    frame: Rect
    x: float
    top: float
    width: float
    size: float
    lines: int


@lru_cache(maxsize=16)
def _slots(spec: BoardSpec) -> tuple[_Slot, ...]:
    top, bottom = _header_bottom() + 10, _footer_top(spec) - 10
    inner = spec.width - 2 * MARGIN
    gap = min(18.0, max(8.0, inner * 0.02))
    cell_w = (inner - (spec.columns - 1) * gap) / spec.columns
    cell_h = (bottom - top - (spec.rows - 1) * gap) / spec.rows
    if cell_w < 36 or cell_h < 36:
        raise ValueError(f"a {spec.columns}x{spec.rows} layout leaves no room for panels on this paper; choose fewer")
    return tuple(_slot(spec, Rect(MARGIN + column * (cell_w + gap), top + row * (cell_h + gap), cell_w, cell_h))
                 for row in range(spec.rows) for column in range(spec.columns))


def _slot(spec: BoardSpec, cell: Rect) -> _Slot:
    fields = spec.fields
    size = caption_size(cell.width, cell.height)
    if not _any_caption(fields):
        frame = _top_fit(cell, spec.aspect)
        return _Slot(frame, frame.x, frame.bottom, frame.width, size, 0)
    leading = size * LEADING
    pad = size * 0.6
    # Room for a few caption lines under the picture; the picture takes the rest,
    # but never less than half the cell.
    wanted = ((fields.number or fields.camera or fields.duration) + 3 * fields.action + 2 * fields.dialogue
              + fields.notes)
    room = Rect(cell.x, cell.y, cell.width, max(cell.height - pad - wanted * leading, cell.height * 0.55))
    below = _top_fit(room, spec.aspect)
    # A wide, short cell (3x3 on landscape) shows more picture with the caption in a
    # column beside it.
    column = max(cell.width * 0.36, 12 * size)
    beside = Rect(cell.x, cell.y, max(1.0, cell.width - column - 2 * pad), cell.height)
    side = _top_fit(beside, spec.aspect)
    if side.width * side.height > 1.15 * below.width * below.height:
        side = Rect(cell.x, cell.y, side.width, side.height)
        x = side.right + 2 * pad
        return _Slot(side, x, cell.y, cell.right - x, size, int(cell.height // leading))
    lines = int((cell.bottom - below.bottom - pad) // leading)
    return _Slot(below, below.x, below.bottom + pad, below.width, size, lines)


def _top_fit(room: Rect, aspect: float) -> Rect:
    """The largest `aspect` rectangle at the top of `room`, centred across it."""
    width = min(room.width, room.height * aspect)
    return Rect(room.x + (room.width - width) / 2, room.y, width, width / aspect)


def _any_caption(fields: BoardFields) -> bool:
    return any((fields.number, fields.camera, fields.duration, fields.action, fields.dialogue, fields.notes))


def _caption(shot: Shot, fields: BoardFields, x: float, top: float, width: float, size: float,
             lines: int) -> tuple[TextRun, ...]:
    """The caption's runs: number, camera and duration on the first line (the camera
    on its own line when they do not fit), then action, dialogue and notes sharing
    the lines left, clipped with an ellipsis."""
    if lines <= 0:
        return ()
    baseline = top + ASCENT * size
    leading = size * LEADING
    runs: list[TextRun] = []
    row: list[TextRun] = []
    left, right = x, x + width
    if fields.number and shot.number:
        row.append(TextRun(shot.number, x, baseline, size, "bold"))
        left = x + text_width(shot.number, size, "bold") + size * 0.8
    if fields.duration:
        duration = f"{shot.duration:.1f} s"
        right = x + width - text_width(duration, size)
        row.append(TextRun(duration, right, baseline, size))
        right -= size * 0.8
    pending: list[tuple[str, str, float]] = []
    if fields.camera:
        camera = camera_line(shot)
        if text_width(camera, size) <= right - left:
            row.append(TextRun(camera, left, baseline, size, grey=NOTE_GREY))
        elif row:
            pending.append((ellipsize(camera, size, width), "regular", NOTE_GREY))
        else:
            row.append(TextRun(ellipsize(camera, size, width), x, baseline, size, grey=NOTE_GREY))
    used = 1 if row else 0
    runs.extend(row)
    fields_text = [(text, style, grey) for text, style, grey, on in (
        (_paragraphs(shot.action), "regular", 0.0, fields.action),
        (dialogue_text(shot), "italic", 0.0, fields.dialogue),
        (_paragraphs(shot.notes) and f"Note: {_paragraphs(shot.notes)}", "regular", NOTE_GREY, fields.notes),
    ) if on and text]
    wrapped = [(wrap_text(text, size, width, style=style), text, style, grey) for text, style, grey in fields_text]
    room = lines - used - len(pending)
    if room < 0:
        pending, room = [], lines - used
    shares = _share(room, [len(full) for full, *_ in wrapped])
    body = [(line, style, grey) for line, style, grey in pending]
    for (full, text, style, grey), share in zip(wrapped, shares):
        chosen = full if share >= len(full) else wrap_text(text, size, width, max_lines=share, style=style)
        body.extend((line, style, grey) for line in chosen)
    for offset, (line, style, grey) in enumerate(body, start=used):
        runs.append(TextRun(line, x, baseline + offset * leading, size, style, grey))
    return tuple(runs)


def _paragraphs(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _share(room: int, needs: list[int]) -> list[int]:
    """`room` lines dealt round-robin to fields needing `needs` lines, so a long
    action still leaves the dialogue a line."""
    shares = [0] * len(needs)
    while room > 0 and any(share < need for share, need in zip(shares, needs)):
        for index, need in enumerate(needs):
            if room and shares[index] < need:
                shares[index] += 1
                room -= 1
    return shares
