"""The plate preview: a reduced reprojection that matches the full plate shrunk, with
the export's tiles drawn where they fall."""

from __future__ import annotations

import numpy as np
import pytest

from previz_app.domain.wall import Cabinet, WallProfile, WallSection, wall_canvas
from previz_app.export.plate_preview import BOUNDS_COLOUR, PlatePreview, draw_tile_bounds, preview_plate
from previz_app.export.plate_projection import reproject_rows, resolution_warning
from previz_app.export.plate_tiles import plan_tiles

CABINET = Cabinet(500, 500, 25)  # 20 × 20 px
RING = WallProfile("ring", (WallSection("curved", CABINET, 1.5, radius_m=3.0, arc_deg=360),), 2_400)  # 760 × 60
STEPS = WallProfile("steps", (WallSection("curved", CABINET, 2.0, radius_m=3.0, arc_deg=120),
                              WallSection("flat", CABINET, 1.0, width_m=3.0, viewer_distance_m=3.0)), 1_600)


def smooth(width=1024):
    """An equirect whose colour follows longitude and latitude slowly, uint8."""
    height = width // 2
    lon = np.radians((np.arange(width) + 0.5) / width * 360 - 180)[None, :]
    lat = np.radians(90 - (np.arange(height) + 0.5) / height * 180)[:, None]
    rgb = np.dstack([0.5 + 0.35 * np.sin(lon) * np.cos(lat), 0.5 + 0.3 * np.sin(lat) * np.ones_like(lon),
                     0.5 + 0.2 * np.cos(2 * lon) * np.ones_like(lat)])
    return (rgb * 255).round().astype(np.uint8)


def shrink(plate, factor):
    rows, cols = plate.shape[0] // factor, plate.shape[1] // factor
    return plate[:rows * factor, :cols * factor].reshape(rows, factor, cols, factor, -1).mean(axis=(1, 3))


@pytest.mark.parametrize("kind", ["equirect", "wide"])
def test_the_preview_is_the_full_plate_shrunk(kind):
    source = smooth()
    preview = preview_plate(source, kind, RING, max_width=190)
    assert isinstance(preview, PlatePreview) and preview.scale == pytest.approx(0.25)
    assert preview.pixels.dtype == np.uint8 and preview.pixels.shape == (15, 190, 3)
    full = reproject_rows(source, kind, RING, slice(None))  # 760 × 60, float 0..1
    difference = np.abs(preview.pixels / 255 - shrink(full, 4))
    assert difference.max() < 0.01 and difference.mean() < 0.003


def test_fine_detail_averages_out_in_the_preview_instead_of_aliasing():
    y, x = np.mgrid[0:1024, 0:2048]
    checkers = (((x + y) % 2) * 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    pixels = preview_plate(checkers, "equirect", RING, max_width=190).pixels
    assert abs(pixels.mean() - 127.5) < 3 and pixels.std() < 3


def test_the_preview_is_never_larger_than_the_canvas_and_carries_the_warning():
    small = smooth(256)
    preview = preview_plate(small, "equirect", RING)
    assert preview.scale == 1.0 and preview.pixels.shape == (60, 760, 3)
    assert preview.warning == resolution_warning(small.shape, "equirect", RING) and preview.warning
    assert preview_plate(smooth(1024), "equirect", RING, max_width=380).warning is None  # 2.8 px/° for 2.1
    np.testing.assert_allclose(preview.pixels / 255, reproject_rows(small, "equirect", RING, slice(None)), atol=0.5 / 255)
    with pytest.raises(ValueError, match="at least one pixel wide"):
        preview_plate(small, "equirect", RING, max_width=0)
    with pytest.raises(ValueError, match="equirect or wide"):
        preview_plate(small, "cubemap", RING)


def test_tiles_are_outlined_where_they_fall():
    grey = np.full((512, 1024, 3), 128, np.uint8)
    preview = preview_plate(grey, "equirect", STEPS, max_width=150)
    canvas = wall_canvas(STEPS)
    assert preview.tiles == plan_tiles(canvas, STEPS.output_capacity) and len(preview.tiles) > 3
    drawn = draw_tile_bounds(preview)
    assert drawn.shape == preview.pixels.shape and not np.shares_memory(drawn, preview.pixels)
    line = np.all(drawn == BOUNDS_COLOUR, axis=2)
    scale = preview.scale
    for tile in preview.tiles:
        left, right = int((tile.x + 0.5) * scale), int((tile.x + tile.width - 0.5) * scale)
        top, bottom = int((tile.y + 0.5) * scale), min(drawn.shape[0] - 1, int((tile.y + tile.height - 0.5) * scale))
        assert line[top:bottom + 1, left].all() and line[top:bottom + 1, right].all()
        assert line[top, left:right + 1].all() and line[bottom, left:right + 1].all()
        inside = line[top + 1:bottom, left + 1:right]
        assert not inside.any()  # lines only: the tile itself is not painted over
    # Below the shorter flat section there are no tiles, and nothing is drawn there.
    flat_x = int((canvas.sections[0].width_px + 0.5) * scale) + 1
    below = int(canvas.sections[1].height_px * scale) + 1
    assert not line[below:, flat_x:-1].any() and np.all(drawn[below:, flat_x:-1] == 0)
    assert np.all(preview.pixels[~line] == drawn[~line])


def test_the_lowpass_is_in_wall_pixels_in_the_preview_too():
    edge = np.zeros((512, 1024, 3), np.uint8)
    edge[:, 512:] = 255  # black and white halves, meeting at longitude 0
    sharp = preview_plate(edge, "equirect", RING, max_width=190).pixels[7, :, 0]
    soft = preview_plate(edge, "equirect", RING, max_width=190, lowpass=8.0)  # 2 preview pixels
    full = shrink(reproject_rows(edge, "equirect", RING, slice(None), lowpass=8.0), 4)
    assert np.abs(soft.pixels / 255 - full).max() < 0.01
    def in_between(row):
        return int(((row > 10) & (row < 245)).sum())

    assert in_between(sharp) <= 4 and in_between(soft.pixels[7, :, 0]) >= 8
