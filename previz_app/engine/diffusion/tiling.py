"""Overlapping windows over a picture or its latent, blended with smooth weights.

panorama.py works on pictures wider than a model was trained on window by window:
each denoising step predicts the noise of every window and blends the predictions,
and the VAE encodes and decodes tile by tile. For a 360° picture the columns wrap
round (a window may run past the right edge and go on at column 0), so the left and
right edges are always worked on together and meet without a seam.

A wall-sized picture (18,832 x 2,112 px, or a 25,000 px ring) is 0.5 to 0.8 GB as one
float32 RGB canvas, so the pixels are never held whole in float: the blend keeps only
the strip of rows the windows still add to and hands finished rows on (into a uint8
picture band by band), and windows are cut from a uint8 picture as they are needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

MIN_WEIGHT = 1e-3  # a window's edge still counts a little where no other window reaches


def starts(length: int, window: int, overlap: float, wrap: bool) -> tuple[int, ...]:
    """Where windows `window` long begin so that they cover `length` cells, each
    overlapping its neighbour by about `overlap` of a window (more where the cells
    do not divide evenly: the windows are spread out evenly).

    With `wrap` the last window runs past the end round to the start; there are at
    least two windows then, so the joint between the last and the first cell always
    lies inside one of them.
    """
    stride = max(1, round(window * (1 - overlap)))
    if wrap:
        count = max(2, math.ceil(length / stride))
        return tuple(round(i * length / count) for i in range(count))
    if window >= length:
        return (0,)
    count = math.ceil((length - window) / stride) + 1
    return tuple(round(i * (length - window) / (count - 1)) for i in range(count))


def ramp(size: int, fade: int) -> torch.Tensor:
    """A window's blend weight along one side: rising as a raised cosine over `fade`
    cells from each edge, 1 in the middle, never 0 (float32, `size` long).

    Smooth weights hide the windows' edges, where a model sees least context; a
    flat average would leave a visible step where a window ends.
    """
    distance = torch.minimum(torch.arange(size) + 0.5, size - 0.5 - torch.arange(size))
    rise = (distance / max(1, fade)).clamp(max=1.0)
    return torch.sin(rise * (math.pi / 2)).square().clamp(min=MIN_WEIGHT)


@dataclass(frozen=True)
class Grid:
    """Windows `rows` x `cols` over a `height` x `width` area, at `tops` x `lefts`."""

    height: int
    width: int
    rows: int
    cols: int
    tops: tuple[int, ...]
    lefts: tuple[int, ...]
    fade: tuple[int, int]
    wrap: bool

    @classmethod
    def cover(cls, height: int, width: int, window: int, overlap: float, wrap: bool) -> Grid:
        """Square windows of `window` cells (fewer where the area is smaller) covering
        the area; with `wrap` the columns go round, the rows never do."""
        rows, cols = min(window, height), min(window, width)
        fade = (max(1, round(rows * overlap)), max(1, round(cols * overlap)))
        return cls(height, width, rows, cols, starts(height, rows, overlap, False),
                   starts(width, cols, overlap, wrap), fade, wrap)

    def scaled(self, factor: int) -> Grid:
        """The same windows on a picture `factor` times larger (latent -> pixels)."""
        return Grid(self.height * factor, self.width * factor, self.rows * factor, self.cols * factor,
                    tuple(t * factor for t in self.tops), tuple(x * factor for x in self.lefts),
                    (self.fade[0] * factor, self.fade[1] * factor), self.wrap)

    @property
    def places(self) -> list[tuple[int, int]]:
        """Every window's (top, left), row by row."""
        return [(top, left) for top in self.tops for left in self.lefts]

    def segments(self, left: int) -> list[tuple[int, int, int]]:
        """(column in the window, column in the area, count): one run, or two when the
        window wraps past the right edge."""
        first = min(self.cols, self.width - left)
        return [(0, left, first)] + ([(first, 0, self.cols - first)] if first < self.cols else [])

    def gather(self, area: torch.Tensor | Image.Image, places: list[tuple[int, int]]) -> torch.Tensor:
        """The windows at `places` cut from `area`: a tensor (1, C, height, width) gives
        (n, C, rows, cols) of its dtype; a picture gives (n, 3, rows, cols) uint8 RGB, cut
        window by window so the whole picture is never converted (see `signed`)."""
        windows = []
        for top, left in places:
            parts = [_cut(area, top, self.rows, start, count) for _, start, count in self.segments(left)]
            windows.append(torch.cat(parts, -1))
        return torch.cat(windows)

    def add(self, area: torch.Tensor, window: torch.Tensor, place: tuple[int, int]) -> None:
        """Add `window` (C, rows, cols) into `area` (C, height, width) at `place`."""
        top, left = place
        for inner, start, count in self.segments(left):
            area[:, top:top + self.rows, start:start + count] += window[:, :, inner:inner + count]

    def weights(self) -> torch.Tensor:
        """Each window's blend weights (1, rows, cols), float32 on the CPU."""
        return (ramp(self.rows, self.fade[0])[:, None] * ramp(self.cols, self.fade[1])[None, :])[None]


