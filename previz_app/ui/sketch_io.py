"""A sketch's files: the picture it is drawn over, its saved layers, and the PNGs a
drawn take is kept as. Files and pixels only, no widgets and no database, so every
function here may run off the GUI thread."""

from __future__ import annotations

import json
from dataclasses import dataclass

from PIL import Image, ImageOps
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from ..domain.model import Take
from ..domain.vocabulary import TakeKind
from ..engine.base import RenderContext
from ..engine.blocking.panel import BlockingEngine
from ..engine.request import FrameRequest, decode_image, encode_png
from ..store.media import MediaStore
from .images import pil_from_qimage, png_bytes, qimage_from_pil
from .sketch import LAYERS
from .workers import TaskControl

_PREMULTIPLIED = QImage.Format.Format_ARGB32_Premultiplied


@dataclass(frozen=True)
class Underlay:
    """A picture to draw over: its media hash when stored, or PNG bytes still to store."""

    image: QImage | None = None  # None: the white panel
    digest: str = ""
    png: bytes | None = None


# Each loader returns the underlay and any saved layers to restore.
Loaded = tuple[Underlay, dict[str, QImage]]


def sketch_recipe(take: Take | None) -> dict | None:
    """The layers a drawn take was saved with, or None for any other take."""
    if take is None or take.kind != TakeKind.drawn:
        return None
    try:
        sketch = json.loads(take.recipe or "{}").get("sketch")
    except (ValueError, AttributeError):
        return None
    return sketch if isinstance(sketch, dict) and sketch.get("ink") and sketch.get("notes") else None


def blocking_underlay(request: FrameRequest, size: QSize, control: TaskControl) -> Loaded:
    """The blocking render of `request`, fitted to `size`."""
    result = BlockingEngine().render(request, RenderContext(cancel_event=control.cancel_event))
    # The PNG carries the request, so the stored underlay says how it was made.
    return Underlay(_fitted_qimage(result.image, size), png=encode_png(result.image, request)), {}


def take_underlay(media: MediaStore, digest: str, size: QSize, _control: TaskControl) -> Loaded:
    """A stored picture (a take's), fitted to `size`."""
    return Underlay(_read_picture(media, digest, size), digest), {}


def read_sketch(media: MediaStore, sketch: dict, size: QSize, _control: TaskControl) -> Loaded:
    """A drawn take's underlay and layers (its recipe's `sketch` entry), at `size`."""
    digest = sketch.get("underlay") or ""
    underlay = Underlay(_read_picture(media, digest, size) if digest else None, digest)
    layers = {}
    for name in LAYERS:
        layer = decode_image(media.read(sketch[name]), "RGBA")
        if layer.size != (size.width(), size.height()):  # drawn at another aspect ratio
            layer = layer.resize((size.width(), size.height()), Image.Resampling.LANCZOS)
        layers[name] = qimage_from_pil(layer).convertToFormat(_PREMULTIPLIED)
    return underlay, layers


def write_sketch(
    media: MediaStore, composite: QImage, ink: QImage, notes: QImage, underlay: Underlay,
) -> tuple[str, int, dict]:
    """Store the frame and its layers; return the frame's hash and byte size, and the
    recipe's `sketch` entry naming the underlay and layers. Raises what `media.put` does."""
    sketch = {
        "underlay": media.put(underlay.png) if underlay.png is not None else underlay.digest,
        "ink": media.put(png_bytes(pil_from_qimage(ink))),
        "notes": media.put(png_bytes(pil_from_qimage(notes))),
        "size": [composite.width(), composite.height()],
    }
    frame = png_bytes(pil_from_qimage(composite).convert("RGB"))
    return media.put(frame), len(frame), sketch


def _read_picture(media: MediaStore, digest: str, size: QSize) -> QImage:
    return _fitted_qimage(decode_image(media.read(digest), "RGB"), size)


def _fitted_qimage(image: Image.Image, size: QSize) -> QImage:
    wanted = (size.width(), size.height())
    if image.size != wanted:
        image = ImageOps.fit(image, wanted, Image.Resampling.LANCZOS)
    return qimage_from_pil(image).convertToFormat(_PREMULTIPLIED)
