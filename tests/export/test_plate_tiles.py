"""Plate tiles: cabinet-aligned plans, the JSON sidecar and the EXR/TIFF/PNG16/PNG8
writers, read back with OpenEXR, tifffile, PyAV and Pillow (ProRes: test_plate_movie)."""

from __future__ import annotations

import json

import av
import numpy as np
import OpenEXR
import pytest
import tifffile
from PIL import Image

from previz_app.domain.wall import Cabinet, WallProfile, WallSection, wall_canvas
from previz_app.export import plate_tiles
from previz_app.export.files import ExportError
from previz_app.export.plate_colour import (
    ACESCG,
    OCIO_CONFIG,
    SRGB,
    acescg_to_srgb,
    srgb_to_acescg,
    to_uint8,
    to_uint16,
)
from previz_app.export.plate_tiles import (
    MAX_TILE_SIDE,
    plan_tiles,
    section_origins,
    sidecar,
    tile_file_name,
    write_sidecar,
    write_tile,
)

CABINET = Cabinet(500, 500, 25)  # 20 × 20 px
CURVED = WallProfile("small curve", (WallSection("curved", CABINET, height_m=2.0, radius_m=3.0, arc_deg=90),))
MIXED = WallProfile("curve and wing", (
    WallSection("curved", CABINET, height_m=2.0, radius_m=3.0, arc_deg=60),
    WallSection("flat", Cabinet(500, 250, 25), height_m=1.0, width_m=2.0),  # 20 × 10 px cabinets, shorter
))


def _check_plan(canvas, tiles, capacity, max_side=MAX_TILE_SIDE):
    """Every property a plan must have; returns the coverage count per pixel."""
    coverage = np.zeros((canvas.height_px, canvas.width_px), np.int32)
    origins = section_origins(canvas)
    assert [tile.index for tile in tiles] == list(range(len(tiles)))
    for tile in tiles:
        section = canvas.sections[tile.section]
        x0, y0 = origins[tile.section]
        cab_w, cab_h = section.width_px // section.columns, section.height_px // section.rows
        assert tile.pixels <= capacity and tile.width <= max_side and tile.height <= max_side
        # Inside its own section only, with every edge on a cabinet boundary.
        assert x0 <= tile.x and tile.x + tile.width <= x0 + section.width_px
        assert y0 <= tile.y and tile.y + tile.height <= y0 + section.height_px
        for offset, size in ((tile.x - x0, cab_w), (tile.width, cab_w), (tile.y - y0, cab_h), (tile.height, cab_h)):
            assert offset % size == 0
        first_col, last_col = tile.cabinet_columns
        first_row, last_row = tile.cabinet_rows
        assert (first_col * cab_w, (last_col + 1) * cab_w) == (tile.x - x0, tile.x - x0 + tile.width)
        assert (first_row * cab_h, (last_row + 1) * cab_h) == (tile.y - y0, tile.y - y0 + tile.height)
        coverage[tile.y:tile.y + tile.height, tile.x:tile.x + tile.width] += 1
    for section, (x0, y0) in zip(canvas.sections, origins):
        assert np.all(coverage[y0:y0 + section.height_px, x0:x0 + section.width_px] == 1)
    assert coverage.sum() == canvas.pixels  # exactly once, nothing outside the sections
    return coverage


def test_the_small_wall_is_what_the_tests_assume():
    canvas = wall_canvas(CURVED)
    assert (canvas.width_px, canvas.height_px, canvas.cabinet_px) == (180, 80, (20, 20))  # 9 × 4 cabinets


@pytest.mark.parametrize("capacity", [400, 800, 1200, 1600, 3200, 4000, 6400, 14_400, 100_000])
def test_every_plan_is_cabinet_aligned_within_capacity_and_covers_the_wall_once(capacity):
    for profile in (CURVED, MIXED):
        canvas = wall_canvas(profile)
        _check_plan(canvas, plan_tiles(canvas, capacity), capacity)


