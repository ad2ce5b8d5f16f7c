"""Prompt building: a shot, its scene, cast, location and the project's style become
the words a diffusion model reads. Pure and deterministic; a shot may override it."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.model import Character, Location, Project, Scene, Shot
from ..domain.vocabulary import STYLE_PRESETS, Angle, IntExt, Movement, ShotSize, TimeOfDay

SIZE_WORDS = {
    ShotSize.ecu: "extreme close-up",
    ShotSize.cu: "close-up",
    ShotSize.mcu: "medium close-up",
    ShotSize.ms: "medium shot",
    ShotSize.mws: "medium wide shot",
    ShotSize.ws: "wide shot, full figure",
    ShotSize.ews: "extreme wide shot, establishing shot",
    ShotSize.ots: "over-the-shoulder shot",
    ShotSize.pov: "point-of-view shot",
    ShotSize.insert: "insert shot, detail",
    ShotSize.two_shot: "two shot",
}

ANGLE_WORDS = {
    Angle.eye: "eye-level",
    Angle.high: "high angle, looking down",
    Angle.low: "low angle, looking up",
    Angle.bird: "bird's-eye view, overhead",
    Angle.worm: "worm's-eye view, from the ground",
    Angle.dutch: "dutch angle, tilted horizon",
}

LIGHT_WORDS = {
    TimeOfDay.day: "daylight",
    TimeOfDay.night: "night, moonlight, deep shadows",
    TimeOfDay.dawn: "dawn, cool soft light",
    TimeOfDay.dusk: "dusk, fading warm light",
    TimeOfDay.morning: "morning light",
    TimeOfDay.afternoon: "afternoon light",
    TimeOfDay.evening: "evening, low warm light",
    TimeOfDay.sunrise: "sunrise, golden light",
    TimeOfDay.sunset: "sunset, golden hour",
}

MOTION_WORDS = {
    Movement.handheld: "handheld, motion blur",
    Movement.zoom: "zoom lens",
}

NEGATIVE = "text, watermark, signature, deformed hands, extra limbs, blurry, lowres"


def lens_words(lens_mm: float) -> str:
    """Camera language for a focal length (35 mm equivalent)."""
    if lens_mm < 20:
        kind = "ultra wide lens, strong perspective"
    elif lens_mm < 35:
        kind = "wide-angle lens"
    elif lens_mm <= 60:
        kind = "normal lens"
    elif lens_mm <= 100:
        kind = "portrait lens, shallow depth of field"
    else:
        kind = "telephoto lens, compressed perspective, shallow depth of field"
    return f"{lens_mm:g}mm {kind}"


def build_prompt(
    project: Project,
    scene: Scene,
    shot: Shot,
    characters: Sequence[Character] = (),
    location: Location | None = None,
) -> tuple[str, str]:
    """(prompt, negative prompt) for one shot.

    The shot's `prompt_override` replaces the built prompt (the style still leads);
    its `negative_prompt` is added to the default negative.
    """
    style = STYLE_PRESETS.get(project.style_preset, project.style_preset)
    if shot.prompt_override.strip():
        body = [shot.prompt_override.strip()]
    else:
        body = [SIZE_WORDS[shot.size], ANGLE_WORDS[shot.angle], lens_words(shot.lens_mm)]
        if shot.movement in MOTION_WORDS:
            body.append(MOTION_WORDS[shot.movement])
        body.extend(_people(shot, characters))
        if shot.action.strip():
            body.append(_sentence(shot.action))
        body.append(_place(scene, location))
        if scene.time_of_day in LIGHT_WORDS:
            body.append(LIGHT_WORDS[scene.time_of_day])
    prompt = ", ".join(part for part in [style, *body] if part)
    negative = ", ".join(part for part in [shot.negative_prompt.strip(), NEGATIVE] if part)
    return prompt, negative


def _people(shot: Shot, characters: Sequence[Character]) -> list[str]:
    described = {c.name.upper(): c.description.strip() for c in characters}
    people = []
    for name in shot.characters:
        description = described.get(name.upper(), "")
        people.append(f"{name.title()} ({_sentence(description)})" if description else name.title())
    return people


def _place(scene: Scene, location: Location | None) -> str:
    setting = {IntExt.interior: "interior", IntExt.exterior: "exterior"}.get(scene.int_ext, "")
    name = scene.location.strip().lower()
    words = " ".join(part for part in (setting, name) if part)
    if location is not None and location.description.strip():
        words = f"{words} ({_sentence(location.description)})" if words else _sentence(location.description)
    return words


def _sentence(text: str, limit: int = 160) -> str:
    """One line of prose, trimmed at a word boundary: models read ~75 tokens."""
    flat = " ".join(text.split()).rstrip(".")
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0]
