"""The deck layout as a PDF: the same pages as the PPTX, real text in the embedded
typeface, pictures as JPEG, and the recipe of every generated picture in the file's
document information (`/PrevizProvenance`, a JSON list)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.colors import HexColor
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
from .pdf import binary_streams, pdf_canvas

PROVENANCE_KEY = "PrevizProvenance"  # the document-info entry, read back as "/PrevizProvenance"


def write_pdf(layout: DeckLayout, target: Path | BinaryIO, before_page: Callable[[int], None] | None = None) -> None:
    """Write `layout` to `target` (a path or a binary file) as a PDF, one page a page.
    `before_page(index)` is called before each page (it may raise to stop). Raises what
    the pictures raise (pictures.MissingImageError) and OSError from the disk."""
    recipes = json.dumps([item.to_dict() for item in layout.provenances()], ensure_ascii=False)
    canvas = pdf_canvas(target, layout.title, f"Pitch deck: {layout.title}", "pitch deck, previz",
                        {PROVENANCE_KEY: recipes}, (PAGE_WIDTH, PAGE_HEIGHT))
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
            picture, rect = placed_jpeg(block)
            # The JPEG goes into the PDF as is (DCTDecode), not re-encoded; the same
            # picture twice at one size is embedded once.
            with binary_streams():
                canvas.drawImage(picture, rect.x, PAGE_HEIGHT - rect.bottom, rect.w, rect.h)
        elif isinstance(block, ShapeBlock):
            _shape(canvas, block)
        elif isinstance(block, TableBlock):
            _table(canvas, block)


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
