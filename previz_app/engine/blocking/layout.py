"""Blocking a shot: where the camera stands, where the cast stands, what the set holds.

Everything here is arithmetic on the shot's metadata and a seeded random stream,
so the same staging and seed always give the same layout.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

from ..camera import SENSOR_WIDTH_MM, Camera
from ..request import Staging

# Visible height at the subject (metres) and the height the camera aims at.
FRAMING: dict[str, tuple[float, float]] = {
    "ECU": (0.2, 1.6),  # brow to chin
    "CU": (0.47, 1.62),  # head and shoulders
    "MCU": (0.68, 1.54),  # chest up
    "MS": (0.95, 1.43),  # waist up
    "MWS": (1.42, 1.21),  # mid-thigh up
    "WS": (2.7, 1.05),  # head to toe with room around
    "EWS": (10.0, 1.6),
    "OTS": (0.85, 1.52),
    "POV": (1.8, 1.3),
    "INSERT": (0.45, 0.8),
    "TWO_SHOT": (1.1, 1.4),
}

# Camera elevation above the aim point (degrees) and roll, by angle.
ELEVATION: dict[str, tuple[float, float]] = {
    "eye": (0.0, 0.0),
    "high": (28.0, 0.0),
    "low": (-22.0, 0.0),
    "bird": (80.0, 0.0),
    "worm": (-38.0, 0.0),
    "dutch": (0.0, 16.0),
}

WATER = ("SEA", "OCEAN", "BEACH", "SHORE", "HARBOR", "HARBOUR", "LAKE", "RIVER", "DOCK", "PIER", "COAST", "BAY", "CLIFF")
TREES = ("FOREST", "WOOD", "PARK", "GARDEN", "FIELD", "COUNTRY", "FARM", "ORCHARD", "CAMP", "JUNGLE", "YARD")
STREETS = ("STREET", "ROAD", "HIGHWAY", "ALLEY", "AVENUE", "PARKING", "CITY", "TOWN", "VILLAGE", "SQUARE", "CORNER")

FIGURE_HEIGHT = 1.75


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    x: float
    z: float
    facing: float  # degrees; 0 faces the default camera (towards -z)
    height: float = FIGURE_HEIGHT
    arm_swing: float = 0.0  # degrees, a seeded hint of gesture


@dataclass(frozen=True, slots=True)
class Prop:
    """A set piece: `kind` is box, tree, tower, door or window; sizes in metres.

    Boxes, trees and towers stand on the ground at (x, z). Doors and windows sit on
    a wall: `wall` is back, left or right and (x or z, y) is their lower-left corner.
    """

    kind: str
    x: float
    z: float
    width: float
    height: float
    depth: float = 0.0
    y: float = 0.0
    wall: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    camera: Camera
    figures: tuple[Figure, ...]
    props: tuple[Prop, ...]
    interior: bool
    room: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # half width, back z, front z, ceiling
    water_z: float | None = None
    road_x: float | None = None
    time_of_day: str = ""
    focus: tuple[str, ...] = field(default=())


def block_shot(staging: Staging, aspect: float, seed: int) -> Layout:
    """Lay out `staging` for a frame of `aspect` (width / height) at move time 0..1."""
    rng = random.Random(seed)
    size = staging.size.upper() if staging.size.upper() in FRAMING else "MS"
    figures = _place_figures(staging, size, rng)
    camera = _frame(staging, size, aspect, rng)
    if size == "OTS":
        figures = _add_shoulder(figures, camera, staging)
    camera = move_camera(camera, staging.movement, staging.direction, staging.time, seed)
    interior = staging.int_ext.upper() in ("INT", "INT/EXT")
    location = staging.location.upper()
    if interior:
        room = (rng.uniform(3.2, 4.5), rng.uniform(3.5, 5.5), min(-6.0, camera.z - 1.5), rng.choice((2.7, 3.0, 3.4)))
        props = _interior_props(room, rng)
        if size == "INSERT":
            props += (Prop("box", 0.0, 0.0, 1.2, 0.76, 0.7),)
        return Layout(camera, figures, props, True, room, time_of_day=staging.time_of_day.upper())
    water_z = rng.uniform(12, 30) if any(word in location for word in WATER) else None
    road_x = rng.uniform(-4, 4) if any(word in location for word in STREETS) else None
    props = _exterior_props(location, water_z, road_x, rng)
    if size == "INSERT":
        props += (Prop("box", 0.0, 0.0, 1.2, 0.76, 0.7),)
    return Layout(camera, figures, props, False, water_z=water_z, road_x=road_x, time_of_day=staging.time_of_day.upper())


def _place_figures(staging: Staging, size: str, rng: random.Random) -> tuple[Figure, ...]:
    names = list(staging.characters)
    if size == "INSERT":
        return ()
    if size == "OTS":
        names = names[1:2] or names[:1]
    if size == "TWO_SHOT" and len(names) < 2:
        names = names + ["" for _ in range(2 - len(names))]
    spacing = 0.95 if size != "EWS" else 1.6
    start = -spacing * (len(names) - 1) / 2
    figures = []
    for index, name in enumerate(names):
        x = start + index * spacing + rng.uniform(-0.12, 0.12)
        z = rng.uniform(-0.25, 0.25) if len(names) > 1 else 0.0
        # Pairs turn towards each other; a lone figure favours the camera.
        facing = (-35.0 if x < 0 else 35.0) if len(names) > 1 else rng.uniform(-20, 20)
        figures.append(Figure(name, x, z, facing, arm_swing=rng.uniform(-25, 25)))
    return tuple(figures)


def _frame(staging: Staging, size: str, aspect: float, rng: random.Random) -> Camera:
    """A camera whose frame holds the subject at the shot size's height."""
    visible, aim_y = FRAMING[size]
    lens = max(8.0, float(staging.lens_mm))
    sensor_h = SENSOR_WIDTH_MM / aspect
    distance = visible * lens / sensor_h
    elevation, roll = ELEVATION.get(staging.angle.lower(), (0.0, 0.0))
    if size == "INSERT":
        elevation = max(elevation, 35.0)
    elif size == "OTS":
        elevation = min(max(elevation, -8.0), 8.0)  # over a shoulder is near eye level
    yaw = rng.uniform(-7.0, 7.0)
    e = math.radians(elevation)
    target = (0.0, aim_y, 0.0)
    x = -distance * math.cos(e) * math.sin(math.radians(yaw))
    z = -distance * math.cos(e) * math.cos(math.radians(yaw))
    y = aim_y + distance * math.sin(e)
    camera = Camera(x=x, y=max(0.12, y), z=z, roll=roll, focal_mm=lens).looking_at(target)
    # Rule of thirds: a lone subject sits off centre, on a seeded side.
    if len(staging.characters) == 1 and size not in ("ECU", "INSERT", "EWS"):
        third = math.degrees(math.atan(SENSOR_WIDTH_MM / 6 / lens))
        camera = replace(camera, yaw=camera.yaw + rng.choice((-1, 1)) * third * 0.8)
    return camera


