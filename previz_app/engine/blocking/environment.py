"""render_environment: a storyboard-style environment round the viewer, for LED-wall plates.

The picture is cylindrical (see engine/environment.py): column x looks at longitude
theta = (x + 0.5) / width * span and row y at tan(latitude) = (height / 2 - y - 0.5) / focal,
the middle row on the horizon. Everything that stands round the viewer is a Layer: per
column, the tan of the elevation of its top and bottom edges. Features are placed by
longitude with whole periods over 360°, so a wrapping environment has no seam. Layers are
painted far to near over a sky in bands of rows, so memory stays at a few bands whatever
the width, and the painter checks for cancellation between bands.
"""

from __future__ import annotations

import math
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from PIL import Image

from ..base import RenderContext
from ..environment import EnvironmentRequest
from ..request import Staging
from .landmarks import exterior_layers
from .landscape import INK_RGB, Layer, Setting, View
from .panel import LIGHT
from .room import room_layers

BAND_PIXELS = 1 << 18  # pixels per band of rows: a few MB of float32 per array



class Sky(NamedTuple):
    """A sky by time of day. `height` places the sun or moon (`body`; "" when it is below
    the horizon) as a share of the picture's upper half, or when negative in degrees
    below the horizon; `warmth` is the glow along the horizon towards it; `stars` 0..1."""

    zenith: tuple[float, float, float]
    horizon: tuple[float, float, float]
    glow: tuple[float, float, float]
    body: str
    height: float
    warmth: float
    stars: float


SKIES: dict[str, Sky] = {
    "DAY": Sky((0.36, 0.56, 0.83), (0.80, 0.87, 0.93), (1.0, 0.97, 0.86), "sun", 0.72, 0.10, 0.0),
    "MORNING": Sky((0.45, 0.61, 0.84), (0.93, 0.89, 0.82), (1.0, 0.93, 0.78), "sun", 0.38, 0.22, 0.0),
    "AFTERNOON": Sky((0.38, 0.56, 0.81), (0.90, 0.86, 0.78), (1.0, 0.94, 0.80), "sun", 0.55, 0.14, 0.0),
    "SUNSET": Sky((0.29, 0.31, 0.54), (0.99, 0.62, 0.36), (1.0, 0.80, 0.48), "sun", 0.13, 0.55, 0.0),
    "SUNRISE": Sky((0.42, 0.48, 0.72), (0.98, 0.74, 0.56), (1.0, 0.86, 0.60), "sun", 0.14, 0.45, 0.0),
    "DUSK": Sky((0.15, 0.17, 0.35), (0.78, 0.50, 0.45), (1.0, 0.60, 0.42), "", -4.0, 0.45, 0.35),
    "EVENING": Sky((0.19, 0.21, 0.40), (0.70, 0.52, 0.50), (1.0, 0.66, 0.50), "", -6.0, 0.35, 0.25),
    "DAWN": Sky((0.25, 0.30, 0.50), (0.86, 0.71, 0.68), (1.0, 0.80, 0.66), "", -3.0, 0.40, 0.15),
    "NIGHT": Sky((0.025, 0.04, 0.11), (0.10, 0.14, 0.26), (0.96, 0.95, 0.86), "moon", 0.58, 0.06, 1.0),
}
# Words in a scene's time of day, in the order they are looked for, and the sky each names.
TIME_WORDS = (
    ("NIGHT", "NIGHT"), ("MIDNIGHT", "NIGHT"), ("SUNSET", "SUNSET"), ("GOLDEN", "SUNSET"), ("MAGIC", "SUNSET"),
    ("SUNRISE", "SUNRISE"), ("DAYBREAK", "DAWN"), ("DAWN", "DAWN"), ("DUSK", "DUSK"), ("TWILIGHT", "DUSK"),
    ("EVENING", "EVENING"), ("MORNING", "MORNING"), ("AFTERNOON", "AFTERNOON"),
)


def time_key(time_of_day: str) -> str:
    """The sky (a LIGHT key) a scene's time of day names; DAY when it names none."""
    words = time_of_day.upper()
    return next((key for word, key in TIME_WORDS if word in words), "DAY")


