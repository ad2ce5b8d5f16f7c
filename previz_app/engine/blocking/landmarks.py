"""The outdoors as layers, from the location's words, and the single things standing in
it: trees, buildings and their street, a lighthouse, a cliff, boats. Each is placed by
longitude and distance, so its size and its foot's drop below the horizon follow from
perspective, and its columns are taken modulo the width so a wrapping environment has
no seam.
"""

from __future__ import annotations

import math

import numpy as np

from .landscape import (
    CITY,
    DESERT,
    EYE_M,
    FOREST,
    INLAND_WATER,
    NO,
    QUAYS,
    SEA,
    SNOW,
    Layer,
    Setting,
    View,
    dunes,
    ground,
    periodic_noise,
    ridges,
    water,
)
from .layout import TREES

NIGHT_TIMES = ("NIGHT", "EVENING", "DUSK")
WARM_LIGHT = np.array([1.0, 0.83, 0.5], dtype=np.float32)


def exterior_layers(view: View, setting: Setting, body: float, glint: np.ndarray) -> list[Layer]:
    """The outdoors, far to near, from the location's words; `body` is the sun's or
    moon's longitude and `glint` the colour it lays on water."""
    sea = setting.has(SEA) or setting.has(INLAND_WATER)
    rng = setting.rng("coast")
    facing = (rng.uniform(0, 2 * math.pi) if view.wrap else view.span * rng.uniform(0.3, 0.7)) if sea else 0.0
    shore = rng.uniform(4.0, 12.0)  # the viewer stands near the water's edge
    # Towards open sea the land (its hills, trees and houses) gives way to water up to the horizon.
    towards = np.cos(view.theta - facing) if sea else np.full(view.width, -1.0)
    open_sea = sea and not setting.has(INLAND_WATER)
    land = np.clip((0.3 - towards) / 0.45, 0.0, 1.0) if open_sea else np.ones(view.width)
    layers = ridges(view, setting, land, body)
    layers.append(ground(view, setting))
    if sea:
        layers.append(water(view, setting, towards, shore, body, glint))
    if setting.has(CITY) or setting.has(QUAYS):
        layers += skyline(view, setting, land, street=setting.has(CITY) and not open_sea)
    if setting.has(DESERT):
        layers += dunes(view, setting, body)
    if setting.has(FOREST) or setting.has(SNOW) or setting.has(TREES):
        layers += trees(view, setting, land)
    if open_sea and setting.has(("CLIFF", "HEADLAND")):
        layers += cliff(view, setting, facing)
    if open_sea and setting.has(("LIGHTHOUSE", "CLIFF", "COAST", "HARBOR", "HARBOUR", "PORT")):
        layers += lighthouse(view, setting, facing)
    if sea and setting.has((*QUAYS, "BAY", "LAKE")):
        layers += boats(view, setting, facing, shore)
    return layers


def trees(view: View, setting: Setting, land: np.ndarray) -> list[Layer]:
    """A far and a near row of trees: dense pines for forests and snow, clumps of round
    trees for parks and fields; none where the land gives way to the sea."""
    dense, snowy = setting.has(FOREST), setting.has(SNOW)
    pines = dense or snowy
    rng = setting.rng("trees")
    rows = ((300.0, 5.5, 10, 18, 0.4), (95.0, 7.0, 11, 21, 0.08)) if dense else (
        (220.0, 9.0, 8, 14, 0.4), (80.0, 16.0, 7, 12, 0.1))
    base = setting.lit((0.20, 0.31, 0.27) if pines else (0.33, 0.45, 0.25))
    snow = setting.lit((0.92, 0.94, 0.97))
    layers = []
    for distance, spacing, low, high, haze in rows:
        count = max(1, int(view.span * distance / spacing))
        angles = (np.arange(count) + rng.uniform(-0.4, 0.4, count)) * (view.span / count)
        clumps = periodic_noise(view, rng, 3, 40, 1.0, theta=angles)
        keep = (clumps > (-0.7 if dense else 0.05)) & (land[(angles / view.span * view.width).astype(int) % view.width] > 0.5)
        top, bottom = np.full(view.width, NO), np.full(view.width, np.inf)
        colour = np.zeros((view.width, 3), dtype=np.float32)
        for angle in angles[keep]:
            height = rng.uniform(low, high)
            rgb = setting.hazed(base * rng.uniform(0.8, 1.15), haze)
            _tree(view, (top, bottom, colour), angle, distance, height, rgb,
                  pine=snowy or (pines and rng.random() < 0.85))
        shade = _snow_on_branches(top, distance, setting.hazed(snow, haze)) if snowy else None
        layers.append(Layer(top, bottom, colour, ink=0.3 if snowy else 0.5, shade=shade, wrap=view.wrap))
    return layers


