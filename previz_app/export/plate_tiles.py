"""Cutting a wall plate into tiles a media server plays, and writing them: half-float
EXR, 16-bit TIFF and PNG, 8-bit PNG, or ProRes 4444 movies (plate_movie).

Tiles follow the cabinets: every edge falls on a cabinet boundary, a tile never spans
two sections, and none holds more pixels than one processor output drives or has a
side over 16,384 px. Full-height column strips are preferred; a section too tall for
one output is split into bands of rows too. A JSON sidecar gives each tile's file,
pixel origin, size and cabinet range, so the tiles reassemble bit-exactly.

Canvas layout, as plate_projection has it: each section's pixels start at canvas row 0
(its top edge); the rows below a section shorter than the tallest are not on the wall,
so no tile covers them. Cabinet columns count from the section's left, rows from its top, 0-based
and inclusive.
"""

from __future__ import annotations

import io
import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import OpenEXR
import tifffile

from ..domain.wall import WallCanvas, WallProfile
from .files import ExportError, staged_output
from .plate_colour import CHROMATICITIES, OCIO_CONFIG, SRGB, to_uint8, to_uint16
from .plate_colour import colour_space_name as known_space
from .plate_movie import write_prores

MAX_TILE_SIDE = 16_384  # prores_ks takes this too (plate_movie)
FORMATS = {"exr": ".exr", "tiff": ".tif", "png16": ".png", "png8": ".png", "prores": ".mov"}  # format -> suffix
_HALF_MAX = 65504.0  # the largest finite half float
# zlib level 3: on a wall plate's tile a quarter of the default level's time (6) for 5% more bytes.
PNG_OPTIONS = {"compression_level": "3"}


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile: where it sits on the canvas and which cabinets of which section it drives."""

    index: int
    x: int
    y: int
    width: int
    height: int
    cabinet_columns: tuple[int, int]  # first, last (inclusive) within the section
    cabinet_rows: tuple[int, int]  # first, last (inclusive), from the section's top
    section: int  # index into canvas.sections

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def crop(self, plate: np.ndarray) -> np.ndarray:
        """This tile's pixels of a full-canvas `plate` (rows, columns, ...), as a view."""
        return plate[self.y:self.y + self.height, self.x:self.x + self.width]


def section_origins(canvas: WallCanvas) -> list[tuple[int, int]]:
    """The (x, y) canvas pixel of each section's top-left corner: side by side from the
    left, all starting at row 0."""
    origins, x = [], 0
    for section in canvas.sections:
        origins.append((x, 0))
        x += section.width_px
    return origins


