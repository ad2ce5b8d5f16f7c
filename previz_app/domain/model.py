"""The film as values: Project, Scene, Shot, Take, Character, Location.

Values are frozen; an edit makes a new value (`dataclasses.replace`) and the store
persists it. Ids are None until the store assigns one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .timecode import timecode_frames
from .vocabulary import (
    FRAME_RATES,
    STYLE_PRESETS,
    Angle,
    Direction,
    IntExt,
    Movement,
    ShotSize,
    TakeKind,
    TimeOfDay,
    TransitionIn,
    TransitionOut,
    frame_rate,
    nearest_aspect_ratio,
    parse_choice,
)

MIN_LENS_MM = 6.0
MAX_LENS_MM = 1200.0
MAX_SHOT_SECONDS = 600.0
MAX_TRANSITION_SECONDS = 10.0
MIN_LEVEL_DB, MAX_LEVEL_DB = -60.0, 12.0


@dataclass(frozen=True, slots=True)
class Project:
    title: str
    logline: str = ""
    aspect_ratio: float = 1.78
    fps: float = 24.0
    default_shot_duration: float = 3.0
    style_preset: str = "storyboard_pencil"
    # Where the animatic's timecode starts (non-drop-frame, see domain/timecode.py).
    start_timecode: str = "01:00:00:00"
    # The music bed under the whole sequence: a media hash and its level.
    music_hash: str | None = None
    music_level_db: float = -12.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "aspect_ratio", nearest_aspect_ratio(self.aspect_ratio))
        exact = frame_rate(self.fps)  # validates
        object.__setattr__(self, "fps", next(f for f, e in FRAME_RATES.items() if e == exact))
        if not 0 < self.default_shot_duration <= MAX_SHOT_SECONDS:
            raise ValueError(
                f"default shot duration must be between 0 and {MAX_SHOT_SECONDS:g} s, "
                f"not {self.default_shot_duration}"
            )
        if self.style_preset not in STYLE_PRESETS:
            raise ValueError(
                f"unknown style preset {self.style_preset!r}; expected one of: "
                + ", ".join(STYLE_PRESETS)
            )
        timecode_frames(self.start_timecode, self.fps)  # validates
        object.__setattr__(self, "music_level_db", _level(self.music_level_db))


@dataclass(frozen=True, slots=True)
class Scene:
    number: str
    heading: str
    int_ext: IntExt = IntExt.unspecified
    location: str = ""
    time_of_day: TimeOfDay = TimeOfDay.unspecified
    synopsis: str = ""
    position: int = 0
    script_text: str = ""
    characters: tuple[str, ...] = ()
    removed: bool = False
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Shot:
    scene_id: int | None = None
    position: int = 0
    size: ShotSize = ShotSize.ms
    angle: Angle = Angle.eye
    movement: Movement = Movement.static
    direction: Direction = Direction.none
    lens_mm: float = 35.0
    duration: float = 3.0
    action: str = ""
    dialogue: str = ""
    notes: str = ""
    characters: tuple[str, ...] = ()
    prompt_override: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    locked_number: str | None = None
    hero_take_id: int | None = None
    transition_in: TransitionIn = TransitionIn.cut
    transition_out: TransitionOut = TransitionOut.cut
    transition_seconds: float = 1.0
    # The shot's own sound (dialogue, effects): a media hash, placed at the shot's start.
    audio_hash: str | None = None
    audio_level_db: float = 0.0
    # Derived by the store from the scene number and order (see numbering.py).
    number: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Take:
    shot_id: int
    kind: TakeKind
    media_hash: str
    recipe: str = "{}"
    parent_id: int | None = None
    starred: bool = False
    created: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Character:
    name: str
    description: str = ""
    reference_images: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Location:
    name: str
    description: str = ""
    reference_images: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _lens(value: Any) -> float:
    lens = float(value)
    if not MIN_LENS_MM <= lens <= MAX_LENS_MM:
        raise ValueError(f"lens must be between {MIN_LENS_MM:g} and {MAX_LENS_MM:g} mm, not {value}")
    return lens


def _duration(value: Any) -> float:
    seconds = float(value)
    if not 0 < seconds <= MAX_SHOT_SECONDS:
        raise ValueError(f"duration must be between 0 and {MAX_SHOT_SECONDS:g} s, not {value}")
    return seconds


def _transition_seconds(value: Any) -> float:
    seconds = float(value)
    if not 0 < seconds <= MAX_TRANSITION_SECONDS:
        raise ValueError(f"transition length must be between 0 and {MAX_TRANSITION_SECONDS:g} s, not {value}")
    return seconds


def _level(value: Any) -> float:
    level = float(value)
    if not MIN_LEVEL_DB <= level <= MAX_LEVEL_DB:
        raise ValueError(f"level must be between {MIN_LEVEL_DB:g} and {MAX_LEVEL_DB:g} dB, not {value}")
    return level


def _media_hash(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    digest = str(value).strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a media hash: {value!r}")
    return digest


def _seed(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        seed = int(str(value).strip())
    except ValueError:
        raise ValueError(f"seed must be a whole number, or empty for automatic, not {value!r}") from None
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative 63-bit integer, not {value}")
    return seed


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(name.strip().upper() for name in value if name.strip())


def _locked_number(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip().upper()


SHOT_FIELDS = {
    "size": lambda v: parse_choice(ShotSize, v, "shot size"),
    "angle": lambda v: parse_choice(Angle, v, "angle"),
    "movement": lambda v: parse_choice(Movement, v, "movement"),
    "direction": lambda v: parse_choice(Direction, v or "", "direction"),
    "lens_mm": _lens,
    "duration": _duration,
    "action": _text,
    "dialogue": _text,
    "notes": _text,
    "characters": _names,
    "prompt_override": _text,
    "negative_prompt": _text,
    "seed": _seed,
    "locked_number": _locked_number,
    "transition_in": lambda v: parse_choice(TransitionIn, v, "transition in"),
    "transition_out": lambda v: parse_choice(TransitionOut, v, "transition out"),
    "transition_seconds": _transition_seconds,
    "audio_hash": _media_hash,
    "audio_level_db": _level,
}

SCENE_FIELDS = {
    "heading": _text,
    "int_ext": lambda v: parse_choice(IntExt, v or "", "INT/EXT"),
    "location": _text,
    "time_of_day": lambda v: parse_choice(TimeOfDay, v or "", "time of day"),
    "synopsis": _text,
    "characters": _names,
}


def normalize_field(kind: str, name: str, value: Any) -> Any:
    """Validate a user edit of one field of a shot or scene and return the stored value.

    `kind` is "shot" or "scene". Raises ValueError for an unknown or read-only field
    and for a value the field cannot hold.
    """
    fields = {"shot": SHOT_FIELDS, "scene": SCENE_FIELDS}[kind]
    if name not in fields:
        raise ValueError(f"{kind} field {name!r} cannot be edited; editable: {', '.join(fields)}")
    try:
        return fields[name](value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{kind} {name}: {exc}") from None
