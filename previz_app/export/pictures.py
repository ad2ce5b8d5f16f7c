"""The images an export places: a shot's hero frame (or, with none, the blocking
panel of its metadata) and any take by id, with the recipe that made it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..domain.model import Project, Scene, Shot, Take
from ..domain.vocabulary import TakeKind
from ..engine.blocking.panel import render_panel
from ..engine.frames import ShotContext, frame_request
from ..store.media import MediaStore
from .files import ExportError


class MissingImageError(ExportError):
    """An image the export needs is missing from the project's media or unreadable."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """How a generated image was made, for a deck's notes and metadata."""

    image: str  # what the image is in the export: "Key art", "Shot 3A", ...
    take_id: int
    engine: str
    model: str
    seed: int | None
    prompt: str

    def line(self) -> str:
        """One line a person reads: `Key art (take 12): blocking, seed 7, prompt "…"`."""
        model = f" {self.model}" if self.model else ""
        seed = f", seed {self.seed}" if self.seed is not None else ""
        return f'{self.image} (take {self.take_id}): {self.engine}{model}{seed}, prompt "{self.prompt}"'

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.image, "take": self.take_id, "engine": self.engine, "model": self.model,
                "seed": self.seed, "prompt": self.prompt}


def provenance(take: Take, image: str) -> Provenance | None:
    """The recipe of a generated take as Provenance; None for drawn or imported takes
    (their maker is a person) and for a take whose recipe says nothing."""
    if TakeKind(take.kind) is not TakeKind.generated:
        return None
    try:
        recipe = json.loads(take.recipe or "{}")
    except json.JSONDecodeError:
        return None
    if not isinstance(recipe, dict) or not recipe.get("engine"):
        return None
    seed = recipe.get("seed")
    return Provenance(image, int(take.id or 0), str(recipe.get("engine", "")), str(recipe.get("model", "")),
                      int(seed) if isinstance(seed, int) else None, str(recipe.get("prompt", "")))


def take_image(media: MediaStore, take: Take, what: str) -> Image.Image:
    """The RGB image of `take`, decoded in full. `what` names it in errors ("shot 12A",
    "key art"). Raises MissingImageError when the file is gone, truncated or not an
    image."""
    path = media.path(take.media_hash)
    if not path.is_file():
        raise MissingImageError(
            f"{what}: its image (take {take.id}, {take.media_hash[:12]}) is missing from the project's media "
            f"folder {path.parent}; restore the file or choose another take")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MissingImageError(f"{what}: its image {path.name[:12]} cannot be read ({exc}); choose another take") from exc


def blocking_panel(project: Project, scene: Scene, shot: Shot, size: tuple[int, int]) -> Image.Image:
    """What a shot without a hero frame shows: the blocking engine's panel of its
    metadata at `size`, with the seed its first generated frame would use."""
    request = frame_request(ShotContext(project, scene, shot))
    assert request.staging is not None  # blocking requests always carry one
    return render_panel(request.staging, max(8, size[0]), max(8, size[1]), request.seed).image
