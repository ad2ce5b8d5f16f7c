"""Composing the animatic frame by frame: each shot's frames from its source, the
transitions between shots, and burnt-in captions and shot information.

Transitions follow `timeline`'s rules. Inside a dissolve of `L` frames the
incoming shot's weight climbs `1/(L+1), 2/(L+1) ... L/(L+1)`, so neither end of it
is a hard cut. A fade from black starts on black and reaches full picture after
`L` frames; a fade to black ends on black. Burn-ins are converted to planes once
(per caption text) and only their box is mixed into the frame; the shot number and
timecode change every frame and are kept to a small box by `captions`.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from ..engine.request import decode_image
from ..store.media import MediaStore
from .captions import caption_cues, caption_overlay, info_overlay
from .motion import view_seed
from .picture import Picture, PlanarStill, ShotFrames, blend, even_size, faded
from .sources import BlockingMoves, StillMoves, blocking_request_for, still_panel
from .timeline import Timeline, TimelineShot

MOTIONS = ("auto", "still")
KEEP_SOURCES = 4  # shots whose frames stay ready: the one on screen and its neighbours
KEEP_CAPTIONS = 8


@dataclass(frozen=True)
class ComposeOptions:
    """How frames are drawn: `size` (even sides), captions and shot number plus
    timecode burnt in, and `motion`: "auto" redraws shots whose hero came from the
    blocking engine with its moving camera and moves over other heroes as stills;
    "still" always moves over stills. `draft_chroma` resamples the colour of moves
    over stills at half resolution, a quarter less work per frame (None: the
    renderer decides; see `render.render_animatic`). Raises ValueError for an
    unknown motion."""

    size: tuple[int, int]
    burn_captions: bool = False
    burn_info: bool = False
    motion: str = "auto"
    draft_chroma: bool | None = None

    def __post_init__(self) -> None:
        if self.motion not in MOTIONS:
            raise ValueError(f"unknown motion {self.motion!r}; expected one of: {', '.join(MOTIONS)}")
        object.__setattr__(self, "size", even_size(self.size))


class MissingMediaError(ValueError):
    """A shot's hero frame is missing from the project's media or cannot be read;
    the message names the shot and the file."""


@dataclass(frozen=True)
class _Overlay:
    """A burn-in as planes: where it goes (even x, y), its pixels and its alpha at
    luma and at chroma resolution (0..255)."""

    x: int
    y: int
    picture: Picture
    alpha: np.ndarray
    alpha_chroma: np.ndarray


class FrameComposer:
    """The animatic's frames. `sources` replaces the frames of some shots (by index
    in `timeline.shots`), e.g. AI motion. Not thread-safe: one composer per thread.

    With `check_media` (an export: better to fail before a long render) it checks
    at construction that every hero file is in `media` and raises MissingMediaError
    naming the first shot whose file is missing. Without it (a player: the other
    shots still play) nothing is checked up front. Either way, drawing a shot whose
    hero is missing or unreadable raises MissingMediaError naming the shot, even
    where the shot is redrawn from its recipe rather than from the file.
    """

    def __init__(
        self,
        timeline: Timeline,
        media: MediaStore,
        options: ComposeOptions,
        sources: dict[int, ShotFrames] | None = None,
        *,
        check_media: bool = True,
    ) -> None:
        self.timeline, self.media, self.options = timeline, media, options
        self.size = options.size
        self._given = dict(sources or {})
        self._kept: OrderedDict[int, ShotFrames] = OrderedDict()
        self._captions: OrderedDict[str, _Overlay] = OrderedDict()
        self._cues = []
        if check_media:
            for index, item in enumerate(timeline.shots):
                if index not in self._given:
                    self._check_hero(item)
        if options.burn_captions:
            self._cues = sorted(caption_cues(timeline), key=lambda cue: cue.start)
        self._cue_starts = [cue.start for cue in self._cues]

    def picture(self, frame: int) -> Picture:
        """Timeline frame `frame` as it plays: transitions and burn-ins included.
        Raises ValueError for a frame outside the timeline."""
        if not 0 <= frame < self.timeline.total_frames:
            raise ValueError(f"frame {frame} is outside the animatic (0..{self.timeline.total_frames - 1})")
        used = self.clean_frames(frame)
        if len(used) == 1:
            picture = self._faded(*used[0])
        else:
            (outgoing, out_local), (incoming, in_local) = used
            item = self.timeline.shots[incoming]
            amount = (frame - (item.start - item.head) + 1) / (item.dissolve_in + 1)
            picture = blend(self._faded(outgoing, out_local), self._faded(incoming, in_local), amount)
        return self._burnt(picture, frame, self.timeline.shots[self.timeline.index_at(frame)])

    def image(self, frame: int) -> Image.Image:
        """`picture(frame)` as an RGB image."""
        return self.picture(frame).to_rgb()

    def clean_frames(self, frame: int) -> list[tuple[int, int]]:
        """The shots' own frames (shot index, index in the shot) that timeline frame
        `frame` is made of: one, or two inside a dissolve."""
        shots = self.timeline.shots
        index = self.timeline.index_at(frame)
        item = shots[index]
        used = [(index, frame - item.start)]
        if item.dissolve_in and frame - item.start < item.dissolve_in - item.head:
            used.insert(0, (index - 1, frame - shots[index - 1].start))
        elif index + 1 < len(shots) and shots[index + 1].dissolve_in and frame >= shots[index + 1].start - shots[index + 1].head:
            used.append((index + 1, frame - shots[index + 1].start))
        return used

    def raw(self, shot_index: int, local_index: int) -> Picture:
        """Frame `local_index` of shot `shot_index` alone: no transitions, no
        burn-ins. The index may reach into the shot's handles."""
        return self._source(shot_index).picture(local_index)

    def _faded(self, index: int, local: int) -> Picture:
        item = self.timeline.shots[index]
        picture = self.raw(index, local)
        brightness = 1.0
        if item.fade_in:
            brightness = min(brightness, max(0.0, local / item.fade_in))
        if item.fade_out:
            brightness = min(brightness, max(0.0, (item.frames - 1 - local) / item.fade_out))
        return picture if brightness >= 1.0 else faded(picture, brightness)

    def _uses_hero(self, item: TimelineShot) -> bool:
        if item.hero is None:
            return False
        return not (self.options.motion == "auto" and item.natively_animated)

    def _source(self, index: int) -> ShotFrames:
        if index in self._given:
            return self._given[index]
        if index in self._kept:
            self._kept.move_to_end(index)
            return self._kept[index]
        source = self._make_source(self.timeline.shots[index])
        self._kept[index] = source
        while len(self._kept) > KEEP_SOURCES:
            self._kept.popitem(last=False)
        return source

    def _check_hero(self, item: TimelineShot) -> None:
        # Checked even where the shot is redrawn from its recipe: a hero file that is
        # gone means a damaged project, and the user should hear of it.
        if item.hero is not None:
            path = self.media.path(item.hero.media_hash)
            if not path.is_file():
                raise MissingMediaError(f"shot {item.number}: its hero frame {path} is missing from the project's media")

    def _make_source(self, item: TimelineShot) -> ShotFrames:
        self._check_hero(item)
        shot = item.shot
        seed = view_seed(shot)
        movement, direction = str(shot.movement.value), str(shot.direction.value)
        draft = bool(self.options.draft_chroma)
        if item.hero is not None:
            if not self._uses_hero(item):
                # The hero's staging with the shot's move as it is now: a move chosen
                # after the hero was drawn still plays.
                request = item.hero_request
                staging = replace(request.staging, movement=movement, direction=direction)
                return BlockingMoves(replace(request, staging=staging), item.frames, self.size)
            return StillMoves(self._hero_still(item), movement, direction, seed, item.frames, self.size, draft)
        request = blocking_request_for(shot, item.scene, self.timeline.project)
        if self.options.motion == "auto":
            return BlockingMoves(request, item.frames, self.size)
        return StillMoves(still_panel(request, self.size), movement, direction, seed, item.frames, self.size, draft)

    def _hero_still(self, item: TimelineShot) -> PlanarStill:
        path = self.media.path(item.hero.media_hash)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise MissingMediaError(f"shot {item.number}: its hero frame {path} is missing from the project's media") from None
        except OSError as exc:
            raise MissingMediaError(f"shot {item.number}: its hero frame {path} cannot be read: {exc.strerror or exc}") from None
        try:
            return PlanarStill(decode_image(data))
        except ValueError as exc:
            raise MissingMediaError(f"shot {item.number}: its hero frame {path} cannot be read as an image ({exc})") from None

    def _burnt(self, picture: Picture, frame: int, item: TimelineShot) -> Picture:
        overlays = []
        if self.options.burn_captions:
            at = bisect.bisect_right(self._cue_starts, frame) - 1
            if at >= 0 and frame < self._cues[at].end and self._cues[at].text:
                overlays.append(self._caption(self._cues[at].text))
        if self.options.burn_info:
            image, place = info_overlay(item.number, self.timeline.timecode(frame), self.size)
            overlays.append(_overlay(image, place))
        if not overlays:
            return picture
        planes = [plane.copy() for plane in picture.planes()]  # the source keeps its own
        for overlay in overlays:
            _paint(planes, overlay)
        return Picture(*planes)

    def _caption(self, text: str) -> _Overlay:
        if text in self._captions:
            self._captions.move_to_end(text)
            return self._captions[text]
        image, place = caption_overlay(text, self.size)
        overlay = self._captions[text] = _overlay(image, place)
        while len(self._captions) > KEEP_CAPTIONS:
            self._captions.popitem(last=False)
        return overlay


