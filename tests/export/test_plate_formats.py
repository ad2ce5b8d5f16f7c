"""Plates from arrays in memory, with the source saved beside them, as dithered 8-bit
PNG and as ProRes 4444 movies: exported end to end and read back independently."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
import tifffile
from PIL import Image

from previz_app.domain.wall import Cabinet, WallProfile, WallSection
from previz_app.export.plate import BAND_ROWS, PlateExport, export_plate
from previz_app.export.plate_colour import REC709, SRGB, srgb_to_rec709, to_uint8, to_uint16
from previz_app.export.plate_projection import reproject_rows

CABINET = Cabinet(500, 500, 25)  # 20 × 20 px
WALL = WallProfile("test", (WallSection("curved", CABINET, 1.5, radius_m=3.0, arc_deg=270),), 2_000)  # 560 × 60


def pano(width=720, height=360):
    """A smooth equirect as uint8: colour follows longitude and latitude."""
    lon = np.linspace(0, 2 * np.pi, width, endpoint=False)[None, :]
    lat = np.linspace(0, np.pi, height)[:, None]
    rgb = np.dstack([0.5 + 0.4 * np.sin(lon) * np.ones_like(lat), 0.5 + 0.4 * np.cos(lat) * np.ones_like(lon),
                     0.5 + 0.3 * np.cos(lon) * np.sin(lat)])
    return (rgb * 255).round().astype(np.uint8)


def reassemble(out, read):
    meta = json.loads((out / "plate.json").read_text())
    tiles = [(tile, read(out / tile["file"])) for tile in meta["tiles"]]
    plate = np.zeros((meta["canvas"]["height"], meta["canvas"]["width"], 3), tiles[0][1].dtype)
    for tile, pixels in tiles:
        assert pixels.shape == (tile["height"], tile["width"], 3)
        plate[tile["y"]:tile["y"] + tile["height"], tile["x"]:tile["x"] + tile["width"]] = pixels
    return meta, plate


def read_png8(path):
    with Image.open(path) as image:
        assert image.mode == "RGB"
        return np.asarray(image)


def read_png16(path):
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "rgb48be"
        return frame.to_ndarray()


def test_an_array_source_makes_the_plate_its_picture_file_makes(tmp_path):
    source = pano()
    Image.fromarray(source).save(tmp_path / "pano.png")
    from_file = export_plate(PlateExport(tmp_path / "file", WALL, tmp_path / "pano.png", format="tiff"))
    from_array = export_plate(PlateExport(tmp_path / "array", WALL, source, format="tiff"))
    from_floats = export_plate(PlateExport(tmp_path / "floats", WALL, source.astype(np.float32) / 255, format="tiff"))
    _, expected = reassemble(from_file.out, tifffile.imread)
    assert np.array_equal(reassemble(from_array.out, tifffile.imread)[1], expected)
    floats = reassemble(from_floats.out, tifffile.imread)[1].astype(np.int64)
    assert np.abs(floats - expected).max() <= 1  # the same up to a 16-bit rounding step
    assert from_array.warning == from_file.warning and from_array.source is None


def test_the_source_is_saved_beside_the_plate_and_named_in_the_sidecar(tmp_path):
    source = pano()
    report = export_plate(PlateExport(tmp_path / "plate", WALL, source, format="png16", save_source=True))
    meta = json.loads((report.out / "plate.json").read_text())
    assert meta["source"] == "plate_source.png" and report.source == report.out / "plate_source.png"
    assert report.files[-2:] == (report.source, report.out / "plate.json")
    data = report.source.read_bytes()
    assert data[24:26] == bytes([8, 2])  # an 8-bit source stays 8-bit
    assert np.array_equal(read_png8(report.source), source)
    floats = np.linspace(0, 1, 360 * 720 * 3, dtype=np.float32).reshape(360, 720, 3)
    report = export_plate(PlateExport(tmp_path / "deep", WALL, floats, kind="equirect", stem="sky", save_source=True))
    assert json.loads((report.out / "sky.json").read_text())["source"] == "sky_source.png"
    assert report.source.read_bytes()[24:26] == bytes([16, 2])  # a float source is kept in 16 bits
    assert np.array_equal(read_png16(report.source), to_uint16(floats))
    plain = export_plate(PlateExport(tmp_path / "plain", WALL, source))
    assert json.loads((plain.out / "plate.json").read_text())["source"] is None
    assert not any(path.name.endswith("_source.png") for path in plain.out.iterdir())


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((90, 180), np.uint8), r"\(height, width, 3\)"),
    (np.zeros((90, 180, 4), np.uint8), r"\(height, width, 3\)"),
    (np.zeros((90, 180, 3), np.int8), "uint8, uint16 or float"),
    (np.full((90, 180, 3), np.nan, np.float32), "NaN"),
])
def test_bad_source_arrays_are_refused(tmp_path, array, message):
    with pytest.raises(ValueError, match=message):
        export_plate(PlateExport(tmp_path / "plate", WALL, array))
    assert list(tmp_path.iterdir()) == []


def test_a_png8_plate_is_one_dithered_canvas_cut_into_tiles(tmp_path):
    tall = WallProfile("tall", (WallSection("curved", CABINET, 3.5, radius_m=3.0, arc_deg=270),), 2_000)  # 560 × 140
    source = pano()
    report = export_plate(PlateExport(tmp_path / "plate", tall, source, format="png8"))
    meta, plate = reassemble(report.out, read_png8)
    assert meta["colour_space"] == SRGB and len(meta["tiles"]) > 1 and meta["canvas"]["height"] > BAND_ROWS
    # Bit-exact with the whole canvas dithered in one go: the bands and tiles share one grain.
    whole = reproject_rows(source, "equirect", tall, slice(None))
    assert np.array_equal(plate, to_uint8(whole, dither=True))
    undithered = export_plate(PlateExport(tmp_path / "flat", tall, source, format="png8", dither=False))
    assert np.array_equal(reassemble(undithered.out, read_png8)[1], to_uint8(whole))


def _longest_run(row: np.ndarray) -> int:
    changes = np.flatnonzero(np.diff(row.astype(int)) != 0)
    return int(np.diff(np.concatenate([[-1], changes, [row.size - 1]])).max())


def test_dither_breaks_up_the_bands_of_a_slow_sky(tmp_path):
    # A wide sky from 0.40 to 0.42 across the wall: five 8-bit levels, bands over 100 px wide.
    sky = np.broadcast_to(np.linspace(0.40, 0.42, 1120, dtype=np.float32)[None, :, None], (120, 1120, 3)).copy()
    truth = reproject_rows(sky, "wide", WALL, slice(None))[..., 0] * 255
    bands = reassemble(export_plate(PlateExport(tmp_path / "a", WALL, sky, "wide", "png8", dither=False)).out,
                       read_png8)[1][..., 0]
    grain = reassemble(export_plate(PlateExport(tmp_path / "b", WALL, sky, "wide", "png8")).out, read_png8)[1][..., 0]
    assert min(_longest_run(row) for row in bands) > 80
    assert max(_longest_run(row) for row in grain) < 40
    assert np.count_nonzero(np.diff(grain.astype(int), axis=1)) > 20 * np.count_nonzero(np.diff(bands.astype(int), axis=1))
    # Averaged over 10 × 10 px patches, the grain follows the true gradient; the bands do not.
    def patch_error(values):
        means = (values.astype(np.float64) - truth).reshape(6, 10, 56, 10).mean(axis=(1, 3))
        return np.abs(means)

    assert patch_error(grain).max() < 0.3 and patch_error(grain).mean() < 0.08
    assert patch_error(bands).mean() > 0.15
    assert np.abs(grain.astype(int) - np.rint(truth)).max() <= 1  # grain of ±1 level, no more


def decoded_rgb(frame):
    """A decoded ProRes frame (4:4:4, 10 or 12 bits) back to R'G'B' 0..1 through BT.709."""
    depth = int(frame.format.name.split("p")[-1][:2])
    planes = [np.frombuffer(plane, np.uint16).reshape(frame.height, -1)[:, :frame.width] / 2 ** (depth - 8)
              for plane in frame.planes[:3]]
    luma, blue_diff, red_diff = (planes[0] - 16) / 219, (planes[1] - 128) / 224, (planes[2] - 128) / 224
    red, blue = luma + 1.5748 * red_diff, luma + 1.8556 * blue_diff
    return np.dstack([red, (luma - 0.2126 * red - 0.0722 * blue) / 0.7152, blue])


