"""`previz demo`: the main job, end to end, on the built-in engine.

A pipeline of steps; each does one thing to the demo project and reports what it
wrote. Later capabilities (frames, boards, animatic, deck, plates) add steps.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .animatic.export import AnimaticExport, default_size, export_animatic
from .animatic.timeline import build_timeline
from .domain.deck import Deck, deck_from_dict
from .domain.model import Project, Shot
from .domain.vocabulary import ShotSize
from .domain.wall import Cabinet, WallProfile, WallSection
from .engine.batch import run_batch
from .engine.engines import make_engines
from .engine.frames import frame_request, shot_context
from .engine.jobs import JobRunner
from .export.boards import BoardExport, export_boards
from .export.deck import DeckExport, export_deck
from .export.plate import PlateExport
from .export.plate_source import PlateGeneration, generated_plate, scene_staging
from .export.shotlist import ShotListExport, export_shotlist
from .script.importer import import_script
from .store import ProjectFolder, create_project, open_project, scenes, settings, shots, takes
from .store.deck import read_deck, write_deck
from .store.folder import DB_NAME, existing_project
from .store.walls import wall_names, write_wall

SAMPLE = Path(__file__).resolve().parent.parent / "resources" / "sample"
SAMPLE_SCRIPT = SAMPLE / "the_last_lighthouse.fountain"
SAMPLE_DECK = SAMPLE / "the_last_lighthouse.deck.json"
DEMO_PROJECT = "the_last_lighthouse.previz"
# The frames are drawn 1280 wide; the animatic matches them.
DEMO_ANIMATIC_WIDTH = 1280
# A small virtual-production volume: a half circle of 3.9 mm cabinets round the set.
DEMO_WALL = WallProfile("Stage A", (WallSection("curved", Cabinet(500, 500, 3.9), height_m=3.0, radius_m=6.0,
                                                arc_deg=180),))

Echo = Callable[[str], None]


@dataclass
class DemoRun:
    out: Path
    folder: ProjectFolder | None = None
    written: list[Path] = field(default_factory=list)


def step_project(run: DemoRun, echo: Echo) -> None:
    """Create the demo project, or open it again on a second run."""
    path = run.out / DEMO_PROJECT
    if existing_project(path) is not None:
        run.folder = open_project(path)
        echo(f"project   reopened {path}")
    else:
        run.folder = create_project(path, Project(title="", aspect_ratio=2.39))
        echo(f"project   created {path}")
    run.written.append(path / DB_NAME)


def step_script(run: DemoRun, echo: Echo) -> None:
    """Import the bundled screenplay; a second run re-imports and changes nothing."""
    if not SAMPLE_SCRIPT.is_file():
        raise FileNotFoundError(f"the bundled sample screenplay is missing: {SAMPLE_SCRIPT}")
    report = import_script(run.folder, SAMPLE_SCRIPT)
    echo(f"script    {report.summary()}")
    listed = shots.list_shots(run.folder.db)
    running = sum(shot.duration for shot in listed)
    echo(f"shots     {len(listed)} shots, running time {running / 60:.1f} min -> {run.folder.path / DB_NAME}")


def step_frames(run: DemoRun, echo: Echo) -> None:
    """Draw a blocking frame for every shot that lacks this exact frame; export PNGs."""
    folder = run.folder
    listed = shots.list_shots(folder.db)
    planned = []
    for shot in listed:
        request = frame_request(shot_context(folder, shot.id))
        recipe = request.to_json()
        if all(take.recipe != recipe for take in takes.list_takes(folder.db, shot.id)):
            planned.append((shot.id, request))
    runner = JobRunner(make_engines(), media=folder.media.read)
    try:
        report = run_batch(folder, runner, planned)
    finally:
        runner.shutdown()
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} frames failed; first: {report.failed[0][1]}")
    frames_dir = run.out / "frames"
    frames_dir.mkdir(exist_ok=True)
    for shot in shots.list_shots(folder.db):
        if shot.hero_take_id is None:
            continue
        target = frames_dir / f"shot-{shot.number}.png"
        target.write_bytes(folder.media.read(takes.get_take(folder.db, shot.hero_take_id).media_hash))
        run.written.append(target)
    echo(f"frames    {len(report.takes)} drawn, {len(listed) - len(planned)} already there -> {frames_dir}")


def step_animatic(run: DemoRun, echo: Echo) -> None:
    """Render the film as an animatic (H.264) with its OpenTimelineIO cut and captions.

    A second run over an unchanged film keeps the files it made before."""
    folder = run.folder
    request = AnimaticExport(
        out=run.out / "animatic.mp4", size=default_size(settings.read_project(folder.db), DEMO_ANIMATIC_WIDTH),
        burn_info=True, otio=run.out / "animatic.otio", srt=run.out / "animatic.srt",
    )
    stamp = run.out / ".animatic-source"
    fingerprint = hashlib.sha256(repr((build_timeline(folder.db), request)).encode()).hexdigest()
    outputs = [request.out, request.otio, request.srt]
    if all(path.exists() for path in outputs) and stamp.is_file() and stamp.read_text() == fingerprint:
        run.written += outputs
        echo(f"animatic  unchanged -> {request.out}")
        return
    report = export_animatic(folder.db, folder.media, request)
    stamp.write_text(fingerprint)
    run.written += report.written
    seconds = float(report.seconds)
    echo(f"animatic  {report.frames} frames ({seconds // 60:.0f} min {seconds % 60:.0f} s) -> {request.out}, {request.otio.name}, {request.srt.name}")


def step_boards(run: DemoRun, echo: Echo) -> None:
    """Print the storyboard (six panels a page, A4 landscape) and the crew's shot list."""
    folder = run.folder
    boards = export_boards(folder.db, folder.media, BoardExport(out=run.out / "boards.pdf"))
    shotlist = export_shotlist(folder.db, folder.media, ShotListExport(out=run.out / "shotlist.csv"))
    run.written += [*boards.files, shotlist.out]
    echo(f"boards    {boards.shots} shots on {boards.pages} pages -> {boards.out}, {shotlist.out.name}")


