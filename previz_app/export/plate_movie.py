"""ProRes 4444 movies of still plate tiles, for media servers that play video only.

Each tile becomes a QuickTime `.mov` of ProRes 4444 (FFmpeg's prores_ks, profile
4444, 10-bit Y'CbCr 4:4:4, no alpha: a plate is opaque and an alpha plane would only
spend bits). ProRes codes every frame on its own, so the tile is encoded once and
that one packet is muxed `seconds · fps` times with increasing timestamps: a
ten-second still costs one encode and one frame's worth of work. Frame rates are
exact: whole numbers, or the NTSC rates N/1001 (23.976 is 24000/1001).

Colour: Rec.709 primaries and matrix, limited ("video") range, and the BT.709
transfer tag, the tags every media server and NLE reads as Rec.709 video. The code
values are the plate encoded for a BT.1886 display (gamma 2.4, plate_colour.REC709),
which is how such a server shows a 709-tagged movie, so the wall shows the same light
as it does for the sRGB plates. (The sRGB transfer tag, 13, exists but QuickTime and
most servers ignore it; a tile given in sRGB is tagged so all the same.) The RGB to
Y'CbCr conversion is done here in numpy with exact rounding: FFmpeg's swscale was off
by up to 4 codes of 10 bits on 16-bit input.

Size: prores_ks encodes frames 16,384 px wide (checked with libavcodec 62), the
tile side limit of plate_tiles, so ProRes tiles need no smaller cap.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .files import ExportError, staged_output
from .plate_colour import REC709, SRGB, colour_space_name, to_uint16

PRORES_OPTIONS = {"profile": "4444", "vendor": "apl0"}  # 4444, tagged as Apple's encoder
PIXEL_FORMAT = "yuv444p10le"
BT709 = 1  # FFmpeg's code for BT.709 primaries, transfer and matrix
SRGB_TRANSFER = 13  # IEC 61966-2-1
LIMITED_RANGE = 1
_TRANSFER = {REC709: BT709, SRGB: SRGB_TRANSFER}
_KR, _KB = 0.2126, 0.0722  # BT.709 luma weights


def movie_rate(fps: float | Fraction | str) -> Fraction:
    """`fps` as an exact frame rate: a whole number (25, "25"), an NTSC rate as a
    Fraction or text (Fraction(30000, 1001), "30000/1001") or as its usual decimal
    (29.97, "23.976", "59.94": N·1000/1001 to within 0.0006), from 1 to 240.
    Raises ValueError for anything else."""
    refusal = ValueError(f"the frame rate is a whole number of frames per second or an NTSC rate (23.976, 29.97, "
                         f"59.94 or N/1001), from 1 to 240, not {fps!r}")
    if isinstance(fps, bool):
        raise refusal
    try:
        rate = _exact_rate(fps)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        raise refusal from None
    if rate is None or rate.denominator not in (1, 1001) or not 1 <= rate <= 240:
        raise refusal
    return rate


def _exact_rate(fps: float | Fraction | str) -> Fraction | None:
    """The rate `fps` means, or None for a decimal that is no NTSC rate."""
    if isinstance(fps, str):
        text = fps.strip()
        if "/" in text:
            numerator, denominator = text.split("/")
            return Fraction(int(numerator), int(denominator))
        fps = Fraction(text)
    if isinstance(fps, float):
        if not math.isfinite(fps):
            return None
        fps = Fraction(fps)
    rate = Fraction(fps)
    if rate.denominator == 1 or rate.denominator == 1001:
        return rate
    ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)  # 29.97 -> 30000/1001
    return ntsc if abs(rate - ntsc) < Fraction(6, 10_000) else None


def movie_frames(seconds: float, fps: int | Fraction) -> int:
    """How many frames a still movie of `seconds` at `fps` (as `movie_rate` takes it)
    holds (at least one). Raises ValueError for a length or frame rate that is not a
    positive number."""
    rate = movie_rate(fps)
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"a plate movie lasts more than zero seconds, not {seconds!r}")
    frames = round(seconds * rate)
    if frames < 1:
        raise ValueError(f"{seconds:g} s at {float(rate):g} fps is less than one frame")
    return frames


def ycbcr_709(values: np.ndarray) -> np.ndarray:
    """16-bit R'G'B' code values (rows, columns, 3) as 10-bit limited-range BT.709
    Y', Cb, Cr planes: uint16 of shape (3, rows, columns)."""
    rgb = values.astype(np.float32) * np.float32(1 / 65535)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = _KR * red + (1 - _KR - _KB) * green + _KB * blue
    planes = np.empty((3,) + values.shape[:2], np.uint16)
    planes[0] = np.rint(64 + 876 * luma)
    planes[1] = np.rint(512 + 896 * (blue - luma) / (2 * (1 - _KB)))
    planes[2] = np.rint(512 + 896 * (red - luma) / (2 * (1 - _KR)))
    return planes


