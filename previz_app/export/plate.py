"""An LED-wall plate from a picture: the source reprojected onto the wall's pixel
canvas band by band, converted to the output's colour space, cut into cabinet-aligned
tiles no larger than one processor output, with a JSON sidecar that says where each
tile goes. The tiles and sidecar go into their folder together or not at all."""

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
from .plate_colour import ACESCG, SRGB, srgb_to_acescg, to_uint16
from .plate_projection import KINDS, prepare_source, reproject_bands, resolution_warning
from .plate_tiles import FORMATS, plan_tiles, sidecar, tile_file_name, write_sidecar, write_tile

BAND_ROWS = 128
# A panorama larger than this is a mistake (or a decompression bomb), not a source.
MAX_SOURCE_PIXELS = 32768 * 16384


@dataclass(frozen=True)
class PlateExport:
    """`source` (an sRGB picture: PNG, JPEG or TIFF, 8 or 16 bits) as a plate for
    `wall`, written as tiles `<stem>_001.<ext>`… and `<stem>.json` in the folder `out`.
    `kind`: "equirect" (a 360° panorama) or "wide" (spanning the wall's angle).
    `format`: "exr" (half float, scene-linear ACEScg), "tiff" or "png16" (16-bit sRGB).
    `lowpass`: an extra blur in wall pixels, against moiré on camera."""

    out: Path
    wall: WallProfile
    source: Path
    kind: str = "equirect"
    format: str = "exr"
    lowpass: float = 0.0
    stem: str = "plate"


@dataclass(frozen=True)
class PlateReport:
    out: Path
    files: tuple[Path, ...]  # the tiles, then the sidecar
    canvas: WallCanvas
    warning: str | None  # the source is below the wall's pixels per degree


def export_plate(request: PlateExport, progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> PlateReport:
    """Write the plate `request` describes. `progress(done, total)` counts bands of the
    canvas and then tiles; `cancelled()` is polled between them.

    Raises ValueError for a bad wall, kind, format or source picture, ExportError when
    the folder cannot be written (an older plate there is left as it was), Cancelled
    (nothing is written)."""
    if request.format not in FORMATS:
        raise ValueError(f"a plate is written as {', '.join(FORMATS)}, not {request.format!r}")
    if request.kind not in KINDS:
        raise ValueError(f"a plate source is {' or '.join(KINDS)}, not {request.kind!r}")
    progress = progress or (lambda done, total: None)
    cancelled = cancelled or (lambda: False)
    canvas = wall_canvas(request.wall)
    tiles = plan_tiles(canvas, request.wall.output_capacity)
    source = read_source(Path(request.source))
    warning = resolution_warning(source.shape, request.kind, request.wall)
    prepared = prepare_source(source, request.kind, request.wall, request.lowpass)
    del source
    exr = request.format == "exr"
    # One canvas-sized copy, in the output's own type (half float, or 16-bit): the
    # bands are converted as they come, so no float32 canvas is ever held.
    plate = np.zeros((canvas.height_px, canvas.width_px, 3), np.float16 if exr else np.uint16)
    bands = -(-canvas.height_px // BAND_ROWS)
    total = bands + len(tiles)
    for done, (row0, band) in enumerate(reproject_bands(prepared, request.kind, request.wall, BAND_ROWS)):
        if cancelled():
            raise Cancelled("plate export cancelled")
        band = band[:, :, :3] if band.shape[2] >= 3 else np.repeat(band[:, :, :1], 3, axis=2)
        plate[row0:row0 + band.shape[0]] = srgb_to_acescg(band).astype(np.float16) if exr else to_uint16(band)
        progress(done + 1, total)
    names = [tile_file_name(request.stem, tile, request.format) for tile in tiles]
    out = Path(request.out)
    with _StagedFolder(out) as staging:
        for index, (tile, name) in enumerate(zip(tiles, names, strict=True)):
            if cancelled():
                raise Cancelled("plate export cancelled")
            write_tile(staging / name, tile.crop(plate), request.format, ACESCG if exr else SRGB)
            progress(bands + index + 1, total)
        write_sidecar(staging / f"{request.stem}.json",
                      sidecar(request.wall, canvas, tiles, ACESCG if exr else SRGB, names))
    files = tuple(out / name for name in names) + (out / f"{request.stem}.json",)
    return PlateReport(out, files, canvas, warning)


def read_source(path: Path) -> np.ndarray:
    """The picture at `path` as float32 RGB in 0..1 (8- and 16-bit PNG, JPEG, TIFF).
    Raises ValueError naming the file when it is missing, unreadable or not a picture."""
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
        return pixels.astype(np.float32) / 255
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