def test_full_height_strips_are_preferred_when_they_fit():
    canvas = wall_canvas(CURVED)
    tiles = plan_tiles(canvas, 3 * 1600)  # three full-height columns of 4 cabinets
    assert [(tile.x, tile.width, tile.height) for tile in tiles] == [(0, 60, 80), (60, 60, 80), (120, 60, 80)]
    assert [tile.cabinet_columns for tile in tiles] == [(0, 2), (3, 5), (6, 8)]
    assert all(tile.cabinet_rows == (0, 3) for tile in tiles)
    whole = plan_tiles(canvas, 10**9)
    assert [(tile.x, tile.y, tile.width, tile.height) for tile in whole] == [(0, 0, 180, 80)]


def test_a_section_too_tall_for_one_output_is_split_into_even_bands():
    canvas = wall_canvas(CURVED)
    tiles = plan_tiles(canvas, 3 * 400)  # three cabinets: four rows cannot stand in one tile
    assert sorted({tile.cabinet_rows for tile in tiles}) == [(0, 1), (2, 3)]
    _check_plan(canvas, tiles, 1200)


def test_the_side_limit_splits_tiles_too():
    canvas = wall_canvas(CURVED)
    tiles = plan_tiles(canvas, 10**9, max_side=50)  # two cabinets a side at most
    assert max(tile.width for tile in tiles) == 40 and max(tile.height for tile in tiles) == 40
    _check_plan(canvas, tiles, 10**9, max_side=50)


def test_sections_start_at_the_top_row_and_never_share_a_tile():
    canvas = wall_canvas(MIXED)  # as plate_projection lays the canvas out
    assert section_origins(canvas) == [(0, 0), (canvas.sections[0].width_px, 0)]
    tiles = plan_tiles(canvas, 10**9)
    assert [(tile.section, tile.x, tile.y, tile.width, tile.height) for tile in tiles] == [
        (0, 0, 0, 120, 80), (1, 120, 0, 80, 40)]


def test_a_capacity_below_one_cabinet_is_refused():
    canvas = wall_canvas(CURVED)
    with pytest.raises(ValueError, match="20×20 px cabinet .*400 pixels.* capacity of 399"):
        plan_tiles(canvas, 399)
    with pytest.raises(ValueError, match="side over the 19 px"):
        plan_tiles(canvas, 10**9, max_side=19)


def test_the_sidecar_lists_every_tile_and_is_json():
    canvas = wall_canvas(MIXED)
    tiles = plan_tiles(canvas, 1600)
    names = [tile_file_name("plate", tile, "exr") for tile in tiles]
    data = json.loads(json.dumps(sidecar(MIXED, canvas, tiles, "ACEScg", names)))
    assert data["wall"] == "curve and wing" and data["canvas"] == {"width": 200, "height": 80}
    assert data["cabinet_px"] == [20, 20] and data["colour_space"] == ACESCG and data["ocio_config"] == OCIO_CONFIG
    assert [section["cabinet_px"] for section in data["sections"]] == [[20, 20], [20, 10]]
    assert [entry["file"] for entry in data["tiles"]] == names and names[0] == "plate_000.exr"
    for entry, tile in zip(data["tiles"], tiles):
        assert (entry["x"], entry["y"], entry["width"], entry["height"], entry["section"]) == (
            tile.x, tile.y, tile.width, tile.height, tile.section)
        assert (tuple(entry["cabinet_columns"]), tuple(entry["cabinet_rows"])) == (tile.cabinet_columns, tile.cabinet_rows)
    with pytest.raises(ValueError, match="2 file names"):
        sidecar(MIXED, canvas, tiles, ACESCG, names[:2])


def _random_plate(canvas, seed=5):
    """An sRGB source made smooth and noisy, as ACEScg (what the EXR holds) and sRGB."""
    rng = np.random.default_rng(seed)
    srgb = rng.random((canvas.height_px, canvas.width_px, 3), dtype=np.float32)
    return srgb_to_acescg(srgb), srgb


def _read_png16(path):
    data = path.read_bytes()
    assert data[12:16] == b"IHDR" and data[24:26] == bytes([16, 2])  # 16 bits, RGB
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "rgb48be"
        pixels = frame.to_ndarray()
    # Pillow reads 16-bit RGB PNGs down to 8 bits: the high bytes must agree.
    with Image.open(path) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), (pixels >> 8).astype(np.uint8))
    return pixels


