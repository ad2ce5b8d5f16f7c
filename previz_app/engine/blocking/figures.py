"""Mannequins: an 18-joint body (OpenPose order) posed, projected and drawn."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw, ImageFont

from ..camera import NEAR_M, Camera
from .layout import Figure

# OpenPose COCO-18 joints in body space (x to the body's left, y up, z the way it
# faces), for a 1.75 m figure: nose, neck, right arm, left arm, right leg, left leg,
# eyes, ears.
JOINTS = np.array(
    [
        (0.0, 1.61, 0.11), (0.0, 1.47, 0.0),
        (-0.2, 1.43, 0.0), (-0.25, 1.13, 0.03), (-0.26, 0.86, 0.07),
        (0.2, 1.43, 0.0), (0.25, 1.13, 0.03), (0.26, 0.86, 0.07),
        (-0.1, 0.95, 0.0), (-0.11, 0.51, 0.03), (-0.11, 0.08, 0.0),
        (0.1, 0.95, 0.0), (0.11, 0.51, 0.03), (0.11, 0.08, 0.0),
        (-0.035, 1.655, 0.095), (0.035, 1.655, 0.095), (-0.08, 1.63, 0.0), (0.08, 1.63, 0.0),
    ]
)
HEAD_CENTRE = np.array([0.0, 1.62, 0.0])
HEAD_RADIUS = 0.11
LIMB_RADIUS = 0.055
FACE = (0, 14, 15, 16, 17)

# Limbs as OpenPose draws them: joint pairs and their colours.
POSE_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
POSE_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
BODY_LIMBS = ((1, 0), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13))


@dataclass(frozen=True)
class PlacedFigure:
    figure: Figure
    joints: np.ndarray  # (18, 2) pixels
    depths: np.ndarray  # (18,) camera depth
    head: tuple[float, float, float, float]  # ellipse box in pixels
    head_depth: float
    scale: float  # pixels per metre at the figure
    faces_camera: bool

    @property
    def depth(self) -> float:
        return float(np.median(self.depths))


def place_figure(figure: Figure, camera: Camera, width: int, height: int) -> PlacedFigure | None:
    """Project `figure`'s joints; None when it is behind the camera."""
    world = _pose(figure)
    joints, depths = camera.project(world, width, height)
    if np.all(depths <= NEAR_M):
        return None
    head_world = _to_world(figure, HEAD_CENTRE[None, :] * figure.height / 1.75)
    (centre,), (head_depth,) = camera.project(head_world, width, height)
    if head_depth <= NEAR_M:
        return None
    scale = camera.focal_px(width) / max(head_depth, NEAR_M)
    radius = HEAD_RADIUS * scale
    head = (centre[0] - radius * 0.85, centre[1] - radius, centre[0] + radius * 0.85, centre[1] + radius * 1.05)
    facing = np.radians(figure.facing)
    towards = np.array([-math.sin(facing), 0.0, -math.cos(facing)])
    to_camera = camera.position - np.array([figure.x, 1.6, figure.z])
    return PlacedFigure(figure, joints, depths, head, float(head_depth), float(scale), float(towards @ to_camera) > 0)


def _pose(figure: Figure) -> np.ndarray:
    local = JOINTS * (figure.height / 1.75)
    swing = math.radians(figure.arm_swing)
    for elbow, wrist, side in ((3, 4, -1), (6, 7, 1)):
        shoulder = local[elbow - 1]
        for index in (elbow, wrist):
            offset = local[index] - shoulder
            # Swing the arm forwards/back about the shoulder, mirrored per side.
            angle = swing * side
            y = offset[1] * math.cos(angle) - offset[2] * math.sin(angle)
            z = offset[1] * math.sin(angle) + offset[2] * math.cos(angle)
            local[index] = shoulder + (offset[0], y, z)
    return _to_world(figure, local)


def _to_world(figure: Figure, local: np.ndarray) -> np.ndarray:
    # Facing 0 looks towards -z (the default camera), so body +z maps to world -z.
    angle = math.radians(figure.facing)
    c, s = math.cos(angle), math.sin(angle)
    x = local[:, 0] * c - local[:, 2] * s
    z = -local[:, 0] * s - local[:, 2] * c
    return np.stack([x + figure.x, local[:, 1], z + figure.z], axis=1)


