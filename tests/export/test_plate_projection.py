"""Reprojecting a source picture onto an LED wall's canvas: geometry, seams, filtering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from previz_app.domain.wall import Cabinet, WallProfile, WallSection, wall_canvas
from previz_app.export.plate_projection import (
    PlateSource,
    canvas_rays,
    prepare_source,
    reproject_bands,
    reproject_rows,
    resolution_warning,
    sample_canvas,
    source_pixels_per_degree,
    wall_span_deg,
    wide_source_size,
)

CABINET = Cabinet(500, 500, 25)  # 20×20 pixels, 25 mm apart


def curved(arc: float, height: float = 1.5, radius: float = 3.0) -> WallSection:
    return WallSection("curved", CABINET, height, radius_m=radius, arc_deg=arc)


def flat(width: float, distance: float, cabinet: Cabinet = CABINET, height: float = 1.0) -> WallSection:
    return WallSection("flat", cabinet, height, width_m=width, viewer_distance_m=distance)


RING = WallProfile("ring", (curved(360),))  # 38 cabinets: 760×60
ARC = WallProfile("arc", (curved(90),))  # 9 cabinets over 86.04°: 180×60


def equirect(width: int, function) -> np.ndarray:
    """An equirect of `width`×`width/2` whose pixel centres hold function(lon, lat) (degrees)."""
    height = width // 2
    lon = (np.arange(width) + 0.5) / width * 360 - 180
    lat = 90 - (np.arange(height) + 0.5) / height * 180
    return np.asarray(function(lon[None, :], lat[:, None]), dtype=np.float32)[..., None]


def smooth(lon, lat):
    lon, lat = np.radians(lon), np.radians(lat)
    return 0.5 + 0.3 * np.sin(lon) * np.cos(lat) + 0.15 * np.cos(2 * lon) + 0.05 * np.sin(3 * lat)


def test_curved_rays_follow_the_arc_and_the_eye_height():
    canvas = wall_canvas(ARC)
    lon, lat = canvas_rays(ARC, range(canvas.height_px))
    arc = canvas.sections[0].arc_deg
    assert lon.shape == lat.shape == (60, 180) and lon.dtype == np.float32
    expected_lon = -arc / 2 + (np.arange(180) + 0.5) * arc / 180
    np.testing.assert_allclose(lon[7], expected_lon, atol=1e-4)
    heights = 1.5 - (np.arange(60) + 0.5) * 0.025
    np.testing.assert_allclose(lat[:, 3], np.degrees(np.arctan((heights - 0.75) / 3.0)), atol=1e-4)
    _, high = canvas_rays(ARC, slice(10, 12), eye_height_m=1.2)
    np.testing.assert_allclose(high[:, 0], np.degrees(np.arctan((heights[10:12] - 1.2) / 3.0)), atol=1e-4)


@pytest.mark.parametrize("width", [360, 720, 4096])  # upsampled, about the wall's density, area-reduced
def test_a_ring_wall_has_no_seam_where_its_ends_meet(width):
    plate = reproject_rows(equirect(width, smooth), "equirect", RING, slice(None))
    assert plate.shape == (60, 760, 1)
    inside = np.abs(np.diff(plate, axis=1)).max()
    seam = np.abs(plate[:, -1] - plate[:, 0]).max()
    assert inside > 0.003  # the picture does change from column to column
    assert seam <= inside * 1.0001


def periodic_wide(width: int, height: int) -> np.ndarray:
    """A wide source whose columns go all the way round: smooth across, and its last
    column continues into its first."""
    turn = 2 * np.pi * (np.arange(width) + 0.5) / width
    rows = np.linspace(0, 1, height)[:, None]
    picture = 0.5 + 0.3 * np.sin(turn)[None, :] + 0.1 * np.cos(2 * turn)[None, :] * (1 - rows) + 0.05 * rows
    return picture.astype(np.float32)[..., None]


@pytest.mark.parametrize("lowpass", [0.0, 1.5])
@pytest.mark.parametrize("width", [760, 380, 190])  # the ring's canvas width, half and a quarter of it
def test_a_wide_source_wraps_round_a_ring_wall(width, lowpass):
    source = periodic_wide(width, wide_source_size(RING, width)[1])
    plate = reproject_rows(source, "wide", RING, slice(None), lowpass=lowpass)
    assert plate.shape == (60, 760, 1)
    inside = np.abs(np.diff(plate, axis=1)).max()
    seam = np.abs(plate[:, -1] - plate[:, 0]).max()
    assert inside > 0.001 and seam <= inside * 1.0001


def test_a_wide_source_on_a_wall_short_of_a_turn_holds_its_edges():
    ramp = np.linspace(0, 1, 90, dtype=np.float32)[None, :, None] * np.ones((30, 1, 1), np.float32)
    edge = reproject_rows(ramp, "wide", ARC, slice(None))  # 180 columns from 90: the ends fall past the centres
    assert edge[:, 0].max() == 0 and edge[:, -1].min() == 1  # held, not wrapped into the other end


def test_a_16_bit_source_gives_the_plate_its_floats_give():
    deep = (equirect(720, smooth) * 65535).round().astype(np.uint16)
    floats = deep.astype(np.float32) / 65535
    for lowpass in (0.0, 1.0):
        from_deep = reproject_rows(deep, "equirect", ARC, slice(None), lowpass=lowpass)
        np.testing.assert_allclose(from_deep, reproject_rows(floats, "equirect", ARC, slice(None), lowpass=lowpass),
                                   atol=1e-6)
    assert prepare_source(deep, "equirect", RING).pixels.dtype == np.uint16  # not a float copy, when unfiltered


def test_a_vertical_line_lands_where_its_longitude_says():
    def lines(lon, lat):
        return ((np.abs(lon) < 0.5) | (np.abs(lon - 30) < 0.5)) * np.ones_like(lat)

    row = reproject_rows(equirect(720, lines), "equirect", ARC, range(30, 31))[0, :, 0]
    assert row[89] == pytest.approx(row[90], abs=1e-5)  # longitude 0 between the middle two columns
    assert row[89] > 0.5 and row[89] >= row[:120].max() - 1e-6
    arc = wall_canvas(ARC).sections[0].arc_deg
    where = (30 + arc / 2) / arc * 180 - 0.5  # the column longitude 30° falls on
    right = row[120:].astype(np.float64)
    centroid = 120 + (right * np.arange(right.size)).sum() / right.sum()
    assert centroid == pytest.approx(where, abs=0.3)


def test_the_horizon_lands_on_the_eye_height_row():
    def horizon(lon, lat):
        return (np.abs(lat) < 0.5) * np.ones_like(lon)

    source = equirect(720, horizon)
    column = reproject_rows(source, "equirect", ARC, slice(None))[:, 40, 0]
    assert column[29] == pytest.approx(column[30], abs=1e-5)  # eye at 0.75 m: between rows 29 and 30
    assert column[29] > 0.5 and np.argmax(column) in (29, 30)
    eye = 1.5 - 20.5 * 0.025  # the centre of row 20
    column = reproject_rows(source, "equirect", ARC, slice(None), eye_height_m=eye)[:, 40, 0]
    assert np.argmax(column) == 20
    assert column[19] == pytest.approx(column[21], abs=1e-5)


def test_a_flat_wall_is_seen_in_perspective_from_straight_ahead():
    cabinet = Cabinet(525, 500, 25)  # 21 pixels across: an odd canvas width has a middle column
    wall = WallProfile("flat", (flat(1.575, 2.0, cabinet),))
    lon, lat = canvas_rays(wall, slice(None))
    assert lon.shape == (40, 63)
    assert lon[5, 31] == pytest.approx(0, abs=1e-6)
    half = 1.575 / 2 - 0.025 / 2  # the edge columns' centres
    assert lon[5, 0] == pytest.approx(-math.degrees(math.atan(half / 2.0)), abs=1e-4)
    assert lon[5, -1] == pytest.approx(math.degrees(math.atan(half / 2.0)), abs=1e-4)
    # The wall's outer edges, half a pixel further out, sit at ±atan(w/2 / d).
    step = lon[5, -1] - lon[5, -2]
    assert lon[5, -1] + step / 2 == pytest.approx(math.degrees(math.atan(1.575 / 2 / 2.0)), abs=0.02)
    y = 1.0 - 0.5 * 0.025 - 0.5  # the top row, above the eye at 0.5 m
    assert lat[0, 0] == pytest.approx(math.degrees(math.atan2(y, math.hypot(2.0, half))), abs=1e-4)
    assert lat[0, 31] == pytest.approx(math.degrees(math.atan2(y, 2.0)), abs=1e-4)
    # With no viewer distance the viewer stands a wall's width away.
    lon, _ = canvas_rays(WallProfile("flat", (flat(1.575, 0.0, cabinet),)), range(1))
    assert lon[0, -1] == pytest.approx(math.degrees(math.atan(half / 1.575)), abs=1e-4)


def test_sections_follow_on_and_the_whole_wall_is_centred():
    wall = WallProfile("three", (flat(1.0, 2.0), curved(60), flat(1.0, 2.0)))
    lon, _ = canvas_rays(wall, range(2))
    np.testing.assert_allclose(lon[0], -lon[0][::-1], atol=1e-4)  # symmetric about longitude 0
    assert np.all(np.diff(lon[0]) > 0)
    two = WallProfile("two arcs", (curved(60), curved(60, radius=4.0)))
    lon, _ = canvas_rays(two, range(1))
    first = wall_canvas(two).sections[0]
    step_a = first.arc_deg / first.width_px
    step_b = lon[0, -1] - lon[0, -2]
    boundary = first.width_px
    assert lon[0, boundary] - lon[0, boundary - 1] == pytest.approx((step_a + step_b) / 2, abs=1e-4)


def test_rows_below_a_shorter_section_are_black():
    wall = WallProfile("steps", (curved(40, height=1.5), curved(40, height=1.0)))
    plate = reproject_rows(np.full((90, 180, 3), 0.5, np.float32), "equirect", wall, slice(None))
    left = wall_canvas(wall).sections[0].width_px
    assert plate.shape[0] == 60
    assert np.all(plate[:, :left] == np.float32(0.5))
    assert np.all(plate[:40, left:] == np.float32(0.5)) and np.all(plate[40:, left:] == 0)


def checkerboard(width: int) -> np.ndarray:
    y, x = np.mgrid[0:width // 2, 0:width]
    return (((x + y) % 2) * 255).astype(np.uint8)[..., None]


def test_a_fine_checkerboard_averages_to_grey_instead_of_aliasing():
    source = checkerboard(2048)  # 5.7 px/° against the wall's 2.1
    plate = reproject_rows(source, "equirect", ARC, slice(None))
    assert abs(plate.mean() - 0.5) < 0.01 and plate.std() < 0.02
    # Nearest sampling at the same rays aliases into a pattern of black and white ...
    lon, lat = canvas_rays(ARC, slice(None))
    x = np.floor((lon.astype(np.float64) + 180) / 360 * 2048).astype(int) % 2048
    y = np.clip(np.floor((90 - lat.astype(np.float64)) / 180 * 1024).astype(int), 0, 1023)
    assert (source[y, x, 0] / 255).std() > 0.3
    # ... and so does bilinear sampling without the reduction.
    unfiltered = PlateSource(source, "equirect", 1 / 255, source.shape[:2])
    assert reproject_rows(unfiltered, "equirect", ARC, slice(None)).std() > 0.1


def test_uint8_and_float_sources_give_the_same_plate():
    source = (equirect(1024, smooth) * 255).round().astype(np.uint8)
    as_bytes = reproject_rows(source, "equirect", ARC, range(0, 60, 5))
    as_floats = reproject_rows(source.astype(np.float32) / 255, "equirect", ARC, range(0, 60, 5))
    np.testing.assert_allclose(as_bytes, as_floats, atol=1e-5)
    small = (equirect(360, smooth) * 255).round().astype(np.uint8)  # sampled straight from the bytes
    np.testing.assert_allclose(reproject_rows(small, "equirect", ARC, range(3)),
                               reproject_rows(small.astype(np.float32) / 255, "equirect", ARC, range(3)), atol=1e-5)
    np.testing.assert_allclose(reproject_rows(small, "equirect", ARC, range(3), lowpass=1.5),
                               reproject_rows(small.astype(np.float32) / 255, "equirect", ARC, range(3), lowpass=1.5),
                               atol=1e-5)


def test_lowpass_softens_an_edge():
    edge = equirect(720, lambda lon, lat: (lon > 0) * np.ones_like(lat))
    sharp = reproject_rows(edge, "equirect", ARC, range(30, 31))[0, :, 0]
    soft = reproject_rows(edge, "equirect", ARC, range(30, 31), lowpass=2.0)[0, :, 0]
    def in_between(row):
        return int(((row > 0.05) & (row < 0.95)).sum())

    assert in_between(sharp) <= 2 and in_between(soft) >= 6
    assert soft[0] == pytest.approx(0, abs=1e-3) and soft[-1] == pytest.approx(1, abs=1e-3)


def test_a_wide_picture_shaped_like_a_curved_wall_lands_one_to_one():
    y, x = np.mgrid[0:60, 0:180]
    source = (0.2 + 0.6 * x / 179 + 0.1 * np.sin(y / 9)).astype(np.float32)[..., None]
    plate = reproject_rows(source, "wide", ARC, slice(None))
    np.testing.assert_allclose(plate, source, atol=0.01)
    assert source_pixels_per_degree(source.shape, "wide", ARC) == pytest.approx(wall_canvas(ARC).pixels_per_degree)


def test_the_resolution_warning_says_by_how_much():
    wall = wall_canvas(ARC).pixels_per_degree  # 180 px over 86.04°
    short = (1 - 1.0 / wall) * 100
    message = resolution_warning((180, 360, 3), "equirect", ARC)
    assert message is not None and f"{short:.0f}% too few" in message and short > 50
    assert "1.0 px/°" in message and f"{wall:.1f} px/°" in message and "larger source" in message
    assert resolution_warning((1024, 2048, 3), "equirect", ARC) is None
    assert source_pixels_per_degree((180, 360), "equirect", ARC) == pytest.approx(1.0)
    assert "50% too few" in resolution_warning((30, 90, 3), "wide", ARC)  # 90 px over 86.04°: 1.05 px/°
    assert resolution_warning((60, 180, 3), "wide", ARC) is None
    assert resolution_warning((100, 100), "equirect", WallProfile("flat", (flat(1.0, 0.0),))) is not None


@pytest.mark.parametrize("lowpass", [0.0, 1.5])
def test_bands_put_together_are_the_whole_plate(lowpass):
    source = checkerboard(1024)
    whole = reproject_rows(source, "equirect", RING, slice(None), lowpass=lowpass)
    bands = list(reproject_bands(source, "equirect", RING, band_rows=7, lowpass=lowpass))
    assert [row0 for row0, _ in bands] == list(range(0, 60, 7))
    assert [band.shape[0] for _, band in bands] == [7] * 8 + [4]
    assert np.array_equal(np.concatenate([band for _, band in bands]), whole)


def test_bad_requests_are_refused_clearly():
    source = np.zeros((90, 180, 3), np.float32)
    with pytest.raises(ValueError, match="equirect or wide"):
        reproject_rows(source, "cubemap", ARC, range(2))
    with pytest.raises(ValueError, match="run off the canvas"):
        reproject_rows(source, "equirect", ARC, range(55, 61))
    with pytest.raises(ValueError, match="shape"):
        reproject_rows(np.zeros((2, 3, 4, 5)), "equirect", ARC, range(2))
    with pytest.raises(ValueError, match="low-pass"):
        reproject_rows(source, "equirect", ARC, range(2), lowpass=-1)
    with pytest.raises(ValueError, match="at least one row"):
        reproject_bands(source, "equirect", ARC, band_rows=0)
    with pytest.raises(ValueError, match="prepared as 'wide'"):
        reproject_rows(prepare_source(source, "wide", ARC), "equirect", ARC, range(2))
    with pytest.raises(ValueError, match="radius"):
        canvas_rays(WallProfile("bad", (curved(90, radius=0.0),)), range(1))


@pytest.mark.parametrize("lowpass", [0.0, 1.5])
def test_a_line_on_the_seam_wraps_round_a_ring_wall(lowpass):
    source = np.zeros((180, 360, 1), np.float32)
    source[:, 0] = 1  # a line one degree wide, centred on longitude -179.5
    row = reproject_rows(source, "equirect", RING, range(30, 31), lowpass=lowpass)[0, :, 0].astype(np.float64)
    lon, _ = canvas_rays(RING, range(30, 31))
    angle = np.radians(lon[0].astype(np.float64))
    centre = math.degrees(math.atan2((row * np.sin(angle)).sum(), (row * np.cos(angle)).sum()))
    assert centre == pytest.approx(-179.5, abs=0.05)
    assert row[-1] > 0.1 and row[0] > 0.1  # both ends of the canvas carry part of it


def test_the_span_of_curved_flat_and_ring_walls():
    step = math.degrees(2 * math.asin(0.25 / 3.0))  # one 500 mm cabinet as a chord at 3 m
    assert wall_span_deg(ARC) == pytest.approx(9 * step)  # 90° holds 9 whole cabinets: 86.04°
    assert wall_span_deg(RING) == 360
    assert wall_span_deg(WallProfile("almost", (curved(359.5),))) == pytest.approx(37 * step)  # not 38: 363.3°
    assert wall_span_deg(WallProfile("flat", (flat(2.0, 2.0),))) == pytest.approx(2 * math.degrees(math.atan(0.5)))
    both = WallProfile("both", (curved(90), flat(2.0, 2.0)))
    assert wall_span_deg(both) == pytest.approx(9 * step + 2 * math.degrees(math.atan(0.5)))


def test_a_wide_source_to_cover_a_curved_wall_is_its_canvas():
    # 9 cabinets of 20 px over 86.04°; eye at 0.75 m of 1.5 m, 3 m away: tan(lat) reaches ±0.25.
    focal = 180 / math.radians(wall_span_deg(ARC))  # 119.87 px per radian at the horizon
    assert 2 * focal * 0.25 == pytest.approx(59.93, abs=0.01)
    assert wide_source_size(ARC) == (180, 60)
    assert wide_source_size(ARC, 1000) == (1000, 2 * math.ceil(1000 / math.radians(wall_span_deg(ARC)) * 0.25))
    assert wide_source_size(ARC, 1001)[0] == 1002  # even sizes
    # Lands at the wall's own density: no warning; half of it warns.
    assert resolution_warning((60, 180, 3), "wide", ARC) is None
    assert "50% too few" in resolution_warning((30, 90, 3), "wide", ARC)


def test_a_wide_source_to_cover_a_flat_wall():
    wall = WallProfile("flat", (flat(2.0, 2.0),))  # 80 × 40 px, 2 m wide seen from 2 m, 1 m tall
    span = 2 * math.degrees(math.atan(0.5))  # 53.13°
    density = 2000 * math.tan(math.radians(1)) / 25  # 1.396 px/° straight ahead
    width = 2 * math.ceil(span * density / 2)  # 74.2 -> 76
    focal = width / math.radians(span)
    assert wide_source_size(wall) == (width, 2 * math.ceil(focal * 0.5 / 2.0)) == (76, 42)
    assert resolution_warning((42, 76, 3), "wide", wall) is None
    with pytest.raises(ValueError, match="whole number of pixels"):
        wide_source_size(wall, 0)


def test_a_wide_source_of_that_size_covers_every_row():
    width, height = wide_source_size(ARC, 720)
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None] * np.ones((1, width, 1), np.float32)
    plate = reproject_rows(ramp, "wide", ARC, slice(None))[:, 90, 0]
    # The top and bottom rows land inside the source, within a row of its edges, not clamped past them.
    assert 0 < plate[0] < 2 / height and 1 - 2 / height < plate[-1] < 1


def test_sampling_the_canvas_at_pixel_centres_is_the_plate():
    source = equirect(1024, smooth)
    prepared = prepare_source(source, "equirect", ARC)
    whole = reproject_rows(prepared, "equirect", ARC, slice(None))
    grid = sample_canvas(prepared, "equirect", ARC, np.arange(0, 60, 7), np.arange(0, 180, 11))
    assert np.array_equal(grid, whole[::7, ::11])
    two = WallProfile("steps", (curved(40, height=1.5), curved(40, height=1.0)))  # off-wall rows stay black
    grid = sample_canvas(prepare_source(source, "equirect", two), "equirect", two, np.array([10.0, 50.0]),
                         np.array([5.0, 100.0, 150.0]))
    assert np.all(grid[0] > 0) and grid[1, 0] > 0 and np.all(grid[1, 1:] == 0)