def _read_png8(path):
    data = path.read_bytes()
    assert data[12:16] == b"IHDR" and data[24:26] == bytes([8, 2])  # 8 bits, RGB
    with Image.open(path) as image:
        assert image.mode == "RGB"
        return np.asarray(image)


def _read_back(path, fmt):
    if fmt == "png8":
        return _read_png8(path)
    if fmt == "exr":
        exr = OpenEXR.File(str(path))
        return exr.channels()["RGB"].pixels
    if fmt == "tiff":
        return tifffile.imread(path)
    return _read_png16(path)


@pytest.mark.parametrize("fmt", ["exr", "tiff", "png16", "png8"])
def test_tiles_read_back_reassemble_the_plate_bit_exactly(tmp_path, fmt):
    canvas = wall_canvas(MIXED)
    tiles = plan_tiles(canvas, 2400)
    linear, srgb = _random_plate(canvas)
    plate, space = (linear, ACESCG) if fmt == "exr" else (srgb, SRGB)
    if fmt == "png8":
        plate = to_uint8(srgb, dither=True)  # the whole canvas dithered where it sits, then cut
    names = [tile_file_name("plate", tile, fmt) for tile in tiles]
    for tile, name in zip(tiles, names):
        write_tile(tmp_path / name, tile.crop(plate), fmt, space)
    write_sidecar(tmp_path / "plate.json", sidecar(MIXED, canvas, tiles, space, names))

    expected = {"exr": plate.astype(np.float16), "png8": plate}.get(fmt)
    expected = to_uint16(plate) if expected is None else expected
    data = json.loads((tmp_path / "plate.json").read_text())
    assembled = np.zeros_like(expected)
    filled = np.zeros(expected.shape[:2], bool)
    for entry in data["tiles"]:
        pixels = _read_back(tmp_path / entry["file"], fmt)
        assert pixels.dtype == expected.dtype and pixels.shape == (entry["height"], entry["width"], 3)
        window = (slice(entry["y"], entry["y"] + entry["height"]), slice(entry["x"], entry["x"] + entry["width"]))
        assembled[window] = pixels
        filled[window] = True
    assert np.array_equal(assembled[filled], expected[filled])
    assert filled.sum() == canvas.pixels
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names, "plate.json"])  # no stray temp files