def _tree(view: View, row: tuple[np.ndarray, ...], angle: float, distance: float, height: float,
          rgb: np.ndarray, pine: bool) -> None:
    """Merge one tree's outline into a row's top, bottom and colour per column."""
    top, bottom, colour = row
    half = height * (0.3 if pine else 0.38)
    cols = view.columns(angle, half / distance)
    across = np.abs(view.offset(cols, angle) * distance)
    upper = np.full(len(cols), NO)
    if pine:  # four stacked triangles
        for tier in range(4):
            foot, spread = height * (0.12 + 0.2 * tier), half * (1 - 0.18 * tier)
            apex = height if tier == 3 else foot + height * 0.34
            upper = np.where(across < spread, np.maximum(upper, apex - (apex - foot) * across / spread), upper)
        lower = np.where(across < half * 0.1, 0.0, height * 0.12)
    else:  # a crown of three round lumps on a trunk
        lower = np.full(len(cols), np.inf)
        for shift, size in ((0.0, 1.0), (0.45, 0.62)):  # the side lumps mirror each other
            reach = half * size
            inside = np.clip(1 - ((across - shift * half) / reach) ** 2, 0, None) ** 0.5
            centre = height * (0.62 - 0.08 * shift)
            upper = np.where(inside > 0, np.maximum(upper, centre + height * 0.36 * size * inside), upper)
            lower = np.where(inside > 0, np.minimum(lower, centre - height * 0.3 * size * inside), lower)
        lower = np.where(across < half * 0.09, 0.0, lower)
        upper = np.where(across < half * 0.09, np.maximum(upper, height * 0.5), upper)
    present = np.isfinite(upper)
    high, low = (upper - EYE_M) / distance, (lower - EYE_M) / distance
    wins = present & (high > top[cols])
    top[cols] = np.where(wins, high, top[cols])
    colour[cols] = np.where(wins[:, None], rgb, colour[cols])
    bottom[cols] = np.where(present, np.minimum(bottom[cols], low), bottom[cols])


def _snow_on_branches(top: np.ndarray, distance: float, snow: np.ndarray):
    """Snow lying along the upper edge of every tier of the pines."""
    depth = 1.1 / distance  # metres of snow, as tan of elevation at the row's distance
    white = snow.reshape(3, 1, 1)

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        under = np.clip((top[None, :] - v) / depth, 0, 1.5)
        laden = np.clip(1.5 - under, 0, 1) * 0.8
        colour += laden * (white - colour)

    return shade


