"""The set: floor, walls, ground and sky traced per pixel; props drawn as polygons.

Surfaces are planes, so their depth is exact for every pixel (one ray-plane
intersection each) and the depth map agrees with the drawing by construction.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import ImageDraw

from ..camera import NEAR_M, Camera
from .layout import Layout, Prop

FAR_M = 1000.0

SKY, GROUND, CEILING, BACK_WALL, SIDE_WALL, FRONT_WALL, WATER, ROAD = range(8)

# Base tones, light to dark, of a pencil-and-wash panel.
TONES = np.array([236, 196, 214, 206, 190, 200, 168, 150], dtype=np.float32)


def trace_surfaces(layout: Layout, camera: Camera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel camera depth (float32, inf for sky) and surface kind (uint8)."""
    rays = camera.rays(width, height)
    origin = camera.position.astype(np.float32)
    if layout.interior:
        return _trace_room(layout, origin, rays)
    return _trace_ground(layout, origin, rays)


def _trace_ground(layout: Layout, origin: np.ndarray, rays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    dy = rays[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dy < -1e-6, -origin[1] / dy, np.inf).astype(np.float32)
    t[t > FAR_M] = np.inf
    kind = np.where(np.isfinite(t), GROUND, SKY).astype(np.uint8)
    ground = kind == GROUND
    if layout.water_z is not None or layout.road_x is not None:
        hit_t = np.where(ground, t, 0)
        if layout.water_z is not None:
            kind[ground & (origin[2] + hit_t * rays[2] > layout.water_z)] = WATER
        if layout.road_x is not None:
            on_road = np.abs(origin[0] + hit_t * rays[0] - layout.road_x) < 3.0
            kind[(kind == GROUND) & on_road] = ROAD
    return t, kind


def _trace_room(layout: Layout, origin: np.ndarray, rays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    half_width, back_z, front_z, ceiling = layout.room
    half_width = max(half_width, abs(float(origin[0])) + 0.5)
    if origin[1] >= ceiling:
        ceiling = math.inf  # a cutaway: looking into the set from above
    # The camera is inside a box, so each ray leaves through the nearest plane ahead.
    dx, dy, dz = rays
    f32 = np.float32
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = _exit(dx, f32(half_width) - origin[0], f32(-half_width) - origin[0])
        ty = _exit(dy, f32(ceiling) - origin[1], -origin[1])
        tz = _exit(dz, f32(back_z) - origin[2], f32(front_z) - origin[2])
    t = np.minimum(tx, ty)
    np.minimum(t, tz, out=t)
    # Walls by the plane each ray leaves through; ties go to the side walls.
    kind = np.where(dz > 0, np.uint8(BACK_WALL), np.uint8(FRONT_WALL))
    on_y = t == ty
    kind[on_y] = np.where(dy[on_y] > 0, np.uint8(CEILING), np.uint8(GROUND))
    kind[t == tx] = SIDE_WALL
    kind[np.isinf(t)] = SKY
    return t, kind


def _exit(direction: np.ndarray, ahead: np.float32, behind: np.float32) -> np.ndarray:
    """Ray parameter where each ray meets whichever of two parallel planes it heads for."""
    t = np.where(direction > 0, ahead, behind)
    np.divide(t, direction, out=t)
    t[~(t > 0)] = np.inf  # parallel rays (nan or -inf) never meet the plane
    return t


def shade_surfaces(depth: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Grey tone (float32) per pixel: base tone by surface, lifted with distance."""
    tone = TONES[kind]
    # Sky (infinite depth) gets full haze, which leaves it at the sky tone.
    haze = np.minimum(depth * np.float32(0.7 / 60.0), np.float32(0.7))
    return tone + (TONES[SKY] - tone) * haze


def surface_edges(kind: np.ndarray) -> np.ndarray:
    """Boolean map of lines where one surface meets another (corners, horizon)."""
    edges = np.zeros(kind.shape, dtype=bool)
    edges[1:] |= kind[1:] != kind[:-1]
    edges[:, 1:] |= kind[:, 1:] != kind[:, :-1]
    return edges


def draw_props(layout: Layout, camera: Camera, width: int, height: int) -> list[tuple[float, list[tuple[list[tuple[float, float]], int, str]]]]:
    """Each prop as (depth, [(polygon, tone, shape)]), ready to paint far to near."""
    drawn = []
    for prop in layout.props:
        parts = _prop_polygons(prop, layout, camera, width, height)
        if parts:
            drawn.append(parts)
    return drawn


def paint(parts: tuple[float, list], panel: ImageDraw.ImageDraw, lines: ImageDraw.ImageDraw, depth: ImageDraw.ImageDraw, ink: int, line_width: int) -> None:
    """Paint one prop's polygons on the panel, line art and depth map."""
    distance, polygons = parts
    for polygon, tone, shape in polygons:
        if shape == "ellipse":
            xs, ys = zip(*polygon)
            box = (min(xs), min(ys), max(xs), max(ys))
            panel.ellipse(box, fill=(tone,) * 3, outline=(ink,) * 3, width=line_width)
            lines.ellipse(box, fill=0, outline=255, width=line_width)
            depth.ellipse(box, fill=distance)
        elif shape == "line":
            panel.line(polygon, fill=(tone,) * 3, width=line_width)
            lines.line(polygon, fill=255, width=line_width)
        else:
            panel.polygon(polygon, fill=(tone,) * 3, outline=(ink,) * 3, width=line_width)
            lines.polygon(polygon, fill=0, outline=255, width=line_width)
            depth.polygon(polygon, fill=distance)


def _prop_polygons(prop: Prop, layout: Layout, camera: Camera, width: int, height: int):
    if prop.kind in ("door", "window"):
        corners = _wall_rect(prop, layout)
        points, depths = camera.project(corners, width, height)
        if np.any(depths <= NEAR_M):
            return None
        tone = 120 if prop.kind == "door" else _glass_tone(layout.time_of_day)
        polygons = [(_pts(points), tone, "polygon")]
        if prop.kind == "window":
            mid = camera.project(_mullions(corners), width, height)[0]
            polygons += [(_pts(mid[0:2]), 90, "line"), (_pts(mid[2:4]), 90, "line")]
        return float(depths.mean()) - 0.02, polygons
    if prop.kind == "tree":
        trunk = _box_faces(Prop("box", prop.x, prop.z, 0.35, prop.height * 0.45, 0.35), camera, width, height, 110)
        centre, depths = camera.project(np.array([[prop.x, prop.height * 0.65, prop.z]]), width, height)
        if depths[0] <= NEAR_M or trunk is None:
            return None
        r = camera.focal_px(width) * prop.width / 2 / depths[0]
        cx, cy = centre[0]
        canopy = ([(cx - r, cy - r * 1.2), (cx + r, cy + r * 1.2)], 150, "ellipse")
        return float(depths[0]), trunk[1] + [canopy]
    if prop.kind == "tower":
        return _tower(prop, camera, width, height)
    return _box_faces(prop, camera, width, height, 178)


def _box_faces(prop: Prop, camera: Camera, width: int, height: int, tone: int):
    x0, x1 = prop.x - prop.width / 2, prop.x + prop.width / 2
    z0, z1 = prop.z - prop.depth / 2, prop.z + prop.depth / 2
    y0, y1 = prop.y, prop.y + prop.height
    corners = np.array([[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)])
    points, depths = camera.project(corners, width, height)
    if np.any(depths <= NEAR_M):
        return None
    faces = {  # corner indices and the face's outward normal
        "front": ((0, 1, 5, 4), (0, 0, -1)), "back": ((2, 3, 7, 6), (0, 0, 1)),
        "left": ((0, 1, 3, 2), (-1, 0, 0)), "right": ((4, 5, 7, 6), (1, 0, 0)),
        "top": ((1, 3, 7, 5), (0, 1, 0)),
    }
    centre = corners.mean(axis=0)
    polygons = []
    for name, (index, normal) in faces.items():
        face_centre = corners[list(index)].mean(axis=0)
        if np.dot(np.array(normal), camera.position - face_centre) <= 0 and not np.allclose(face_centre, centre):
            continue
        shade = {"top": 24, "left": -14, "right": -22}.get(name, 0)
        polygons.append((_pts(points[list(index)]), int(np.clip(tone + shade, 0, 255)), "polygon"))
    return float(depths.mean()), polygons


def _tower(prop: Prop, camera: Camera, width: int, height: int):
    base, top = prop.width / 2, prop.width / 3
    outline = np.array([
        [prop.x - base, 0, prop.z], [prop.x - top, prop.height, prop.z],
        [prop.x + top, prop.height, prop.z], [prop.x + base, 0, prop.z],
        [prop.x - top * 1.3, prop.height + 2.2, prop.z], [prop.x + top * 1.3, prop.height + 2.2, prop.z],
        [prop.x, prop.height + 3.4, prop.z],
    ])
    points, depths = camera.project(outline, width, height)
    if np.any(depths <= NEAR_M):
        return None
    lamp = [tuple(points[1]), tuple(points[4]), tuple(points[5]), tuple(points[2])]
    return float(depths.mean()), [
        (_pts(points[0:4]), 225, "polygon"),
        (lamp, 120, "polygon"),
        (_pts(points[[4, 6, 5]]), 90, "polygon"),
    ]


def _wall_rect(prop: Prop, layout: Layout) -> np.ndarray:
    half_width, back_z, _front, _ceiling = layout.room
    y0, y1 = prop.y, prop.y + prop.height
    if prop.wall == "back":
        x0, x1 = prop.x, prop.x + prop.width
        return np.array([[x0, y0, back_z], [x0, y1, back_z], [x1, y1, back_z], [x1, y0, back_z]])
    x = -half_width if prop.wall == "left" else half_width
    z0, z1 = prop.z, prop.z + prop.width
    return np.array([[x, y0, z0], [x, y1, z0], [x, y1, z1], [x, y0, z1]])


def _mullions(corners: np.ndarray) -> np.ndarray:
    bottom_mid, top_mid = (corners[0] + corners[3]) / 2, (corners[1] + corners[2]) / 2
    left_mid, right_mid = (corners[0] + corners[1]) / 2, (corners[2] + corners[3]) / 2
    return np.array([bottom_mid, top_mid, left_mid, right_mid])


def _glass_tone(time_of_day: str) -> int:
    return 70 if time_of_day in ("NIGHT", "EVENING", "DUSK") else 245


def _pts(points: np.ndarray) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in points]
