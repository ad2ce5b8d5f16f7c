"""Frames between AI motion keys.

Every key is a view of the same still, so a frame between two keys is each key seen
through the camera's change since (or until) its own moment, cross-faded by the
position between them. Where the camera has moved past a key's edge, the other key
fills in, feathered so no seam shows.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np
from PIL import Image

from .motion import View, source_box, view_at
from .picture import Picture, PlanarStill, blend, even_size

Box = tuple[float, float, float, float]  # left, top, right, bottom in a picture's pixels
Rect = tuple[int, int, int, int]  # the same in whole frame pixels

EDGE_SLACK = 0.5  # key pixels a view may overshoot a key's edge and still be drawn from it alone
FEATHER = 0.04  # of the frame's width: how softly a key hands over at its edge


class KeyframeMotion:
    """The frames of a shot drawn from diffusion keys (a ShotFrames).

    `keyframes` are (time 0..1, image): each image shows the still as the camera saw
    it at that time through `movement`, `direction` and `seed` (see motion.view_at).
    `still_size` is the still's size (only its shape matters; by default the first
    key's). Frame `index` is at time index / (frames - 1); indices outside the shot
    hold its first or last frame. Raises ValueError for fewer than two keys or two
    keys at one time.
    """

    def __init__(
        self,
        keyframes: Sequence[tuple[float, Image.Image]],
        movement: str,
        direction: str,
        seed: int,
        frames: int,
        size: tuple[int, int],
        still_size: tuple[int, int] | None = None,
    ) -> None:
        keys = sorted(((float(time), image) for time, image in keyframes), key=lambda key: key[0])
        times = [time for time, _image in keys]
        if len(keys) < 2 or any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError(f"AI motion needs at least two keys at different times, got times {times}")
        self._times = times
        self._images: list[Image.Image | None] = [image for _time, image in keys]
        self._sizes = [image.size for _time, image in keys]
        self._movement, self._direction, self._seed = str(movement), str(direction), int(seed)
        self._frames = max(1, int(frames))
        self.size = even_size(size)
        self._still_size = tuple(still_size or self._sizes[0])
        self._boxes = [
            source_box(view_at(self._movement, self._direction, time, self._seed), self._still_size, key_size)
            for time, key_size in zip(times, self._sizes)
        ]
        self._planes: dict[int, PlanarStill] = {}
        self._last: tuple[float, Picture] | None = None

    def time(self, index: int) -> float:
        """Where frame `index` lies along the move, 0..1."""
        return min(1.0, max(0.0, index / (self._frames - 1))) if self._frames > 1 else 0.0

    def picture(self, index: int) -> Picture:
        time = self.time(index)
        if self._last is not None and self._last[0] == time:
            return self._last[1]  # held handles and repeated frames cost nothing
        k = min(max(bisect.bisect_right(self._times, time) - 1, 0), len(self._times) - 2)
        amount = min(1.0, max(0.0, (time - self._times[k]) / (self._times[k + 1] - self._times[k])))
        view = view_at(self._movement, self._direction, time, self._seed)
        first = self._reach(k, view)
        if amount <= 0 and first[1] is None:
            picture = self._draw(k, first, stand_in=False)
        else:
            second = self._reach(k + 1, view)
            if first[1] is None and second[1] is None:
                picture = blend(self._draw(k, first, False), self._draw(k + 1, second, False), amount)
            else:
                # Stand-ins are drawn only when some pixel is held by neither key.
                gaps = not _covered(first[1], second[1], self.size)
                picture = _mix(
                    self._draw(k, first, gaps), self._weights(first[1]),
                    self._draw(k + 1, second, gaps), self._weights(second[1]), amount,
                )
        self._last = (time, picture)
        return picture

    def _reach(self, key: int, view: View) -> tuple[Box, Rect | None]:
        """Where the camera's `view` of the still lies in key `key` (a box in the key's
        pixels), and which part of the frame the key holds: None for all of it, else
        a rectangle of frame pixels (even edges, maybe empty)."""
        key_w, key_h = self._sizes[key]
        frame = source_box(view, self._still_size, (key_w, key_h))
        own = self._boxes[key]
        sx, sy = key_w / (own[2] - own[0]), key_h / (own[3] - own[1])
        box = ((frame[0] - own[0]) * sx, (frame[1] - own[1]) * sy, (frame[2] - own[0]) * sx, (frame[3] - own[1]) * sy)
        if box[0] >= -EDGE_SLACK and box[1] >= -EDGE_SLACK and box[2] <= key_w + EDGE_SLACK and box[3] <= key_h + EDGE_SLACK:
            return box, None
        width, height = self.size
        px, py = (box[2] - box[0]) / width, (box[3] - box[1]) / height
        x0, x1 = _even_up(-box[0] / px, width), _even_down((key_w - box[0]) / px, width)
        y0, y1 = _even_up(-box[1] / py, height), _even_down((key_h - box[1]) / py, height)
        return box, ((x0, y0, x1, y1) if x1 > x0 and y1 > y0 else (0, 0, 0, 0))

    def _draw(self, key: int, reach: tuple[Box, Rect | None], stand_in: bool) -> Picture:
        """Key `key` as the camera sees it: exactly where it holds the view; elsewhere
        the key fitted to the frame (`stand_in`) or black, for pixels of weight 0."""
        box, rect = reach
        still, key_size = self._planar(key), self._sizes[key]
        if rect is None:
            return still.view(_fitted(box, key_size), self.size)
        if stand_in:
            planes = [plane.copy() for plane in still.view(_fitted(box, key_size), self.size).planes()]
        else:
            planes = [np.zeros_like(plane) for plane in Picture.black(self.size).planes()]
        x0, y0, x1, y1 = rect
        if x1 > x0:
            width, height = self.size
            px, py = (box[2] - box[0]) / width, (box[3] - box[1]) / height
            held = (max(0.0, box[0] + x0 * px), max(0.0, box[1] + y0 * py),
                    min(key_size[0], box[0] + x1 * px), min(key_size[1], box[1] + y1 * py))
            part = still.view(held, (x1 - x0, y1 - y0))
            planes[0][y0:y1, x0:x1] = part.y
            for plane, patch in zip(planes[1:], (part.u, part.v)):
                plane[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = patch
        return Picture(*planes)

    def _weights(self, rect: Rect | None) -> np.ndarray | None:
        """How much a key counts at each 2 x 2 block of the frame (the chroma grid: a
        feathered weight needs no finer one): None for everywhere fully, else 0 outside
        `rect`, rising to 1 inside where its edge lies inside the frame."""
        if rect is None:
            return None
        width, height = self.size[0] // 2, self.size[1] // 2
        weight = np.zeros((height, width), np.float32)
        x0, y0, x1, y1 = (edge // 2 for edge in rect)
        feather = max(1.0, FEATHER * width)
        weight[y0:y1, x0:x1] = np.minimum.outer(_ramp(y0, y1, height, feather), _ramp(x0, x1, width, feather))
        return weight

    def _planar(self, key: int) -> PlanarStill:
        if key not in self._planes:
            self._planes[key] = PlanarStill(self._images[key])
            self._images[key] = None  # the planes hold it now
        return self._planes[key]


def _fitted(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, float, float, float]:
    """`box` moved (and, if larger, shrunk about its centre) to lie inside `size`."""
    width, height = size
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    scale = min(1.0, width / box_w, height / box_h)
    box_w, box_h = box_w * scale, box_h * scale
    left = min(max((box[0] + box[2] - box_w) / 2, 0.0), width - box_w)
    top = min(max((box[1] + box[3] - box_h) / 2, 0.0), height - box_h)
    return (left, top, left + box_w, top + box_h)


def _even_up(value: float, limit: int) -> int:
    value = min(max(value, 0.0), limit)
    return min(limit, int(np.ceil(value / 2 - 1e-6)) * 2)


def _even_down(value: float, limit: int) -> int:
    value = min(max(value, 0.0), limit)
    return max(0, int(np.floor(value / 2 + 1e-6)) * 2)


def _ramp(start: int, end: int, length: int, feather: float) -> np.ndarray:
    """Weights for pixels start..end-1 of a line of `length`: 1 inside, falling to 0
    towards an end that lies inside the frame (an end at the frame's edge stays 1)."""
    centres = np.arange(start, end, dtype=np.float32) + 0.5
    weight = np.ones(end - start, np.float32)
    if start > 0:
        weight = np.minimum(weight, np.clip((centres - start) / feather, 0.0, 1.0))
    if end < length:
        weight = np.minimum(weight, np.clip((end - centres) / feather, 0.0, 1.0))
    return weight


def _covered(first: Rect | None, second: Rect | None, size: tuple[int, int]) -> bool:
    """Whether the two keys together hold every pixel of the frame."""
    if first is None or second is None:
        return True
    held = np.zeros((size[1], size[0]), bool)
    for x0, y0, x1, y1 in (first, second):
        held[y0:y1, x0:x1] = True
    return bool(held.all())


def _mix(first: Picture, first_weight: np.ndarray | None, second: Picture, second_weight: np.ndarray | None, amount: float) -> Picture:
    """Cross-fade two keys by `amount`, each only where it holds the view (its
    weight, on the chroma grid); where neither does, their stand-ins are cross-faded."""
    width, height = first.size[0] // 2, first.size[1] // 2
    ones = np.ones((height, width), np.float32)
    held_a = ones if first_weight is None else first_weight
    held_b = ones if second_weight is None else second_weight
    # A key at its own moment (amount 0 or 1) still fills what only it holds.
    weight_a = held_a * np.float32(max(1.0 - amount, 1e-3))
    weight_b = held_b * np.float32(max(amount, 1e-3))
    total = weight_a + weight_b
    alpha = np.where(total > 0, weight_b / np.maximum(total, np.float32(1e-12)), np.float32(amount))
    chroma = np.rint(alpha * 256).astype(np.uint16)
    luma = np.repeat(np.repeat(chroma, 2, axis=0), 2, axis=1)
    planes = []
    for a, b, weight in zip(first.planes(), second.planes(), (luma, chroma, chroma)):
        # picture.blend's integer blend, with a weight per pixel; the sum stays below 2**16.
        mixed = a.astype(np.uint16) * (256 - weight)
        mixed += b.astype(np.uint16) * weight
        mixed += 128
        planes.append((mixed >> 8).astype(np.uint8))
    return Picture(*planes)