def test_a_prores_plate_is_a_movie_per_tile_of_rec709_video(tmp_path):
    source = pano()
    report = export_plate(PlateExport(tmp_path / "plate", WALL, source, format="prores", seconds=0.2, fps=25))
    meta = json.loads((report.out / "plate.json").read_text())
    assert meta["colour_space"] == REC709 and meta["movie"]["frames"] == 5 and meta["movie"]["fps"] == 25
    assert meta["movie"]["rate"] == "25/1"
    expected = to_uint16(srgb_to_rec709(reproject_rows(source, "equirect", WALL, slice(None)))) / 65535
    for tile in meta["tiles"]:
        assert tile["file"].endswith(".mov")
        with av.open(str(report.out / tile["file"])) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.name, stream.codec_context.profile) == ("prores", "4444")
            assert (stream.width, stream.height) == (tile["width"], tile["height"])
            assert stream.codec_context.color_trc == 1 and container.duration / 1e6 == pytest.approx(0.2)
            frames = list(container.decode(video=0))
        assert len(frames) == 5
        window = expected[tile["y"]:tile["y"] + tile["height"], tile["x"]:tile["x"] + tile["width"]]
        error = np.abs(decoded_rgb(frames[-1]) - window)
        assert error.max() < 0.006 and error.mean() < 0.001


