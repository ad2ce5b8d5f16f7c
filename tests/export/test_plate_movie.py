"""ProRes 4444 plate tiles, decoded back with PyAV (FFmpeg's own ProRes decoder)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from previz_app.export import plate_movie
from previz_app.export.files import ExportError
from previz_app.export.plate_colour import ACESCG, REC709, SRGB, to_uint16
from previz_app.export.plate_movie import movie_frames, movie_rate, write_prores, ycbcr_709
from previz_app.export.plate_tiles import MAX_TILE_SIDE, write_tile

KR, KB = 0.2126, 0.0722


def smooth_tile(rows=60, cols=180):
    """A smooth picture in 0..1: ramps and slow waves, as a sky or a wall plate."""
    y, x = np.mgrid[0:rows, 0:cols]
    return np.dstack([0.1 + 0.8 * x / cols, 0.15 + 0.7 * y / rows,
                      0.5 + 0.3 * np.sin(x / 13) * np.cos(y / 7)]).astype(np.float32)


def decoded_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A decoded 4:4:4 frame back to R'G'B' 0..1 through the BT.709 limited-range matrix."""
    depth = int(frame.format.name.split("p")[-1][:2])  # yuv444p12le -> 12
    rows, cols = frame.height, frame.width
    planes = [np.frombuffer(plane, np.uint16).reshape(rows, -1)[:, :cols] / 2 ** (depth - 8) for plane in frame.planes[:3]]
    luma = (planes[0] - 16) / 219
    blue_diff, red_diff = (planes[1] - 128) / 224, (planes[2] - 128) / 224
    red = luma + 2 * (1 - KR) * red_diff
    blue = luma + 2 * (1 - KB) * blue_diff
    green = (luma - KR * red - KB * blue) / (1 - KR - KB)
    return np.dstack([red, green, blue])


def test_the_bt709_matrix_puts_white_black_and_red_where_the_standard_does():
    colours = np.array([[[65535, 65535, 65535], [0, 0, 0], [65535, 0, 0]]], np.uint16)
    planes = ycbcr_709(colours)
    assert planes.dtype == np.uint16 and planes.shape == (3, 1, 3)
    assert planes[:, 0, 0].tolist() == [940, 512, 512]  # 10-bit limited range: white
    assert planes[:, 0, 1].tolist() == [64, 512, 512]
    # Red: Y' = 64 + 876·0.2126, Cb = 512 − 896·0.2126/1.8556, Cr = 512 + 448.
    assert planes[:, 0, 2].tolist() == [round(64 + 876 * KR), round(512 - 896 * KR / 1.8556), 960]


def test_a_prores_tile_is_a_still_4444_movie_of_the_tile(tmp_path):
    tile = smooth_tile()
    write_tile(tmp_path / "tile.mov", tile, "prores", REC709, seconds=0.4, fps=25)
    with av.open(str(tmp_path / "tile.mov")) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        assert (context.name, context.profile) == ("prores", "4444")
        assert (stream.width, stream.height) == (180, 60)
        assert (context.color_primaries, context.color_trc, context.colorspace, context.color_range) == (1, 1, 1, 1)
        assert stream.average_rate == 25 and stream.frames == 10
        assert float(stream.duration * stream.time_base) == pytest.approx(0.4)
        assert container.duration / 1e6 == pytest.approx(0.4)
        frames = list(container.decode(video=0))
    assert len(frames) == 10
    assert [frame.time for frame in frames] == pytest.approx([index / 25 for index in range(10)])
    assert frames[0].format.name in ("yuv444p12le", "yuv444p10le")  # 4:4:4, no alpha
    planes = [bytes(plane) for plane in frames[0].planes]
    assert all([bytes(plane) for plane in frame.planes] == planes for frame in frames[1:])
    # 10-bit Y'CbCr and ProRes' quantisation: a smooth picture comes back within a few codes.
    error = np.abs(decoded_rgb(frames[0]) - to_uint16(tile) / 65535)
    assert error.max() < 0.006 and error.mean() < 0.001


