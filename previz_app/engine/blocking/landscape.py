"""The outdoors round the viewer as layers: hills, mountains, trees, buildings, water.

Each feature is a Layer: per column, the tan of the elevation of its top and bottom
edges. Something of height h metres at distance d stands between tan = -EYE_M / d and
(h - EYE_M) / d, so size and perspective follow from distance. Shapes that run all the
way round (ridges, dunes) are noise with whole periods over 360°; single things (trees,
buildings, boats) are placed by longitude and reach their columns modulo the width, so
both wrap without a seam.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .layout import STREETS, WATER
from .panel import INK

EYE_M = 1.7  # the viewer's eye above the ground
INK_RGB = np.full((3, 1, 1), INK / 255, dtype=np.float32)
NO = -np.inf

FOREST = ("FOREST", "WOOD", "JUNGLE", "TREE", "PINE", "TAIGA")
SNOW = ("SNOW", "WINTER", "ICE", "FROZEN", "ARCTIC", "GLACIER", "TUNDRA")
DESERT = ("DESERT", "DUNE", "SAHARA", "WASTELAND")
MOUNTAINS = ("MOUNTAIN", "PEAK", "ALPS", "ALPINE", "SUMMIT", "GLACIER", "CANYON")
CITY = (*STREETS, "DOWNTOWN", "ROOFTOP", "SKYLINE", "BUILDING", "MARKET")
SEA = (*WATER, "LIGHTHOUSE", "OCEAN", "PORT", "MARINA", "ISLAND")
INLAND_WATER = ("LAKE", "RIVER", "POND")
QUAYS = ("HARBOR", "HARBOUR", "DOCK", "PIER", "PORT", "MARINA", "WHARF", "QUAY")


@dataclass(frozen=True)
class Setting:
    """What the painter needs from a request: where, when, and a seed for each feature."""

    seed: int
    location: str
    interior: bool
    time: str
    light: np.ndarray = field(repr=False)  # per-channel gain on lit surfaces
    haze: np.ndarray = field(repr=False)  # what distance fades to: the sky at the horizon

    def has(self, words: tuple[str, ...]) -> bool:
        """Whether a word of the location starts with one of `words` (SNOWY has SNOW; STREET has no TREE)."""
        return any(token.startswith(word) for token in re.findall(r"[A-Z]+", self.location) for word in words)

    def rng(self, feature: str) -> np.random.Generator:
        """A random stream of its own for each feature, so features do not shift each other."""
        return np.random.default_rng([self.seed, zlib.crc32(feature.encode())])

    def lit(self, rgb: tuple[float, float, float]) -> np.ndarray:
        return np.asarray(rgb, dtype=np.float32) * self.light

    def hazed(self, rgb: np.ndarray, amount: float) -> np.ndarray:
        return (rgb + (self.haze - rgb) * amount).astype(np.float32)


@dataclass(frozen=True)
class View:
    """The picture's geometry: column longitudes and row elevations."""

    width: int
    height: int
    span: float  # radians
    wrap: bool

    @property
    def focal(self) -> float:
        """Pixels per radian across, and per unit of tan(latitude) down."""
        return self.width / self.span

    @property
    def line(self) -> float:
        """Width of a pencil line in pixels (0.06° of view, at least one pixel)."""
        return max(1.0, self.focal * math.radians(0.06))

    @property
    def top(self) -> float:
        """tan of the elevation of the top row."""
        return self.height / 2 / self.focal

    @property
    def theta(self) -> np.ndarray:
        return (np.arange(self.width) + 0.5) * (self.span / self.width)

    def rows(self, y0: int, y1: int) -> np.ndarray:
        """tan(latitude) of rows y0..y1 as a float32 column (R, 1)."""
        return ((self.height / 2 - 0.5 - np.arange(y0, y1)) / self.focal).astype(np.float32)[:, None]

    def columns(self, theta: float, half: float) -> np.ndarray:
        """Columns within `half` radians of longitude `theta`, round the seam when wrapping."""
        centre = theta * self.focal - 0.5
        lo, hi = math.floor(centre - half * self.focal), math.ceil(centre + half * self.focal) + 1
        if self.wrap:
            return np.arange(lo, hi) % self.width if hi - lo < self.width else np.arange(self.width)
        return np.arange(max(0, lo), min(self.width, hi))

    def offset(self, columns: np.ndarray | None, theta: float) -> np.ndarray:
        """Longitude of `columns` (None: all) relative to `theta`, in -pi..pi."""
        angles = self.theta if columns is None else (columns + 0.5) * (self.span / self.width)
        return (angles - theta + math.pi) % (2 * math.pi) - math.pi


