"""A quick look at a plate before it is exported: the source reprojected onto a
reduced copy of the wall's canvas, with the tiles it will be cut into.

The preview samples the canvas on a coarse grid of rays (one per preview pixel)
instead of building the full canvas and shrinking it, and the source is filtered
once for the preview's density, so a 4K panorama previews in a fraction of a
second whatever the wall's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain.wall import WallProfile, wall_canvas
from .plate_colour import to_uint8
from .plate_projection import prepare_source, resolution_warning, sample_canvas
from .plate_tiles import Tile, plan_tiles

BOUNDS_COLOUR = (255, 200, 0)  # amber: stands out on sky, ground and black alike


@dataclass(frozen=True)
class PlatePreview:
    pixels: np.ndarray  # (h, w, 3) uint8 sRGB
    scale: float  # preview pixels per canvas pixel
    tiles: list[Tile]  # in canvas pixels, as export_plate cuts them
    warning: str | None  # the source is below the wall's pixels per degree


def preview_plate(source: np.ndarray, kind: str, wall: WallProfile, max_width: int = 1600,
                  lowpass: float = 0.0) -> PlatePreview:
    """`source` ((H, W, 3) uint8, or float32 0..1 sRGB) reprojected onto `wall`'s canvas
    at most `max_width` pixels wide (never larger than the canvas), with the tiles the
    export makes. Raises ValueError for a bad source, kind, wall or width."""
    if isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 1:
        raise ValueError(f"a preview is at least one pixel wide, not {max_width!r}")
    pixels = np.asarray(source)
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
        raise ValueError(f"a plate source is (height, width, 3) RGB, not shape {pixels.shape}")
    canvas = wall_canvas(wall)
    width = min(max_width, canvas.width_px)
    scale = width / canvas.width_px
    height = max(1, round(canvas.height_px * scale))
    # Preview pixel i covers canvas pixels i/scale .. (i+1)/scale: look through its middle.
    columns = (np.arange(width) + 0.5) / scale - 0.5
    rows = np.minimum((np.arange(height) + 0.5) / scale - 0.5, canvas.height_px - 1)
    prepared = prepare_source(pixels, kind, wall, lowpass, scale=scale)
    sampled = sample_canvas(prepared, kind, wall, rows, columns)
    if sampled.shape[2] == 1:
        sampled = np.repeat(sampled, 3, axis=2)
    return PlatePreview(to_uint8(sampled), scale, plan_tiles(canvas, wall.output_capacity),
                        resolution_warning(pixels.shape, kind, wall))


def draw_tile_bounds(preview: PlatePreview, colour: tuple[int, int, int] = BOUNDS_COLOUR) -> np.ndarray:
    """A copy of `preview.pixels` with each tile's outline drawn one pixel wide in
    `colour` (lines only, no numbers): a tile's edges fall on the preview pixels its
    first and last canvas rows and columns land in."""
    out = preview.pixels.copy()
    height, width = out.shape[:2]
    for tile in preview.tiles:
        left, top = _at(tile.x, preview.scale, width), _at(tile.y, preview.scale, height)
        right = _at(tile.x + tile.width - 1, preview.scale, width)
        bottom = _at(tile.y + tile.height - 1, preview.scale, height)
        out[top:bottom + 1, [left, right]] = colour
        out[[top, bottom], left:right + 1] = colour
    return out


def _at(canvas_px: int, scale: float, size: int) -> int:
    """The preview pixel canvas pixel `canvas_px` falls in."""
    return min(size - 1, int((canvas_px + 0.5) * scale))
