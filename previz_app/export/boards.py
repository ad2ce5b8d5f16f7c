"""Storyboard boards for the crew to print: a PDF, or PNG contact sheets, of the
shots' hero frames with their captions, a few panels a page, scene by scene.

The layout (board_layout) is computed once, in points; board_pdf and contact_sheet
draw it. Pictures are decoded and scaled a few at a time on worker threads (Pillow
lets go of the GIL), in page order, so memory stays flat however long the film.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import TypeVar

from PIL import Image
from sqlite_utils import Database

from ..domain.model import Project, Scene, Shot, Take
from ..engine.base import Cancelled
from ..store import scenes as scene_store
from ..store import settings, takes
from ..store import shots as shot_store
from ..store.media import MediaStore
from ..store.transaction import read_snapshot
from .board_layout import (
    LAYOUTS,
    PAPERS,
    BoardFields,
    BoardPage,
    BoardSpec,
    PageBox,
    Rect,
    lay_out_page,
    page_size,
    paginate,
    panel_frames,
    parse_layout,
)
from .board_pdf import PdfInfo, write_board_pdf
from .contact_sheet import draw_page, fit_picture, picture_place, save_sheet
from .files import staged_output
from .pdf import JpegPicture, jpeg_picture
from .pictures import MissingImageError, blocking_panel, take_image
from .selection import select_scenes

__all__ = ["LAYOUTS", "PAPERS", "BoardExport", "BoardFields", "BoardReport", "board_page_count", "export_boards",
           "parse_layout", "render_board_page"]

DPI_RANGE = (36, 1200)
MAX_SHEET_DPI = 600  # an A4 sheet at 600 dpi is already 100 megapixels
BLOCKING_MAX_SIDE = 4096  # a shot without a hero frame: its blocking panel at most this many pixels long
T = TypeVar("T")


@dataclass(frozen=True)
class BoardExport:
    """What to print. `out` ends in .pdf (one PDF) or .png (contact sheets
    <stem>-01.png, <stem>-02.png ... beside it). `layout` is "COLSxROWS" or a panel
    count; `scenes` as export/selection.select_scenes reads it; `date` "" is today."""

    out: Path
    layout: str = "3x2"
    paper: str = "a4"
    orientation: str = "landscape"
    fields: BoardFields = field(default_factory=BoardFields)
    scenes: str = ""
    watermark: bool = False
    date: str = ""
    dpi: int = 300


@dataclass(frozen=True)
class BoardReport:
    out: Path
    files: tuple[Path, ...]  # the PDF, or every PNG page
    pages: int
    shots: int


@dataclass(frozen=True)
class _Board:
    project: Project
    spec: BoardSpec
    pages: list[BoardPage]
    subject: str
    shots: int


@dataclass(frozen=True)
class _Source:
    """Where a panel's picture comes from: its hero take, or with none the blocking
    panel of its metadata."""

    what: str
    take: Take | None
    project: Project
    scene: Scene
    shot: Shot


def export_boards(db: Database, media: MediaStore, request: BoardExport,
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> BoardReport:
    """Write the board `request` asks for. `progress(done, total)` counts shots;
    `cancelled()` is polled before each shot.

    Raises ValueError for a bad request or a selection without shots,
    MissingImageError naming the shot whose hero frame is missing or unreadable,
    ExportError when the file cannot be written (nothing is left half-written and an
    older file is untouched), Cancelled (no file is written)."""
    kind = _kind(request.out)
    if kind == "png" and request.dpi > MAX_SHEET_DPI:
        raise ValueError(f"PNG sheets go up to {MAX_SHEET_DPI} dpi, not {request.dpi}; use a PDF for finer prints")
    progress = progress or (lambda done, total: None)
    cancelled = cancelled or (lambda: False)
    with read_snapshot(db):  # the app may edit the project while this worker thread reads it
        board = _board(db, request)
        sources = _sources(db, media, board)
    # Pictures start on the workers from the frames alone; captions are set page by
    # page as the drawing reaches them.
    frames = panel_frames(board.spec)
    job = _pdf_job if kind == "pdf" else _sheet_job
    jobs = [partial(job, media, sources[shot.id], frames[index], request.dpi)
            for page in board.pages for index, shot in enumerate(page.shots)]
    out = Path(request.out)
    with closing(_prepared(jobs, cancelled, progress)) as pictures:
        if kind == "pdf":
            with staged_output(out) as temporary:
                write_board_pdf(temporary, _pages(board), pictures,
                                PdfInfo(f"{board.project.title} — storyboards", board.subject))
            files: tuple[Path, ...] = (out,)
        else:
            files = _write_sheets(out, len(board.pages), _pages(board), pictures, request.dpi)
    progress(board.shots, board.shots)
    return BoardReport(out, files, len(board.pages), board.shots)


def render_board_page(db: Database, media: MediaStore, request: BoardExport, page: int = 0,
                      dpi: int = 72) -> Image.Image:
    """Page `page` (from 0) of the board as an RGB image at `dpi`: the app's preview.
    `request.out` is not read. Raises ValueError for a bad request or a page the
    board does not have, MissingImageError as export_boards."""
    if not 10 <= dpi <= MAX_SHEET_DPI:
        raise ValueError(f"preview density must be between 10 and {MAX_SHEET_DPI} dpi, not {dpi}")
    with read_snapshot(db):
        board = _board(db, request)
        if not 0 <= page < len(board.pages):
            raise ValueError(f"the board has {len(board.pages)} pages; there is no page {page + 1}")
        sources = _sources(db, media, board, [board.pages[page]])
    laid = lay_out_page(board.spec, board.pages[page], page + 1, len(board.pages))
    jobs = [partial(_sheet_job, media, sources[panel.shot.id], panel.frame, dpi) for panel in laid.panels]
    with closing(_prepared(jobs, lambda: False, lambda done, total: None)) as pictures:
        return draw_page(laid, pictures, dpi)


def board_page_count(db: Database, request: BoardExport) -> int:
    """How many pages the board `request` asks for has. Raises ValueError as
    export_boards does for a bad request."""
    with read_snapshot(db):
        return len(_board(db, request).pages)


def _kind(out: Path) -> str:
    suffix = Path(out).suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise ValueError(f"boards are written as .pdf or .png, not {Path(out).name!r}; choose a name ending in one")
    return suffix[1:]


def _board(db: Database, request: BoardExport) -> _Board:
    """The request checked, and the selected scenes' shots paged. Call inside a
    read_snapshot, with _sources, so the shots and their takes are of one state."""
    if not DPI_RANGE[0] <= int(request.dpi) <= DPI_RANGE[1]:
        raise ValueError(f"image density must be between {DPI_RANGE[0]} and {DPI_RANGE[1]} dpi, not {request.dpi}")
    width, height = page_size(request.paper, request.orientation)
    columns, rows = parse_layout(request.layout, request.orientation)
    project = settings.read_project(db)
    scenes = scene_store.list_scenes(db, include_removed=False)
    chosen = select_scenes(scenes, request.scenes)
    by_scene: dict[int, list[Shot]] = {}
    for shot in shot_store.list_shots(db):
        by_scene.setdefault(shot.scene_id, []).append(shot)
    groups = [(scene, by_scene[scene.id]) for scene in chosen if by_scene.get(scene.id)]
    if not groups:
        where = "the film has" if not (request.scenes or "").strip() else f"scenes {request.scenes} have"
        raise ValueError(f"nothing to board: {where} no shots; draft shots first or choose other scenes")
    spec = BoardSpec(project.title, project.aspect_ratio, width, height, columns, rows, request.fields,
                     request.date or date.today().isoformat(), request.watermark)
    return _Board(project, spec, paginate(groups, spec.per_page), _subject(groups),
                  sum(len(shots) for _, shots in groups))


def _pages(board: _Board) -> Iterator[PageBox]:
    for number, page in enumerate(board.pages, 1):
        yield lay_out_page(board.spec, page, number, len(board.pages))


def _subject(groups: Sequence[tuple[Scene, Sequence[Shot]]]) -> str:
    numbers = [scene.number for scene, _ in groups]
    if len(numbers) == 1:
        return f"Storyboards, scene {numbers[0]}"
    if len(numbers) <= 4:
        return f"Storyboards, scenes {', '.join(numbers)}"
    return f"Storyboards, scenes {numbers[0]}–{numbers[-1]} ({len(numbers)} scenes)"


def _sources(db: Database, media: MediaStore, board: _Board,
             pages: Sequence[BoardPage] | None = None) -> dict[int, _Source]:
    """The picture source of each shot on `pages` (default: all), read here on the
    thread that owns `db`; the pictures are decoded later, on worker threads (media
    files never change). A hero file that is gone fails now, not after the shots
    before it are drawn."""
    placed = [(page.scene, shot) for page in (board.pages if pages is None else pages) for shot in page.shots]
    heroes = takes.get_takes(db, [shot.hero_take_id for _, shot in placed if shot.hero_take_id is not None])
    return {shot.id: _source(media, board.project, scene, shot, heroes) for scene, shot in placed}


def _source(media: MediaStore, project: Project, scene: Scene, shot: Shot, heroes: dict[int, Take]) -> _Source:
    what = f"shot {shot.number}"
    take = None
    if shot.hero_take_id is not None:
        take = heroes.get(shot.hero_take_id)
        if take is None:
            raise MissingImageError(f"{what}: its hero take {shot.hero_take_id} is gone; choose another take")
        if not media.path(take.media_hash).is_file():
            take_image(media, take, what)  # raises MissingImageError naming the shot and the file
    return _Source(what, take, project, scene, shot)


def _picture(media: MediaStore, source: _Source, frame: Rect, dpi: float) -> Image.Image:
    if source.take is not None:
        return take_image(media, source.take, source.what)
    # Drawn for the frame at the print's density, so a single panel on A4 prints as
    # sharp as a hero frame would; the cap bounds the time and memory of a huge page.
    scale = min(dpi / 72, BLOCKING_MAX_SIDE / max(frame.width, frame.height))
    return blocking_panel(source.project, source.scene, source.shot,
                          (max(8, round(frame.width * scale)), max(8, round(frame.height * scale))))


def _pdf_job(media: MediaStore, source: _Source, frame: Rect, dpi: float) -> JpegPicture:
    image = _picture(media, source, frame, dpi)
    crop, place = picture_place(*image.size, frame)
    return jpeg_picture(image, crop, (place.width, place.height), dpi)


def _sheet_job(media: MediaStore, source: _Source, frame: Rect, dpi: float) -> Image.Image:
    return fit_picture(_picture(media, source, frame, dpi), frame, dpi)


def _prepared(jobs: Sequence[Callable[[], T]], cancelled: Callable[[], bool],
              progress: Callable[[int, int], None]) -> Iterator[T]:
    """The jobs' results in order, computed a few ahead on worker threads; only that
    window is held. Before handing out each result it polls `cancelled` (raising
    Cancelled) and reports the results already taken."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2
    workers = max(2, min(4, cores))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="boards")
    window: deque = deque()
    queued = iter(jobs)
    try:
        for done in range(len(jobs)):
            while len(window) < 2 * workers and (job := next(queued, None)) is not None:
                window.append(pool.submit(job))
            if cancelled():
                raise Cancelled("board export cancelled")
            progress(done, len(jobs))
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _write_sheets(out: Path, count: int, pages: Iterable[PageBox], pictures: Iterator[Image.Image],
                  dpi: int) -> tuple[Path, ...]:
    """Every page as <stem>-NN.png beside `out`: all staged first, then the older
    pages of those names set aside and the new ones moved into place. A failure or
    cancel at any point puts the older pages back as they were and leaves no new one.
    Pages a longer, older board left beyond the new last page are removed."""
    digits = max(2, len(str(count)))
    paths = [out.with_name(f"{out.stem}-{number:0{digits}d}.png") for number in range(1, count + 1)]
    placed: list[Path] = []
    aside: list[tuple[Path, Path]] = []  # (page, its older version), set aside until the new one is in
    try:
        with ExitStack() as stack:
            for page, path in zip(pages, paths):
                temporary = stack.enter_context(_placed(path, placed))
                sheet = draw_page(page, [next(pictures) for _ in page.panels], dpi)
                save_sheet(sheet, temporary, dpi)
                del sheet
            # Last in the block: the staged pages move in as the stack unwinds, and an
            # OSError here reaches staged_output, which reports it as an ExportError.
            _set_aside(paths, aside)
    except BaseException:
        _put_back(placed, aside)
        raise
    for _path, older in aside:
        older.unlink(missing_ok=True)
    number = count + 1
    while (stale := out.with_name(f"{out.stem}-{number:0{digits}d}.png")).is_file():
        stale.unlink()
        number += 1
    return tuple(paths)


@contextmanager
def _placed(path: Path, placed: list[Path]) -> Iterator[Path]:
    with staged_output(path) as temporary:
        yield temporary
    placed.append(path)


def _set_aside(paths: Sequence[Path], aside: list[tuple[Path, Path]]) -> None:
    """Move each existing file of `paths` to a hidden name beside it, noting it in
    `aside` as it goes, so whatever was moved can be put back."""
    for path in paths:
        if not os.path.lexists(path):
            continue
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old")
        os.close(fd)
        try:
            os.replace(path, name)
        except BaseException:
            os.unlink(name)
            raise
        aside.append((path, Path(name)))


def _put_back(placed: Sequence[Path], aside: Sequence[tuple[Path, Path]]) -> None:
    """Undo a failed `_write_sheets`: remove the new pages already moved in and move
    the older ones back. One that cannot go back stays under its hidden name, so it
    is never deleted."""
    older = {path for path, _ in aside}
    for path in placed:
        if path not in older:
            path.unlink(missing_ok=True)
    for path, backup in aside:
        try:
            os.replace(backup, path)
        except OSError:
            continue