def skyline(view: View, setting: Setting, land: np.ndarray, street: bool) -> list[Layer]:
    """A near row of buildings with windows (lit at night) and a hazy far skyline, on
    the land only; a town's (or a harbour's) are low with pitched roofs. With `street`,
    a road runs off both ways between them."""
    town = setting.has(("TOWN", "VILLAGE", "SQUARE", "MARKET", "HAMLET")) or not setting.has(CITY)
    rng = setting.rng("skyline")
    road = rng.uniform(0, 2 * math.pi) if view.wrap else view.span * rng.uniform(0.3, 0.7)
    rings = ((1400.0, (10, 40), (6, 24), 0.6), (150.0, (8, 18), (5, 12), 0.12)) if town else (
        (2200.0, (25, 70), (20, 170), 0.62), (320.0, (14, 40), (12, 80), 0.12))
    layers = [street_layer(view, setting, road)] if street else []
    for index, (distance, widths, heights, haze) in enumerate(rings):
        near = index == 1
        layers.append(_buildings(view, setting, rng, distance, (widths, heights), haze, land,
                                 roofs=town and near, road=road if near and street else None))
    return layers


def _buildings(view: View, setting: Setting, rng: np.random.Generator, distance: float, sizes: tuple,
               haze: float, land: np.ndarray, roofs: bool, road: float | None) -> Layer:
    widths, heights = sizes
    spans: list[float] = []
    while sum(spans) < view.span * distance:
        spans.append(rng.uniform(*widths))
    # Round the full turn the row starts anywhere, so no building edge is pinned to the seam.
    start = rng.uniform(0, view.span) if view.wrap else 0.0
    edges = np.concatenate([[0.0], np.cumsum(spans)]) * (view.span / sum(spans)) + start
    count = len(spans)
    tall = heights[0] + (heights[1] - heights[0]) * rng.random(count) ** 2.2
    middle = (edges[:-1] + edges[1:]) / 2
    gap = rng.random(count) < 0.1
    if road is not None:  # the street runs out between the buildings both ways
        gap |= np.abs(np.sin(middle - road)) < 12.0 / distance
    gap |= land[(middle / view.span * view.width).astype(int) % view.width] < 0.6
    tall[gap] = 0.0
    tones = np.array([(0.74, 0.71, 0.66), (0.62, 0.64, 0.67), (0.78, 0.68, 0.57), (0.56, 0.59, 0.63)])
    rgb = tones[rng.integers(0, len(tones), count)] * rng.uniform(0.88, 1.06, (count, 1))
    pitch = rng.uniform(2.0, 5.0, count) if roofs else np.zeros(count)
    theta = (view.theta - start) % view.span + start if view.wrap else view.theta
    index = np.clip(np.searchsorted(edges, theta, side="right") - 1, 0, count - 1)
    along, wide = (theta - edges[index]) * distance, (edges[index + 1] - edges[index]) * distance
    ridge = pitch[index] * (1 - np.abs(2 * along / wide - 1))
    top = np.where(tall[index] > 0, (tall[index] + ridge - EYE_M) / distance, NO)
    colour = setting.hazed(setting.lit((1.0, 1.0, 1.0)) * rgb.astype(np.float32), haze)[index]
    return Layer(top, -EYE_M / distance, colour, ink=0.55 - 0.3 * haze, wrap=view.wrap,
                 shade=_windows(view, setting, distance, along, wide, tall[index], index, haze))


def _windows(view: View, setting: Setting, distance: float, along: np.ndarray, wide: np.ndarray,
             tall: np.ndarray, index: np.ndarray, haze: float):
    """Rows of windows on the facades; at night a seeded share of them lit."""
    grid = max(3.2, 3.5 * distance / view.focal)  # never finer than a few pixels
    columns = ((along / grid) % 1.0 > 0.28) & ((along / grid) % 1.0 < 0.72) & (along > 1.0) & (along < wide - 1.0)
    number = (index * 4099 + np.floor(along / grid)).astype(np.uint32) * np.uint32(2654435761)
    night = setting.time in NIGHT_TIMES
    glass = setting.hazed(setting.lit((0.42, 0.52, 0.64)), haze)
    lit = setting.hazed(WARM_LIGHT, haze * 0.5) if night else glass * 1.2
    unlit = setting.hazed(np.array([0.08, 0.09, 0.13], dtype=np.float32), haze) if night else glass * 0.8
    share = np.uint32(1024 * (0.35 if night else 0.5))
    salt = np.uint32(setting.seed % 65521)

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        height = EYE_M + v * distance
        floor = np.floor(height / grid)
        level = height / grid - floor
        rows = (level > 0.3) & (level < 0.75) & (height > 2.0)
        window = rows & columns[None, :] & (height < tall[None, :] - 1.0)
        mix = number[None, :] ^ ((floor.astype(np.int64) * 40503 + salt) % 65536).astype(np.uint32)
        on = ((mix * np.uint32(2246822519)) >> np.uint32(22)) < share
        colour[:, window & on] = lit[:, None]
        colour[:, window & ~on] = unlit[:, None]

    return shade


