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
# RGB 0..255 to Y'CbCr: Y' = 16 + 219 Y, Cb = 128 + 224 (B' - Y') / (2 (1 - KB)), and Cr alike.
_YCBCR_709 = tuple(
    coefficient / 255 if column < 3 else coefficient
    for row in (
        (219 * KR, 219 * KG, 219 * KB, 16.0),
        (-112 * KR / (1 - KB), -112 * KG / (1 - KB), 112.0, 128.0),
        (112.0, -112 * KG / (1 - KR), -112 * KB / (1 - KR), 128.0),
    )
    for column, coefficient in enumerate(row)
)
# And back: R' = Y + 2 (1 - KR) Cr, B' = Y + 2 (1 - KB) Cb, G' from Y's definition,
# with Y = (Y' - 16) / 219 and Cb, Cr = (code - 128) / 224, scaled to 0..255.
_RGB_709 = tuple(
    value
    for luma, blue, red in ((1.0, 0.0, 2 * (1 - KR)), (1.0, -2 * (1 - KB) * KB / KG, -2 * (1 - KR) * KR / KG), (1.0, 2 * (1 - KB), 0.0))
    for value in (
        255 * luma / 219,
        255 * blue / 224,
        255 * red / 224,
        -255 * (16 * luma / 219 + 128 * blue / 224 + 128 * red / 224),
    )
)


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
        if image.size != (width, height):
            image = image.crop((0, 0, width, height))
        # PIL applies the matrix in C (rounding and clipping each value), five times
        # faster than float arrays; chroma sited between each 2x2 block is their mean.
        luma, cb, cr = image.convert("RGB", _YCBCR_709).split()
        return cls(np.asarray(luma), np.asarray(cb.reduce(2)), np.asarray(cr.reduce(2)))

    def to_rgb(self) -> Image.Image:
        """The picture as an RGB image (chroma upsampled by repetition)."""
        size = self.size
        cb, cr = (Image.fromarray(plane, "L").resize(size, Image.NEAREST) for plane in (self.u, self.v))
        return Image.merge("RGB", (Image.fromarray(self.y, "L"), cb, cr)).convert("RGB", _RGB_709)

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

    def view(self, box: tuple[float, float, float, float], size: tuple[int, int], draft_chroma: bool = False) -> Picture:
        """The part of the still inside `box` (left, top, right, bottom in still
        pixels) scaled to `size` (even).

        `draft_chroma` resamples the colour planes at half their resolution and
        doubles them: it halves colour detail (luma keeps all of it) and saves a
        quarter of the work, for big frames that must be drawn fast.
        """
        width, height = even_size(size)
        chroma = (width // 2, height // 2)
        half = tuple(edge / 2 for edge in box)  # the box on the half-size colour planes
        luma = np.asarray(self._planes[0].resize((width, height), Image.BILINEAR, box=box))
        if draft_chroma:
            small = (-(-chroma[0] // 2), -(-chroma[1] // 2))
            u, v = (np.asarray(plane.resize(small, Image.BILINEAR, box=half).resize(chroma, Image.NEAREST)) for plane in self._planes[1:])
        else:
            u, v = (np.asarray(plane.resize(chroma, Image.BILINEAR, box=half)) for plane in self._planes[1:])
        return Picture(luma, u, v)


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


def _mix(a: np.ndarray, b: np.ndarray, amount: float) -> np.ndarray:
    if amount <= 0:
        return a
    if amount >= 1:
        return b
    weight = round(amount * 256)
    mixed = (a.astype(np.uint16) * (256 - weight) + b.astype(np.uint16) * weight + 128) >> 8
    return mixed.astype(np.uint8)
