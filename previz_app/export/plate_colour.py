"""Colour for LED-wall plates: conversions through OpenColorIO's built-in ACES CG
config, and quantization to 16 and 8 bits (with optional dither for skies).

The config is built into OpenColorIO, pinned by its versioned name so a plate made
today converts the same way after an upgrade. Conversions are colour-space to
colour-space (no view transform, no tone mapping): an sRGB texture value maps to the
ACEScg scene-linear value that displays as it, and back again.

The 16-bit TIFF and PNG plates (and 8-bit PNG) are display-referred Rec.709 primaries
with the sRGB piecewise transfer (IEC 61966-2-1), the config's "sRGB Encoded Rec.709
(sRGB)". ProRes plates are video: Rec.709 primaries encoded for a BT.1886 display (a
pure 2.4 power, the config's "Gamma 2.4 Encoded Rec.709"), so a media server that
plays them as Rec.709 video shows the same light as the sRGB plates on an sRGB screen.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import PyOpenColorIO as ocio

OCIO_CONFIG = "cg-config-v2.2.0_aces-v1.3_ocio-v2.4"  # pinned: never "latest"
ACESCG = "ACEScg"  # scene-linear, AP1 primaries: what EXR plates hold
SRGB = "sRGB Encoded Rec.709 (sRGB)"  # alias "sRGB - Texture": source images, TIFF and PNG plates
LINEAR_REC709 = "Linear Rec.709 (sRGB)"
REC709 = "Gamma 2.4 Encoded Rec.709"  # alias "Gamma 2.4 Rec.709 - Texture": ProRes plates

# CIE xy of red, green, blue and white, as OpenEXR's `chromaticities` attribute wants them.
CHROMATICITIES = {
    ACESCG: (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
    "ACES2065-1": (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767),
    SRGB: (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    LINEAR_REC709: (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    REC709: (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
}


@lru_cache(maxsize=1)
def colour_config() -> ocio.Config:
    """The pinned built-in OpenColorIO config (no file on disk)."""
    return ocio.Config.CreateFromBuiltinConfig(OCIO_CONFIG)


def colour_space_name(name: str) -> str:
    """The config's own name for colour space `name` (an alias such as "sRGB - Texture"
    resolves to "sRGB Encoded Rec.709 (sRGB)"). Raises ValueError for a name the
    pinned config does not know."""
    space = colour_config().getColorSpace(name)
    if space is None:
        known = ", ".join(other.getName() for other in colour_config().getColorSpaces())
        raise ValueError(f"unknown colour space {name!r}; the {OCIO_CONFIG} config has: {known}")
    return space.getName()


@lru_cache(maxsize=16)
def _processor(source: str, target: str) -> ocio.CPUProcessor:
    return colour_config().getProcessor(source, target).getDefaultCPUProcessor()


def convert(rgb: np.ndarray, source: str, target: str) -> np.ndarray:
    """`rgb` (any shape ending in 3) converted from colour space `source` to `target`,
    as a new float32 array; the whole array goes through OpenColorIO in one call.
    Raises ValueError for an array that is not RGB or an unknown colour space."""
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"expected RGB values (an array whose last axis is 3), not shape {rgb.shape}")
    source, target = colour_space_name(source), colour_space_name(target)
    out = np.array(rgb, dtype=np.float32, order="C", copy=True)
    if out.size and source != target:
        _processor(source, target).applyRGB(out.reshape(-1))  # in place, vectorised
    return out


def srgb_to_acescg(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values (0..1, Rec.709 primaries) as linear ACEScg float32."""
    return convert(rgb, SRGB, ACESCG)


def acescg_to_srgb(rgb: np.ndarray) -> np.ndarray:
    """Linear ACEScg values as sRGB-encoded Rec.709 float32 (what the 16-bit TIFF and
    PNG plates hold); colours outside Rec.709 come out below 0 or above 1."""
    return convert(rgb, ACESCG, SRGB)


def srgb_to_linear_rec709(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values with the transfer removed: linear Rec.709 float32."""
    return convert(rgb, SRGB, LINEAR_REC709)


def to_uint16(rgb01: np.ndarray) -> np.ndarray:
    """Values in 0..1 as uint16 0..65535 (clipped, rounded to nearest; NaN becomes 0)."""
    values = np.nan_to_num(np.asarray(rgb01, dtype=np.float32), nan=0.0)
    return np.rint(np.clip(values, 0.0, 1.0) * 65535.0).astype(np.uint16)


def srgb_to_rec709(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values as Rec.709 video code values for a BT.1886 display (gamma 2.4)."""
    return convert(rgb, SRGB, REC709)


def to_uint8(rgb01: np.ndarray, dither: bool = False, seed: int = 0, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Values in 0..1 as uint8. With `dither`, triangular-PDF noise of ±1 LSB is added
    before rounding, which trades the flat bands of a slow sky gradient for fine grain
    whose local average keeps the true value.

    The grain is a function of `seed` and each value's position only: the array's
    first two axes are rows and columns counted from `origin` (the canvas row and
    column of its top-left value), any further axes are channels. So a band or a tile
    of a plate dithered where it sits gets the very grain of the whole plate."""
    values = np.nan_to_num(np.asarray(rgb01, dtype=np.float32), nan=0.0) * np.float32(255.0)
    if dither:
        values += _position_noise(values.shape, seed, origin)
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def _mix(x: np.ndarray) -> np.ndarray:
    """A 32-bit integer hash (Wellons' lowbias32), in place: every input bit moves every output bit."""
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def _position_noise(shape: tuple[int, ...], seed: int, origin: tuple[int, int]) -> np.ndarray:
    """Triangular noise on (-1, 1), float32 of `shape`, hashed from (seed, row, column, channel)."""
    rows, cols = (1, (shape or (1,))[0]) if len(shape) < 2 else shape[:2]  # a 1-D array is one row
    channels = int(np.prod(shape[2:], dtype=np.int64))
    with np.errstate(over="ignore"):
        row = np.arange(origin[0], origin[0] + rows, dtype=np.int64).astype(np.uint32)
        row = _mix(_mix(row ^ np.uint32((seed * 0x9E3779B9) & 0xFFFFFFFF)) + np.uint32(0x9E3779B9))
        col = np.arange(origin[1], origin[1] + cols, dtype=np.int64).astype(np.uint32)[:, None] * np.uint32(channels)
        column = _mix((col + np.arange(channels, dtype=np.uint32)) ^ np.uint32(0x85EBCA6B))
        bits = _mix(row[:, None, None] ^ column[None])
    # Two 16-bit uniform numbers from one hash; their difference is triangular.
    noise = (bits >> np.uint32(16)).astype(np.float32)
    noise -= (bits & np.uint32(0xFFFF)).astype(np.float32)
    noise *= np.float32(2.0**-16)
    return noise.reshape(shape)
