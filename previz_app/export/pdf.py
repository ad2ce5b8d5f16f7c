"""What every PDF previz writes shares: the embedded typeface from the first page on,
its document properties (with entries of our own), and image streams left binary."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas

from .fonts import pdf_font

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