class _Strip:
    """The output rows that windows still add to, from row `base`: the weighted sum of
    what the windows returned (channels, rows, width) and the sum of their weights
    (1, rows, width), one window's height of rows of `grid`.

    Windows come row by row (Grid.places), so once a window starts lower down, the rows
    above it are finished: they are divided out and the strip moves down. Each cell gets
    the same additions in the same order as in a whole-height sum, so the result is the
    same to the bit.
    """

    def __init__(self, grid: Grid, channels: int, device: torch.device | str) -> None:
        self.grid, self.base = grid, 0
        self.total = torch.zeros(channels, grid.rows, grid.width, device=device)
        self.weight_sum = torch.zeros(1, grid.rows, grid.width, device=device)

    def add(self, result: torch.Tensor, weight: torch.Tensor, left: int) -> None:
        """Add one window (channels, rows, cols) that starts at row `base`, column `left`."""
        self.grid.add(self.total, result * weight, (0, left))
        self.grid.add(self.weight_sum, weight, (0, left))

    def advance(self, top: int) -> torch.Tensor:
        """The finished rows from `base` to `top` (no more than the strip holds), blended;
        the strip then starts at `top`."""
        count = top - self.base
        band = self.total[:, :count] / self.weight_sum[:, :count]
        keep = self.grid.rows - count
        for buffer in (self.total, self.weight_sum):
            for row in range(0, keep, count):  # up in chunks that do not overlap their source
                size = min(count, keep - row)
                buffer[:, row:row + size] = buffer[:, row + count:row + count + size]
            buffer[:, keep:] = 0
        self.base = top
        return band


def blend_rows(
    source: torch.Tensor | Image.Image,
    inner: Grid,
    outer: Grid,
    work: Callable[[torch.Tensor], torch.Tensor],
    *,
    channels: int,
    batch: int,
    device: torch.device | str,
    check: Callable[[], None] = lambda: None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """Run `work` on the windows of `source` that `inner` lays out (see Grid.gather),
    `batch` windows a call, and blend what it returns, laid out by `outer` (the same
    windows at the scale of the output), into float32 rows on `device`: yields
    (first row, (channels, n, outer.width)) top to bottom as rows are finished, so no
    more than one window's height of the output is ever held. `check` runs before each
    call (to cancel).
    """
    strip = _Strip(outer, channels, device)
    weight = outer.weights().to(device)
    places, targets = inner.places, outer.places
    for first in range(0, len(places), batch):
        check()
        results = work(inner.gather(source, places[first:first + batch])).to(device=device, dtype=torch.float32)
        for result, (top, left) in zip(results, targets[first:first + batch]):
            if top > strip.base:
                base = strip.base
                yield base, strip.advance(top)
            strip.add(result, weight, left)
    base = strip.base
    yield base, strip.advance(outer.height)


def blend(
    source: torch.Tensor | Image.Image,
    inner: Grid,
    outer: Grid,
    work: Callable[[torch.Tensor], torch.Tensor],
    *,
    channels: int,
    batch: int,
    device: torch.device | str,
    check: Callable[[], None] = lambda: None,
) -> torch.Tensor:
    """blend_rows' rows as one (1, `channels`, H', W') float32 tensor on `device` (for
    latents, which are small)."""
    blended = torch.empty(1, channels, outer.height, outer.width, device=device)
    for top, band in blend_rows(source, inner, outer, work, channels=channels, batch=batch, device=device,
                                check=check):
        blended[0, :, top:top + band.shape[1]] = band
    return blended


def blend_image(
    source: torch.Tensor | Image.Image,
    inner: Grid,
    outer: Grid,
    work: Callable[[torch.Tensor], torch.Tensor],
    *,
    batch: int,
    device: torch.device | str,
    check: Callable[[], None] = lambda: None,
) -> Image.Image:
    """blend_rows for a `work` that returns pictures as a VAE does ((n, 3, rows, cols)
    in [-1, 1]): the RGB picture, filled band by band as rows are finished, so the
    pixels are never held whole in float."""
    picture = Image.new("RGB", (outer.width, outer.height))
    for top, band in blend_rows(source, inner, outer, work, channels=3, batch=batch, device=device, check=check):
        picture.paste(_to_rgb(band), (0, top))
    return picture


def resample(image: Image.Image, size: tuple[int, int], wrap: bool) -> Image.Image:
    """`image` Lanczos-resized to `size`; with `wrap` its columns are filtered as a
    loop (the right edge's neighbours are the left edge's pixels) so the seam stays
    continuous."""
    if image.size == size:
        return image
    if not wrap:
        return image.resize(size, Image.Resampling.LANCZOS)
    pad = min(image.width, 3 * math.ceil(image.width / size[0]) + 2)  # the filter's reach
    looped = Image.new(image.mode, (image.width + 2 * pad, image.height))  # pasted: no array copies
    looped.paste(image.crop((image.width - pad, 0, image.width, image.height)), (0, 0))
    looped.paste(image, (pad, 0))
    looped.paste(image.crop((0, 0, pad, image.height)), (pad + image.width, 0))
    return looped.resize(size, Image.Resampling.LANCZOS, box=(pad, 0, pad + image.width, image.height))


def signed(tiles: torch.Tensor) -> torch.Tensor:
    """uint8 RGB windows (n, 3, rows, cols) as a VAE takes them: float32 in [-1, 1]."""
    return tiles.float() / 127.5 - 1


def _cut(area: torch.Tensor | Image.Image, top: int, rows: int, left: int, cols: int) -> torch.Tensor:
    """One rectangle of `area` as (1, C, rows, cols); of a picture, as uint8 RGB."""
    if isinstance(area, Image.Image):
        pixels = np.array(area.crop((left, top, left + cols, top + rows)).convert("RGB"))
        return torch.from_numpy(pixels).permute(2, 0, 1)[None]
    return area[:, :, top:top + rows, left:left + cols]


def _to_rgb(band: torch.Tensor) -> Image.Image:
    """(3, n, W) in [-1, 1], as a VAE returns it, to an RGB picture n rows tall (the
    band is a fresh tensor of blend_rows', so it is worked on in place)."""
    levels = band.cpu().div_(2).add_(0.5).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
    return Image.fromarray(levels.permute(1, 2, 0).contiguous().numpy())


__all__ = ["Grid", "blend", "blend_image", "blend_rows", "ramp", "resample", "signed", "starts"]
