"""What every PDF previz writes shares: the embedded typeface from the first page on,
its document properties (with entries of our own), and pictures embedded as JPEG bytes
encoded once (DCTDecode): reportlab neither decodes nor re-encodes them."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from PIL import Image
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas

from .fonts import pdf_font

JPEG_QUALITY = 90
_A85_LOCK = threading.Lock()


def pdf_canvas(target: Path | BinaryIO, title: str, subject: str, keywords: str = "",
               extra_info: dict[str, str] | None = None, pagesize: tuple[float, float] | None = None) -> Canvas:
    """A reportlab canvas writing to `target` (pages of `pagesize` points, unless each
    page sets its own) with previz as author and creator and `extra_info` as
    document-information entries of its own (read back as "/Key")."""
    # The initial font is ours too: reportlab's default (Helvetica) would be listed,
    # unembedded, on every page.
    canvas = Canvas(str(target) if isinstance(target, Path) else target, pagesize=pagesize or A4,
                    pageCompression=1, initialFontName=pdf_font("regular"), initialFontSize=10)
    if extra_info:
        canvas._doc.info = _Info(extra_info)  # as reportlab's own doctemplate swaps it: there is no setter
    canvas.setTitle(title)
    canvas.setAuthor("previz")
    canvas.setCreator("previz")
    canvas.setSubject(subject)
    canvas.setKeywords(keywords)
    return canvas


@contextmanager
def binary_streams() -> Iterator[None]:
    """reportlab wraps streams in ASCII85 unless told not to (a 7-bit habit): a JPEG
    would grow by a quarter and list two filters. The global setting is read while an
    image is loaded, so it is switched off only around that, one thread at a time."""
    with _A85_LOCK:
        before = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = before


class JpegPicture:
    """JPEG bytes for reportlab to embed as they are.

    reportlab's drawImage names an image by `str()` when it is not an ImageReader (an
    ImageReader would be decoded just to be named), and loads anything with
    `jpeg_fh()` from that JPEG stream without decoding it."""

    __slots__ = ("_name", "data", "height", "width")

    def __init__(self, data: bytes, width: int, height: int) -> None:
        self.data, self.width, self.height = data, width, height
        self._name = "jpeg-" + hashlib.sha1(data).hexdigest()

    def jpeg_fh(self) -> io.BytesIO:
        return io.BytesIO(self.data)

    def __str__(self) -> str:  # same bytes, same name: reportlab embeds them once
        return self._name


def jpeg_picture(image: Image.Image, box: tuple[float, float, float, float], size: tuple[float, float],
                 dpi: float, quality: int = JPEG_QUALITY) -> JpegPicture:
    """The part `box` (left, top, right, bottom, in pixels) of `image` as a JPEG for a
    place `size` (width, height) points large: at most `dpi` pixels per printed inch,
    scaled down when larger, never up. The board's panels and the deck's pictures
    both go through here. Safe on any thread: the board's worker threads call it."""
    left, top, right, bottom = box
    pixels = (max(1, round(min(size[0] * dpi / 72, right - left))),
              max(1, round(min(size[1] * dpi / 72, bottom - top))))
    if image.mode not in ("RGB", "L"):  # JPEG holds neither alpha nor a palette
        image = image.convert("RGB")
    if (0, 0, *pixels) != tuple(box):
        # Pillow's bilinear filter widens with the scale, so it does not alias; a print
        # at 300 dpi shows no difference from bicubic, which takes half as long again.
        image = image.resize(pixels, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return JpegPicture(buffer.getvalue(), image.width, image.height)


class _Info(PDFInfo):
    """reportlab's document information plus entries of our own. Its canvas has setters
    for the standard keys only, so this formats the same dictionary with the extras."""

    def __init__(self, extra: dict[str, str]) -> None:
        super().__init__()
        self.extra = extra

    def format(self, document):
        values = {
            "Title": PDFString(self.title), "Author": PDFString(self.author), "Producer": PDFString(self.producer),
            "Creator": PDFString(self.creator), "Subject": PDFString(self.subject),
            "Keywords": PDFString(self.keywords), "Trapped": PDFName(self.trapped),
        }
        values["ModDate"] = values["CreationDate"] = PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter)
        values.update({key: PDFString(value) for key, value in self.extra.items()})
        return PDFDictionary(values).format(document)
