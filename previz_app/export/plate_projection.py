"""Plates: a source picture reprojected onto an LED wall's pixel canvas, a band of
rows at a time so a canvas of tens of millions of pixels never sits in memory whole.

Every canvas pixel looks from the eye point in a direction (longitude, latitude in
degrees; longitude grows to the right, latitude up). Curved sections spread their
real arc linearly across their columns; a row's latitude comes from its height above
the floor, the eye height and the radius. Flat sections are seen in perspective from
a viewer straight ahead of their middle. Sections follow on left to right, each taking
the angle it spans from the eye (a flat one: `2·atan(w / 2d)`), and the whole run is
centred so its middle looks at longitude 0. A curved section built to a 360° arc is a
closed ring: its columns span exactly 360° whatever whole number of cabinets closes it,
so its first and last columns meet.

Canvas layout: each section's pixels start at canvas row 0 (its top edge); canvas rows
below a section shorter than the tallest are not on the wall and come out black.

Sources: `equirect` (longitude -180..180 across, latitude 90..-90 down, wrapping round)
or `wide` (a cylindrical picture spanning the wall's whole horizontal angle: x linear in
longitude, y linear in tan(latitude), square pixels, its middle row at eye level; a wide
picture shaped like a curved wall's canvas lands on it one to one). Sampling is
bilinear (plate_sampling), wrapping round where the source goes all the way round: an
equirect, or a wide source on a 360° wall. A source denser than the wall is first
area-reduced to the wall's density so fine detail averages out instead of aliasing
into moiré. uint8 and uint16 sources are scaled to 0..1 as they are (linearise first
for filtering in linear light).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from previz_app.domain.wall import WallProfile, wall_canvas

from .plate_sampling import area_resize, bilinear, gaussian_blur

KINDS = ("equirect", "wide")


@dataclass(frozen=True, slots=True)
class _SectionGeometry:
    kind: str
    col0: int  # first canvas column
    width_px: int
    height_px: int
    lon0_deg: float  # longitude of the section's left edge
    span_deg: float  # horizontal angle it spans from the eye
    width_m: float  # as built, from whole cabinets
    height_m: float
    distance_m: float  # curved: the radius; flat: the viewer's distance


@dataclass(frozen=True, slots=True)
class PlateSource:
    """A source made ready to sample: filtered once, shared by every band."""

    pixels: np.ndarray  # (H, W, C), uint8, uint16 or float32
    kind: str
    scale: float  # multiplies sampled values: 1/255 for uint8, 1/65535 for uint16
    original_shape: tuple[int, int]  # (H, W) before any reduction: the geometry's reference
    wrap_x: bool = False  # it goes all the way round: its last column meets its first


def _geometry(profile: WallProfile) -> tuple[list[_SectionGeometry], float]:
    """Each section's place on the canvas and in longitude, and the total span in degrees."""
    canvas = wall_canvas(profile)
    sections, col0, lon = [], 0, 0.0
    for section, figures in zip(profile.sections, canvas.sections, strict=True):
        width_m = figures.columns * section.cabinet.width_mm / 1000
        height_m = figures.rows * section.cabinet.height_mm / 1000
        distance = section.radius_m if section.kind == "curved" else section.viewer_distance_m or width_m
        sections.append(_SectionGeometry(section.kind, col0, figures.width_px, figures.height_px,
                                         lon, figures.span_deg, width_m, height_m, distance))
        col0 += figures.width_px
        lon += figures.span_deg
    return [_shifted(geometry, -lon / 2) for geometry in sections], lon


def _shifted(geometry: _SectionGeometry, degrees: float) -> _SectionGeometry:
    fields = {name: getattr(geometry, name) for name in geometry.__slots__}
    fields["lon0_deg"] += degrees
    return _SectionGeometry(**fields)


def _row_range(profile: WallProfile, rows: range | slice) -> range:
    height = wall_canvas(profile).height_px
    if isinstance(rows, slice):
        rows = range(*rows.indices(height))
    if not isinstance(rows, range):
        raise TypeError(f"rows are a range or a slice of canvas rows, not {type(rows).__name__}")
    if len(rows) and (min(rows[0], rows[-1]) < 0 or max(rows[0], rows[-1]) >= height):
        raise ValueError(f"rows {rows.start}..{rows.stop} run off the canvas, which has rows 0..{height - 1}")
    return rows