@pytest.mark.parametrize(("fps", "frames"), [
    (Fraction(24000, 1001), 12), (Fraction(30000, 1001), 15), (Fraction(60000, 1001), 30), (24, 12), (50, 25),
])
def test_a_movie_plays_at_its_exact_rate(tmp_path, fps, frames):
    # Half a second: 11.99, 14.99 and 29.97 frames at the NTSC rates.
    write_prores(tmp_path / "tile.mov", smooth_tile(16, 32), REC709, seconds=0.5, fps=fps)
    with av.open(str(tmp_path / "tile.mov")) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == fps and stream.frames == frames
        times = [frame.time for frame in container.decode(video=0)]
    assert times == pytest.approx([index / fps for index in range(frames)])


@pytest.mark.parametrize(("text", "rate"), [
    ("23.976", Fraction(24000, 1001)), ("24", 24), ("25", 25), ("29.97", Fraction(30000, 1001)), ("30", 30),
    ("50", 50), ("59.94", Fraction(60000, 1001)), ("60", 60), ("30000/1001", Fraction(30000, 1001)),
    (" 48000/1001 ", Fraction(48000, 1001)), (29.97, Fraction(30000, 1001)), (Fraction(25, 1), 25),
])
def test_frame_rates_are_read_exactly(text, rate):
    assert movie_rate(text) == rate and isinstance(movie_rate(text), Fraction)


def test_one_frame_is_encoded_however_long_the_movie(tmp_path):
    tile = smooth_tile(40, 60)
    write_prores(tmp_path / "short.mov", tile, REC709, seconds=0.04, fps=25)
    write_prores(tmp_path / "long.mov", tile, REC709, seconds=2.0, fps=25)
    with av.open(str(tmp_path / "long.mov")) as container:
        packets = [bytes(packet) for packet in container.demux(video=0) if packet.size]
    with av.open(str(tmp_path / "short.mov")) as container:
        (single,) = [bytes(packet) for packet in container.demux(video=0) if packet.size]
    assert len(packets) == 50 and set(packets) == {single}  # the one encoded frame, 50 times


def test_an_srgb_tile_is_tagged_srgb(tmp_path):
    write_prores(tmp_path / "srgb.mov", smooth_tile(20, 40), "sRGB - Texture", seconds=0.04, fps=25)
    with av.open(str(tmp_path / "srgb.mov")) as container:
        context = container.streams.video[0].codec_context
        assert (context.color_primaries, context.color_trc, context.colorspace) == (1, 13, 1)


def test_a_tile_as_wide_as_the_side_limit_encodes(tmp_path):
    pixels = np.zeros((8, MAX_TILE_SIDE, 3), np.uint16)
    pixels[..., 0] = np.linspace(0, 65535, MAX_TILE_SIDE).astype(np.uint16)
    write_prores(tmp_path / "wide.mov", pixels, REC709, seconds=0.04, fps=25)
    with av.open(str(tmp_path / "wide.mov")) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (MAX_TILE_SIDE, 8)
    np.testing.assert_allclose(decoded_rgb(frame)[4, ::1024, 0], pixels[4, ::1024, 0] / 65535, atol=0.006)


def test_movie_lengths_and_bad_tiles_are_refused(tmp_path):
    assert movie_frames(10.0, 25) == 250 and movie_frames(0.04, 25) == 1 and movie_frames(1.5, 24) == 36
    with pytest.raises(ValueError, match="more than zero seconds"):
        movie_frames(0, 25)
    with pytest.raises(ValueError, match="less than one frame"):
        movie_frames(0.01, 25)
    assert movie_frames(10, Fraction(30000, 1001)) == 300  # 299.7 frames
    for rate in (12.3, "12.5", 0, 241, "1/0", True):
        with pytest.raises(ValueError, match="whole number of frames per second or an NTSC rate"):
            movie_frames(10, rate)
    tile = smooth_tile(20, 40)
    with pytest.raises(ValueError, match="Rec.709 video"):
        write_prores(tmp_path / "t.mov", tile, ACESCG)
    with pytest.raises(ValueError, match="float .* or uint16"):
        write_prores(tmp_path / "t.mov", (tile * 255).astype(np.uint8), SRGB)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_leaves_no_movie(tmp_path, full_disk):
    full_disk(plate_movie)
    with pytest.raises(ExportError, match="disk is full"):
        write_prores(tmp_path / "tile.mov", smooth_tile(20, 40), REC709, seconds=0.2, fps=25)
    assert list(tmp_path.iterdir()) == []
