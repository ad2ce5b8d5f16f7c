"""Camera moves over a still: which part of the picture the camera sees at each moment.

A move is a path of `View`s over time 0..1, eased in and out as a grip would. A
still is drawn where the move holds the shot's own framing (see
`engine.blocking.layout.key_time`): pans, tilts and trucks pass the centre halfway,
a pull-out ends on the whole picture, everything else starts on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..domain.model import Shot

PUSH = 1.3  # a dolly in ends 1.3x closer
ZOOM = 1.45  # a lens zoom travels further than a dolly
TRAVEL_ZOOM = 1.25  # pans, tilts, trucks and cranes need picture to travel over
HANDHELD_ZOOM = 1.06
HANDHELD_SWAY = 0.006  # of the frame, each way


@dataclass(frozen=True, slots=True)
class View:
    """The part of a still the camera sees: its centre as fractions of the still's
    width and height, and a zoom (1: the largest box of the frame's shape that fits)."""

    cx: float = 0.5
    cy: float = 0.5
    zoom: float = 1.0


def ease(time: float) -> float:
    """Smoothstep: starts and stops without a jolt."""
    t = min(1.0, max(0.0, float(time)))
    return t * t * (3 - 2 * t)


def view_at(movement: str, direction: str, time: float, seed: int = 0) -> View:
    """Where the camera looks `time` (0..1, clamped) of the way through `movement`."""
    movement, direction = str(movement).lower(), str(direction).lower()
    s = ease(time)
    sign = -1.0 if direction in ("left", "up", "out") else 1.0
    travel = (1 - 1 / TRAVEL_ZOOM) / 2  # as far as the centre can go at that zoom
    if movement == "dolly_in":
        return View(zoom=1 + (PUSH - 1) * s)
    if movement == "dolly_out":
        return View(zoom=PUSH - (PUSH - 1) * s)
    if movement == "zoom":
        return View(zoom=ZOOM ** (s if sign > 0 else 1 - s))
    if movement in ("pan", "truck"):
        return View(cx=0.5 + sign * travel * (2 * s - 1), zoom=TRAVEL_ZOOM)
    if movement == "tilt":
        # Up means the top of the picture comes into view: the centre moves up (smaller y).
        return View(cy=0.5 + sign * travel * (2 * s - 1), zoom=TRAVEL_ZOOM)
    if movement == "crane":
        rise = -1.0 if direction == "down" else 1.0
        return View(cy=0.5 + rise * travel * (1 - 2 * s), zoom=TRAVEL_ZOOM)
    if movement == "handheld":
        phase = (seed % 1000) / 1000 * 2 * math.pi
        t = float(time) * 4  # a few seconds of sway per shot
        dx = math.sin(2.1 * t + phase) * 0.6 + math.sin(5.3 * t + 2 * phase) * 0.4
        dy = math.sin(1.7 * t + 3 * phase) * 0.6 + math.sin(4.1 * t + phase) * 0.4
        return View(cx=0.5 + HANDHELD_SWAY * dx, cy=0.5 + HANDHELD_SWAY * dy, zoom=HANDHELD_ZOOM)
    return View()


def view_seed(shot: Shot) -> int:
    """The seed of a shot's camera path (a handheld sway): the shot's own seed, else
    its id, so the sway is the same in every export and in AI motion."""
    return shot.seed if shot.seed is not None else (shot.id or 0)


def source_box(view: View, still_size: tuple[int, int], out_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom; fractional pixels) of a still of `still_size`
    that fills a frame of `out_size` for `view`. The box keeps the frame's shape and
    stays inside the still."""
    still_w, still_h = still_size
    out_w, out_h = out_size
    if min(still_w, still_h, out_w, out_h) <= 0:
        raise ValueError(f"empty picture: still {still_size}, frame {out_size}")
    aspect = out_w / out_h
    box_w = min(still_w, still_h * aspect) / max(1.0, view.zoom)
    box_h = box_w / aspect
    left = min(max(view.cx * still_w - box_w / 2, 0.0), still_w - box_w)
    top = min(max(view.cy * still_h - box_h / 2, 0.0), still_h - box_h)
    return (left, top, left + box_w, top + box_h)