def street_layer(view: View, setting: Setting, road: float) -> Layer:
    """A road 14 m wide running through the viewer's feet to the horizon both ways,
    kerb lines and a dashed centre line drawn in perspective."""
    half = 7.0
    off = view.offset(None, road)
    top = -EYE_M * np.abs(np.sin(off)) / half
    paint = setting.lit((0.92, 0.91, 0.86))[:, None]
    sin, cos = np.abs(np.sin(off)).astype(np.float32), np.abs(np.cos(off)).astype(np.float32)

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        distance = EYE_M / np.maximum(-v, 1e-5)
        near, far = float(distance.min()), float(distance.max())
        if near > 250:
            return
        # Only columns whose rows can meet a line: the centre (0 m across) or a kerb (6.5 m).
        for low, high in ((0.0, 0.12), (half - 0.6, half - 0.4)):
            cols = np.nonzero((sin >= low / far) & (sin <= high / near))[0]
            if not len(cols):
                continue
            across = distance * sin[cols]
            marks = (across >= low) & (across <= high) & (distance < 250)
            if low == 0.0:
                marks &= (distance * cos[cols]) % 8.0 < 4.0
            part = colour[:, :, cols]
            part[:, marks] = paint
            colour[:, :, cols] = part

    return Layer(top, NO, setting.lit((0.34, 0.35, 0.37)), ink=0.4, shade=shade, wrap=view.wrap)


def lighthouse(view: View, setting: Setting, facing: float) -> list[Layer]:
    """A striped lighthouse on the shore off to one side, its lamp lit at night."""
    rng = setting.rng("lighthouse")
    angle = facing + rng.choice((-1, 1)) * rng.uniform(0.9, 1.25)
    distance, height = rng.uniform(140.0, 260.0), rng.uniform(20.0, 28.0)
    cols = view.columns(angle, 3.0 / distance)
    across = np.abs(view.offset(cols, angle) * distance)
    foot = -EYE_M / distance
    body = np.clip(height * (2.6 - across) / 1.0, 0, height)
    night = setting.time in NIGHT_TIMES
    red = setting.lit((0.74, 0.2, 0.17))

    def stripes(v: np.ndarray, colour: np.ndarray) -> None:
        band = np.floor((EYE_M + v * distance) / (height / 6)) % 2 == 1
        colour[:, np.broadcast_to(band, colour.shape[1:])] = red[:, None]

    lamp = WARM_LIGHT if night else setting.lit((0.3, 0.35, 0.4))
    cap = height + 3.0 + 2.0 * np.clip(1 - across / 1.6, 0, 1)
    layers = [
        Layer(np.where(across < 2.6, (body - EYE_M) / distance, NO), foot, setting.lit((0.94, 0.93, 0.9)), cols,
              ink=0.6, shade=stripes),
        Layer(np.where(across < 1.3, (height + 3.0 - EYE_M) / distance, NO), (height - EYE_M) / distance, lamp,
              cols, ink=0.6),
        Layer(np.where(across < 1.7, (cap - EYE_M) / distance, NO), (height + 3.0 - EYE_M) / distance,
              setting.lit((0.35, 0.12, 0.1)), cols, ink=0.6),
    ]
    if night:  # a beam swept out to sea
        sweep = rng.choice((-1, 1))
        beam = view.columns(angle + sweep * 0.35, 0.35)
        off = view.offset(beam, angle) * sweep
        spread = np.where((off > 0) & (off < 0.7), off * 0.05 + 0.8 / distance, 0.0)
        lamp_v = (height + 1.5 - EYE_M) / distance
        fade = (0.3 * np.clip(1 - off / 0.7, 0, 1) ** 1.5).astype(np.float32)
        layers.append(Layer(np.where(spread > 0, lamp_v + spread, NO), lamp_v - spread, WARM_LIGHT, beam,
                            opacity=fade))
    return layers


