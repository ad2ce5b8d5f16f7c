"""Overlapping windows over a picture or its latent, blended with smooth weights.

panorama.py works on pictures wider than a model was trained on window by window:
each denoising step predicts the noise of every window and blends the predictions,
and the VAE encodes and decodes tile by tile. For a 360° picture the columns wrap
round (a window may run past the right edge and go on at column 0), so the left and
right edges are always worked on together and meet without a seam.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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

    def gather(self, area: torch.Tensor, places: list[tuple[int, int]]) -> torch.Tensor:
        """The windows at `places` cut from `area` (1, C, height, width): (n, C, rows, cols)."""
        windows = []
        for top, left in places:
            band = area[:, :, top:top + self.rows]
            windows.append(torch.cat([band[..., start:start + count] for _, start, count in self.segments(left)], -1))
        return torch.cat(windows)

    def add(self, area: torch.Tensor, window: torch.Tensor, place: tuple[int, int]) -> None:
        """Add `window` (C, rows, cols) into `area` (C, height, width) at `place`."""
        top, left = place
        for inner, start, count in self.segments(left):
            area[:, top:top + self.rows, start:start + count] += window[:, :, inner:inner + count]

    def weights(self) -> torch.Tensor:
        """Each window's blend weights (1, rows, cols), float32 on the CPU."""
        return (ramp(self.rows, self.fade[0])[:, None] * ramp(self.cols, self.fade[1])[None, :])[None]


def blend(
    source: torch.Tensor,
    inner: Grid,
    outer: Grid,
    work: Callable[[torch.Tensor], torch.Tensor],
    *,
    channels: int,
    batch: int,
    device: torch.device | str,
    check: Callable[[], None] = lambda: None,
) -> torch.Tensor:
    """Run `work` on the windows of `source` (1, C, H, W) that `inner` lays out,
    `batch` windows a call, and blend what it returns into one (1, `channels`, H', W')
    float32 tensor on `device`, laid out by `outer` (the same windows at the scale of
    the output). `check` runs between calls (to cancel).
    """
    total = torch.zeros(channels, outer.height, outer.width, device=device)
    weight_sum = torch.zeros(1, outer.height, outer.width, device=device)
    weight = outer.weights().to(device)
    places, targets = inner.places, outer.places
    for first in range(0, len(places), batch):
        check()
        results = work(inner.gather(source, places[first:first + batch])).to(device=device, dtype=torch.float32)
        for result, place in zip(results, targets[first:first + batch]):
            outer.add(total, result * weight, place)
            outer.add(weight_sum, weight, place)
    return (total / weight_sum)[None]


def resample(image: Image.Image, size: tuple[int, int], wrap: bool) -> Image.Image:
    """`image` Lanczos-resized to `size`; with `wrap` its columns are filtered as a
    loop (the right edge's neighbours are the left edge's pixels) so the seam stays
    continuous."""
    if image.size == size:
        return image
    if not wrap:
        return image.resize(size, Image.Resampling.LANCZOS)
    pad = min(image.width, 3 * math.ceil(image.width / size[0]) + 2)  # the filter's reach
    pixels = np.asarray(image)
    looped = Image.fromarray(np.concatenate([pixels[:, -pad:], pixels, pixels[:, :pad]], axis=1))
    return looped.resize(size, Image.Resampling.LANCZOS, box=(pad, 0, pad + image.width, image.height))


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An RGB picture as (1, 3, H, W) float32 in [-1, 1], as a VAE takes it."""
    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 127.5 - 1)
    return pixels.permute(2, 0, 1)[None]


def to_image(pixels: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) in [-1, 1], as a VAE returns it, to an RGB picture."""
    array = ((pixels[0].float().cpu() / 2 + 0.5).clamp(0, 1).permute(1, 2, 0).numpy() * 255).round()
    return Image.fromarray(array.astype(np.uint8))


__all__ = ["Grid", "blend", "ramp", "resample", "starts", "to_image", "to_tensor"]