def test_a_movie_that_cannot_be_made_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="more than zero seconds"):
        export_plate(PlateExport(tmp_path / "plate", WALL, pano(), format="prores", seconds=0))
    with pytest.raises(ValueError, match="frames per second"):
        export_plate(PlateExport(tmp_path / "plate", WALL, pano(), format="prores", fps=0))
    assert list(tmp_path.iterdir()) == []


def test_a_prores_plate_plays_at_an_ntsc_rate(tmp_path):
    rate = Fraction(24000, 1001)
    report = export_plate(PlateExport(tmp_path / "plate", WALL, pano(), format="prores", seconds=1.0, fps=rate))
    movie = json.loads((report.out / "plate.json").read_text())["movie"]
    assert movie["rate"] == "24000/1001" and movie["fps"] == pytest.approx(23.976, abs=1e-3)
    assert movie["frames"] == 24  # 23.976 rounds to 24
    with av.open(str(report.files[0])) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == rate and stream.frames == 24
        assert len(list(container.decode(video=0))) == 24


def test_the_sources_recipe_goes_into_the_sidecar_and_the_saved_picture(tmp_path):
    recipe = {"engine": "blocking", "prompt": "exterior, snowy forest, night light", "seed": 3, "size": [720, 360],
              "staging": {"location": "SNOWY FOREST", "time_of_day": "NIGHT"}}
    report = export_plate(PlateExport(tmp_path / "plate", WALL, pano(), format="png8", save_source=True,
                                      source_recipe=recipe))
    assert json.loads((report.out / "plate.json").read_text())["source_recipe"] == recipe
    with Image.open(report.source) as saved:
        assert json.loads(saved.text["previz"]) == recipe
        assert saved.text["Colour space"].startswith(SRGB)
        assert np.array_equal(np.asarray(saved), pano())
    # Not saved, no recipe to keep; a recipe JSON cannot hold is refused before anything is written.
    plain = export_plate(PlateExport(tmp_path / "plain", WALL, pano(), source_recipe=recipe))
    assert "source_recipe" not in json.loads((plain.out / "plate.json").read_text())
    with pytest.raises(ValueError, match="the source recipe cannot be written as JSON"):
        export_plate(PlateExport(tmp_path / "bad", WALL, pano(), save_source=True, source_recipe={"seeds": {1, 2}}))
    assert not (tmp_path / "bad").exists()