@dataclass(frozen=True)
class Plan:
    view: View
    setting: Setting
    sky: Sky
    body: tuple[float, float]  # longitude and tan(elevation) of the sun or moon
    stars: tuple[np.ndarray, np.ndarray, np.ndarray]  # columns, tan(latitude), brightness
    layers: list[Layer]
    room: list[Layer]
    room_windows: tuple[float, float]  # tan(latitude) between which the outdoors shows through windows


def render_environment(request: EnvironmentRequest, context: RenderContext) -> Image.Image:
    """Paint the environment `request` describes: its staging's location and time of day.

    The same request gives the same pixels; the seed moves the sun, the hills, the
    trees and the buildings. Reports progress per band of rows and raises Cancelled
    (from `context.check_cancelled`) between bands.
    """
    context.check_cancelled()
    plan = plan_environment(request)
    width, height = request.width, request.height
    rows = max(8, BAND_PIXELS // width)
    starts = range(0, height, rows)
    image = Image.new("RGB", (width, height))
    context.on_progress(0, len(starts))
    # numpy lets go of the GIL while it paints, so a few threads share the bands; they
    # are pasted, reported and checked for cancellation in order, on this thread.
    workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="environment")
    try:
        queued: deque[tuple[int, Future]] = deque()
        for index, y0 in enumerate(starts):
            queued.append((y0, pool.submit(paint_band, plan, y0, min(height, y0 + rows))))
            if len(queued) > workers:
                _paste(image, *queued.popleft(), context)
                context.on_progress(index + 1 - len(queued), len(starts))
        while queued:
            _paste(image, *queued.popleft(), context)
            context.on_progress(len(starts) - len(queued), len(starts))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return image


def _paste(image: Image.Image, y0: int, band: Future, context: RenderContext) -> None:
    context.check_cancelled()
    image.paste(Image.merge("RGB", [Image.fromarray(channel, "L") for channel in band.result()]), (0, y0))


def plan_environment(request: EnvironmentRequest) -> Plan:
    """Everything per column (layers, sun, stars), worked out once before painting rows."""
    staging = request.staging or Staging()
    key = time_key(staging.time_of_day)
    sky = SKIES[key]
    setting = Setting(
        seed=request.seed, location=staging.location.upper(), interior=_is_interior(staging.int_ext), time=key,
        light=np.asarray(LIGHT[key], dtype=np.float32), haze=np.asarray(sky.horizon, dtype=np.float32))
    view = View(request.width, request.height, math.radians(request.span_deg), request.wrap)
    rng = setting.rng("sky")
    # Without wrap, keep the sun or moon inside the picture.
    longitude = rng.uniform(0, 2 * math.pi) if view.wrap else view.span * rng.uniform(0.2, 0.8)
    elevation = math.tan(math.radians(sky.height)) if sky.height < 0 else view.top * sky.height
    glint = np.asarray(sky.glow, dtype=np.float32) * (1.0 if sky.body else 0.6)
    layers = exterior_layers(view, setting, longitude, glint)
    room = room_layers(view, setting) if setting.interior else []
    panes = [layer.reach for layer in room if layer.glass and not layer.empty]
    margin = 2 / view.focal
    windows = (max(p[0] for p in panes) + margin, min(p[1] for p in panes) - margin) if panes else (-np.inf, np.inf)
    return Plan(view, setting, sky, (longitude, elevation), _stars(view, rng, sky.stars), layers, room, windows)