def _rays(profile: WallProfile, rows: range | slice, eye_height_m: float | None,
          columns: np.ndarray | None = None):
    """(longitude, latitude, on_wall) as float64/bool arrays of shape (rows, columns):
    every canvas column, or the canvas `columns` given (pixel positions, fractional
    ones between pixel centres allowed). `rows` may be fractional positions too."""
    rows = np.asarray(rows if isinstance(rows, np.ndarray) else _row_range(profile, rows), dtype=np.float64)
    sections, _ = _geometry(profile)
    eye = max(section.height_m for section in sections) / 2 if eye_height_m is None else float(eye_height_m)
    if not math.isfinite(eye):
        raise ValueError(f"the eye height must be a number of metres, not {eye_height_m!r}")
    width = sum(section.width_px for section in sections) if columns is None else len(columns)
    row = rows[:, None]
    lon = np.empty((len(rows), width))
    lat = np.empty((len(rows), width))
    on_wall = np.empty((len(rows), width), dtype=bool)
    for number, section in enumerate(sections):
        if columns is None:
            cut = slice(section.col0, section.col0 + section.width_px)
            column = np.arange(section.width_px, dtype=np.float64)[None, :]
        else:  # the columns whose centre falls on this section (the end ones take what is beyond)
            centre = np.asarray(columns, dtype=np.float64) + 0.5 - section.col0
            cut = ((centre >= 0) | (number == 0)) & ((centre < section.width_px) | (number == len(sections) - 1))
            column = centre[None, cut] - 0.5
        y = section.height_m - (row + 0.5) * (section.height_m / section.height_px) - eye
        if section.kind == "curved":
            lon[:, cut] = section.lon0_deg + (column + 0.5) * (section.span_deg / section.width_px)
            lat[:, cut] = np.degrees(np.arctan(y / section.distance_m))
        else:
            x = (column + 0.5) * (section.width_m / section.width_px) - section.width_m / 2
            heading = section.lon0_deg + section.span_deg / 2
            lon[:, cut] = heading + np.degrees(np.arctan(x / section.distance_m))
            lat[:, cut] = np.degrees(np.arctan2(y, np.hypot(section.distance_m, x)))
        on_wall[:, cut] = row + 0.5 < section.height_px
    return lon, lat, on_wall


