"""AI motion: a shot's camera move redrawn by a diffusion model.

A few moments of the move ("keys") are planned as views of the hero still, the
"moved frames"; each is redrawn by img2img with the same seed, so neighbouring keys
agree. keyframes.py draws the frames between them.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from PIL import Image
from sqlite_utils import Database

from ..engine.base import Cancelled, EngineError
from ..engine.frames import TRAINED_SIDE, frame_request, frame_size, shot_context, write_frame
from ..engine.jobs import Job, JobRunner, JobState
from ..engine.request import FrameRequest, Mode, decode_image
from ..store import ProjectFolder
from ..store.media import MediaStore, add_media, record_media
from ..store.motion import ShotMotion, latest_motion, motions_for, save_motion
from .compose import MissingMediaError
from .keyframes import KeyframeMotion
from .motion import source_box, view_at, view_seed
from .picture import Picture, ShotFrames
from .timeline import Timeline, TimelineShot

Progress = Callable[[int, int], None]  # keys finished, keys
LOADED_SHOTS = 4  # shots whose keys stay decoded while an animatic renders


def key_times(seconds: float, keys_per_second: float, frames: int | None = None) -> list[float]:
    """Evenly spaced key times over 0..1: at least start and end, about
    `keys_per_second`, never more keys than the shot has frames."""
    if not keys_per_second > 0:
        raise ValueError(f"keys per second must be above 0, got {keys_per_second}")
    count = max(2, int(np.ceil(max(0.0, float(seconds)) * keys_per_second - 1e-9)) + 1)
    if frames is not None:
        count = max(2, min(count, frames))
    return [index / (count - 1) for index in range(count)]


def plan_motion(
    folder: ProjectFolder,
    timeline_shot: TimelineShot,
    model: str,
    family: str,
    keys_per_second: float = 4,
    strength: float = 0.35,
    steps: int = 25,
    guidance: float = 7.0,
    size: tuple[int, int] | None = None,
    model_hash: str = "",
) -> list[tuple[float, FrameRequest]]:
    """(key time, img2img request) for each key of the shot's move.

    Each key's init image is the hero still seen as the camera sees it at that time,
    at the model's trained size for `family` (or `size`), stored in the project's
    media. Every key has the shot's seed and prompt. Raises ValueError for a shot
    without a hero frame or out-of-range settings, MissingMediaError (a ValueError)
    for a hero file that is missing or unreadable.
    """
    shot = timeline_shot.shot
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be above 0 and at most 1, got {strength}")
    if timeline_shot.hero is None:
        raise ValueError(f"shot {shot.number} has no hero frame to move over; generate or pick one first")
    still = _read_image(folder.media, timeline_shot.hero.media_hash, f"shot {shot.number}: the hero frame")
    context = shot_context(folder, shot.id)
    size = size or frame_size(context.project.aspect_ratio, side=TRAINED_SIDE.get(family, 512))
    base = frame_request(context, engine="diffusers", model=model, size=size, steps=steps, guidance=guidance)
    base = replace(base, model_hash=model_hash)
    movement, direction = str(shot.movement.value), str(shot.direction.value)
    times = key_times(shot.duration, keys_per_second, timeline_shot.frames)
    moved = []
    for time in times:
        box = source_box(view_at(movement, direction, time, view_seed(shot)), still.size, size)
        buffer = io.BytesIO()
        still.resize(size, Image.Resampling.LANCZOS, box=box).save(buffer, format="PNG", compress_level=4)
        moved.append(buffer.getvalue())
    with folder.transaction():
        hashes = [
            add_media(folder.db, folder.media, data, "image/png", f"shot-{shot.number}-moved-{index + 1}.png")
            for index, data in enumerate(moved)
        ]
    return [
        (time, replace(base, mode=Mode.img2img, init_image=digest, strength=strength, staging=replace(base.staging, time=time)))
        for time, digest in zip(times, hashes)
    ]


def run_motion(
    folder: ProjectFolder,
    runner: JobRunner,
    timeline_shot: TimelineShot,
    planned: Sequence[tuple[float, FrameRequest]],
    progress: Progress | None = None,
    poll: float = 0.1,
) -> ShotMotion:
    """Render the planned keys on `runner`, then store them and record the motion
    over the shot's hero take in one transaction; return it.

    Runs on the thread that owns `folder`. `progress(done, total)` counts finished
    keys. A key cancelled on the runner (or Ctrl-C here) cancels the others and
    raises Cancelled (KeyboardInterrupt passes through); a failed key raises
    EngineError naming the shot. Either way nothing is recorded.
    """
    shot, hero = timeline_shot.shot, timeline_shot.hero
    if not planned:
        raise ValueError(f"shot {shot.number}: no keys were planned")
    if hero is None:
        raise ValueError(f"shot {shot.number} has no hero frame to move over; generate or pick one first")
    try:
        with Image.open(folder.media.path(hero.media_hash)) as still:
            still_size = still.size  # the header only
    except OSError as exc:
        raise ValueError(f"shot {shot.number}: the hero frame cannot be read: {exc}") from exc
    jobs: list[Job] = []
    try:
        for _time, request in planned:
            jobs.append(runner.submit(request, tag=shot.id))
        if progress:
            progress(0, len(jobs))
        for index, job in enumerate(jobs):
            while not job.wait(poll):
                pass  # short waits keep Ctrl-C responsive
            if job.state is JobState.failed:
                raise EngineError(f"AI motion for shot {shot.number} failed at key {index + 1} of {len(jobs)}: {job.error}")
            if job.state is not JobState.finished or job.result is None:
                raise Cancelled(f"AI motion for shot {shot.number} was cancelled; nothing was recorded")
            if progress:
                progress(index + 1, len(jobs))
    except BaseException:
        for job in jobs:
            runner.cancel(job)
        for job in jobs:
            job.wait()  # a running key stops at its next step
            job.result = None
        raise
    written = [write_frame(folder.media, job.result) for job in jobs]
    for job in jobs:
        job.result = None  # the media store holds them now
    first = planned[0][1]
    recipe = {
        "engine": first.engine, "model": first.model, "model_hash": first.model_hash, "mode": "img2img",
        "strength": first.strength, "seed": first.seed, "steps": first.steps, "guidance": first.guidance,
        "size": [first.width, first.height], "still_size": list(still_size),
        "movement": str(shot.movement.value), "direction": str(shot.direction.value), "view_seed": view_seed(shot),
        "keys": len(planned), "moved": [request.init_image for _time, request in planned],
    }
    with folder.transaction():
        for index, frame in enumerate(written):
            record_media(folder.db, frame.digest, frame.size, "image/png", f"shot-{shot.number}-key-{index + 1}.png")
        save_motion(folder.db, shot.id, hero.id, json.dumps(recipe, sort_keys=True),
                    [(time, frame.digest) for (time, _request), frame in zip(planned, written)])
    return latest_motion(folder.db, shot.id, hero.id)


def ai_sources(db: Database, media: MediaStore, timeline: Timeline, size: tuple[int, int], check_media: bool = True) -> dict[int, ShotFrames]:
    """Frames for each timeline shot whose current hero take has AI motion recorded,
    by index in `timeline.shots` (as `compose.FrameComposer` takes them), at `size`.

    Keys are decoded when a shot is first drawn, and only a few shots' keys stay in
    memory. Raises compose.MissingMediaError (a ValueError) naming the shot when a
    key image is missing from the media folder (and, when the shot is drawn, when
    one cannot be read). With `check_media` False (the player) a missing key fails
    only its shot, when that shot is drawn.
    """
    pairs = [(item.shot.id, item.hero.id) for item in timeline.shots if item.hero is not None]
    motions = motions_for(db, pairs)
    loaded: OrderedDict[int, KeyframeMotion] = OrderedDict()
    lock = threading.Lock()
    sources: dict[int, ShotFrames] = {}
    for index, item in enumerate(timeline.shots):
        motion = motions.get(item.shot.id)
        if motion is None:
            continue
        for _time, digest in motion.keyframes if check_media else ():
            if not media.path(digest).is_file():
                raise MissingMediaError(
                    f"shot {item.number}: the AI motion key {media.path(digest)} is missing; "
                    "run `previz motion` again or export with still motion"
                )
        sources[index] = _StoredMotion(media, motion, item, size, loaded, lock)
    return sources


class _StoredMotion:
    """A shot's recorded keyframes, decoded on first use and dropped when other shots
    have pushed them out of the shared `loaded` cache."""

    def __init__(
        self, media: MediaStore, motion: ShotMotion, item: TimelineShot, size: tuple[int, int], loaded: OrderedDict, lock: threading.Lock
    ) -> None:
        self._media, self._motion, self._item, self._size = media, motion, item, size
        self._loaded, self._lock = loaded, lock  # shared by every shot's source; composers draw shots in parallel
        self._error: MissingMediaError | None = None  # a key that cannot be read stays unreadable

    def picture(self, index: int) -> Picture:
        if self._error is not None:
            raise self._error
        shot_id = self._motion.shot_id
        with self._lock:
            frames = self._loaded.get(shot_id)
        if frames is None:
            try:
                frames = self._load()
            except MissingMediaError as exc:
                self._error = exc
                raise
        with self._lock:
            self._loaded[shot_id] = frames
            self._loaded.move_to_end(shot_id)
            while len(self._loaded) > LOADED_SHOTS:
                self._loaded.popitem(last=False)
        return frames.picture(index)

    def _load(self) -> KeyframeMotion:
        number = self._item.number
        recipe = json.loads(self._motion.recipe)
        keys = [(time, _read_image(self._media, digest, f"shot {number}: an AI motion key")) for time, digest in self._motion.keyframes]
        still_size = recipe.get("still_size")
        return KeyframeMotion(
            keys, recipe.get("movement", str(self._item.shot.movement.value)), recipe.get("direction", ""),
            int(recipe.get("view_seed", 0)), self._item.frames, self._size, tuple(still_size) if still_size else None,
        )


def _read_image(media: MediaStore, digest: str, what: str) -> Image.Image:
    path = media.path(digest)
    try:
        return decode_image(path.read_bytes())
    except FileNotFoundError:
        raise MissingMediaError(f"{what} is missing: {path}") from None
    except ValueError as exc:
        raise MissingMediaError(f"{what} cannot be read ({path}): {exc}") from None
