"""Pillow images and numpy pixels to Qt images, Qt images to Pillow, and Pillow images
to PNG bytes; safe off the GUI thread (QImage, not QPixmap)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage


def qimage_from_pil(image: Image.Image) -> QImage:
    """A QImage that owns a copy of `image`'s pixels (RGB or RGBA)."""
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    fmt = QImage.Format.Format_RGBA8888 if image.mode == "RGBA" else QImage.Format.Format_RGB888
    data = image.tobytes()
    channels = 4 if image.mode == "RGBA" else 3
    return QImage(data, image.width, image.height, image.width * channels, fmt).copy()


def qimage_from_rgb(pixels: np.ndarray) -> QImage:
    """A QImage that owns a copy of `pixels` (uint8, height × width × 3 or more; the
    first three channels are taken as RGB)."""
    pixels = np.ascontiguousarray(pixels[:, :, :3], dtype=np.uint8)
    height, width = pixels.shape[:2]
    return QImage(pixels.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def pil_from_qimage(image: QImage) -> Image.Image:
    """An RGBA Pillow image of `image`'s pixels."""
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = converted.width(), converted.height()
    raw = bytes(converted.constBits())[: converted.bytesPerLine() * height]
    return Image.frombuffer("RGBA", (width, height), raw, "raw", "RGBA", converted.bytesPerLine(), 1).copy()


def png_bytes(image: Image.Image) -> bytes:
    """`image` encoded as PNG, with no metadata (compression level 4: quick, and small
    enough for media files)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=4)
    return buffer.getvalue()
