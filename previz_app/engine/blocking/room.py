"""An interior round the viewer: a box room with walls, floor and ceiling, doors,
windows (through which the outdoors shows) and furniture by the location's words.

The viewer stands in a rectangular room turned by a seeded angle. A column looking at
longitude theta meets the wall it faces at distance `reach`, so the wall's top and foot
are at tan = (ceiling - eye) / reach and -eye / reach: the floor and ceiling lines bow
the way a cylindrical panorama shows them, and corners fall where they should. Things
on a wall are given by their span along it and their height, and follow the same rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .landscape import NO, Layer, Setting, View

EYE = 1.6
NIGHT_LAMPS = np.array([0.68, 0.59, 0.48], dtype=np.float32)  # lamplight, warmer and dimmer than day
SKY_PAINT, HILL_PAINT = np.array([0.62, 0.72, 0.82], dtype=np.float32), np.array([0.42, 0.5, 0.3], dtype=np.float32)
DARK_TIMES = ("NIGHT", "EVENING")  # lamps on; at dusk the windows still light the room


@dataclass(frozen=True)
class Fixture:
    """Something flat on a wall: `wall` 0..3, from `start` to `end` metres along it, `low` to `high` up."""

    kind: str
    wall: int
    start: float
    end: float
    low: float
    high: float


@dataclass(frozen=True)
class Walls:
    reach: np.ndarray  # metres to the wall each column faces
    wall: np.ndarray  # which wall, 0..3
    along: np.ndarray  # metres along that wall, left to right as the viewer sees it
    lengths: tuple[float, float, float, float]
    ceiling: float
    offset: np.ndarray  # longitude from the room's axis


def room_layers(view: View, setting: Setting) -> list[Layer]:
    """The room for an interior scene, layers from the ceiling down to the fixtures."""
    rng = setting.rng("room")
    walls = _walls(view, rng)
    light = NIGHT_LAMPS if setting.time in DARK_TIMES else setting.light
    paints = ((0.86, 0.82, 0.72), (0.74, 0.8, 0.74), (0.76, 0.8, 0.86), (0.86, 0.74, 0.64), (0.88, 0.87, 0.84))
    paint = np.asarray(paints[rng.integers(len(paints))], dtype=np.float32) * light
    facing = np.roll(np.array([1.0, 0.9, 0.8, 0.92], dtype=np.float32), int(rng.integers(4)))
    ceiling_line, floor_line = (walls.ceiling - EYE) / walls.reach, -EYE / walls.reach
    trim = np.array([0.93, 0.92, 0.88], dtype=np.float32) * light
    overlap = 2.0 / view.focal  # ceiling and floor run a little behind the walls, leaving no gap
    layers = [
        Layer(np.full(view.width, np.inf), ceiling_line - overlap, trim * 0.98, wrap=view.wrap),
        Layer(floor_line + overlap, NO, _floor_colour(setting) * light, wrap=view.wrap,
              shade=_floor_shade(setting, walls)),
        Layer(ceiling_line, floor_line, paint[None, :] * facing[walls.wall][:, None], ink=0.5, wrap=view.wrap,
              shade=_wall_shade(floor_line, ceiling_line)),
        Layer((0.12 - EYE) / walls.reach, floor_line, trim, ink=0.35, wrap=view.wrap),
    ]
    # Where the wall a column faces changes, a corner runs from floor to ceiling.
    corners = np.nonzero(walls.wall != np.roll(walls.wall, 1))[0] if view.wrap else np.nonzero(np.diff(walls.wall))[0] + 1
    for corner in corners:
        cols = view.columns(corner / view.focal, view.line / 2 / view.focal)
        layers.append(Layer(ceiling_line[cols], floor_line[cols], paint * 0.55, cols))
    for fixture in _furnish(setting, rng, walls):
        layers += _fixture_layers(view, walls, fixture, light, setting.time in DARK_TIMES)
    return layers


def _walls(view: View, rng: np.random.Generator) -> Walls:
    half_x, half_z = rng.uniform(3.5, 6.0), rng.uniform(3.5, 6.0)
    offset = view.theta - rng.uniform(0, 2 * math.pi)
    sin, cos = np.sin(offset), np.cos(offset)
    with np.errstate(divide="ignore"):
        to_x, to_z = half_x / np.abs(sin), half_z / np.abs(cos)
    reach = np.minimum(to_x, to_z)
    x, z = reach * sin, reach * cos
    wall = np.where(to_z <= to_x, np.where(cos > 0, 0, 2), np.where(sin > 0, 1, 3))
    along = np.choose(wall, [x + half_x, half_z - z, half_x - x, z + half_z])
    lengths = (2 * half_x, 2 * half_z, 2 * half_x, 2 * half_z)
    return Walls(reach.astype(np.float32), wall, along, lengths, float(rng.choice((2.7, 3.0, 3.3))), offset)


def _wall_shade(floor_line: np.ndarray, ceiling_line: np.ndarray):
    """Walls a little darker towards the floor, as a wash would leave them."""
    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        up = np.clip((v - floor_line[None, :]) / (ceiling_line - floor_line)[None, :], 0, 1)
        colour *= 0.86 + 0.14 * up**0.5

    return shade


def _floor_colour(setting: Setting) -> np.ndarray:
    tiled = setting.has(("KITCHEN", "BATH", "HOSPITAL", "LAB", "CORRIDOR", "HALL", "STATION", "OFFICE"))
    return np.asarray((0.74, 0.74, 0.72) if tiled else (0.62, 0.46, 0.32), dtype=np.float32)


def _floor_shade(setting: Setting, walls: Walls):
    """Boards (or tiles) on the floor, drawn where they lie: their joints converge in perspective."""
    tiled = _floor_colour(setting)[0] > 0.7
    sin, cos = np.sin(walls.offset).astype(np.float32)[None, :], np.cos(walls.offset).astype(np.float32)[None, :]
    reach = walls.reach[None, :]

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        distance = EYE / np.maximum(-v, 1e-4)
        x, z = distance * sin, distance * cos
        if tiled:
            joint = ((x / 0.45) % 1.0 < 0.05) | ((z / 0.45) % 1.0 < 0.05)
        else:
            board = np.floor(x / 0.19)
            joint = ((x / 0.19) % 1.0 < 0.07) | (((z + board * 0.77) / 1.9) % 1.0 < 0.02)
        colour *= np.where(joint, 0.8, 1.0) * (1.0 - 0.18 * np.clip(distance / reach, 0, 1))

    return shade


def _furnish(setting: Setting, rng: np.random.Generator, walls: Walls) -> list[Fixture]:
    """Doors, windows, then furniture the location calls for, then pictures where room is left."""
    taken: list[Fixture] = []

    def put(kind: str, width: float, low: float, high: float, wall: int | None = None,
            start: float | None = None) -> Fixture | None:
        for _ in range(12):
            side = int(rng.integers(4)) if wall is None else wall
            length = walls.lengths[side]
            if width > length - 0.6:
                continue
            begin = rng.uniform(0.3, length - width - 0.3) if start is None else start
            fixture = Fixture(kind, side, begin, begin + width, low, high)
            if not any(f.wall == side and f.start < fixture.end + 0.2 and fixture.start < f.end + 0.2
                       and f.low < high and low < f.high for f in taken):
                taken.append(fixture)
                return fixture
        return None

    kitchen = setting.has(("KITCHEN",))
    if kitchen:  # the counter first, so windows and the door go where it is not
        counter = put("counter", walls.lengths[0] * 0.6, 0.0, 0.92, 0)
        if counter is not None:
            put("cabinet", counter.end - counter.start, 1.5, 2.2, 0, counter.start)
        put("fridge", 0.8, 0.0, 1.9)
    put("door", 0.95, 0.0, 2.1)
    for _ in range(int(rng.integers(2, 4))):
        put("window", rng.uniform(1.1, 2.0), 0.95, 2.25)
    if setting.has(("BEDROOM", "HOTEL", "MOTEL")):
        put("bed", 1.8, 0.0, 1.05)
    elif setting.has(("OFFICE", "STUDY", "LIBRARY", "CLASSROOM")):
        put("shelf", 2.2, 0.0, 2.1)
        put("shelf", 1.6, 0.0, 2.1)
    elif setting.has(("BAR", "PUB", "RESTAURANT", "CAFE", "DINER", "SHOP", "STORE")):
        put("counter", 3.0, 0.0, 1.05)
        put("shelf", 2.4, 1.2, 2.3)
    elif not kitchen:
        put("sofa", 2.2, 0.0, 0.85)
        put("shelf", 1.2, 0.0, 1.9)
    for _ in range(int(rng.integers(1, 4))):
        put("picture", rng.uniform(0.5, 1.0), 1.35, 1.35 + rng.uniform(0.4, 0.7))
    return taken


# Colours of fixtures (lit by the room's light) and the border drawn inside them (m).
LOOKS = {
    "door": ((0.5, 0.36, 0.24), 0.07), "window": ((0.93, 0.92, 0.88), 0.07), "counter": ((0.82, 0.8, 0.76), 0.0),
    "cabinet": ((0.8, 0.78, 0.74), 0.0), "fridge": ((0.9, 0.91, 0.92), 0.0), "bed": ((0.55, 0.6, 0.72), 0.0),
    "shelf": ((0.46, 0.33, 0.22), 0.05), "sofa": ((0.5, 0.42, 0.5), 0.0), "picture": ((0.3, 0.22, 0.16), 0.05),
}


def _fixture_layers(view: View, walls: Walls, fixture: Fixture, light: np.ndarray, dark: bool) -> list[Layer]:
    """A fixture's layers: its body, then glass, panels, books or a canvas inside its border."""
    rgb, border = LOOKS[fixture.kind]
    body = _on_wall(view, walls, fixture, np.asarray(rgb, dtype=np.float32) * light, ink=0.6)
    if body is None:
        return []
    layers = [body]
    inner = Fixture(fixture.kind, fixture.wall, fixture.start + border, fixture.end - border,
                    fixture.low + border, fixture.high - border)
    if fixture.kind == "window":
        tint = np.array([0.55, 0.6, 0.72] if dark else [0.97, 0.98, 1.0], dtype=np.float32)
        layers.append(_on_wall(view, walls, inner, tint, ink=0.4, glass=True))
        middle = (inner.start + inner.end) / 2
        layers.append(_on_wall(view, walls, Fixture("bar", fixture.wall, middle - 0.03, middle + 0.03, inner.low,
                                                    inner.high), np.asarray(rgb, dtype=np.float32) * light))
        level = (inner.low + inner.high) / 2
        layers.append(_on_wall(view, walls, Fixture("bar", fixture.wall, inner.start, inner.end, level - 0.03,
                                                    level + 0.03), np.asarray(rgb, dtype=np.float32) * light))
    elif fixture.kind == "door":
        knob = fixture.end - 0.12
        layers.append(_on_wall(view, walls, Fixture("knob", fixture.wall, knob - 0.04, knob + 0.04, 0.98, 1.06),
                               np.array([0.8, 0.7, 0.3], dtype=np.float32) * light))
    elif fixture.kind in ("counter", "cabinet", "shelf", "picture", "fridge"):
        layers.append(_on_wall(view, walls, inner, np.asarray(rgb, dtype=np.float32) * light,
                               shade=_panels(fixture.kind, walls, inner, light)))
    return [layer for layer in layers if layer is not None]


