"""Pictures as the encoder wants them: 8-bit Y'CbCr 4:2:0, BT.709, limited range.

Frames are composed in the encoder's own format so a camera move costs one
resampling of each plane and no colour conversion per frame; a still is converted
once. Sizes are even (4:2:0 halves the chroma planes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

# BT.709 luma weights; limited range puts Y' in 16..235 and Cb, Cr in 16..240.
KR, KB = 0.2126, 0.0722
KG = 1 - KR - KB


@dataclass(frozen=True, eq=False)
class Picture:
    """Three uint8 planes: y (h, w), u and v (h/2, w/2)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.y.shape[1], self.y.shape[0]

    @classmethod
    def black(cls, size: tuple[int, int]) -> Picture:
        width, height = even_size(size)
        return cls(
            np.full((height, width), 16, np.uint8),
            np.full((height // 2, width // 2), 128, np.uint8),
            np.full((height // 2, width // 2), 128, np.uint8),
        )

    @classmethod
    def from_rgb(cls, image: Image.Image) -> Picture:
        """Convert an RGB image (cropped to even size) to BT.709 limited range."""
        image = image.convert("RGB")
        width, height = even_size(image.size, shrink=True)
        rgb = np.asarray(image, dtype=np.float32)[:height, :width] / 255.0
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        luma = KR * r + KG * g + KB * b
        cb = (b - luma) / (2 * (1 - KB))
        cr = (r - luma) / (2 * (1 - KR))
        # Chroma sited between each 2x2 block: average it.
        cb = cb.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        cr = cr.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        return cls(_code(16 + 219 * luma), _code(128 + 224 * cb), _code(128 + 224 * cr))

    def to_rgb(self) -> Image.Image:
        """The picture as an RGB image (chroma upsampled by repetition)."""
        luma = (self.y.astype(np.float32) - 16) / 219
        cb = np.repeat(np.repeat((self.u.astype(np.float32) - 128) / 224, 2, 0), 2, 1)
        cr = np.repeat(np.repeat((self.v.astype(np.float32) - 128) / 224, 2, 0), 2, 1)
        r = luma + 2 * (1 - KR) * cr
        b = luma + 2 * (1 - KB) * cb
        g = (luma - KR * r - KB * b) / KG
        return Image.fromarray(_code(np.stack([r, g, b], axis=-1) * 255), "RGB")

    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.y, self.u, self.v


class ShotFrames(Protocol):
    """The frames of one shot, clean (no transitions, no burn-ins). `index` counts from
    the shot's first frame and may reach into its handles: down to `-head`, up to
    `frames + tail - 1` (see `timeline.TimelineShot`)."""

    def picture(self, index: int) -> Picture: ...


def blend(first: Picture, second: Picture, amount: float) -> Picture:
    """`first` dissolving into `second`; `amount` 0 is all first, 1 all second."""
    amount = min(1.0, max(0.0, float(amount)))
    return Picture(*(_mix(a, b, amount) for a, b in zip(first.planes(), second.planes())))


def faded(picture: Picture, brightness: float) -> Picture:
    """`picture` faded towards black; `brightness` 1 leaves it, 0 is black."""
    return blend(Picture.black(picture.size), picture, brightness)


class PlanarStill:
    """A still kept as planes, ready to be viewed through any box at any size.

    `view` resamples each plane with a fractional source box, so a slow move glides
    by fractions of a pixel instead of stepping whole pixels.
    """

    def __init__(self, image: Image.Image) -> None:
        picture = Picture.from_rgb(image)
        self.size = picture.size
        self._planes = [Image.fromarray(plane, "L") for plane in picture.planes()]

    def view(self, box: tuple[float, float, float, float], size: tuple[int, int]) -> Picture:
        """The part of the still inside `box` (left, top, right, bottom in still
        pixels) scaled to `size` (even)."""
        width, height = even_size(size)
        half = tuple(edge / 2 for edge in box)
        return Picture(
            np.asarray(self._planes[0].resize((width, height), Image.BILINEAR, box=box)),
            np.asarray(self._planes[1].resize((width // 2, height // 2), Image.BILINEAR, box=half)),
            np.asarray(self._planes[2].resize((width // 2, height // 2), Image.BILINEAR, box=half)),
        )


def even_size(size: tuple[int, int], shrink: bool = False) -> tuple[int, int]:
    """`size` rounded to even numbers (down with `shrink`, else to the nearest).
    Raises ValueError for an empty size."""
    width, height = (int(side) for side in size)
    if shrink:
        width, height = width - width % 2, height - height % 2
    else:
        width, height = 2 * round(width / 2), 2 * round(height / 2)
    if width < 2 or height < 2:
        raise ValueError(f"a picture needs at least 2 x 2 pixels, not {size[0]} x {size[1]}")
    return width, height


def _code(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _mix(a: np.ndarray, b: np.ndarray, amount: float) -> np.ndarray:
    if amount <= 0:
        return a
    if amount >= 1:
        return b
    weight = round(amount * 256)
    mixed = (a.astype(np.uint16) * (256 - weight) + b.astype(np.uint16) * weight + 128) >> 8
    return mixed.astype(np.uint8)
