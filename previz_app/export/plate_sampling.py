"""Filtering and sampling a plate source picture, with no wall in sight: an exact
area reduction, a Gaussian blur and bilinear sampling, each along the picture's axes.
plate_projection decides where on the picture each canvas pixel looks."""

from __future__ import annotations

import math

import numpy as np

_CHUNK_VALUES = 8_000_000  # float32 values one filtering pass makes at a time (32 MB)


def area_resize(pixels: np.ndarray, size: int, axis: int) -> np.ndarray:
    """`pixels` averaged down to `size` along `axis`: each output pixel is the exact
    mean of the source area it covers (fractional pixels weighted), so the reduced
    picture still spans the same angle. Summed as a few weighted taps per output
    pixel (the source pixels its area touches), a block of the other axis at a time."""
    n = pixels.shape[axis]
    ratio = n / size
    start = np.arange(size) * ratio
    first = np.arange(size) * n // size
    weights, indices = [], []
    for tap in range(math.ceil(ratio) + 1):
        index = first + tap
        overlap = np.minimum(index + 1, start + ratio) - np.maximum(index, start)
        if (overlap > 0).any():
            weights.append((np.clip(overlap, 0, None) / ratio).astype(np.float32))
            indices.append(np.minimum(index, n - 1))
    other = 1 - axis  # the spatial axis the blocks run along
    shape = list(pixels.shape)
    shape[axis] = size
    out = np.empty(shape, dtype=np.float32)
    per_line = size * int(np.prod(pixels.shape[2:]))
    step = max(1, _CHUNK_VALUES // max(1, per_line))
    view = (slice(None), None) if axis == 0 else (None, slice(None))
    for begin in range(0, pixels.shape[other], step):
        block = (slice(None), slice(begin, begin + step)) if axis == 0 else (slice(begin, begin + step),)
        part = pixels[block]
        total = np.zeros(part.shape[:axis] + (size,) + part.shape[axis + 1:], dtype=np.float32)
        for weight, index in zip(weights, indices, strict=True):
            total += np.take(part, index, axis=axis) * weight[view][..., None]
        out[block] = total
    return out


def gaussian_blur(pixels: np.ndarray, sigma: float, axis: int, wrap: bool) -> np.ndarray:
    """A Gaussian blur of `sigma` pixels along `axis`, wrapping round or holding the edge."""
    if sigma <= 0:
        return pixels
    radius = max(1, math.ceil(3 * sigma))
    weights = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    weights /= weights.sum()
    base = np.arange(pixels.shape[axis])
    out = np.zeros(pixels.shape, dtype=np.float32)
    for offset, weight in zip(range(-radius, radius + 1), weights, strict=True):
        out += np.float32(weight) * np.take(pixels, base + offset, axis=axis, mode="wrap" if wrap else "clip")
    return out



def bilinear(pixels: np.ndarray, u: np.ndarray, v: np.ndarray, wrap_x: bool, scale: float = 1.0) -> np.ndarray:
    """Bilinear samples of `pixels` (H, W, C: uint8, uint16 or float32) at normalised
    picture coordinates (0..1 across and down), times `scale`, as float32: wrapping
    across when `wrap_x` (a picture that goes all the way round: its last column meets
    its first), else holding the edges. Down, the edges always hold."""
    height, width = pixels.shape[:2]
    x = u * width - 0.5
    y = np.clip(v * height - 0.5, 0, height - 1)
    if wrap_x:
        x0 = np.floor(x)
        fx = (x - x0).astype(np.float32)[..., None]
        x0 = x0.astype(np.int64) % width
        x1 = (x0 + 1) % width
    else:
        x = np.clip(x, 0, width - 1)
        x0 = np.floor(x)
        fx = (x - x0).astype(np.float32)[..., None]
        x0 = x0.astype(np.int64)
        x1 = np.minimum(x0 + 1, width - 1)
    y0 = np.floor(y)
    fy = (y - y0).astype(np.float32)[..., None]
    y0 = y0.astype(np.int64)
    y1 = np.minimum(y0 + 1, height - 1)
    top = pixels[y0, x0] * (1 - fx) + pixels[y0, x1] * fx
    bottom = pixels[y1, x0] * (1 - fx) + pixels[y1, x1] * fx
    out = top * (1 - fy) + bottom * fy
    if scale != 1.0:
        out *= np.float32(scale)
    return out.astype(np.float32, copy=False)