def _add_shoulder(figures: tuple[Figure, ...], camera: Camera, staging: Staging) -> tuple[Figure, ...]:
    """OTS: the listener stands just in front of the camera, back turned, off to one side."""
    forward = camera.forward()
    right = camera.rotation()[:, 0]
    base = camera.position + forward * 0.75 + right * 0.32
    name = staging.characters[0] if len(staging.characters) > 1 else ""
    facing = math.degrees(math.atan2(-forward[0], -forward[2]))
    return (*figures, Figure(name, float(base[0]), float(base[2]), facing))


def key_time(movement: str, direction: str) -> float:
    """When in its move the camera holds the framing the shot size names: the middle
    of a pan, tilt or truck, the end of a pull-out, else the start. A still panel is
    drawn at this time."""
    movement = movement.lower()
    if movement in ("pan", "tilt", "truck"):
        return 0.5
    if movement == "dolly_out" or (movement == "zoom" and direction in ("left", "down", "out")):
        return 1.0
    return 0.0


def move_camera(camera: Camera, movement: str, direction: str, time: float, seed: int) -> Camera:
    """The camera `time` (0..1) of the way through `movement` in `direction`."""
    t = min(1.0, max(0.0, float(time)))
    s = t * t * (3 - 2 * t)  # ease in and out, as a grip would
    sign = -1.0 if direction in ("left", "down", "out") else 1.0
    movement = movement.lower()
    if movement == "pan":
        return replace(camera, yaw=camera.yaw + sign * 30.0 * (s - 0.5))
    if movement == "tilt":
        return replace(camera, pitch=camera.pitch + sign * 20.0 * (s - 0.5))
    if movement in ("dolly_in", "dolly_out", "truck", "crane"):
        distance = float(math.dist((camera.x, camera.y, camera.z), (0.0, camera.y, 0.0)))
        if movement == "truck":
            step = camera.rotation()[:, 0] * sign * 0.5 * distance * (s - 0.5)
        elif movement == "crane":
            step = (0.0, sign * 1.5 * s, 0.0)
        else:
            toward = 1.0 if movement == "dolly_in" else -1.0
            step = camera.forward() * toward * 0.35 * distance * (s - (0.0 if toward > 0 else 1.0))
        moved = replace(camera, x=camera.x + step[0], y=max(0.12, camera.y + step[1]), z=camera.z + step[2])
        if movement == "crane":
            # The operator keeps the subject in frame while the arm rises.
            aim = camera.position + camera.forward() * distance
            return moved.looking_at((float(aim[0]), float(aim[1]), float(aim[2])))
        return moved
    if movement == "zoom":
        factor = 1.6 ** (s if sign > 0 else (1 - s))
        return replace(camera, focal_mm=camera.focal_mm * factor)
    if movement == "handheld":
        phase = (seed % 1000) / 1000 * 2 * math.pi
        wobble = math.sin(7.1 * t + phase), math.sin(5.3 * t + 2 * phase), math.sin(3.7 * t + 3 * phase)
        return replace(camera, yaw=camera.yaw + 0.8 * wobble[0], pitch=camera.pitch + 0.6 * wobble[1], roll=camera.roll + 0.7 * wobble[2])
    return camera


