"""A plate end to end: a picture reprojected, converted, tiled and read back."""

import json

import numpy as np
import OpenEXR
import pytest
import tifffile
from PIL import Image

from previz_app.domain.wall import Cabinet, WallProfile, WallSection
from previz_app.engine.base import Cancelled
from previz_app.export.files import ExportError
from previz_app.export.plate import PlateExport, export_plate, read_source
from previz_app.export.plate_colour import acescg_to_srgb

# A small curved wall: 500 mm cabinets of 25 mm pixels (20 × 20), 3 m radius.
CABINET = Cabinet(500, 500, 25)


def wall(arc=270.0, capacity=2_000):
    return WallProfile("test", (WallSection("curved", CABINET, 1.5, radius_m=3.0, arc_deg=arc),), capacity)


def panorama(path, width=720, height=360):
    """A smooth equirect: colour follows longitude and latitude."""
    lon = np.linspace(0, 2 * np.pi, width, endpoint=False)[None, :]
    lat = np.linspace(0, np.pi, height)[:, None]
    red = 0.5 + 0.4 * np.sin(lon) * np.ones_like(lat)
    green = 0.5 + 0.4 * np.cos(lat) * np.ones_like(lon)
    blue = 0.5 + 0.3 * np.cos(lon) * np.sin(lat)
    Image.fromarray((np.dstack([red, green, blue]) * 255).round().astype(np.uint8)).save(path)
    return path


def reassemble(out):
    meta = json.loads((out / "plate.json").read_text())
    plate = np.zeros((meta["canvas"]["height"], meta["canvas"]["width"], 3), np.float32)
    for tile in meta["tiles"]:
        path = out / tile["file"]
        if path.suffix == ".exr":
            with OpenEXR.File(str(path)) as exr:
                channels = exr.channels()
                pixels = channels["RGB"].pixels if "RGB" in channels else np.dstack([channels[c].pixels for c in "RGB"])
        else:
            pixels = tifffile.imread(path).astype(np.float32) / 65535
        plate[tile["y"]:tile["y"] + tile["height"], tile["x"]:tile["x"] + tile["width"]] = pixels
    return meta, plate


def test_an_exr_plate_is_tiled_scene_linear_and_reassembles(tmp_path):
    source = panorama(tmp_path / "pano.png")
    report = export_plate(PlateExport(tmp_path / "plate", wall(), source))
    meta, plate = reassemble(report.out)
    assert meta["colour_space"] == "ACEScg" and len(meta["tiles"]) == len(report.files) - 1 > 1
    assert (meta["canvas"]["width"], meta["canvas"]["height"]) == (report.canvas.width_px, report.canvas.height_px)
    assert all(tile["width"] * tile["height"] <= 2_000 for tile in meta["tiles"])
    # Back to sRGB, the plate holds the panorama's colours, not black or garbage.
    shown = acescg_to_srgb(plate.reshape(-1, 3)).reshape(plate.shape)
    assert 0.05 < shown.min() and shown.max() < 0.95 and shown.std() > 0.05


def test_a_360_wall_meets_itself_without_a_seam(tmp_path):
    source = panorama(tmp_path / "pano.png")
    report = export_plate(PlateExport(tmp_path / "plate", wall(arc=360), source, format="tiff"))
    _meta, plate = reassemble(report.out)
    steps = np.abs(np.diff(plate, axis=1)).max()
    seam = np.abs(plate[:, -1] - plate[:, 0]).max()
    assert seam <= steps + 1 / 65535


def test_a_small_source_warns_by_how_much(tmp_path):
    source = panorama(tmp_path / "small.png", 90, 45)
    report = export_plate(PlateExport(tmp_path / "plate", wall(), source, format="png16"))
    assert report.warning is not None and "px/°" in report.warning and "too few" in report.warning
    big = export_plate(PlateExport(tmp_path / "plate", wall(), panorama(tmp_path / "big.png", 2048, 1024)))
    assert big.warning is None


def test_a_cancelled_or_failed_export_leaves_the_older_plate(tmp_path):
    source = panorama(tmp_path / "pano.png")
    out = tmp_path / "plate"
    export_plate(PlateExport(out, wall(), source, format="tiff"))
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    calls = []

    def cancel_late():
        calls.append(1)
        return len(calls) > 6  # after the bands, among the tiles

    with pytest.raises(Cancelled):
        export_plate(PlateExport(out, wall(), panorama(tmp_path / "other.png", 360, 180), format="tiff"),
                     cancelled=cancel_late)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other.png", "pano.png", "plate"]


def test_bad_sources_and_folders_are_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_source(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ValueError, match="cannot read the plate source broken.png"):
        read_source(tmp_path / "broken.png")
    with pytest.raises(ExportError, match="does not exist"):
        export_plate(PlateExport(tmp_path / "nowhere" / "plate", wall(), panorama(tmp_path / "p.png")))
    with pytest.raises(ValueError, match="exr, tiff, png16"):
        export_plate(PlateExport(tmp_path / "plate", wall(), panorama(tmp_path / "p.png"), format="jpeg"))