def step_deck(run: DemoRun, echo: Echo) -> None:
    """Fill the pitch deck with the sample content and the film's frames (once: a deck
    someone has edited is kept), then write it as PPTX and PDF."""
    folder = run.folder
    if read_deck(folder.db) == Deck():
        write_deck(folder.db, sample_deck(shots.list_shots(folder.db)))
    for suffix in (".pptx", ".pdf"):
        report = export_deck(folder.db, folder.media, DeckExport(out=run.out / f"deck{suffix}"))
        run.written.append(report.out)
    for warning in report.warnings:
        echo(f"deck      warning: {warning.message}")
    echo(f"deck      {report.pages} pages -> {run.out / 'deck.pptx'}, deck.pdf")


def sample_deck(listed: list[Shot]) -> Deck:
    """The sample deck's words with pictures from the drawn film: the widest shot as key
    art, eight frames across the film as the mood board, each character's first close
    shot, and the busiest scene's first six shots as the key sequence."""
    deck = deck_from_dict(json.loads(SAMPLE_DECK.read_text(encoding="utf-8")))
    framed = [shot for shot in listed if shot.hero_take_id is not None]
    if not framed:
        return deck
    wide = next((shot for shot in framed if shot.size in (ShotSize.ews, ShotSize.ws)), framed[0])
    step = max(1, len(framed) // 8)
    close = (ShotSize.cu, ShotSize.mcu, ShotSize.ecu, ShotSize.ms)
    characters = tuple(
        replace(character, image_take_id=next(
            (shot.hero_take_id for shot in framed if character.name.upper() in shot.characters and shot.size in close), None))
        for character in deck.characters
    )
    per_scene = Counter(shot.scene_id for shot in framed)
    busiest = per_scene.most_common(1)[0][0]
    return replace(
        deck,
        key_art_take_id=wide.hero_take_id,
        mood_take_ids=tuple(shot.hero_take_id for shot in framed[::step][:8]),
        characters=characters,
        sequence_shot_ids=tuple(shot.id for shot in framed if shot.scene_id == busiest)[:6],
    )


def step_plate(run: DemoRun, echo: Echo) -> None:
    """Keep a curved stage wall in the project and write a plate for it: the film's
    lighthouse exterior, painted by the blocking engine, as half-float ACEScg EXR tiles."""
    folder = run.folder
    if DEMO_WALL.name not in wall_names(folder.db):
        write_wall(folder.db, DEMO_WALL)
    listed = scenes.list_scenes(folder.db, include_removed=False)
    outside = [scene for scene in listed if scene.int_ext.value == "EXT"] or listed
    scene = next((scene for scene in outside if "LIGHTHOUSE" in scene.location.upper()), outside[0])
    generation = PlateGeneration(staging=scene_staging(folder.db, scene.id))
    report = generated_plate(make_engines(), generation, PlateExport(run.out / "plate", DEMO_WALL))
    run.written += report.files
    canvas = report.canvas
    tiles = len(report.files) - 2  # less the environment and the sidecar
    echo(f"plate     {scene.heading} on {DEMO_WALL.name} ({canvas.width_px:,} × {canvas.height_px:,} px) "
         f"in {tiles} EXR tiles -> {report.out}")


STEPS: list[Callable[[DemoRun, Echo], None]] = [
    step_project, step_script, step_frames, step_animatic, step_boards, step_deck, step_plate,
]


def run_demo(out: Path, echo: Echo) -> DemoRun:
    """Run every demo step into `out`; return what was written."""
    run = DemoRun(out=Path(out))
    run.out.mkdir(parents=True, exist_ok=True)
    try:
        for step in STEPS:
            step(run, echo)
    finally:
        if run.folder is not None:
            run.folder.close()
    count = len(run.written)
    echo(f"done      {count} file{'s' if count != 1 else ''} written under {run.out}")
    return run
