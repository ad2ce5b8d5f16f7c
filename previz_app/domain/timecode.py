"""Frames, seconds and SMPTE timecode at the project's exact rational frame rate.

Timecode is non-drop-frame and counts at the nominal rate (24 for 23.976, 30 for
29.97), as editing systems label such media; a shot's length in frames follows
the exact rate (see `frame_boundaries`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

from .vocabulary import frame_rate

_TIMECODE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})[:;](\d{2})$")


def nominal_rate(fps: float | Fraction) -> int:
    """Frames per timecode second: 24 for 23.976, 30 for 29.97."""
    return round(frame_rate(float(fps)))


def timecode_frames(text: str, fps: float | Fraction) -> int:
    """The frame count `HH:MM:SS:FF` stands for at `fps`. Raises ValueError when it is
    not a timecode or a field is out of range."""
    match = _TIMECODE.match(str(text).strip())
    if not match:
        raise ValueError(f"timecode must look like HH:MM:SS:FF, not {text!r}")
    hours, minutes, seconds, frames = (int(part) for part in match.groups())
    rate = nominal_rate(fps)
    if minutes > 59 or seconds > 59 or frames >= rate:
        raise ValueError(f"timecode {text!r} is out of range at {float(fps):g} fps")
    return ((hours * 60 + minutes) * 60 + seconds) * rate + frames


def format_timecode(frames: int, fps: float | Fraction) -> str:
    """`frames` as `HH:MM:SS:FF` (non-drop-frame; hours wrap at 24)."""
    rate = nominal_rate(fps)
    seconds, frame = divmod(int(frames), rate)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours % 24:02d}:{minute:02d}:{second:02d}:{frame:02d}"


def frame_boundaries(durations: Iterable[float], fps: float | Fraction) -> list[int]:
    """Where each shot starts, plus where the last one ends, in frames at `fps`.

    Boundary k is the cumulative duration of the first k shots times the exact frame
    rate, rounded half up. Rounding the running total (not each shot) means the
    sequence is `round(sum of durations x fps)` frames long and never drifts from
    the wall clock by more than half a frame. Every shot keeps at least one frame.
    """
    rate = frame_rate(float(fps)) if not isinstance(fps, Fraction) else fps
    boundaries, total, previous = [0], Fraction(0), 0
    for seconds in durations:
        total += Fraction(seconds).limit_denominator(1_000_000)
        boundary = max(previous + 1, int(total * rate + Fraction(1, 2)))
        boundaries.append(boundary)
        previous = boundary
    return boundaries


def frame_seconds(frame: int, fps: float | Fraction) -> Fraction:
    """The exact time at which `frame` starts."""
    rate = frame_rate(float(fps)) if not isinstance(fps, Fraction) else fps
    return Fraction(frame) / rate