def canvas_rays(profile: WallProfile, rows: range | slice,
                eye_height_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The direction each canvas pixel centre looks in from the eye, for `rows` (a range
    or slice of canvas rows): (longitude_deg, latitude_deg), float32 arrays of shape
    (len(rows), canvas width). `eye_height_m` defaults to half the tallest section's
    built height. Raises ValueError for a bad profile or rows off the canvas."""
    lon, lat, _ = _rays(profile, rows, eye_height_m)
    return lon.astype(np.float32), lat.astype(np.float32)


def wall_span_deg(profile: WallProfile) -> float:
    """The horizontal angle the whole wall spans from the eye, in degrees: its sections'
    spans added (a flat one's `2·atan(w / 2d)`); 360 for a ring. Raises ValueError for
    a bad profile."""
    return _geometry(profile)[1]


def wide_source_size(profile: WallProfile, width: int | None = None) -> tuple[int, int]:
    """(width, height) of a `wide` source that covers the whole wall, every canvas row's
    latitude included, at the wall's pixels per degree (`width` None) or at `width`
    (the height scaled to match); both rounded up to even numbers. Raises ValueError
    for a bad profile or width."""
    sections, span = _geometry(profile)
    if width is None:
        width = span * _wall_density(profile)
    elif isinstance(width, bool) or not isinstance(width, int) or width < 2:
        raise ValueError(f"a source is a whole number of pixels wide, 2 or more, not {width!r}")
    eye = max(section.height_m for section in sections) / 2
    # A row's latitude is steepest straight ahead (x = 0 on a flat section): tan = height off the eye / distance.
    steepest = max(max(section.height_m - eye, eye) / section.distance_m for section in sections)
    focal = width / math.radians(span)  # cylinder radius in source pixels

    def even(value: float) -> int:
        return 2 * math.ceil(value / 2 - 1e-9)

    return even(width), even(2 * focal * steepest)


def _wall_density(profile: WallProfile) -> float:
    """The least pixels per degree anywhere on the wall's sections (a flat section with
    no viewer distance is taken as seen from its own width away, as the rays do)."""
    densities = []
    for section, figures in zip(profile.sections, wall_canvas(profile).sections, strict=True):
        if figures.pixels_per_degree:
            densities.append(figures.pixels_per_degree)
        else:
            width_m = figures.columns * section.cabinet.width_mm / 1000
            densities.append(width_m * math.tan(math.radians(1)) / (width_m / figures.width_px))
    return min(densities)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"a plate source is {' or '.join(KINDS)}, not {kind!r}")


def _source_densities(shape: tuple[int, ...], kind: str, profile: WallProfile) -> tuple[float, float]:
    """(across, down) source pixels per degree at the horizon."""
    _check_kind(kind)
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"the source picture is empty ({width}×{height})")
    if kind == "equirect":
        return width / 360, height / 180
    span = wall_span_deg(profile)
    return width / span, width / span


def source_pixels_per_degree(source_shape: tuple[int, ...], kind: str, profile: WallProfile) -> float:
    """Pixels per degree a source of `source_shape` (H, W[, C]) gives on `profile`'s wall:
    an equirect's least of width/360 and height/180; a wide picture's width over the
    wall's whole horizontal angle. Raises ValueError for an unknown kind."""
    return min(_source_densities(source_shape, kind, profile))


def resolution_warning(source_shape: tuple[int, ...], kind: str, profile: WallProfile) -> str | None:
    """A sentence saying by how much a source of `source_shape` falls short of the
    wall's pixels per degree, or None when it has enough."""
    source = source_pixels_per_degree(source_shape, kind, profile)
    wall = _wall_density(profile)
    if source >= wall:
        return None
    short = (1 - source / wall) * 100
    amount = f"{short:.0f}%" if short >= 1 else "under 1%"
    return (f"the source has {source:.1f} px/° where the wall shows {wall:.1f} px/°: {amount} too few; "
            f"use a larger source, or it will look soft on the wall")


def prepare_source(source: np.ndarray, kind: str, profile: WallProfile, lowpass: float = 0.0,
                   scale: float = 1.0) -> PlateSource:
    """`source` (H, W[, C], float32, uint8 or uint16) filtered once for `profile`'s wall: area-
    reduced where it is denser than the wall, then blurred by `lowpass` wall pixels
    (a Gaussian sigma) when asked. `scale` below 1 filters for a reduced copy of the
    canvas (a preview `scale` times the wall's size) instead. Raises ValueError for a
    bad kind, shape, lowpass or scale."""
    pixels = np.asarray(source)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] < 1:
        raise ValueError(f"a plate source is an (height, width, channels) picture, not shape {pixels.shape}")
    if pixels.dtype not in (np.uint8, np.uint16, np.float32):
        pixels = pixels.astype(np.float32)
    if not (math.isfinite(lowpass) and lowpass >= 0):
        raise ValueError(f"the low-pass is a blur in wall pixels, zero or more, not {lowpass!r}")
    if not (math.isfinite(scale) and 0 < scale <= 1):
        raise ValueError(f"the canvas scale is above 0 and at most 1, not {scale!r}")
    across, down = _source_densities(pixels.shape, kind, profile)
    wall = _wall_density(profile) * scale
    original = (pixels.shape[0], pixels.shape[1])
    value_scale = {np.dtype(np.uint8): 1 / 255, np.dtype(np.uint16): 1 / 65535}.get(pixels.dtype, 1.0)
    # An equirect always goes round; a wide source does when the wall does.
    wrap_x = kind == "equirect" or wall_span_deg(profile) >= 360 - 1e-9
    filtered = False
    for axis, density in ((1, across), (0, down)):
        size = max(1, round(pixels.shape[axis] * wall / density))
        if density > wall * 1.01 and size < pixels.shape[axis]:
            pixels = area_resize(pixels, size, axis)
            filtered = True
    if lowpass > 0:
        ratio_x = pixels.shape[1] / original[1] * across / wall  # reduced source pixels per canvas pixel
        ratio_y = pixels.shape[0] / original[0] * down / wall
        pixels = gaussian_blur(pixels, lowpass * scale * ratio_x, 1, wrap=wrap_x)
        pixels = gaussian_blur(pixels, lowpass * scale * ratio_y, 0, wrap=False)
        filtered = True
    if filtered and value_scale != 1.0:
        pixels, value_scale = pixels * np.float32(value_scale), 1.0
    return PlateSource(pixels.astype(np.float32) if filtered else pixels, kind, value_scale, original, wrap_x)


