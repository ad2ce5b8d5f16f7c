"""From shots to frames and back: the request a shot asks for, and the take a
finished frame becomes. The only engine module that touches the project store."""

from __future__ import annotations

import math
from collections.abc import Container
from dataclasses import dataclass, replace

from ..domain.model import Character, Location, Project, Scene, Shot
from ..domain.vocabulary import TakeKind
from ..store import ProjectFolder, cast, scenes, settings, shots, takes
from ..store.media import MediaStore, add_media
from .base import FrameResult
from .blocking.layout import key_time
from .prompts import build_prompt
from .request import Control, ControlKind, FrameRequest, Mode, Staging, encode_png

# Pixel budgets: the blocking engine draws at HD width; diffusion models at the
# area they were trained on.
BLOCKING_WIDTH = 1280
TRAINED_SIDE = {"sd1": 512, "sd2": 768, "sdxl": 1024, "sdxl_refiner": 1024, "sd3": 1024, "flux": 1024}


def frame_size(aspect: float, width: int | None = None, side: int | None = None, multiple: int = 8) -> tuple[int, int]:
    """(width, height) for `aspect`: a fixed `width`, or the area of a `side` square.

    Both are rounded to a `multiple` (diffusion models need multiples of 8).
    """
    if width is None:
        if side is None:
            raise ValueError("give a width or a side")
        width = math.sqrt(side * side * aspect)
    height = width / aspect
    return (max(multiple, round(width / multiple) * multiple), max(multiple, round(height / multiple) * multiple))


def staging_for(shot: Shot, scene: Scene, time: float | None = None) -> Staging:
    """What the blocking engine needs to lay out `shot`, `time` (0..1) into its move;
    by default the moment the move holds the shot's own framing."""
    if time is None:
        time = key_time(str(shot.movement.value), str(shot.direction.value))
    return Staging(
        size=str(shot.size.value),
        angle=str(shot.angle.value),
        lens_mm=shot.lens_mm,
        movement=str(shot.movement.value),
        direction=str(shot.direction.value),
        characters=shot.characters,
        int_ext=str(scene.int_ext.value),
        location=scene.location,
        time_of_day=str(scene.time_of_day.value),
        time=time,
    )


@dataclass(frozen=True)
class ShotContext:
    """A shot with everything around it that decides its frame."""

    project: Project
    scene: Scene
    shot: Shot
    characters: tuple[Character, ...] = ()
    location: Location | None = None


def shot_context(folder: ProjectFolder, shot_id: int) -> ShotContext:
    """Load a shot with its scene, cast and location. Raises ValueError if unknown."""
    return shot_contexts(folder, [shot_id])[0]


def shot_contexts(folder: ProjectFolder, shot_ids: list[int]) -> list[ShotContext]:
    """`shot_context` for many shots with a handful of queries, in the order given.
    Raises ValueError naming the first unknown shot."""
    db = folder.db
    scene_ids = {row[0] for row in db.execute(
        f"SELECT DISTINCT scene_id FROM shots WHERE id IN ({','.join('?' * len(shot_ids))})", list(shot_ids)
    )} if shot_ids else set()
    # Numbering needs each scene's whole order: a few scenes are read alone, many at once.
    listed = shots.list_shots(db) if len(scene_ids) > 8 else [s for sid in scene_ids for s in shots.list_shots(db, sid)]
    by_id = {shot.id: shot for shot in listed}
    missing = next((shot_id for shot_id in shot_ids if shot_id not in by_id), None)
    if missing is not None:
        raise ValueError(f"no shot with id {missing}")
    scene_of = {scene_id: scenes.get_scene(db, scene_id) for scene_id in scene_ids}
    characters = {c.name: c for c in cast.list_characters(db)}
    locations = {loc.name: loc for loc in cast.list_locations(db)}
    project = settings.read_project(db)
    contexts = []
    for shot_id in shot_ids:
        shot = by_id[shot_id]
        scene = scene_of[shot.scene_id]
        people = tuple(characters[name] for name in sorted(set(shot.characters)) if name in characters)
        contexts.append(ShotContext(project, scene, shot, people, locations.get(scene.location)))
    return contexts


def frame_request(
    context: ShotContext,
    engine: str = "blocking",
    model: str = "",
    size: tuple[int, int] | None = None,
    seed: int | None = None,
    steps: int = 25,
    guidance: float = 7.0,
) -> FrameRequest:
    """The txt2img request for a shot; the shot's own seed wins over `seed`."""
    prompt, negative = build_prompt(context.project, context.scene, context.shot, context.characters, context.location)
    width, height = size or frame_size(context.project.aspect_ratio, width=BLOCKING_WIDTH)
    chosen_seed = context.shot.seed if context.shot.seed is not None else (seed if seed is not None else _default_seed(context.shot))
    return FrameRequest(
        width=width,
        height=height,
        engine=engine,
        model=model,
        prompt=prompt,
        negative_prompt=negative,
        seed=chosen_seed,
        steps=1 if engine == "blocking" else steps,
        guidance=guidance,
        staging=staging_for(context.shot, context.scene),
    )


def _default_seed(shot: Shot) -> int:
    # Stable per shot, so regenerating an untouched shot gives the same frame.
    return (shot.id or 0) * 7919 % 2**31


def with_controls(request: FrameRequest, hashes: dict[str, str], strength: float = 0.8, models: dict[str, str] | None = None) -> FrameRequest:
    """The request conditioned on stored control maps (kind -> media hash)."""
    models = models or {}
    controls = tuple(Control(ControlKind(kind), digest, models.get(kind, ""), strength) for kind, digest in sorted(hashes.items()))
    return replace(request, mode=Mode.controlled, controls=controls)


def store_controls(folder: ProjectFolder, result: FrameResult, kinds: Container[str] | None = None) -> dict[str, str]:
    """Store a blocking render's control maps (those of `kinds`, or all) as media in
    one transaction; return kind -> hash."""
    wanted = dict(result.controls)
    if kinds is not None:
        wanted = {kind: image for kind, image in wanted.items() if kind in kinds}
    encoded = {kind: encode_png(image, result.request) for kind, image in wanted.items()}
    with folder.transaction():
        return {kind: add_media(folder.db, folder.media, data, "image/png", f"{kind}.png") for kind, data in encoded.items()}


@dataclass(frozen=True)
class WrittenFrame:
    """A finished frame's PNG, already in the media store, waiting to become a take."""

    digest: str
    size: int
    recipe: str


def write_frame(media: MediaStore, result: FrameResult) -> WrittenFrame:
    """Encode a finished frame as PNG (carrying its request) and put it in the media
    store. Safe on any thread: it touches files, not the database."""
    data = encode_png(result.image, result.request)
    return WrittenFrame(media.put(data), len(data), result.request.to_json())


def store_take(folder: ProjectFolder, shot_id: int, result: FrameResult, parent_id: int | None = None) -> int:
    """Write a finished frame as a new take of `shot_id`; return the take id.

    The PNG carries the request. The first take of a shot without a hero becomes
    its hero, so the board shows it. Call from the thread that owns `folder`.
    """
    frame = write_frame(folder.media, result)
    with folder.transaction():
        return takes.record_take(folder.db, shot_id, TakeKind.generated, frame.digest, frame.size, frame.recipe, parent_id)
