"""The deck layout as a PDF: the same pages as the PPTX, real text in the embedded
typeface, pictures as JPEG, and the recipe of every generated picture in the file's
document information (`/PrevizProvenance`, a JSON list)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas

from .deck_layout import (
    CELL_PADDING,
    INK,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PAPER,
    RULE,
    WHITE,
    ZEBRA,
    DeckLayout,
    ImageBlock,
    Page,
    ShapeBlock,
    TableBlock,
    TextBlock,
    placed_jpeg,
)
from .fonts import pdf_font

PROVENANCE_KEY = "PrevizProvenance"  # the document-info entry, read back as "/PrevizProvenance"
_A85_LOCK = threading.Lock()


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


def write_pdf(layout: DeckLayout, target: Path | BinaryIO, before_page: Callable[[int], None] | None = None) -> None:
    """Write `layout` to `target` (a path or a binary file) as a PDF, one page a page.
    `before_page(index)` is called before each page (it may raise to stop). Raises what
    the pictures raise (pictures.MissingImageError) and OSError from the disk."""
    # The initial font is ours too: reportlab's default (Helvetica) would be an unembedded font on every page.
    canvas = Canvas(str(target) if isinstance(target, Path) else target, pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
                    pageCompression=1, initialFontName=pdf_font("regular"), initialFontSize=12)
    recipes = json.dumps([item.to_dict() for item in layout.provenances()], ensure_ascii=False)
    canvas._doc.info = _Info({PROVENANCE_KEY: recipes})  # as reportlab's doctemplate swaps it: there is no setter
    canvas.setTitle(layout.title)
    canvas.setAuthor("previz")
    canvas.setCreator("previz")
    canvas.setSubject(f"Pitch deck: {layout.title}")
    canvas.setKeywords("pitch deck, previz")
    for index, page in enumerate(layout.pages):
        if before_page is not None:
            before_page(index)
        _page(canvas, page)
        canvas.showPage()
    canvas.save()


def _page(canvas: Canvas, page: Page) -> None:
    canvas.setFillColor(HexColor(f"#{page.background}"))
    canvas.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT, stroke=0, fill=1)
    for block in page.blocks:
        if isinstance(block, TextBlock):
            _text(canvas, block)
        elif isinstance(block, ImageBlock):
            data, rect = placed_jpeg(block)
            # A JPEG ImageReader goes into the PDF as is (DCTDecode), not re-encoded.
            with _binary_streams():
                canvas.drawImage(ImageReader(io.BytesIO(data)), rect.x, PAGE_HEIGHT - rect.bottom, rect.w, rect.h)
        elif isinstance(block, ShapeBlock):
            _shape(canvas, block)
        elif isinstance(block, TableBlock):
            _table(canvas, block)


@contextmanager
def _binary_streams() -> Iterator[None]:
    """reportlab wraps streams in ASCII85 unless told not to: a JPEG would grow by a
    quarter. The global setting is read while an image is loaded, so it is switched off
    only around that (as board_pdf does)."""
    with _A85_LOCK:
        before = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = before


def baseline(top: float, leading: float, size: float) -> float:
    """Where the first line's baseline sits below `top`: the line's box centred on the
    capitals, close to where PowerPoint puts a line of exact spacing."""
    return top + leading / 2 + 0.36 * size


def _text(canvas: Canvas, block: TextBlock) -> None:
    canvas.setFillColor(HexColor(f"#{block.color}"))
    canvas.setFont(pdf_font(block.style), block.size)
    rect = block.rect
    y = rect.y
    for paragraph in block.paragraphs:
        for line in paragraph.lines:
            _line(canvas, block.align, rect.x, rect.right, PAGE_HEIGHT - baseline(y, block.leading, block.size), line)
            y += block.leading
        y += block.space_after


def _line(canvas: Canvas, align: str, left: float, right: float, y: float, text: str) -> None:
    if align == "center":
        canvas.drawCentredString((left + right) / 2, y, text)
    elif align == "right":
        canvas.drawRightString(right, y, text)
    else:
        canvas.drawString(left, y, text)


def _shape(canvas: Canvas, block: ShapeBlock) -> None:
    rect = block.rect
    canvas.saveState()
    canvas.setFillColor(HexColor(f"#{block.color}"))
    canvas.setFillAlpha(block.opacity)
    canvas.rect(rect.x, PAGE_HEIGHT - rect.bottom, rect.w, rect.h, stroke=0, fill=1)
    canvas.restoreState()


def _table(canvas: Canvas, block: TableBlock) -> None:
    rect = block.rect
    rows = [block.header, *block.rows]
    for row_index, values in enumerate(rows):
        top = rect.y + row_index * block.row_height
        header = row_index == 0
        total = block.total and row_index == len(rows) - 1
        fill = INK if header else RULE if total else (PAPER if row_index % 2 else ZEBRA)
        canvas.setFillColor(HexColor(f"#{fill}"))
        canvas.rect(rect.x, PAGE_HEIGHT - top - block.row_height, rect.w, block.row_height, stroke=0, fill=1)
        canvas.setFillColor(HexColor(f"#{WHITE if header else INK}"))
        canvas.setFont(pdf_font("bold" if header or total else "regular"), block.size)
        x = rect.x
        for column, (value, width) in enumerate(zip(values, block.widths)):
            align = "right" if block.numeric[column] else "left"
            y = PAGE_HEIGHT - baseline(top, block.row_height, block.size)
            _line(canvas, align, x + CELL_PADDING, x + width - CELL_PADDING, y, value)
            x += width