def reproject_rows(source: np.ndarray | PlateSource, kind: str, profile: WallProfile, rows: range | slice, *,
                   eye_height_m: float | None = None, lowpass: float = 0.0) -> np.ndarray:
    """Canvas `rows` of `profile`'s wall sampled from `source`: a (len(rows), canvas
    width, C) float32 array. `source` is a picture (filtered here, each call) or a
    `prepare_source` result (filtered once; then `lowpass` was its business). Raises
    ValueError for a bad kind, source, profile or rows."""
    prepared = source if isinstance(source, PlateSource) else prepare_source(source, kind, profile, lowpass)
    return _reproject(prepared, kind, profile, _rays(profile, rows, eye_height_m))


def sample_canvas(source: PlateSource, kind: str, profile: WallProfile, rows: np.ndarray, columns: np.ndarray, *,
                  eye_height_m: float | None = None) -> np.ndarray:
    """The canvas sampled at a grid of `rows` × `columns` (canvas pixel positions, float;
    pixel i's centre is i, so fractional positions fall between centres): a (len(rows),
    len(columns), C) float32 array, black off the wall. For a reduced view of the plate
    (a preview) without building the canvas: give it `prepare_source(..., scale=...)`.
    Raises ValueError for a bad kind or eye height."""
    rows, columns = (np.asarray(values, dtype=np.float64).reshape(-1) for values in (rows, columns))
    return _reproject(source, kind, profile, _rays(profile, rows, eye_height_m, columns))


def _reproject(prepared: PlateSource, kind: str, profile: WallProfile, rays) -> np.ndarray:
    if prepared.kind != kind:
        raise ValueError(f"the source was prepared as {prepared.kind!r}, not {kind!r}")
    lon, lat, on_wall = rays
    if kind == "equirect":
        u = np.mod(lon + 180, 360) / 360
        v = (90 - lat) / 180
    else:
        span = wall_span_deg(profile)
        height, width = prepared.original_shape
        u = (lon + span / 2) / span
        radius_px = width / math.radians(span)  # cylinder radius in source pixels
        v = 0.5 - radius_px * np.tan(np.radians(lat)) / height
    out = bilinear(prepared.pixels, u, v, prepared.wrap_x, prepared.scale)
    out[~on_wall] = 0
    return out


def reproject_bands(source: np.ndarray | PlateSource, kind: str, profile: WallProfile, band_rows: int = 256, *,
                    eye_height_m: float | None = None, lowpass: float = 0.0) -> Iterator[tuple[int, np.ndarray]]:
    """The whole canvas as (first row, band) pairs of `band_rows` rows each (the last
    may be shorter), top to bottom, from one filtering of `source`. Raises ValueError
    as `reproject_rows`, or for a band size below one row."""
    if not (isinstance(band_rows, int) and band_rows >= 1):
        raise ValueError(f"a band is at least one row, not {band_rows!r}")
    prepared = source if isinstance(source, PlateSource) else prepare_source(source, kind, profile, lowpass)
    height = wall_canvas(profile).height_px
    _rays(profile, range(1), eye_height_m)  # a bad eye height fails here, before the first band
    return _bands(prepared, kind, profile, band_rows, height, eye_height_m)


def _bands(prepared: PlateSource, kind: str, profile: WallProfile, band_rows: int, height: int,
           eye_height_m: float | None) -> Iterator[tuple[int, np.ndarray]]:
    for row0 in range(0, height, band_rows):
        yield row0, reproject_rows(prepared, kind, profile, range(row0, min(row0 + band_rows, height)),
                                   eye_height_m=eye_height_m)


__all__ = ["KINDS", "PlateSource", "canvas_rays", "prepare_source", "reproject_bands", "reproject_rows",
           "resolution_warning", "sample_canvas", "source_pixels_per_degree", "wall_span_deg", "wide_source_size"]
