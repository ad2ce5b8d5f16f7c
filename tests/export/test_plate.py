"""A plate end to end: a picture reprojected, converted, tiled and read back; the
source pictures it reads, and the folders it will and will not replace."""

import json
import struct
import zlib

import numpy as np
import OpenEXR
import pytest
import tifffile
from PIL import Image

from previz_app.domain.wall import Cabinet, WallProfile, WallSection
from previz_app.engine.base import Cancelled
from previz_app.export.files import ExportError
from previz_app.export.plate import PlateExport, check_plate_folder, export_plate, source_pixels
from previz_app.export.plate_colour import SRGB, acescg_to_srgb
from previz_app.export.plate_tiles import write_tile

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
        source_pixels(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ValueError, match="cannot read the plate source broken.png"):
        source_pixels(tmp_path / "broken.png")
    with pytest.raises(ExportError, match="does not exist"):
        export_plate(PlateExport(tmp_path / "nowhere" / "plate", wall(), panorama(tmp_path / "p.png")))
    with pytest.raises(ValueError, match="exr, tiff, png16"):
        export_plate(PlateExport(tmp_path / "plate", wall(), panorama(tmp_path / "p.png"), format="jpeg"))


def snapshot(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_a_folder_holding_other_files_is_refused_before_any_work_and_left_as_it_was(tmp_path):
    source = panorama(tmp_path / "pano.png")
    exports = tmp_path / "exports"
    export_plate(PlateExport(exports, wall(), source, format="tiff"))  # a plate, then the project's other work
    for name in ("boards.pdf", "deck.pptx", "cut.mov", "notes.txt"):
        (exports / name).write_bytes(name.encode())
    before, around = snapshot(exports), sorted(path.name for path in tmp_path.iterdir())
    calls = []
    with pytest.raises(ExportError) as refused:
        export_plate(PlateExport(exports, wall(), source, format="tiff"), lambda done, total: calls.append(done))
    assert str(refused.value) == (f"cannot write the plate into {exports}: it holds other files "
                                  f"(boards.pdf, cut.mov, deck.pptx…); choose an empty folder or an earlier plate's folder")
    assert calls == [] and snapshot(exports) == before
    with pytest.raises(ExportError, match="it holds other files"):
        check_plate_folder(exports)
    check_plate_folder(tmp_path / "new")  # a folder still to make is fine
    assert sorted(path.name for path in tmp_path.iterdir()) == around  # no staging folder left behind
    (exports / "notes.txt").unlink()
    (exports / "boards.pdf").unlink()
    (exports / "cut.mov").unlink()
    (exports / "takes").mkdir()
    (exports / "deck.pptx").rename(exports / "takes" / "deck.pptx")
    with pytest.raises(ExportError, match=r"other files \(takes\)"):  # a folder is not a plate's either
        export_plate(PlateExport(exports, wall(), source, format="tiff"))


def test_an_empty_folder_or_an_earlier_plates_folder_is_replaced(tmp_path):
    source = panorama(tmp_path / "pano.png")
    (tmp_path / "empty").mkdir()
    report = export_plate(PlateExport(tmp_path / "empty", wall(), source, format="tiff"))
    assert sorted(report.files) == sorted((tmp_path / "empty").iterdir())
    earlier = export_plate(PlateExport(tmp_path / "plate", wall(), source, stem="sky", format="png16",
                                       save_source=True))
    (earlier.out / ".DS_Store").write_bytes(b"\0")  # what a file browser leaves
    report = export_plate(PlateExport(tmp_path / "plate", wall(arc=180), source, format="tiff"))
    assert sorted((tmp_path / "plate").iterdir()) == sorted(report.files)  # the earlier plate is gone whole


def test_a_linked_folder_is_written_through_and_the_link_kept(tmp_path):
    source = panorama(tmp_path / "pano.png")
    (tmp_path / "disk").mkdir()
    target = tmp_path / "disk" / "plate"
    export_plate(PlateExport(target, wall(), source, format="tiff"))
    link = tmp_path / "plate"
    link.symlink_to(target, target_is_directory=True)
    report = export_plate(PlateExport(link, wall(arc=180), source, format="tiff"))
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert json.loads((target / "plate.json").read_text())["canvas"]["width"] == report.canvas.width_px
    assert all(path.parent == link and path.is_file() for path in report.files)
    (target / "boards.pdf").write_bytes(b"%PDF")
    with pytest.raises(ExportError, match="it holds other files \\(boards.pdf\\)"):
        export_plate(PlateExport(link, wall(), source, format="tiff"))
    dangling = tmp_path / "gone"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ExportError, match="is a link to .*nowhere, which is not a folder"):
        export_plate(PlateExport(dangling, wall(), source, format="tiff"))


