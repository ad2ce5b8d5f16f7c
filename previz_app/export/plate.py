"""An LED-wall plate from a picture: the source reprojected onto the wall's pixel
canvas band by band, converted to the output's colour space, cut into cabinet-aligned
tiles no larger than one processor output, with a JSON sidecar that says where each
tile goes. The tiles and sidecar go into their folder together or not at all.

The source is a picture file or an array in memory (a generated environment)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from ..domain.wall import WallCanvas, WallProfile, wall_canvas
from ..engine.base import Cancelled
from .files import UMASK, ExportError
from .plate_colour import ACESCG, REC709, SRGB, srgb_to_acescg, srgb_to_rec709, to_uint8, to_uint16
from .plate_movie import movie_frames
from .plate_projection import KINDS, prepare_source, reproject_bands, resolution_warning
from .plate_tiles import FORMATS, plan_tiles, sidecar, tile_file_name, write_sidecar, write_tile

BAND_ROWS = 128
# A panorama larger than this is a mistake (or a decompression bomb), not a source.
MAX_SOURCE_PIXELS = 32768 * 16384
# The colour space each format's tiles hold, and the type the canvas is kept in.
COLOUR_SPACES = {"exr": ACESCG, "tiff": SRGB, "png16": SRGB, "png8": SRGB, "prores": REC709}
_CANVAS_TYPES = {"exr": np.float16, "tiff": np.uint16, "png16": np.uint16, "png8": np.uint8, "prores": np.uint16}


@dataclass(frozen=True)
class PlateExport:
    """`source` as a plate for `wall`, written as tiles `<stem>_000.<ext>`… and
    `<stem>.json` in the folder `out`.
    `source`: an sRGB picture file (PNG, JPEG or TIFF, 8 or 16 bits), or an array
    (H, W, 3) of uint8, uint16 or float32 0..1 sRGB, used as it is.
    `kind`: "equirect" (a 360° panorama) or "wide" (spanning the wall's angle).
    `format`: "exr" (half float, scene-linear ACEScg), "tiff" or "png16" (16-bit sRGB),
    "png8" (8-bit sRGB, with `dither` against banding in skies), "prores" (each tile
    a still ProRes 4444 movie of `seconds` at `fps`, Rec.709 video).
    `lowpass`: an extra blur in wall pixels, against moiré on camera.
    `save_source`: also write the source as `<stem>_source.png` (8-bit for an 8-bit
    source, else 16-bit), named in the sidecar."""

    out: Path
    wall: WallProfile
    source: Path | np.ndarray | None = None
    kind: str = "equirect"
    format: str = "exr"
    lowpass: float = 0.0
    stem: str = "plate"
    save_source: bool = False
    dither: bool = True
    seconds: float = 2.0
    fps: int = 25


@dataclass(frozen=True)
class PlateReport:
    out: Path
    files: tuple[Path, ...]  # the tiles, then the source picture (when saved), then the sidecar
    canvas: WallCanvas
    warning: str | None  # the source is below the wall's pixels per degree
    source: Path | None = None  # the saved source picture


def export_plate(request: PlateExport, progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> PlateReport:
    """Write the plate `request` describes. `progress(done, total)` counts bands of the
    canvas and then tiles; `cancelled()` is polled between them.

    Raises ValueError for a bad wall, kind, format, source picture or array, or movie
    length, ExportError when the folder cannot be written (an older plate there is left
    as it was), Cancelled (nothing is written)."""
    if request.format not in FORMATS:
        raise ValueError(f"a plate is written as {', '.join(FORMATS)}, not {request.format!r}")
    if request.kind not in KINDS:
        raise ValueError(f"a plate source is {' or '.join(KINDS)}, not {request.kind!r}")
    movie = None
    if request.format == "prores":
        movie = {"codec": "ProRes 4444 (prores_ks)", "seconds": request.seconds, "fps": request.fps,
                 "frames": movie_frames(request.seconds, request.fps)}
    progress = progress or (lambda done, total: None)
    cancelled = cancelled or (lambda: False)
    canvas = wall_canvas(request.wall)
    tiles = plan_tiles(canvas, request.wall.output_capacity)
    source = source_pixels(request.source)
    warning = resolution_warning(source.shape, request.kind, request.wall)
    prepared = prepare_source(source, request.kind, request.wall, request.lowpass)
    if not request.save_source:
        del source
    space = COLOUR_SPACES[request.format]
    # One canvas-sized copy, in the output's own type (half float, 16 or 8 bits): the
    # bands are converted as they come, so no float32 canvas is ever held.
    plate = np.zeros((canvas.height_px, canvas.width_px, 3), _CANVAS_TYPES[request.format])
    bands = -(-canvas.height_px // BAND_ROWS)
    total = bands + len(tiles)
    for done, (row0, band) in enumerate(reproject_bands(prepared, request.kind, request.wall, BAND_ROWS)):
        if cancelled():
            raise Cancelled("plate export cancelled")
        band = band[:, :, :3] if band.shape[2] >= 3 else np.repeat(band[:, :, :1], 3, axis=2)
        plate[row0:row0 + band.shape[0]] = _encode_band(band, request.format, row0, request.dither)
        progress(done + 1, total)
    del prepared
    names = [tile_file_name(request.stem, tile, request.format) for tile in tiles]
    source_name = f"{request.stem}_source.png" if request.save_source else None
    out = Path(request.out)
    with _StagedFolder(out) as staging:
        for index, (tile, name) in enumerate(zip(tiles, names, strict=True)):
            if cancelled():
                raise Cancelled("plate export cancelled")
            write_tile(staging / name, tile.crop(plate), request.format, space,
                       seconds=request.seconds, fps=request.fps)
            progress(bands + index + 1, total)
        if source_name:
            write_tile(staging / source_name, source, "png8" if source.dtype == np.uint8 else "png16", SRGB)
        write_sidecar(staging / f"{request.stem}.json",
                      sidecar(request.wall, canvas, tiles, space, names, source=source_name, movie=movie))
    saved = out / source_name if source_name else None
    files = tuple(out / name for name in names) + ((saved,) if saved else ()) + (out / f"{request.stem}.json",)
    return PlateReport(out, files, canvas, warning, saved)


def _encode_band(band: np.ndarray, fmt: str, row0: int, dither: bool) -> np.ndarray:
    """A band of sRGB values (0..1) as the canvas of format `fmt` holds it. The 8-bit
    dither is seeded by canvas position, so every tile carries its part of one grain."""
    if fmt == "exr":
        return srgb_to_acescg(band).astype(np.float16)
    if fmt == "png8":
        return to_uint8(band, dither=dither, origin=(row0, 0))
    if fmt == "prores":
        return to_uint16(srgb_to_rec709(band))
    return to_uint16(band)


def source_pixels(source: Path | str | np.ndarray | None) -> np.ndarray:
    """A plate source as (H, W, 3) pixels for the reprojection: uint8 as it is (a
    picture file's 8 bits, or an array), anything deeper as float32 0..1. Raises
    ValueError naming what is wrong with the file or array."""
    if source is None:
        raise ValueError("a plate needs a source: a picture file, or an environment made for the wall")
    if not isinstance(source, np.ndarray):
        return _load(Path(source))
    if source.ndim != 3 or source.shape[2] != 3 or 0 in source.shape:
        raise ValueError(f"a plate source array is (height, width, 3) RGB, not shape {source.shape}")
    if source.shape[0] * source.shape[1] > MAX_SOURCE_PIXELS:
        raise ValueError(f"the source is {source.shape[1]}×{source.shape[0]}; plates take sources up to 32K × 16K")
    if source.dtype == np.uint8:
        return source
    if source.dtype == np.uint16:
        return source.astype(np.float32) / 65535
    if not np.issubdtype(source.dtype, np.floating):
        raise ValueError(f"a plate source array is uint8, uint16 or float 0..1, not {source.dtype}")
    pixels = source.astype(np.float32, copy=False)
    if not np.isfinite(pixels).all():
        raise ValueError("the plate source array holds NaN or infinite values")
    return pixels


def read_source(path: Path) -> np.ndarray:
    """The picture at `path` as float32 RGB in 0..1 (8- and 16-bit PNG, JPEG, TIFF).
    Raises ValueError naming the file when it is missing, unreadable or not a picture."""
    pixels = _load(Path(path))
    return pixels.astype(np.float32) / 255 if pixels.dtype == np.uint8 else pixels


def _load(path: Path) -> np.ndarray:
    """The picture at `path` as (H, W, 3): uint8 for an 8-bit picture, else float32 0..1."""
    if not path.is_file():
        raise ValueError(f"the plate source {path} does not exist")
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            pixels = tifffile.imread(path)
        else:
            with Image.open(path) as image:
                if image.width * image.height > MAX_SOURCE_PIXELS:
                    raise ValueError(f"{path.name} is {image.width}×{image.height}; plates take sources up to 32K × 16K")
                pixels = np.asarray(image.convert("RGB") if image.mode not in ("I;16", "I;16B", "I") else image)
    except (OSError, SyntaxError, Image.DecompressionBombError, tifffile.TiffFileError) as exc:
        raise ValueError(f"cannot read the plate source {path.name}: {exc}") from exc
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        raise ValueError(f"the plate source {path.name} is not an RGB picture (shape {pixels.shape})")
    pixels = pixels[:, :, :3]
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    if pixels.dtype == np.uint16 or pixels.dtype == np.int32:
        return pixels.astype(np.float32) / 65535
    return np.clip(pixels.astype(np.float32), 0, 1)


class _StagedFolder:
    """A hidden folder beside `out` to write into; on success an older `out` is moved
    aside, the new one renamed into place and the old one removed. On any error the
    hidden folder goes and `out` is left as it was."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def __enter__(self) -> Path:
        if not self.out.parent.is_dir():
            raise ExportError(f"cannot write {self.out}: the folder {self.out.parent} does not exist")
        if self.out.exists() and not self.out.is_dir():
            raise ExportError(f"cannot write the plate into {self.out}: a file of that name is in the way")
        try:
            self.staging = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.partial-"))
        except OSError as exc:
            raise ExportError(f"cannot write {self.out}: {exc.strerror or exc}") from exc
        return self.staging

    def __exit__(self, kind, _value, _traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        os.chmod(self.staging, 0o777 & ~UMASK)  # mkdtemp made it private; a plate is for the stage
        aside = None
        try:
            if self.out.exists():
                aside = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.old-")) / "plate"
                os.replace(self.out, aside)
            os.replace(self.staging, self.out)
        except OSError as exc:
            if aside is not None and not self.out.exists():
                os.replace(aside, self.out)
            shutil.rmtree(self.staging, ignore_errors=True)
            raise ExportError(f"cannot move the plate into {self.out}: {exc.strerror or exc}") from exc
        if aside is not None:
            shutil.rmtree(aside.parent, ignore_errors=True)