def draw_figure(placed: PlacedFigure, panel: ImageDraw.ImageDraw, lines: ImageDraw.ImageDraw, depth: ImageDraw.ImageDraw, tone: int, ink: int) -> None:
    """Paint one mannequin on the panel, its outline on the line art, its depth."""
    width = max(1.0, LIMB_RADIUS * placed.scale)
    # Ink weight grows with the figure but stays a pencil line, even at the lens.
    line_width = max(1, min(round(placed.scale * 0.012), round(panel.im.size[0] / 300)))
    joints = placed.joints
    shapes = [_torso(joints)] + [_capsule(joints[a], joints[b], width) for a, b in BODY_LIMBS]
    for shape in shapes:
        panel.polygon(shape, fill=(tone, tone, tone), outline=(ink, ink, ink), width=line_width)
        lines.polygon(shape, fill=0, outline=255, width=line_width)
        depth.polygon(shape, fill=placed.depth)
    panel.ellipse(placed.head, fill=(tone, tone, tone), outline=(ink, ink, ink), width=line_width)
    lines.ellipse(placed.head, fill=0, outline=255, width=line_width)
    depth.ellipse(placed.head, fill=placed.head_depth)
    if placed.faces_camera and placed.scale > 60:
        _draw_face(placed, panel, lines, ink, line_width)


def _torso(joints: np.ndarray) -> list[tuple[float, float]]:
    return [tuple(joints[i]) for i in (2, 5, 11, 8)]


def _capsule(a: np.ndarray, b: np.ndarray, radius: float) -> list[tuple[float, float]]:
    direction = b - a
    length = float(np.hypot(*direction)) or 1.0
    normal = np.array([-direction[1], direction[0]]) / length * radius
    return [tuple(a + normal), tuple(b + normal), tuple(b - normal), tuple(a - normal)]


def _draw_face(placed: PlacedFigure, panel: ImageDraw.ImageDraw, lines: ImageDraw.ImageDraw, ink: int, line_width: int) -> None:
    # Eyes only: a storyboard face reads from its eyeline.
    radius = max(1.0, placed.scale * 0.012)
    for index in (14, 15):
        x, y = placed.joints[index]
        box = (x - radius, y - radius, x + radius, y + radius)
        panel.ellipse(box, fill=(ink, ink, ink))
        lines.ellipse(box, fill=255)


def draw_label(placed: PlacedFigure, panel: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, ink: int) -> None:
    """The character's name above the head, kept inside the frame."""
    if not placed.figure.name:
        return
    left, top, right, _bottom = placed.head
    box = panel.textbbox((0, 0), placed.figure.name, font=font)
    text_w, text_h = box[2] - box[0], box[3] - box[1]
    x = min(max(2, (left + right) / 2 - text_w / 2), panel.im.size[0] - text_w - 2)
    y = min(max(2, top - text_h - 6), panel.im.size[1] - text_h - 2)
    panel.rectangle((x - 3, y - 2, x + text_w + 3, y + text_h + 4), fill=(250, 248, 240), outline=(ink, ink, ink))
    panel.text((x, y), placed.figure.name, fill=(ink, ink, ink), font=font)


def draw_pose(placed: PlacedFigure, pose: ImageDraw.ImageDraw, stick: int) -> None:
    """The OpenPose rendering of the figure's skeleton (limbs, then joints)."""
    visible = placed.depths > NEAR_M
    if not placed.faces_camera:
        visible = visible.copy()
        visible[[0, 14, 15]] = False
    for (a, b), colour in zip(POSE_LIMBS, POSE_COLOURS):
        if visible[a] and visible[b]:
            dim = tuple(int(c * 0.6) for c in colour)
            pose.line([tuple(placed.joints[a]), tuple(placed.joints[b])], fill=dim, width=stick)
    for index, colour in enumerate(POSE_COLOURS):
        if visible[index]:
            x, y = placed.joints[index]
            pose.ellipse((x - stick, y - stick, x + stick, y + stick), fill=colour)
