"""The shot vocabulary a director speaks: sizes, angles, moves, and project formats."""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction


class ShotSize(StrEnum):
    ecu = "ECU"
    cu = "CU"
    mcu = "MCU"
    ms = "MS"
    mws = "MWS"
    ws = "WS"
    ews = "EWS"
    ots = "OTS"
    pov = "POV"
    insert = "INSERT"
    two_shot = "TWO_SHOT"


class Angle(StrEnum):
    eye = "eye"
    high = "high"
    low = "low"
    bird = "bird"
    worm = "worm"
    dutch = "dutch"


class Movement(StrEnum):
    static = "static"
    pan = "pan"
    tilt = "tilt"
    dolly_in = "dolly_in"
    dolly_out = "dolly_out"
    truck = "truck"
    crane = "crane"
    handheld = "handheld"
    zoom = "zoom"


class Direction(StrEnum):
    none = ""
    left = "left"
    right = "right"
    up = "up"
    down = "down"
    in_ = "in"
    out = "out"


class IntExt(StrEnum):
    interior = "INT"
    exterior = "EXT"
    interior_exterior = "INT/EXT"
    unspecified = ""


class TimeOfDay(StrEnum):
    day = "DAY"
    night = "NIGHT"
    dawn = "DAWN"
    dusk = "DUSK"
    morning = "MORNING"
    afternoon = "AFTERNOON"
    evening = "EVENING"
    sunrise = "SUNRISE"
    sunset = "SUNSET"
    continuous = "CONTINUOUS"
    later = "LATER"
    unspecified = ""


class TransitionIn(StrEnum):
    """How a shot begins: a cut, a dissolve from the shot before, or a fade from black."""

    cut = "cut"
    dissolve = "dissolve"
    fade_from_black = "fade_from_black"


class TransitionOut(StrEnum):
    """How a shot ends: a cut (or the next shot's dissolve), or a fade to black."""

    cut = "cut"
    fade_to_black = "fade_to_black"


class TakeKind(StrEnum):
    generated = "generated"
    drawn = "drawn"
    imported = "imported"


ASPECT_RATIOS: tuple[float, ...] = (1.33, 1.78, 1.85, 2.00, 2.39)

# Broadcast rates are exact fractions; 23.976 is really 24000/1001.
FRAME_RATES: dict[float, Fraction] = {
    23.976: Fraction(24000, 1001),
    24.0: Fraction(24),
    25.0: Fraction(25),
    29.97: Fraction(30000, 1001),
    30.0: Fraction(30),
}

STYLE_PRESETS: dict[str, str] = {
    "storyboard_pencil": "storyboard pencil sketch, loose graphite lines, grey wash",
    "cinematic": "cinematic still, anamorphic, film grain",
    "graphic_novel": "graphic novel panel, bold ink, flat colour",
    "clean_line": "clean line art storyboard, black ink on white",
}

# Which directions make sense for which move; an empty set means the move has none.
MOVE_DIRECTIONS: dict[Movement, frozenset[Direction]] = {
    Movement.static: frozenset(),
    Movement.pan: frozenset({Direction.left, Direction.right}),
    Movement.tilt: frozenset({Direction.up, Direction.down}),
    Movement.dolly_in: frozenset(),
    Movement.dolly_out: frozenset(),
    Movement.truck: frozenset({Direction.left, Direction.right}),
    Movement.crane: frozenset({Direction.up, Direction.down}),
    Movement.handheld: frozenset(),
    Movement.zoom: frozenset({Direction.in_, Direction.out}),
}


def parse_choice(enum_type: type[StrEnum], value: object, what: str) -> StrEnum:
    """Read `value` (an enum member, its value or its name, any case) as `enum_type`.

    Raises ValueError naming the accepted values when nothing matches.
    """
    if isinstance(value, enum_type):
        return value
    text = str(value).strip()
    for member in enum_type:
        if text.upper() in (member.value.upper(), member.name.upper().rstrip("_")):
            return member
    accepted = ", ".join(m.value or "(empty)" for m in enum_type)
    raise ValueError(f"unknown {what} {value!r}; expected one of: {accepted}")


def nearest_aspect_ratio(value: float) -> float:
    """Validate an aspect ratio against the supported set (to 2 decimals)."""
    for ratio in ASPECT_RATIOS:
        if abs(float(value) - ratio) < 0.005:
            return ratio
    raise ValueError(
        f"unsupported aspect ratio {value}; expected one of "
        + ", ".join(f"{r:.2f}" for r in ASPECT_RATIOS)
    )


def frame_rate(value: float) -> Fraction:
    """The exact rational frame rate for a supported fps (23.976 -> 24000/1001)."""
    for fps, exact in FRAME_RATES.items():
        if abs(float(value) - fps) < 0.0005:
            return exact
    raise ValueError(
        f"unsupported frame rate {value}; expected one of "
        + ", ".join(f"{f:g}" for f in FRAME_RATES)
    )