def _on_wall(view: View, walls: Walls, fixture: Fixture, colour: np.ndarray, ink: float = 0.0,
             glass: bool = False, shade=None) -> Layer | None:
    cols = np.nonzero((walls.wall == fixture.wall) & (walls.along >= fixture.start) & (walls.along <= fixture.end))[0]
    if not len(cols):
        return None
    if view.wrap and cols[0] == 0 and cols[-1] == view.width - 1:
        cols = np.roll(cols, -int(np.argmax(np.diff(cols) > 1)) - 1)  # keep them in order round the seam
    reach = walls.reach[cols]
    layer = Layer((fixture.high - EYE) / reach, (fixture.low - EYE) / reach, colour, cols, ink=ink, glass=glass,
                  shade=None if shade is None else shade(cols))
    return layer


def _panels(kind: str, walls: Walls, inner: Fixture, light: np.ndarray):
    """Cupboard doors, shelves of books, or a little landscape, drawn on a fixture's face."""
    def bind(cols: np.ndarray):
        along, reach = walls.along[cols] - inner.start, walls.reach[cols]
        spines = np.random.default_rng(int(inner.start * 1000)).random((3, 64)).astype(np.float32)
        tint = np.array([0.22, 0.16, 0.1], dtype=np.float32)[:, None, None]

        def shade(v: np.ndarray, colour: np.ndarray) -> None:
            height = EYE + v * reach[None, :] - inner.low
            if kind in ("counter", "cabinet"):
                seam = (along % 0.6 < 0.025)[None, :] | (np.abs(height - (inner.high - inner.low - 0.06)) < 0.025)
                colour *= np.where(seam, 0.7, 1.0)
            elif kind == "fridge":
                seam = (np.abs(height - 1.2) < 0.02) | ((np.abs(along - 0.08) < 0.02)[None, :] & (height > 0.6))
                colour *= np.where(seam, 0.6, 1.0)
            elif kind == "shelf":
                book = spines[:, (np.floor(along / 0.05).astype(int) * 7 + np.floor(height / 0.4).astype(int) * 13) % 64]
                gap = (height % 0.4 < 0.04) | (height % 0.4 > 0.34 - 0.06 * book[0])
                spine = (0.2 + 0.35 * book + tint) * light[:, None, None]
                colour[...] = np.where(gap, colour * 0.55, spine)
            else:
                sky = height > (inner.high - inner.low) * 0.45
                colour[...] = np.where(sky, (SKY_PAINT * light)[:, None, None], (HILL_PAINT * light)[:, None, None])

        return shade

    return bind

