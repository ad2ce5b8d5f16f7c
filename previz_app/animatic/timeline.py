"""The film as a timeline: shots in scene order with frame-exact starts, lengths and
transitions at the project's rational frame rate.

Rounding (see `domain.timecode.frame_boundaries`): a shot starts at its cumulative
start time times the frame rate, rounded half up, so the sequence is
`round(sum of durations x fps)` frames long. Transitions never change lengths:
- a dissolve into a shot is centred on the cut: it starts `L // 2` frames before the
  cut, inside the outgoing shot, and ends `L - L // 2` frames after it; the shots
  on either side are drawn beyond their own ends there ("handles");
- a fade from black takes the first `L` frames of the shot, a fade to black the last.
`L` is the shot's transition length in frames, clamped to the frames available. A
dissolve into the first shot has nothing to dissolve from and fades from black; a
dissolve into a shot cancels the fade to black of the shot before it.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from sqlite_utils import Database

from ..domain.model import Project, Scene, Shot, Take
from ..domain.timecode import format_timecode, frame_boundaries, timecode_frames
from ..domain.vocabulary import TransitionIn, TransitionOut, frame_rate
from ..engine.request import FrameRequest
from ..store import scenes as scene_rows
from ..store import settings, shots, takes


@dataclass(frozen=True)
class TimelineShot:
    """One shot on the timeline. Frame numbers count from the sequence's first frame."""

    shot: Shot
    scene: Scene
    start: int
    frames: int
    dissolve_in: int = 0  # frames of the dissolve from the previous shot (0: none)
    fade_in: int = 0  # frames of fade from black at the start
    fade_out: int = 0  # frames of fade to black at the end
    tail: int = 0  # frames drawn past the end for the next shot's dissolve
    hero: Take | None = None
    hero_request: FrameRequest | None = None  # how the hero was made, when it was generated

    @property
    def end(self) -> int:
        return self.start + self.frames

    @property
    def head(self) -> int:
        """Frames drawn before the start for this shot's own dissolve."""
        return self.dissolve_in // 2

    @property
    def number(self) -> str:
        return self.shot.number

    @property
    def natively_animated(self) -> bool:
        """True when the hero frame came from the blocking engine, whose camera can be
        moved and the frame redrawn."""
        request = self.hero_request
        return request is not None and request.engine == "blocking" and request.staging is not None


@dataclass(frozen=True)
class Timeline:
    project: Project
    shots: tuple[TimelineShot, ...]

    @property
    def fps(self) -> Fraction:
        return frame_rate(self.project.fps)

    @property
    def total_frames(self) -> int:
        return self.shots[-1].end if self.shots else 0

    @property
    def start_frame(self) -> int:
        """The first frame's timecode, as a frame count."""
        return timecode_frames(self.project.start_timecode, self.project.fps)

    def seconds(self, frame: int) -> Fraction:
        """The exact time (from the sequence start) at which `frame` starts."""
        return Fraction(frame) / self.fps

    def timecode(self, frame: int) -> str:
        """The record timecode of `frame`."""
        return format_timecode(self.start_frame + frame, self.project.fps)

    @cached_property
    def starts(self) -> list[int]:
        """Each shot's first frame, in order."""
        return [item.start for item in self.shots]

    def index_at(self, frame: int) -> int:
        """Index of the shot on screen at `frame` (clamped to the sequence)."""
        return max(0, min(len(self.shots) - 1, bisect.bisect_right(self.starts, frame) - 1))


@dataclass(frozen=True)
class ShotMedia:
    """A shot's own media file, exported beside an editorial timeline so an editor can
    relink: `head` frames of handle, the shot's `frames`, then `tail` frames of handle."""

    shot_id: int
    path: Path
    head: int
    frames: int
    tail: int


def build_timeline(db: Database, scene_number: str | None = None) -> Timeline:
    """The project's timeline: every shot of every scene that is not removed, in order.

    `scene_number` keeps one scene. Raises ValueError for an unknown scene and for a
    project (or scene) without shots.
    """
    project = settings.read_project(db)
    scene_list = scene_rows.list_scenes(db, include_removed=False)
    if scene_number is not None:
        wanted = str(scene_number).strip().upper()
        scene_list = [scene for scene in scene_list if scene.number.upper() == wanted]
        if not scene_list:
            raise ValueError(f"no scene numbered {scene_number!r}")
    scene_of = {scene.id: scene for scene in scene_list}
    listed = [shot for shot in shots.list_shots(db) if shot.scene_id in scene_of]
    if not listed:
        raise ValueError("nothing to play: " + ("the scene has no shots" if scene_number else "the project has no shots"))
    heroes = takes.get_takes(db, [shot.hero_take_id for shot in listed if shot.hero_take_id is not None])
    return Timeline(project, tuple(place_shots(project, [(shot, scene_of[shot.scene_id]) for shot in listed], heroes)))


def place_shots(project: Project, shots_in_order: list[tuple[Shot, Scene]], heroes: dict[int, Take] | None = None) -> list[TimelineShot]:
    """Lay shots end to end at the project's frame rate and resolve their transitions."""
    heroes = heroes or {}
    rate = frame_rate(project.fps)
    bounds = frame_boundaries([shot.duration for shot, _scene in shots_in_order], rate)
    placed: list[TimelineShot] = []
    for index, (shot, scene) in enumerate(shots_in_order):
        start, frames = bounds[index], bounds[index + 1] - bounds[index]
        length = max(1, int(Fraction(shot.transition_seconds).limit_denominator(1000) * rate + Fraction(1, 2)))
        transition = shot.transition_in
        if transition == TransitionIn.dissolve and index == 0:
            transition = TransitionIn.fade_from_black
        dissolve = min(length, frames, placed[-1].frames) if transition == TransitionIn.dissolve else 0
        if dissolve < 2:
            dissolve = 0  # a one-frame dissolve is a cut
        fade_in = min(length, frames) if transition == TransitionIn.fade_from_black else 0
        fade_out = min(length, frames) if shot.transition_out == TransitionOut.fade_to_black else 0
        if dissolve:
            previous = placed[-1]
            # The dissolve wins over the outgoing shot's fade to black, in the picture and
            # in the editor's cut alike.
            placed[-1] = TimelineShot(**{**_fields(previous), "tail": dissolve - dissolve // 2, "fade_out": 0})
        hero = heroes.get(shot.hero_take_id) if shot.hero_take_id is not None else None
        placed.append(TimelineShot(shot, scene, start, frames, dissolve, fade_in, fade_out, 0, hero, _request(hero)))
    return placed


def _fields(item: TimelineShot) -> dict:
    return {name: getattr(item, name) for name in TimelineShot.__dataclass_fields__}


def _request(take: Take | None) -> FrameRequest | None:
    if take is None:
        return None
    try:
        return FrameRequest.from_json(take.recipe) if json.loads(take.recipe or "{}") else None
    except (ValueError, TypeError, KeyError):
        return None  # an imported or drawn take, or a recipe from elsewhere