def write_prores(path: Path, pixels: np.ndarray, colour_space: str, seconds: float = 10.0,
                 fps: int | Fraction = 25) -> None:
    """Write `pixels` (rows, columns, 3: uint16 code values, or floats in 0..1) as a
    still ProRes 4444 movie of `seconds` at `fps` (as `movie_rate` takes it). `colour_space` is what the pixels
    are in: plate_colour.REC709 (tagged BT.709) or SRGB (tagged sRGB). The file
    appears whole or not at all. Raises ValueError for bad pixels, colour space,
    length or rate, ExportError when the disk refuses it."""
    frames, rate = movie_frames(seconds, fps), movie_rate(fps)
    colour_space = colour_space_name(colour_space)
    if colour_space not in _TRANSFER:
        raise ValueError(f"ProRes tiles are Rec.709 video ({REC709!r}) or sRGB, not {colour_space!r}")
    if not (pixels.dtype == np.uint16 or np.issubdtype(pixels.dtype, np.floating)):
        raise ValueError(f"ProRes tiles take float (0..1) or uint16 pixels, not {pixels.dtype}")
    values = pixels if pixels.dtype == np.uint16 else to_uint16(pixels)
    rows, columns = values.shape[:2]
    frame = av.VideoFrame(columns, rows, PIXEL_FORMAT)
    for plane, data in zip(frame.planes, ycbcr_709(values), strict=True):
        # A plane's rows are padded to its line size; fill each row's first `columns` samples.
        np.frombuffer(plane, np.uint16).reshape(rows, plane.line_size // 2)[:, :columns] = data
    with staged_output(path) as temporary, open(temporary, "wb") as handle:
        _mux(handle, frame, _TRANSFER[colour_space], frames, rate)


def _mux(handle, frame: av.VideoFrame, transfer: int, frames: int, rate: Fraction) -> None:
    with av.open(handle, "w", format="mov") as container:
        stream = container.add_stream("prores_ks", rate=rate, options=dict(PRORES_OPTIONS))
        stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, PIXEL_FORMAT
        context = stream.codec_context
        context.time_base = 1 / rate
        context.color_primaries = context.colorspace = BT709
        context.color_trc, context.color_range = transfer, LIMITED_RANGE
        # One frame: only slice threads can share its encode (two cores: half the time).
        context.thread_type, context.thread_count = "SLICE", os.cpu_count() or 1
        frame.pts = 0
        try:
            packets = [*stream.encode(frame), *stream.encode(None)]
        except av.FFmpegError as exc:
            raise ExportError(f"cannot encode the ProRes tile: {exc}") from exc
        if len(packets) != 1:
            raise ExportError(f"cannot encode the ProRes tile: one frame gave {len(packets)} packets")
        data = bytes(packets[0])
        for index in range(frames):
            packet = av.Packet(data)
            packet.stream = stream
            packet.time_base = 1 / rate
            packet.pts = packet.dts = index
            packet.duration = 1
            packet.is_keyframe = True
            container.mux(packet)