def test_an_exr_tile_is_half_float_acescg_with_its_chromaticities(tmp_path):
    grey = srgb_to_acescg(np.full((20, 40, 3), 0.5, np.float32))
    write_tile(tmp_path / "grey.exr", grey, "exr", "ACEScg")
    exr = OpenEXR.File(str(tmp_path / "grey.exr"), separate_channels=True)
    header = exr.header()
    assert header["colorSpace"] == ACESCG
    np.testing.assert_allclose(header["chromaticities"], (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
                               atol=1e-6)
    assert {name: channel.type() for name, channel in exr.channels().items()} == {
        name: OpenEXR.HALF for name in "RGB"}
    assert exr.channels()["R"].pixels.dtype == np.float16 and exr.channels()["R"].pixels.shape == (20, 40)
    # Back through sRGB, the mid-grey patch is still mid-grey.
    back = acescg_to_srgb(np.stack([exr.channels()[c].pixels for c in "RGB"], axis=-1).astype(np.float32))
    np.testing.assert_allclose(back, 0.5, atol=1e-3)


def test_16_bit_tiles_name_their_colour_space(tmp_path):
    pixels = np.full((10, 20, 3), 0.5, np.float32)
    write_tile(tmp_path / "t.tif", pixels, "tiff", "sRGB - Texture")
    with tifffile.TiffFile(tmp_path / "t.tif") as tif:
        page = tif.pages[0]
        assert page.dtype == np.uint16 and page.photometric == tifffile.PHOTOMETRIC.RGB
        assert json.loads(page.description) == {"colour_space": SRGB, "ocio_config": OCIO_CONFIG}
        assert np.all(page.asarray() == 32768)
    write_tile(tmp_path / "t.png", pixels, "png16", SRGB)
    data = (tmp_path / "t.png").read_bytes()
    assert f"Colour space\0{SRGB} ({OCIO_CONFIG})".encode() in data
    assert b"sRGB" in data[:data.index(b"IDAT")] and b"cHRM" in data[:data.index(b"IDAT")]
    assert np.all(_read_png16(tmp_path / "t.png") == 32768)
    uint16 = np.arange(10 * 20 * 3, dtype=np.uint16).reshape(10, 20, 3) * 97
    write_tile(tmp_path / "u.png", uint16, "png16", SRGB)
    assert np.array_equal(_read_png16(tmp_path / "u.png"), uint16)  # uint16 is written as given


def test_8_bit_tiles_are_tagged_srgb_and_round_without_dither(tmp_path):
    pixels = np.full((10, 20, 3), 0.5, np.float32)
    write_tile(tmp_path / "t.png", pixels, "png8", SRGB)
    data = (tmp_path / "t.png").read_bytes()
    assert f"Colour space\0{SRGB} ({OCIO_CONFIG})".encode() in data
    assert b"sRGB" in data[:data.index(b"IDAT")] and b"cHRM" in data[:data.index(b"IDAT")]
    assert np.all(_read_png8(tmp_path / "t.png") == 128)  # a tile alone is not dithered
    uint8 = (np.arange(10 * 20 * 3).reshape(10, 20, 3) % 256).astype(np.uint8)
    write_tile(tmp_path / "u.png", uint8, "png8", SRGB)
    assert np.array_equal(_read_png8(tmp_path / "u.png"), uint8)  # uint8 is written as given
    with pytest.raises(ValueError, match="8-bit tiles take float"):
        write_tile(tmp_path / "v.png", uint8.astype(np.uint16), "png8", SRGB)


def test_the_sidecar_names_a_saved_source_and_a_movie():
    canvas = wall_canvas(CURVED)
    tiles = plan_tiles(canvas, 10**9)
    plain = sidecar(CURVED, canvas, tiles, SRGB, ["plate_000.png"])
    assert plain["source"] is None and "movie" not in plain
    movie = {"seconds": 2.0, "fps": 25, "frames": 50}
    data = json.loads(json.dumps(sidecar(CURVED, canvas, tiles, SRGB, ["plate_000.mov"], source="plate_source.png",
                                         movie=movie)))
    assert data["source"] == "plate_source.png" and data["movie"] == movie


def test_bad_tiles_are_refused(tmp_path):
    pixels = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="exr, tiff, png16, png8, prores, not 'jpeg'"):
        write_tile(tmp_path / "t.jpg", pixels, "jpeg", ACESCG)
    with pytest.raises(ValueError, match="unknown colour space 'Rec.709ish'"):
        write_tile(tmp_path / "t.exr", pixels, "exr", "Rec.709ish")
    with pytest.raises(ValueError, match=r"\(rows, columns, 3\)"):
        write_tile(tmp_path / "t.exr", pixels[..., :2], "exr", ACESCG)
    with pytest.raises(ValueError, match="float pixels"):
        write_tile(tmp_path / "t.exr", pixels.astype(np.uint16), "exr", ACESCG)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["exr", "tiff", "png16", "png8"])
def test_a_full_disk_leaves_no_tile(tmp_path, full_disk, fmt):
    full_disk(plate_tiles)
    target = tmp_path / f"tile{plate_tiles.FORMATS[fmt]}"
    with pytest.raises(ExportError, match="disk is full"):
        write_tile(target, np.full((20, 20, 3), 0.25, np.float32), fmt, ACESCG if fmt == "exr" else SRGB)
    assert list(tmp_path.iterdir()) == []  # neither the tile nor its temporary file


def test_a_full_disk_keeps_an_earlier_tile_as_it_was(tmp_path, full_disk):
    target = tmp_path / "tile.exr"
    write_tile(target, np.full((20, 20, 3), 0.25, np.float32), "exr", ACESCG)
    before = target.read_bytes()
    full_disk(plate_tiles)
    with pytest.raises(ExportError):
        write_tile(target, np.full((20, 20, 3), 0.75, np.float32), "exr", ACESCG)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["tile.exr"]