def _interior_props(room: tuple[float, float, float, float], rng: random.Random) -> tuple[Prop, ...]:
    half_width, back_z, _front_z, _ceiling = room
    props = [Prop("door", rng.uniform(-half_width + 0.4, -0.6), back_z, 0.9, 2.1, wall="back")]
    props.append(Prop("window", rng.uniform(0.4, half_width - 1.6), back_z, 1.2, 1.2, y=0.95, wall="back"))
    side = rng.choice(("left", "right"))
    props.append(Prop("window", 0.0, rng.uniform(-1.5, back_z - 1.6), 1.3, 1.2, y=0.95, wall=side))
    if rng.random() < 0.7:
        props.append(Prop("box", rng.uniform(-half_width + 0.8, half_width - 0.8), back_z - 0.6, 1.4, 0.9, 0.5))
    return tuple(props)


def _exterior_props(location: str, water_z: float | None, road_x: float | None, rng: random.Random) -> tuple[Prop, ...]:
    props: list[Prop] = []
    limit = water_z - 2 if water_z is not None else 60.0
    if "LIGHTHOUSE" in location:
        props.append(Prop("tower", rng.choice((-1, 1)) * rng.uniform(3, 7), min(limit, rng.uniform(14, 20)), 3.2, 18.0))
    trees = rng.randint(5, 9) if any(word in location for word in TREES) else rng.randint(1, 3)
    buildings = rng.randint(3, 6) if road_x is not None else rng.randint(0, 2)
    for _ in range(trees):
        props.append(Prop("tree", _off_road(rng, road_x), rng.uniform(5, max(6, limit)), rng.uniform(2, 3.5), rng.uniform(4, 8)))
    for _ in range(buildings):
        props.append(Prop("box", _off_road(rng, road_x, 5), rng.uniform(8, max(9, limit)), rng.uniform(5, 10), rng.uniform(5, 14), rng.uniform(5, 9)))
    return tuple(props)


def _off_road(rng: random.Random, road_x: float | None, clearance: float = 3.0) -> float:
    x = rng.uniform(-16, 16)
    if road_x is not None and abs(x - road_x) < clearance + 2:
        x = road_x + math.copysign(clearance + 2 + rng.uniform(0, 6), x - road_x or 1)
    return x