def plan_tiles(canvas: WallCanvas, output_capacity: int, max_side: int = MAX_TILE_SIDE) -> list[Tile]:
    """Tiles covering every section of `canvas` exactly once, left to right then top
    to bottom within a section; each holds at most `output_capacity` pixels and no
    side over `max_side`, with edges on cabinet boundaries.

    Raises ValueError when one cabinet is more than an output or `max_side` can take."""
    if output_capacity <= 0 or max_side <= 0:
        raise ValueError("the output capacity and the largest tile side must be above zero")
    tiles: list[Tile] = []
    for number, (section, (x0, y0)) in enumerate(zip(canvas.sections, section_origins(canvas))):
        cab_w, cab_h = section.width_px // section.columns, section.height_px // section.rows
        where = f"section {number + 1}'s" if len(canvas.sections) > 1 else "the"
        if cab_w * cab_h > output_capacity:
            raise ValueError(f"{where} {cab_w}×{cab_h} px cabinet ({cab_w * cab_h:,} pixels) is more than one "
                             f"output's capacity of {output_capacity:,}; raise the capacity")
        if max(cab_w, cab_h) > max_side:
            raise ValueError(f"{where} {cab_w}×{cab_h} px cabinet has a side over the {max_side:,} px tile limit")
        # As many whole rows as fit one output, spread evenly over the fewest bands.
        fit_rows = min(section.rows, max_side // cab_h, output_capacity // (cab_w * cab_h))
        bands = _spread(section.rows, math.ceil(section.rows / fit_rows))
        for first_row, rows in bands:
            fit_cols = min(section.columns, max_side // cab_w, output_capacity // (cab_w * cab_h * rows))
            for first_col, cols in _spread(section.columns, math.ceil(section.columns / fit_cols)):
                tiles.append(Tile(
                    index=len(tiles), x=x0 + first_col * cab_w, y=y0 + first_row * cab_h,
                    width=cols * cab_w, height=rows * cab_h,
                    cabinet_columns=(first_col, first_col + cols - 1),
                    cabinet_rows=(first_row, first_row + rows - 1), section=number,
                ))
    return tiles


def _spread(count: int, parts: int) -> list[tuple[int, int]]:
    """(first, size) of `parts` runs covering `count` items, sizes differing by at most one."""
    base, extra = divmod(count, parts)
    runs, first = [], 0
    for part in range(parts):
        size = base + (part < extra)
        runs.append((first, size))
        first += size
    return runs


def tile_file_name(stem: str, tile: Tile, fmt: str) -> str:
    """The file name of `tile` in a plate named `stem`, e.g. "plate_003.exr"."""
    return f"{stem}_{tile.index:03d}{_suffix(fmt)}"


def sidecar(profile: WallProfile, canvas: WallCanvas, tiles: list[Tile], colour_space: str,
            file_names: list[str], *, source: str | None = None,
            movie: dict[str, Any] | None = None, source_recipe: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready description of a tiled plate: the wall, the canvas, the colour space,
    the source picture's file beside the tiles (`source`, None when not saved) and how it
    was made (`source_recipe`, when given), a movie's timing (`movie`, for ProRes tiles)
    and, for each tile, its file, pixel origin, size, section and cabinet range. Raises
    ValueError when `file_names` does not name every tile once."""
    if len(file_names) != len(tiles):
        raise ValueError(f"{len(tiles)} tiles but {len(file_names)} file names")
    if len(set(file_names)) != len(file_names):
        raise ValueError("two tiles share a file name")
    data: dict[str, Any] = {
        "wall": profile.name,
        "canvas": {"width": canvas.width_px, "height": canvas.height_px},
        "cabinet_px": list(canvas.cabinet_px),
        "output_capacity": canvas.output_capacity,
        "colour_space": known_space(colour_space),
        "ocio_config": OCIO_CONFIG,
        "sections": [
            {"x": x, "y": y, "width": section.width_px, "height": section.height_px,
             "cabinet_px": [section.width_px // section.columns, section.height_px // section.rows],
             "columns": section.columns, "rows": section.rows}
            for section, (x, y) in zip(canvas.sections, section_origins(canvas))
        ],
        "tiles": [
            {"file": name, "index": tile.index, "x": tile.x, "y": tile.y, "width": tile.width,
             "height": tile.height, "section": tile.section,
             "cabinet_columns": list(tile.cabinet_columns), "cabinet_rows": list(tile.cabinet_rows)}
            for tile, name in zip(tiles, file_names)
        ],
        "source": source,
    }
    if source_recipe is not None:
        data["source_recipe"] = source_recipe
    if movie is not None:
        data["movie"] = dict(movie)
    return data


def write_sidecar(path: Path, data: dict[str, Any]) -> None:
    """Write `sidecar`'s dict as indented JSON. Raises ExportError when it cannot be written."""
    _store(Path(path), (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def write_tile(path: Path, pixels: np.ndarray, fmt: str, colour_space_name: str, *,
               seconds: float = 10.0, fps: int | Fraction = 25, text: Mapping[str, str] | None = None) -> None:
    """Write one tile's `pixels` (rows, columns, 3), already in `colour_space_name`.

    `exr`: half-float RGB (values beyond ±65504 are clipped to it), ZIP-compressed,
    with the colour space as a `colorSpace` header string and its `chromaticities`.
    `tiff`, `png16`: 16-bit RGB; floats are taken as 0..1 and rounded (clipped), uint16
    is written as is; the colour space is named in the TIFF description and in a PNG
    tEXt chunk (an sRGB plate's PNG also gets the sRGB, cHRM and gAMA chunks), and a PNG
    gets a tEXt chunk for each of `text`'s keywords (Latin-1, 1 to 79 characters) too.
    `png8`: 8-bit RGB, likewise; uint8 is written as is, floats are rounded without
    dither (dither the whole canvas with plate_colour.to_uint8 so tiles agree).
    `prores`: a still ProRes 4444 movie of `seconds` at `fps` (plate_movie.write_prores).
    The file appears whole or not at all. Raises ValueError for a bad format, shape
    or colour space, ExportError when the disk refuses it."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or 0 in pixels.shape:
        raise ValueError(f"a tile is (rows, columns, 3) RGB pixels, not shape {pixels.shape}")
    _suffix(fmt)
    name = known_space(colour_space_name)
    if fmt == "prores":
        write_prores(Path(path), pixels, name, seconds, fps)
        return
    if fmt == "exr":
        data = _exr_bytes(pixels, name)
    elif fmt == "png8":
        if not (pixels.dtype == np.uint8 or np.issubdtype(pixels.dtype, np.floating)):
            raise ValueError(f"8-bit tiles take float (0..1) or uint8 pixels, not {pixels.dtype}")
        data = _png_bytes(pixels if pixels.dtype == np.uint8 else to_uint8(pixels), name, text)
    else:
        if not (pixels.dtype == np.uint16 or np.issubdtype(pixels.dtype, np.floating)):
            raise ValueError(f"16-bit tiles take float (0..1) or uint16 pixels, not {pixels.dtype}")
        values = pixels if pixels.dtype == np.uint16 else to_uint16(pixels)
        data = _tiff_bytes(values, name) if fmt == "tiff" else _png_bytes(values, name, text)
    _store(Path(path), data)


def _suffix(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"a plate tile is {', '.join(FORMATS)}, not {fmt!r}")
    return FORMATS[fmt]


def _store(path: Path, data: bytes) -> None:
    # Encoded in memory (a tile is at most one output's pixels) and written from Python, so a
    # full disk is an OSError that staged_output turns into ExportError, whatever the encoder.
    with staged_output(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)


def _exr_bytes(pixels: np.ndarray, space: str) -> bytes:
    if not np.issubdtype(pixels.dtype, np.floating):
        raise ValueError(f"EXR tiles take float pixels (scene-linear), not {pixels.dtype}")
    half = np.clip(pixels, -_HALF_MAX, _HALF_MAX).astype(np.float16)
    header: dict[str, Any] = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
                              "colorSpace": space}
    if space in CHROMATICITIES:
        header["chromaticities"] = CHROMATICITIES[space]
    buffer = io.BytesIO()
    try:
        OpenEXR.File(header, {"RGB": np.ascontiguousarray(half)}).write(buffer)
    except Exception as exc:  # the binding raises RuntimeError for what the library refuses
        raise ExportError(f"cannot encode the EXR tile: {exc}") from exc
    return buffer.getvalue()


def _tiff_bytes(values: np.ndarray, space: str) -> bytes:
    buffer = io.BytesIO()
    description = json.dumps({"colour_space": space, "ocio_config": OCIO_CONFIG})
    tifffile.imwrite(buffer, np.ascontiguousarray(values), photometric="rgb", compression="zlib",
                     description=description, metadata=None)
    return buffer.getvalue()


def _png_bytes(values: np.ndarray, space: str, text: Mapping[str, str] | None = None) -> bytes:
    """A PNG of uint8 or uint16 RGB `values`, with the colour space named (and tagged if
    sRGB) and `text`'s keywords as tEXt chunks."""
    # Pillow has no 16-bit RGB mode to save from; FFmpeg's PNG encoder (PyAV) writes rgb48be,
    # and rgb24 through the same path gets the same colour chunks.
    rows, cols = values.shape[:2]
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height = cols, rows
    codec.options = dict(PNG_OPTIONS)
    if values.dtype == np.uint8:
        codec.pix_fmt = "rgb24"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(values), format="rgb24")
    else:
        codec.pix_fmt = "rgb48be"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(values), format="rgb48le").reformat(format="rgb48be")
    if space == SRGB:
        frame.color_trc, frame.color_primaries = 13, 1  # IEC 61966-2-1, BT.709: sRGB, cHRM, gAMA chunks
    data = b"".join(bytes(packet) for packet in [*codec.encode(frame), *codec.encode(None)])
    chunks = {"Colour space": f"{space} ({OCIO_CONFIG})", **(text or {})}
    for keyword, value in reversed(chunks.items()):
        data = _with_text_chunk(data, keyword, value)
    return data


def _with_text_chunk(png: bytes, keyword: str, text: str) -> bytes:
    """`png` with a tEXt chunk just after its IHDR (signature 8 bytes, IHDR 25)."""
    if not (0 < len(keyword) < 80 and keyword.isprintable()):
        raise ValueError(f"a PNG text keyword is 1 to 79 printable characters, not {keyword!r}")
    body = keyword.encode("latin-1") + b"\0" + text.encode("latin-1", "replace")
    chunk = len(body).to_bytes(4, "big") + b"tEXt" + body + zlib.crc32(b"tEXt" + body).to_bytes(4, "big")
    return png[:33] + chunk + png[33:]
