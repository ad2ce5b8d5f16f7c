"""Generated plate sources: an environment made by an engine for a wall and a scene.

The picture is a `wide` source covering the whole wall (a 360° ring when the wall
closes round the stage). The blocking engine paints it at the wall's own pixels per
degree. A diffusion model makes it at the scale it was trained on (a window sees a
view, not a sliver of one) and, when asked, upscales it to the wall's density by tiled
img2img; without that the export warns that the plate will look soft.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
from sqlite_utils import Database

from ..domain.wall import WallProfile, check_profile
from ..engine.base import Engine, EngineError, RenderContext
from ..engine.environment import MAX_ENVIRONMENT_SIDE, EnvironmentRequest
from ..engine.frames import TRAINED_SIDE
from ..engine.request import Staging
from ..store import scenes
from .plate import PlateExport, PlateReport, check_plate_folder, export_plate
from .plate_projection import wall_span_deg, wide_source_size


@dataclass(frozen=True)
class PlateGeneration:
    """How to make the environment. `staging` carries the scene's int_ext, location
    and time of day; an empty `prompt` is written from it."""

    engine: str = "blocking"
    model: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 25
    guidance: float = 7.0
    staging: Staging | None = None
    upscale: bool = False


def scene_staging(db: Database, scene_id: int) -> Staging:
    """The scene's place and light, as the engines read them."""
    scene = scenes.get_scene(db, scene_id)
    return Staging(int_ext=str(scene.int_ext.value), location=scene.location, time_of_day=str(scene.time_of_day.value))


def environment_prompt(staging: Staging | None) -> str:
    """A prompt for an empty set: the place, its light, and a wide establishing view."""
    staging = staging or Staging()
    inside = staging.int_ext.upper().startswith("INT")
    place = staging.location.strip().lower() or ("a room" if inside else "an open landscape")
    light = staging.time_of_day.strip().lower()
    words = [f"{'interior of' if inside else 'exterior,'} {place}"]
    if light:
        words.append(f"{light} light")
    words += ["wide panoramic environment", "cinematic matte painting", "no people", "highly detailed"]
    return ", ".join(words)


def full_size(wall: WallProfile) -> tuple[int, int]:
    """A `wide` source covering `wall` at its pixels per degree, within what an
    environment may be (larger walls get a proportionally smaller picture)."""
    width, height = wide_source_size(wall)
    if max(width, height) <= MAX_ENVIRONMENT_SIDE:
        return width, height
    shrink = MAX_ENVIRONMENT_SIDE / max(width, height)
    return max(8, int(width * shrink)), max(8, int(height * shrink))


def environment_request(wall: WallProfile, generation: PlateGeneration, trained_side: int | None = None) -> EnvironmentRequest:
    """The environment to ask for: at the wall's density, or (for a diffusion model,
    `trained_side` px) at the model's own scale, as wide as the wall's angle asks."""
    check_profile(wall)
    size = full_size(wall)
    if trained_side is not None and size[1] > trained_side:
        size = (max(8, round(size[0] * trained_side / size[1] / 8) * 8), trained_side)
    span = wall_span_deg(wall)
    return EnvironmentRequest(
        width=size[0], height=size[1], span_deg=min(span, 360.0), wrap=span >= 360, engine=generation.engine,
        model=generation.model, prompt=generation.prompt or environment_prompt(generation.staging),
        negative_prompt=generation.negative_prompt, seed=generation.seed, steps=generation.steps,
        guidance=generation.guidance, staging=generation.staging,
    )


def generate_source(engines: Mapping[str, Engine], wall: WallProfile, generation: PlateGeneration,
                    context: RenderContext) -> np.ndarray:
    """The environment as uint8 RGB (H, W, 3), a `wide` source covering `wall`.
    Raises EngineError (unknown engine, a model that cannot make it), Cancelled."""
    engine = engines.get(generation.engine)
    if engine is None:
        raise EngineError(f"the {generation.engine} engine is not available here")
    trained = None
    if generation.engine != "blocking":
        family = engine.check(generation.model)
        trained = TRAINED_SIDE.get(family.value, 512)
    elif generation.upscale:
        raise EngineError("the blocking engine paints environments at the wall's own resolution; "
                          "upscaling needs a diffusion model")
    request = environment_request(wall, generation, trained)
    image = engine.environment(request, context)
    target = full_size(wall)
    if generation.upscale and target[0] > request.width:
        image = engine.upscale(image, request.resized(*target), context)
    return np.asarray(image.convert("RGB"))


def generated_plate(engines: Mapping[str, Engine], generation: PlateGeneration, request: PlateExport,
                    progress: Callable[[int, int], None] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> PlateReport:
    """Make the environment for `request.wall`, then write the plate from it, the
    environment kept beside the tiles. `progress` counts the engine's steps, then the
    export's bands and tiles; `cancelled()` is polled at each of them."""
    check_plate_folder(request.out)  # before minutes of generation, not after
    cancelled = cancelled or (lambda: False)
    context = RenderContext(on_progress=progress or (lambda done, total: None), cancel_event=_Polled(cancelled))
    pixels = generate_source(engines, request.wall, generation, context)
    return export_plate(replace(request, source=pixels, kind="wide", save_source=True,
                                source_recipe=source_recipe(generation, pixels)), progress, cancelled)


def source_recipe(generation: PlateGeneration, pixels: np.ndarray) -> dict:
    """What made a generated source, kept with it: the generation (with the prompt the
    scene wrote, when none was given) and the picture's size."""
    recipe = asdict(generation)
    recipe["prompt"] = generation.prompt or environment_prompt(generation.staging)
    recipe["width"], recipe["height"] = int(pixels.shape[1]), int(pixels.shape[0])
    return recipe


class _Polled(threading.Event):
    """A cancel event that is also set when `cancelled()` says so: engines check it
    between windows and tiles, not only once a step."""

    def __init__(self, cancelled: Callable[[], bool]) -> None:
        super().__init__()
        self._cancelled = cancelled

    def is_set(self) -> bool:
        return super().is_set() or self._cancelled()
