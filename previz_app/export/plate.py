"""An LED-wall plate from a picture: the source reprojected onto the wall's pixel
canvas band by band, converted to the output's colour space, cut into cabinet-aligned
tiles no larger than one processor output, with a JSON sidecar that says where each
tile goes. The tiles and sidecar go into their folder together or not at all, and
only into a folder that is new, empty or holds nothing but earlier plates: a plate
replaces its folder, and must never take a project's boards or decks with it.

The source is a picture file or an array in memory (a generated environment). Files
are read at their own depth: 16-bit PNGs through FFmpeg (PyAV; Pillow reads them as
8 bits), TIFF through tifffile, the rest through Pillow. Our own size limit applies to
PNG, JPEG and TIFF before any pixel is decoded, in place of Pillow's smaller
decompression-bomb limit (which still guards the other formats Pillow opens)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import tifffile
from PIL import Image, JpegImagePlugin, PngImagePlugin

from ..domain.wall import WallCanvas, WallProfile, wall_canvas
from ..engine.base import Cancelled
from .files import UMASK, ExportError
from .plate_colour import ACESCG, REC709, SRGB, srgb_to_acescg, srgb_to_rec709, to_uint8, to_uint16
from .plate_movie import movie_frames, movie_rate
from .plate_projection import KINDS, prepare_source, reproject_bands, resolution_warning
from .plate_tiles import FORMATS, plan_tiles, sidecar, tile_file_name, write_sidecar, write_tile

BAND_ROWS = 128
# A panorama larger than this is a mistake (or a decompression bomb), not a source.
MAX_SOURCE_PIXELS = 32768 * 16384
# The colour space each format's tiles hold, and the type the canvas is kept in.
COLOUR_SPACES = {"exr": ACESCG, "tiff": SRGB, "png16": SRGB, "png8": SRGB, "prores": REC709}
_CANVAS_TYPES = {"exr": np.float16, "tiff": np.uint16, "png16": np.uint16, "png8": np.uint8, "prores": np.uint16}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # TIFF and BigTIFF, either byte order
# What file browsers leave in any folder they show; no reason to refuse a plate's folder.
_BROWSER_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_MAX_SIDECAR_BYTES = 4_000_000  # a larger .json is not a plate's sidecar


@dataclass(frozen=True)
class PlateExport:
    """`source` as a plate for `wall`, written as tiles `<stem>_000.<ext>`… and
    `<stem>.json` in the folder `out`.
    `out`: a new folder, an empty one or an earlier plate's (a link to one is written
    through: the folder it points to gets the plate, the link stays).
    `source`: an sRGB picture file (PNG, JPEG or TIFF, 8 or 16 bits), or an array
    (H, W, 3) of uint8, uint16 or float32 0..1 sRGB, used as it is.
    `kind`: "equirect" (a 360° panorama) or "wide" (spanning the wall's angle).
    `format`: "exr" (half float, scene-linear ACEScg), "tiff" or "png16" (16-bit sRGB),
    "png8" (8-bit sRGB, with `dither` against banding in skies), "prores" (each tile
    a still ProRes 4444 movie of `seconds` at `fps`, Rec.709 video; `fps` a whole
    number or an NTSC Fraction such as Fraction(30000, 1001), see plate_movie.movie_rate).
    `lowpass`: an extra blur in wall pixels, against moiré on camera.
    `save_source`: also write the source as `<stem>_source.png` (8-bit for an 8-bit
    source, else 16-bit), named in the sidecar; with `source_recipe` (JSON-ready: how
    the source was made, e.g. the environment request) that goes into the sidecar as
    "source_recipe" and into the PNG as a tEXt chunk "previz"."""

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
    fps: int | Fraction = 25
    source_recipe: dict[str, Any] | None = None


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

    Raises ValueError for a bad wall, kind, format, source picture or array, recipe,
    or movie length or rate, ExportError when the folder cannot be written or holds
    other files than earlier plates (before any work; an older plate there is left as
    it was), Cancelled (nothing is written)."""
    if request.format not in FORMATS:
        raise ValueError(f"a plate is written as {', '.join(FORMATS)}, not {request.format!r}")
    if request.kind not in KINDS:
        raise ValueError(f"a plate source is {' or '.join(KINDS)}, not {request.kind!r}")
    movie, rate = None, Fraction(25)
    if request.format == "prores":
        rate = movie_rate(request.fps)
        movie = {"codec": "ProRes 4444 (prores_ks)", "seconds": request.seconds, "fps": float(rate),
                 "rate": f"{rate.numerator}/{rate.denominator}", "frames": movie_frames(request.seconds, rate)}
    recipe = _recipe_text(request.source_recipe) if request.save_source else None
    progress = progress or (lambda done, total: None)
    cancelled = cancelled or (lambda: False)
    canvas = wall_canvas(request.wall)
    tiles = plan_tiles(canvas, request.wall.output_capacity)
    out = Path(request.out)
    folder = _plate_folder(out)  # refused before the work, not after it
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
    with _StagedFolder(folder) as staging:
        for index, (tile, name) in enumerate(zip(tiles, names, strict=True)):
            if cancelled():
                raise Cancelled("plate export cancelled")
            write_tile(staging / name, tile.crop(plate), request.format, space, seconds=request.seconds, fps=rate)
            progress(bands + index + 1, total)
        if source_name:
            write_tile(staging / source_name, source, "png8" if source.dtype == np.uint8 else "png16", SRGB,
                       text={"previz": recipe} if recipe else None)
        write_sidecar(staging / f"{request.stem}.json",
                      sidecar(request.wall, canvas, tiles, space, names, source=source_name, movie=movie,
                              source_recipe=json.loads(recipe) if recipe else None))
    saved = out / source_name if source_name else None
    files = tuple(out / name for name in names) + ((saved,) if saved else ()) + (out / f"{request.stem}.json",)
    return PlateReport(out, files, canvas, warning, saved)


def _recipe_text(recipe: dict[str, Any] | None) -> str | None:
    """`recipe` as compact JSON text (ASCII, fit for a PNG tEXt chunk), or None."""
    if recipe is None:
        return None
    if not isinstance(recipe, dict):
        raise ValueError(f"a source recipe is a dict of JSON values, not {type(recipe).__name__}")
    try:
        return json.dumps(recipe, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the source recipe cannot be written as JSON: {exc}") from None


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
    """A plate source as (H, W, 3) pixels for the reprojection: uint8 or uint16 as it is
    (a picture file's 8 or 16 bits, or an array), floats as float32 0..1. Raises
    ValueError naming what is wrong with the file or array."""
    if source is None:
        raise ValueError("a plate needs a source: a picture file, or an environment made for the wall")
    if not isinstance(source, np.ndarray):
        return _load(Path(source))
    if source.ndim != 3 or source.shape[2] != 3 or 0 in source.shape:
        raise ValueError(f"a plate source array is (height, width, 3) RGB, not shape {source.shape}")
    if source.shape[0] * source.shape[1] > MAX_SOURCE_PIXELS:
        raise ValueError(f"the source is {source.shape[1]}×{source.shape[0]}; plates take sources up to 32K × 16K")
    if source.dtype == np.uint8 or source.dtype == np.uint16:
        return source
    if not np.issubdtype(source.dtype, np.floating):
        raise ValueError(f"a plate source array is uint8, uint16 or float 0..1, not {source.dtype}")
    pixels = source.astype(np.float32, copy=False)
    if not np.isfinite(pixels).all():
        raise ValueError("the plate source array holds NaN or infinite values")
    return pixels


def _load(path: Path) -> np.ndarray:
    """The picture at `path` as (H, W, 3): uint8 or uint16 as the file holds it, else
    float32 0..1. Its size is checked from the header, before the pixels are decoded."""
    if not path.is_file():
        raise ValueError(f"the plate source {path} does not exist")
    try:
        with open(path, "rb") as handle:
            head = handle.read(32)
        if head.startswith(_TIFF_MAGIC):
            pixels = _read_tiff(path)
        elif head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR" and len(head) >= 25:
            _check_size(path, *struct.unpack(">II", head[16:24]))
            pixels = _read_png16(path) if head[24] == 16 else _read_pillow(path, PngImagePlugin.PngImageFile)
        elif head.startswith(b"\xff\xd8\xff"):
            pixels = _read_pillow(path, JpegImagePlugin.JpegImageFile)
        else:  # another format Pillow knows, under its own decompression-bomb limit
            pixels = _read_pillow(path, Image.open)
    except (OSError, SyntaxError, Image.DecompressionBombError, tifffile.TiffFileError, av.FFmpegError) as exc:
        raise ValueError(f"cannot read the plate source {path.name}: {exc}") from exc
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        raise ValueError(f"the plate source {path.name} is not an RGB picture (shape {pixels.shape})")
    pixels = pixels[:, :, :3]
    if pixels.dtype == np.uint8 or pixels.dtype == np.uint16:
        return np.ascontiguousarray(pixels)
    if pixels.dtype == np.int32:  # Pillow's 32-bit mode, which holds 16-bit values
        return np.clip(pixels, 0, 65535).astype(np.uint16)
    return np.clip(pixels.astype(np.float32), 0, 1)


def _check_size(path: Path, width: int, height: int) -> None:
    if width * height > MAX_SOURCE_PIXELS:
        raise ValueError(f"{path.name} is {width}×{height}; plates take sources up to 32K × 16K")


def _read_tiff(path: Path) -> np.ndarray:
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        _check_size(path, page.imagewidth, page.imagelength)
        pixels = page.asarray()
        return np.moveaxis(pixels, 0, -1) if page.axes.startswith("S") else pixels  # planar: samples first


def _read_png16(path: Path) -> np.ndarray:
    """A 16-bit PNG (grey or RGB, alpha dropped) as uint16 RGB, decoded by FFmpeg."""
    with open(path, "rb") as handle, av.open(handle, format="png_pipe") as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb48le")
    raise ValueError(f"cannot read the plate source {path.name}: it holds no picture")


def _read_pillow(path: Path, opener: Callable[[Path], Image.Image]) -> np.ndarray:
    """The picture through Pillow. A format's own image class (`opener`) reads the header
    without Pillow's decompression-bomb check, so our larger limit is the one that holds."""
    with opener(path) as image:
        _check_size(path, image.width, image.height)
        return np.asarray(image if image.mode in ("I;16", "I;16B", "I;16L", "I") else image.convert("RGB"))


def check_plate_folder(out: Path | str) -> None:
    """Raise ExportError, as `export_plate` would, when a plate cannot go into `out`:
    for a caller with slow work to do first (generating the source, say)."""
    _plate_folder(Path(out))


def _plate_folder(out: Path) -> Path:
    """The folder to put a plate for `out` in: `out`, or the folder it links to (written
    through; the link stays). Raises ExportError when its parent is missing, or it is a
    file, a link to no folder, or a folder that holds other files than earlier plates."""
    if out.is_symlink():
        target = Path(os.path.realpath(out))
        if not target.is_dir():
            raise ExportError(f"cannot write the plate into {out}: it is a link to {target}, which is not a folder")
        out = target
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist")
    if out.exists() and not out.is_dir():
        raise ExportError(f"cannot write the plate into {out}: a file of that name is in the way")
    _check_replaceable(out)
    return out


def _check_replaceable(folder: Path) -> None:
    """Raise ExportError unless `folder` is missing, empty, or holds only earlier plates:
    the files their sidecars list (tiles, source picture, the sidecar itself)."""
    if not folder.is_dir():
        return
    try:
        entries = {entry.name: entry.is_file(follow_symlinks=False) for entry in os.scandir(folder)}
    except OSError as exc:
        raise ExportError(f"cannot write the plate into {folder}: {exc.strerror or exc}") from exc
    plates: set[str] = set()
    for name, is_file in entries.items():
        if is_file and name.endswith(".json"):
            plates |= _plate_files(folder / name)
    others = sorted(name for name, is_file in entries.items()
                    if not (is_file and name in plates) and name not in _BROWSER_FILES)
    if others:
        shown = ", ".join(others[:3]) + ("…" if len(others) > 3 else "")
        raise ExportError(f"cannot write the plate into {folder}: it holds other files ({shown}); "
                          f"choose an empty folder or an earlier plate's folder")


def _plate_files(path: Path) -> set[str]:
    """The file names the plate sidecar at `path` accounts for, itself included; none
    when it is not a plate's sidecar."""
    try:
        if path.stat().st_size > _MAX_SIDECAR_BYTES:
            return set()
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("canvas"), dict):
            return set()
        names = [tile["file"] for tile in data["tiles"]] + [data.get("source")]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {path.name} | {name for name in names if isinstance(name, str) and name and Path(name).name == name}


class _StagedFolder:
    """A hidden folder beside `out` to write into; on success an older `out` (checked
    again to hold only earlier plates) is moved aside, the new one renamed into place
    and the old one removed. On any error the hidden folder goes and `out` is left as
    it was."""

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
        try:
            _check_replaceable(self.out)  # files may have come while the plate was made
        except ExportError:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise
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