def _overlay(image: Image.Image, place: tuple[int, int]) -> _Overlay:
    """An RGBA burn-in at `place`, padded out to even edges so its chroma lines up
    with the frame's 2 x 2 chroma blocks."""
    x, y = (int(round(value)) for value in place)
    left, top = x - x % 2, y - y % 2
    width, height = image.size
    right, bottom = x + width, y + height
    right, bottom = right + right % 2, bottom + bottom % 2
    canvas = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    canvas.paste(image.convert("RGBA"), (x - left, y - top))
    alpha = np.asarray(canvas.getchannel("A"))
    chroma = alpha.reshape(alpha.shape[0] // 2, 2, alpha.shape[1] // 2, 2).mean(axis=(1, 3))
    return _Overlay(left, top, Picture.from_rgb(canvas.convert("RGB")), alpha, np.rint(chroma).astype(np.uint8))


def _paint(planes: list[np.ndarray], overlay: _Overlay) -> None:
    """Mix `overlay` into `planes` (y, u, v) in place, clipped to the frame."""
    for plane, pixels, alpha, scale in zip(planes, overlay.picture.planes(), (overlay.alpha, overlay.alpha_chroma, overlay.alpha_chroma), (1, 2, 2)):
        x, y = overlay.x // scale, overlay.y // scale
        rows, cols = pixels.shape
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(plane.shape[1], x + cols), min(plane.shape[0], y + rows)
        if x1 <= x0 or y1 <= y0:
            continue
        ink = pixels[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
        weight = alpha[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
        under = plane[y0:y1, x0:x1].astype(np.uint16)
        plane[y0:y1, x0:x1] = ((ink * weight + under * (255 - weight) + 127) // 255).astype(np.uint8)