def paint_band(plan: Plan, y0: int, y1: int) -> np.ndarray:
    """Rows y0..y1 of the picture as uint8, channels first (3, rows, width).

    Colours are held channels first so every operation runs along whole rows.
    """
    view = plan.view
    v = view.rows(y0, y1)
    band = np.zeros((3, y1 - y0, view.width), dtype=np.float32)
    # The ground covers everything below the horizon, and a room all but its windows.
    high, low = plan.room_windows if plan.room else (np.inf, -np.inf)
    s0, s1 = _rows_between(v, high, max(low, -2.0 / view.focal))
    if s0 < s1:
        band[:, s0:s1] = _sky(plan, v[s0:s1])
    o0, o1 = _rows_between(v, high, low)
    for layer in plan.layers if o0 < o1 else ():
        paint_layer(band[:, o0:o1], v[o0:o1], view, layer)
    if plan.room:
        outside = band.copy() if o0 < o1 else None
        for layer in plan.room:
            paint_layer(band, v, view, layer, outside)
    np.clip(band, 0.0, 1.0, out=band)
    return (band * 255 + 0.5).astype(np.uint8)


def paint_layer(band: np.ndarray, v: np.ndarray, view: View, layer: Layer, outside: np.ndarray | None = None) -> None:
    """Paint `layer` over `band` (3, rows, width; rows at tan(latitude) `v`), edges anti-aliased.

    Rows the layer covers from side to side are coloured in place; only the rows its
    edges cross are blended, and only rows near an edge get its pencil line.
    """
    if layer.empty:
        return
    focal = view.focal
    r0, r1 = _rows_between(v, layer.reach[0] + 1.5 / focal, layer.reach[1] - 1.5 / focal)
    if r0 >= r1:
        return
    rows = v[r0:r1]
    cols = slice(None) if layer.cols is None else layer.cols
    target = band[:, r0:r1, cols]
    behind = outside[:, r0:r1, cols] if layer.glass and outside is not None else None
    i0, i1 = _rows_between(rows, layer.inner[0] - 0.5 / focal, layer.inner[1] + 0.5 / focal)
    if layer.opacity is not None or i0 >= i1:
        i0 = i1 = len(rows)
    for a, b in ((0, i0), (i0, i1), (i1, len(rows))):
        if a >= b:
            continue
        inside = (a, b) == (i0, i1)
        colour = target[:, a:b] if inside else np.empty_like(target[:, a:b])
        colour[...] = layer.colour
        if behind is not None:
            colour *= behind[:, a:b]
        if layer.shade is not None:
            layer.shade(rows[a:b], colour)
        if layer.ink:
            _ink(rows[a:b], colour, view, layer)
        if not inside:
            cover = np.clip((layer.top - rows[a:b]) * focal + 0.5, 0.0, 1.0)
            if layer.opacity is not None:
                cover *= layer.opacity
            if layer.ink_high is not None:
                cover *= np.clip((rows[a:b] - layer.bottom) * focal + 0.5, 0.0, 1.0)
            target[:, a:b] += cover * (colour - target[:, a:b])
    if layer.cols is not None:
        band[:, r0:r1, cols] = target


def _ink(rows: np.ndarray, colour: np.ndarray, view: View, layer: Layer) -> None:
    """A pencil line along the layer's top (and bottom) edge, upright where it steps."""
    scale = view.focal / view.line
    reach = 1.5 / scale
    k = _rows_between(rows, np.inf, layer.ink_reach[0] - reach)[1]
    if k:
        edge = np.clip((rows[:k] - layer.ink_low) * scale + 1.0, 0.0, 1.0)
        colour[:, :k] += (edge * layer.ink) * (INK_RGB - colour[:, :k])
    if layer.ink_high is not None:
        k = _rows_between(rows, layer.ink_reach[1] + reach, -np.inf)[0]
        if k < len(rows):
            edge = np.clip((layer.ink_high - rows[k:]) * scale + 1.0, 0.0, 1.0)
            colour[:, k:] += (edge * layer.ink) * (INK_RGB - colour[:, k:])


def _rows_between(v: np.ndarray, high: float, low: float) -> tuple[int, int]:
    """The band rows whose tan(latitude) lies between `low` and `high` (v falls down the band)."""
    column = v[:, 0]
    return int(np.searchsorted(-column, -high, side="left")), int(np.searchsorted(-column, -low, side="right"))


def _is_interior(int_ext: str) -> bool:
    """INT., INT, INT/EXT and I/E scenes are painted as a room (the outside through its windows)."""
    words = int_ext.upper().replace(".", "").replace(" ", "")
    return words in ("INT", "INT/EXT", "I/E", "INTERIOR")