Shade = Callable[[np.ndarray, np.ndarray], None]


@dataclass
class Layer:
    """Something standing round the viewer, painted over what lies behind it.

    `top` and `bottom` are per column (of `cols`, or of the whole picture) the tan of
    the elevation of its upper and lower edge (-inf: absent / down to the picture's
    bottom). `colour` is RGB, one or per column (C, 3); `shade(v, colour)` may paint detail
    per pixel in place, given the rows' tan(latitude) (R, 1) and their colours (3, R, C).
    `glass` layers tint what lies outside the room instead of covering it. `ink`
    draws a pencil line along the edges; `wrap` says the columns close round;
    `opacity` (per column) below 1 lets what lies behind show through (a beam).
    """

    top: np.ndarray
    bottom: np.ndarray | float
    colour: np.ndarray
    cols: np.ndarray | None = None
    ink: float = 0.0
    shade: Shade | None = None
    glass: bool = False
    wrap: bool = False
    opacity: np.ndarray | None = None
    reach: tuple[float, float] = field(init=False)  # highest top and lowest bottom
    inner: tuple[float, float] = field(init=False)  # the rows it covers in every column lie between
    ink_low: np.ndarray = field(init=False, repr=False)
    ink_high: np.ndarray | None = field(init=False, repr=False)
    ink_reach: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        colour = np.asarray(self.colour, dtype=np.float32)
        # Channels first, as the painter holds them: (3, 1, 1) or per column (3, 1, C).
        self.colour = colour.reshape(3, 1, 1) if colour.ndim == 1 else np.ascontiguousarray(colour.T[:, None, :])
        self.top = np.asarray(self.top, dtype=np.float32)
        self.bottom = np.broadcast_to(np.asarray(self.bottom, dtype=np.float32), self.top.shape)
        present = self.top > self.bottom
        self.reach = (float(self.top[present].max()), float(self.bottom[present].min())) if present.any() else (0.0, 0.0)
        self.inner = (float(self.top.min()), float(self.bottom.max()))
        # A step between columns needs an upright line as tall as the step.
        self.ink_low = np.maximum(np.minimum(self.top, np.minimum(*self._neighbours(self.top))), self.bottom)
        bottoms = np.maximum(self.bottom, np.maximum(*self._neighbours(self.bottom)))
        self.ink_high = bottoms if np.isfinite(self.bottom).any() else None
        lowest = float(self.ink_low[present].min()) if present.any() else 0.0
        highest = float(bottoms[present].max()) if present.any() and self.ink_high is not None else 0.0
        self.ink_reach = (lowest, highest)

    def _neighbours(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.wrap:
            return np.roll(values, 1), np.roll(values, -1)
        padded = np.pad(values, 1, mode="edge")
        return padded[:-2], padded[2:]

    @property
    def empty(self) -> bool:
        return self.reach == (0.0, 0.0)


def periodic_noise(view: View, rng: np.random.Generator, lowest: int, highest: int,
                   roughness: float = 1.0, theta: np.ndarray | None = None) -> np.ndarray:
    """Smooth noise over longitude, about -1..1, made of sines with whole periods per
    turn (so it wraps); `roughness` is how fast higher frequencies fade."""
    theta = view.theta if theta is None else theta
    highest = max(lowest, min(highest, view.width // 6))
    frequencies = sorted({round(lowest * 1.6**k) for k in range(40) if lowest * 1.6**k <= highest})
    total = np.zeros(theta.shape)
    weight = 0.0
    for frequency in frequencies:
        amplitude = frequency**-roughness
        total += amplitude * np.sin(frequency * theta + rng.uniform(0, 2 * math.pi))
        weight += amplitude
    return total / (weight * 0.6)


def channels(rgb: np.ndarray) -> np.ndarray:
    """An RGB colour shaped (3, 1, 1) to combine with colours held channels first."""
    return np.asarray(rgb, dtype=np.float32).reshape(3, 1, 1)


def slope(values: np.ndarray, view: View) -> np.ndarray:
    """Change per column of `values` scaled to a whole turn (periodic when wrapping)."""
    if view.wrap:
        return (np.roll(values, -1) - np.roll(values, 1)) * (view.width / 2)
    return np.gradient(values) * view.width


def ridges(view: View, setting: Setting, land: np.ndarray, body: float) -> list[Layer]:
    """Two or three ranges of hills (or peaks) on the horizon, the farther the hazier;
    peaks are lit on the side facing the sun and capped with snow."""
    rng = setting.rng("ridges")
    mountains = setting.has(MOUNTAINS)
    hills = (0.80, 0.84, 0.90) if setting.has(SNOW) else (0.40, 0.52, 0.42)
    if mountains:
        ranges = (((0.42, 0.47, 0.60), 0.62, 4.0, 15.0), ((0.34, 0.39, 0.50), 0.45, 2.0, 8.0), (hills, 0.3, 0.6, 2.6))
    elif setting.has(DESERT):
        ranges = (((0.80, 0.60, 0.44), 0.68, 0.5, 2.0), ((0.80, 0.60, 0.44), 0.5, 0.3, 1.3))
    elif setting.has(CITY):
        ranges = ((hills, 0.75, 0.6, 2.4),)
    else:
        ranges = ((hills, 0.72, 0.9, 3.2), (hills, 0.52, 0.6, 2.6), (hills, 0.34, 0.3, 1.7))
    highest = math.atan(view.top * 0.8)
    sunward = np.sin(body - view.theta)
    layers = []
    for rgb, haze, low, high in ranges:
        coarse = periodic_noise(view, rng, 2, 24, 1.0)
        fine = periodic_noise(view, rng, 30, 900, 0.9)
        peaks = mountains and high > 5
        ridge = np.clip((1 - np.abs(coarse)) ** 2 if peaks else 0.5 + 0.5 * coarse, 0, 1)
        degrees = low + (high - low) * np.clip(ridge + 0.12 * fine, 0, 1.1)
        top = np.tan(np.minimum(np.radians(degrees), highest)) * land
        # Faces turned to the sun are lighter; the broad shape decides, not the jagged edge.
        light = 1 + 0.1 * np.tanh(slope(ridge, view) * sunward * 0.1) if peaks else np.ones(view.width)
        colour = setting.hazed(setting.lit(rgb), haze)[None, :] * light[:, None].astype(np.float32)
        capped = peaks and not layers
        snowline = np.tan(np.radians(low + (high - low) * (0.5 + 0.08 * fine))) if capped else None
        layers.append(Layer(top, NO, colour, ink=0.2 + 0.35 * (1 - haze), wrap=view.wrap,
                            shade=_mist(setting, math.tan(math.radians(max(high * 0.6, 1.0))), snowline, haze)))
    return layers


def _mist(setting: Setting, height: float, snowline: np.ndarray | None, haze: float):
    """Shade a range: snow above the snowline, mist settling in towards its foot."""
    snow = channels(setting.hazed(setting.lit((0.95, 0.96, 0.98)), haze * 0.8))
    far = channels(setting.haze)

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        if snowline is not None:
            colour[:, v > snowline] = snow[:, :, 0]
        mist = np.clip(1 - v / height, 0, 1) ** 3 * 0.55
        colour += mist * (far - colour)

    return shade


def ground(view: View, setting: Setting) -> Layer:
    """The ground from the horizon to the viewer's feet: darker near, hazy far, with
    pencil strokes along rings of distance (they crowd towards the horizon)."""
    if setting.has(SNOW):
        rgb = (0.93, 0.95, 0.98)
    elif setting.has(DESERT) or setting.has(("BEACH", "SHORE", "COAST")):
        rgb = (0.87, 0.76, 0.56)
    elif setting.has(CITY) or setting.has(QUAYS):
        rgb = (0.58, 0.57, 0.55)
    elif setting.has(FOREST):
        rgb = (0.38, 0.44, 0.29)
    else:
        rgb = (0.52, 0.62, 0.37)
    base = setting.lit(rgb)
    rng = setting.rng("ground")
    gate = (periodic_noise(view, rng, 40, 1200, 0.5) > 0.45).astype(np.float32)
    patches = (periodic_noise(view, rng, 4, 40, 1.0) * 0.06).astype(np.float32)
    phases = rng.uniform(0, 2 * math.pi, 3)
    columns = np.arange(view.width)
    line = view.line

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        distance = EYE_M / np.maximum(-v, 1e-5)
        near = np.clip(1 - distance / 25.0, 0, 1) * 0.3
        far = (1 - np.exp(-distance / 700.0)) * 0.85
        depth = np.log(distance)
        wash = sum(np.sin(depth * (2.1 + k) + phase) for k, phase in enumerate(phases)) / 3
        lit = (1 - near + wash * patches[None, :]) * (1 - far)
        colour[...] = lit * channels(base) + far * channels(setting.haze)
        ring = np.round(np.log(distance / 2.0) / math.log(1.3))
        to_ring = np.abs(v + EYE_M / (2.0 * 1.3**ring)) * view.focal
        stroke = np.clip(1 - to_ring / line, 0, 1) * np.clip(1 - distance / 300.0, 0, 1) * 0.25
        rows = np.nonzero(stroke[:, 0] > 0)[0]
        if len(rows):
            shift = (ring[rows] * 7919).astype(np.int64) % view.width
            marks = gate[(columns[None, :] + shift) % view.width] * stroke[rows]
            colour[:, rows] += marks * (INK_RGB - colour[:, rows])

    return Layer(np.zeros(view.width), NO, base, ink=0.3, shade=shade, wrap=view.wrap)


def water(view: View, setting: Setting, towards: np.ndarray, shore: float, body: float, glint: np.ndarray) -> Layer:
    """Water from the shore (a straight line `shore` metres off, which perspective bends)
    out to the horizon: sky reflected far off, deeper colour near, ripples and a glint
    under the sun or moon."""
    present = towards > 0.02
    top = np.where(present, 0.0, NO)
    bottom = np.where(present, -EYE_M * np.maximum(towards, 0.02) / shore, 0.0)
    deep = channels(setting.lit((0.17, 0.33, 0.42)))
    reflection = channels(setting.haze * 0.93)
    glint = channels(glint)
    gate = (periodic_noise(view, setting.rng("ripples"), 20, 1200, 0.6) > 0.0).astype(np.float32)
    sparkle = np.exp(-(view.offset(None, body) / 0.06) ** 2).astype(np.float32)
    columns = np.arange(view.width)

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        depth = np.clip(-v / math.tan(math.radians(9)), 0, 1) ** 0.5
        colour[...] = reflection + (deep - reflection) * depth
        distance = EYE_M / np.maximum(-v, 1e-5)
        ring = np.round(np.log(distance) / math.log(1.12))
        to_ring = np.abs(v + EYE_M / 1.12**ring) * view.focal
        ripple = np.clip(1 - to_ring / view.line, 0, 1)[:, 0]
        rows = np.nonzero(ripple > 0)[0]
        if len(rows):
            shift = (ring[rows, 0] * 104729).astype(np.int64) % view.width
            marks = gate[(columns[None, :] + shift[:, None]) % view.width] * ripple[rows, None]
            light = marks * (0.22 + 1.5 * sparkle[None, :])
            colour[:, rows] += light * 0.8 * (glint - colour[:, rows])
        colour += (sparkle[None, :] * 0.25 * np.clip(1 - depth, 0, 1)) * (glint - colour)

    return Layer(top, bottom, deep[:, 0, 0], ink=0.3, shade=shade, wrap=view.wrap)


def dunes(view: View, setting: Setting, body: float) -> list[Layer]:
    """Two rows of dunes with sharp crests, each face lit or shaded by where the sun is."""
    rng = setting.rng("dunes")
    sand = setting.lit((0.88, 0.70, 0.48))
    sunward = np.sin(body - view.theta)
    layers = []
    for distance, haze, rise in ((900.0, 0.35, 45.0), (220.0, 0.1, 16.0)):
        shape = np.clip(1 - np.abs(periodic_noise(view, rng, 3, 40, 1.4)), 0, 1) ** 1.5
        height = rise * (0.25 + 0.75 * shape)
        light = 1 + 0.14 * np.tanh(slope(shape, view) * sunward * 0.15)
        colour = setting.hazed(sand, haze)[None, :] * light[:, None].astype(np.float32)
        layers.append(Layer((height - EYE_M) / distance, -EYE_M / distance, colour, ink=0.35, wrap=view.wrap))
    return layers
