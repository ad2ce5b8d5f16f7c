"""Where a shot's frames come from: a camera move over its hero still, or the
blocking engine redrawing the shot as its parametric camera moves.

Both are `picture.ShotFrames`. Frame `index` of a shot of `frames` frames is at
move time `index / (frames - 1)`, held at 0 before the shot and at 1 after it, so
handles repeat the first and last frame. Each source remembers the last picture it
made: held frames, static shots and handles cost nothing after the first.
"""

from __future__ import annotations

from dataclasses import replace

from PIL import Image

from ..domain.model import Project, Scene, Shot
from ..domain.vocabulary import Movement
from ..engine.blocking.panel import render_panel
from ..engine.frames import ShotContext, frame_request
from ..engine.request import FrameRequest
from .motion import source_box, view_at
from .picture import Picture, PlanarStill, even_size

# Moves that change the picture over time; anything else holds one frame.
MOVES = frozenset(move.value for move in Movement if move is not Movement.static)


def move_time(index: int, frames: int) -> float:
    """Where frame `index` of a `frames`-long shot lies along its move, 0..1."""
    if frames <= 1:
        return 0.0
    return min(1.0, max(0.0, index / (frames - 1)))


class StillMoves:
    """A camera move (`motion.view_at`) over one still, as a shot's frames.

    `still` is an image, or a PlanarStill already converted (to share it between
    shots). `draft_chroma` trades colour detail for speed (see `PlanarStill.view`).
    Raises ValueError for an empty size.
    """

    def __init__(
        self,
        still: Image.Image | PlanarStill,
        movement: str,
        direction: str,
        seed: int,
        frames: int,
        size: tuple[int, int],
        draft_chroma: bool = False,
    ) -> None:
        self.size = even_size(size)
        self._draft = bool(draft_chroma)
        self._still = still if isinstance(still, PlanarStill) else PlanarStill(still)
        self._movement, self._direction, self._seed = str(movement), str(direction), int(seed)
        self._frames = max(1, int(frames))
        self._last: tuple[tuple[float, float, float, float], Picture] | None = None

    def time(self, index: int) -> float:
        """Where frame `index` lies along the move, 0..1."""
        return move_time(index, self._frames)

    def picture(self, index: int) -> Picture:
        """Frame `index` (handles hold the first and last frame)."""
        view = view_at(self._movement, self._direction, self.time(index), self._seed)
        box = source_box(view, self._still.size, self.size)
        if self._last is not None and self._last[0] == box:
            return self._last[1]
        picture = self._still.view(box, self.size, self._draft)
        self._last = (box, picture)
        return picture


class BlockingMoves:
    """A shot redrawn by the blocking engine for every frame, its camera `time`
    of the way through the move: figures and set stay put while the camera travels,
    as they would on set. A frame takes a full panel render (about 0.1 s at 1080p),
    so each distinct time is drawn once and a static shot once in all.

    Raises ValueError when `request` is not a blocking request with a staging.
    """

    def __init__(self, request: FrameRequest, frames: int, size: tuple[int, int]) -> None:
        if request.engine != "blocking" or request.staging is None:
            raise ValueError(f"only a blocking-engine request with a staging can be redrawn, not engine {request.engine!r}")
        self.size = even_size(size)
        self._staging, self._seed = request.staging, request.seed
        self._frames = max(1, int(frames))
        self._moving = request.staging.movement.lower() in MOVES
        self._last: tuple[float, Picture] | None = None

    def time(self, index: int) -> float:
        """Where frame `index` lies along the move, 0..1."""
        # A static camera ignores time: one drawing serves the whole shot.
        return move_time(index, self._frames) if self._moving else self._staging.time

    def picture(self, index: int) -> Picture:
        """Frame `index`, drawn by the blocking engine (handles hold the ends)."""
        time = self.time(index)
        if self._last is not None and self._last[0] == time:
            return self._last[1]
        width, height = self.size
        drawn = render_panel(replace(self._staging, time=time), width, height, self._seed)
        picture = Picture.from_rgb(drawn.image)
        self._last = (time, picture)
        return picture


def blocking_request_for(shot: Shot, scene: Scene, project: Project) -> FrameRequest:
    """The blocking request a shot without a hero frame would be drawn from: its
    staging and its seed, exactly as generating its first frame would use."""
    return frame_request(ShotContext(project, scene, shot))


def still_panel(request: FrameRequest, size: tuple[int, int]) -> Image.Image:
    """One blocking panel of `request` at `size`, at the staging's own time (the
    moment the move holds the shot's framing): the still a camera move runs over."""
    width, height = even_size(size)
    return render_panel(request.staging, width, height, request.seed).image