def _sky(plan: Plan, v: np.ndarray) -> np.ndarray:
    """The sky for a band (3, rows, width): gradient, glow towards the sun, stars, and the sun or moon."""
    view, sky = plan.view, plan.sky
    zenith, horizon, glow_rgb = (np.asarray(rgb, dtype=np.float32)[:, None, None] for rgb in (sky.zenith, sky.horizon, sky.glow))
    degrees = np.degrees(np.arctan(np.maximum(v, 0.0)))
    rise = np.minimum((degrees / max(25.0, math.degrees(math.atan(view.top)))) ** 0.7, 1.0)
    band = np.empty((3, v.shape[0], view.width), dtype=np.float32)
    band[...] = horizon + (zenith - horizon) * rise
    longitude, elevation = plan.body
    towards = ((0.5 + 0.5 * np.cos(view.theta - longitude)) ** 6).astype(np.float32)
    fall = np.exp(-degrees / 9.0) * sky.warmth
    band += (fall * towards) * (glow_rgb - horizon * 0.5)
    _stars_in(band, v, view, plan.stars)
    if sky.body:
        radius = view.focal * math.radians(1.3 if sky.body == "sun" else 1.1)
        _disc(band, v, view, (longitude, elevation), radius, glow_rgb, crescent=sky.body == "moon")
    return band


def _stars(view: View, rng: np.random.Generator, amount: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Star positions over the sky, fewer near the horizon's haze."""
    count = int(amount * math.degrees(view.span) * math.degrees(math.atan(view.top)) * 0.35)
    columns = rng.integers(0, view.width, count)
    height = rng.uniform(0.03, 1.0, count) ** 0.8 * view.top
    brightness = (0.25 + 0.75 * rng.random(count) ** 3) * np.clip(height / (0.2 * view.top + 1e-9), 0.2, 1.0)
    return columns, height.astype(np.float32), brightness.astype(np.float32)


def _stars_in(band: np.ndarray, v: np.ndarray, view: View, stars: tuple[np.ndarray, ...]) -> None:
    columns, height, brightness = stars
    first = round(view.height / 2 - 0.5 - float(v[0, 0]) * view.focal)  # the band's first row in the picture
    rows = np.round(view.height / 2 - 0.5 - height * view.focal).astype(np.int64) - first
    inside = (rows >= 0) & (rows < band.shape[1])
    size = max(1, round(view.line / 1.5))
    for dy in range(size):
        for dx in range(size):
            r, c = rows[inside] + dy, (columns[inside] + dx) % view.width
            keep = r < band.shape[1]
            star = 0.92 * brightness[inside][keep]
            band[:, r[keep], c[keep]] = np.maximum(band[:, r[keep], c[keep]], star)


def _disc(band: np.ndarray, v: np.ndarray, view: View, where: tuple[float, float], radius: float,
          rgb: np.ndarray, crescent: bool) -> None:
    """A sun (or a crescent moon) `radius` px across with a soft halo round it."""
    halo = radius * 5
    cols = view.columns(where[0], halo / view.focal)
    r0, r1 = _rows_between(v, where[1] + halo / view.focal, where[1] - halo / view.focal)
    if r0 >= r1 or not len(cols):
        return
    dx = (view.offset(cols, where[0]) * view.focal).astype(np.float32)
    dy = (v[r0:r1] - where[1]) * view.focal
    distance = np.hypot(dx, dy)
    alpha = np.clip(radius - distance + 0.5, 0.0, 1.0)
    if crescent:
        alpha *= 1.0 - np.clip(radius - np.hypot(dx + radius * 0.55, dy - radius * 0.2) + 0.5, 0.0, 1.0)
    glow = np.exp(-(distance / (radius * 2.2)) ** 2) * (0.35 if crescent else 0.6)
    target = band[:, r0:r1, cols]
    target += glow * (rgb - target)
    target += alpha * (rgb - target)
    band[:, r0:r1, cols] = target