def test_a_16_bit_png_is_read_at_16_bits(tmp_path):
    ramp = np.arange(3 * 4096, dtype=np.uint16).reshape(1, 4096, 3) * 5  # 12,288 levels
    write_tile(tmp_path / "ramp.png", np.repeat(ramp, 3, axis=0), "png16", SRGB)
    pixels = source_pixels(tmp_path / "ramp.png")
    assert pixels.dtype == np.uint16 and np.array_equal(pixels, np.repeat(ramp, 3, axis=0))
    grey = np.arange(600, dtype=np.uint16).reshape(20, 30) * 109
    Image.fromarray(grey).save(tmp_path / "grey.png")  # Pillow writes a 16-bit greyscale PNG
    assert np.array_equal(source_pixels(tmp_path / "grey.png"), np.dstack([grey] * 3))


def test_a_png16_plate_read_back_as_a_source_keeps_its_16_bits(tmp_path):
    lon = np.linspace(0, 1, 2048)[None, :]
    lat = np.linspace(0, 1, 1024)[:, None]
    smooth = np.dstack([0.2 + 0.6 * lon * np.ones_like(lat), 0.3 + 0.4 * lat * np.ones_like(lon),
                        0.5 + 0.2 * np.sin(7 * lon) * np.cos(5 * lat)]).astype(np.float32)
    report = export_plate(PlateExport(tmp_path / "plate", wall(capacity=20_000), smooth, format="png16"))
    pixels = source_pixels(report.files[0])
    assert pixels.dtype == np.uint16 and len(np.unique(pixels[..., 0])) > 256
    with Image.open(report.files[0]) as eight_bits:  # Pillow's own (8-bit) reading agrees
        assert np.abs(pixels / 257 - np.asarray(eight_bits.convert("RGB"))).max() <= 1


def png_header(width, height, depth=8):
    """A PNG that claims to be `width` × `height` RGB: signature, IHDR, a token IDAT, IEND."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def tiff_header(width, height):
    """A little-endian TIFF whose one page claims to be `width` × `height` 8-bit RGB."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 8), (277, 3, 1, 3), (278, 4, 1, height), (279, 4, 1, width * height * 3 % 2**32),
               (284, 3, 1, 1)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *entry) for entry in entries) + b"\0" * 4
    return b"II*\0" + struct.pack("<I", 8) + ifd


@pytest.mark.parametrize(("name", "data"), [
    ("huge.png", png_header(40000, 20000)), ("huge16.png", png_header(40000, 20000, 16)),
    ("huge.tif", tiff_header(40000, 20000)),
])
def test_a_source_over_our_limit_is_refused_from_its_header(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=rf"^{name} is 40000×20000; plates take sources up to 32K × 16K$"):
        source_pixels(tmp_path / name)


def test_pillows_smaller_bomb_limit_does_not_refuse_what_ours_allows(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # as if these pictures were past Pillow's 179 Mpx
    picture = np.arange(64 * 32 * 3, dtype=np.uint8).reshape(32, 64, 3)
    Image.fromarray(picture).save(tmp_path / "pano.png")
    Image.fromarray(picture).save(tmp_path / "pano.jpg", quality=95)
    assert np.array_equal(source_pixels(tmp_path / "pano.png"), picture)
    assert source_pixels(tmp_path / "pano.jpg").shape == (32, 64, 3)
    assert Image.MAX_IMAGE_PIXELS == 500  # Pillow's limit is left as it is for everyone else
