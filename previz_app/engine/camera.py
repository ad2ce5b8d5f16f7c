"""A parametric pinhole camera: position, yaw, pitch, roll and focal length.

World axes: x to the right of the set, y up (metres above the floor), z away from
the default camera position. Lenses are 35 mm-equivalent (a 36 mm wide sensor).
Because the camera is a plain value, a camera move is a function of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

SENSOR_WIDTH_MM = 36.0
NEAR_M = 0.05


@dataclass(frozen=True, slots=True)
class Camera:
    x: float = 0.0
    y: float = 1.6
    z: float = -4.0
    yaw: float = 0.0  # degrees, positive turns right
    pitch: float = 0.0  # degrees, positive looks up
    roll: float = 0.0  # degrees, positive tilts the horizon clockwise
    focal_mm: float = 35.0

    @property
    def position(self) -> np.ndarray:
        return np.array([self.x, self.y, self.z], dtype=np.float64)

    def rotation(self) -> np.ndarray:
        """Camera-to-world rotation; columns are the camera's right, up and forward."""
        yaw, pitch, roll = (math.radians(a) for a in (self.yaw, self.pitch, self.roll))
        cy, sy = math.cos(yaw), math.sin(yaw)
        cp, sp = math.cos(-pitch), math.sin(-pitch)
        cr, sr = math.cos(-roll), math.sin(-roll)
        ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
        rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        return ry @ rx @ rz

    def forward(self) -> np.ndarray:
        return self.rotation()[:, 2]

    def focal_px(self, width: int) -> float:
        return self.focal_mm / SENSOR_WIDTH_MM * width

    def vertical_fov(self, aspect: float) -> float:
        """Vertical field of view in radians for a frame of `aspect` (width / height)."""
        return 2 * math.atan(SENSOR_WIDTH_MM / aspect / 2 / self.focal_mm)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) in camera coordinates (x right, y up, z forward)."""
        return (np.asarray(points, dtype=np.float64) - self.position) @ self.rotation()

    def project(self, points: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) and camera depth (N,) of world points.

        Points behind the camera get depth <= NEAR_M; callers skip them.
        """
        cam = self.to_camera(np.atleast_2d(points))
        depth = cam[:, 2]
        safe = np.where(depth > NEAR_M, depth, NEAR_M)
        f = self.focal_px(width)
        u = width / 2 + f * cam[:, 0] / safe
        v = height / 2 - f * cam[:, 1] / safe
        return np.stack([u, v], axis=1), depth

    def rays(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World-space ray directions through pixel centres as three (H, W) arrays
        (x, y, z components), scaled so each ray's camera-space depth step is 1.
        A ray's parameter t at a hit is then the hit's camera depth."""
        f = self.focal_px(width)
        u = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / f
        v = -(np.arange(height, dtype=np.float32) + 0.5 - height / 2) / f
        rot = self.rotation().astype(np.float32)
        # Component i of u*right + v*up + forward, as an outer sum of a row and a column.
        return tuple(u[None, :] * rot[i, 0] + (v[:, None] * rot[i, 1] + rot[i, 2]) for i in range(3))

    def looking_at(self, target: tuple[float, float, float]) -> Camera:
        """The same camera turned to look at `target` (roll kept)."""
        dx, dy, dz = (t - p for t, p in zip(target, (self.x, self.y, self.z)))
        yaw = math.degrees(math.atan2(dx, dz))
        pitch = math.degrees(math.atan2(dy, math.hypot(dx, dz)))
        return replace(self, yaw=yaw, pitch=pitch)