def cliff(view: View, setting: Setting, facing: float) -> list[Layer]:
    """A headland that falls sheer into the sea at one end and slopes back into the land."""
    rng = setting.rng("cliff")
    side = rng.choice((-1, 1))
    start, length = facing + side * rng.uniform(0.55, 0.9), rng.uniform(0.6, 1.0)
    distance, height = rng.uniform(400.0, 700.0), rng.uniform(45.0, 80.0)
    cols = view.columns(start + side * length / 2, length / 2)
    along = np.clip(view.offset(cols, start) * side / length, 0, 1)
    rough = periodic_noise(view, rng, 20, 300, 1.0)[cols] * 0.04
    profile = height * (np.clip(along / 0.03, 0, 1) ** 0.4 * (1 - along**1.6) + rough)
    top = np.where(along > 0, (profile - EYE_M) / distance, NO)
    grass = setting.lit((0.42, 0.52, 0.3))
    turf = 3.0 / distance

    def shade(v: np.ndarray, colour: np.ndarray) -> None:
        colour *= np.where(((EYE_M + v * distance) / 7.0) % 1.0 < 0.08, 0.85, 1.0)  # strata
        colour[:, v > top[None, :] - turf] = grass[:, None]

    return [Layer(top, -EYE_M / distance, setting.lit((0.6, 0.55, 0.48)), cols, ink=0.6, shade=shade)]


def boats(view: View, setting: Setting, facing: float, shore: float) -> list[Layer]:
    """A few boats moored off the shore: hull, cabin and mast."""
    rng = setting.rng("boats")
    night = setting.time in NIGHT_TIMES
    layers = []
    for _ in range(int(rng.integers(3, 7))):
        angle = facing + rng.uniform(-0.9, 0.9)
        distance = shore / max(math.cos(angle - facing), 0.3) + rng.uniform(25.0, 220.0)
        length = rng.uniform(7.0, 16.0)
        cols = view.columns(angle, length / 2 / distance)
        across = view.offset(cols, angle) * distance
        waterline = -EYE_M / distance
        bow = np.clip((np.abs(across) - length * 0.3) / (length * 0.2), 0, 1)
        hull = rng.choice([(0.92, 0.92, 0.9), (0.7, 0.22, 0.18), (0.2, 0.3, 0.5)])
        mast = np.abs(across - length * 0.1) < max(0.12, 0.6 / view.focal * distance)
        layers += [
            Layer(np.where(np.abs(across) < length / 2, (1.8 - EYE_M) / distance, NO),
                  waterline + bow * 1.2 / distance, setting.lit(hull), cols, ink=0.6),
            Layer(np.where(np.abs(across + length * 0.1) < length * 0.16, (3.4 - EYE_M) / distance, NO),
                  (1.8 - EYE_M) / distance, WARM_LIGHT * 0.9 if night else setting.lit((0.85, 0.84, 0.8)), cols,
                  ink=0.6),
            Layer(np.where(mast, (rng.uniform(7.0, 12.0) - EYE_M) / distance, NO), (1.8 - EYE_M) / distance,
                  setting.lit((0.3, 0.28, 0.26)), cols, ink=0.3),
        ]
    return layers
