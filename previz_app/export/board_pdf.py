"""Storyboard pages as a PDF: the board layout (board_layout) drawn with reportlab.

Text is real text in the embedded faces of export/fonts (searchable, copyable). Each
picture is JPEG-encoded once, at no more pixels than its printed size needs at the
chosen density, and embedded as those bytes (DCTDecode): reportlab neither decodes
nor re-encodes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from .board_layout import PageBox, Rect, TextRun, Watermark
from .contact_sheet import EMPTY_GREY, FRAME_GREY, FRAME_PT, WATERMARK_ALPHA, WATERMARK_GREY, fit
from .fonts import pdf_font
from .pdf import JpegPicture, binary_streams, pdf_canvas


@dataclass(frozen=True)
class PdfInfo:
    """The document properties a PDF reader shows."""

    title: str
    subject: str


def write_board_pdf(path: Path, pages: Iterable[PageBox], pictures: Iterator[JpegPicture], info: PdfInfo) -> None:
    """Draw `pages` into a PDF at `path`; `pictures` yields each panel's picture in
    page and panel order. Both are read as the drawing goes, so only the pictures
    already drawn are held (as JPEG bytes). Raises OSError when the file cannot be
    written, and whatever `pictures` raises (MissingImageError, Cancelled)."""
    canvas = pdf_canvas(path, info.title, info.subject, "storyboard, previz")
    for page in pages:
        canvas.setPageSize((page.width, page.height))
        for panel in page.panels:
            _panel(canvas, page.height, panel.frame, next(pictures))
            _text(canvas, page.height, panel.caption)
        _text(canvas, page.height, page.header + page.footer)
        canvas.setStrokeGray(0.6)
        canvas.setLineWidth(FRAME_PT)
        for x1, y1, x2, y2 in page.rules:
            canvas.line(x1, page.height - y1, x2, page.height - y2)
        if page.watermark is not None:
            _watermark(canvas, page, page.watermark)
        canvas.showPage()
    canvas.save()


def _panel(canvas: Canvas, height: float, frame: Rect, picture: JpegPicture) -> None:
    bottom = height - frame.bottom
    place = fit(frame, picture.width, picture.height)
    if abs(place.width - frame.width) > 0.5 or abs(place.height - frame.height) > 0.5:
        canvas.setFillGray(EMPTY_GREY)
        canvas.rect(frame.x, bottom, frame.width, frame.height, stroke=0, fill=1)
    with binary_streams():
        canvas.drawImage(picture, place.x, height - place.bottom, place.width, place.height)
    canvas.setStrokeGray(FRAME_GREY)
    canvas.setLineWidth(FRAME_PT)
    canvas.rect(frame.x, bottom, frame.width, frame.height, stroke=1, fill=0)


def _text(canvas: Canvas, height: float, runs: Sequence[TextRun]) -> None:
    for run in runs:
        if run.text:
            canvas.setFillGray(run.grey)
            canvas.setFont(pdf_font(run.style), run.size)
            canvas.drawString(run.x, height - run.y, run.text)


def _watermark(canvas: Canvas, page: PageBox, mark: Watermark) -> None:
    canvas.saveState()
    canvas.setFillColor(Color(WATERMARK_GREY, WATERMARK_GREY, WATERMARK_GREY, alpha=WATERMARK_ALPHA))
    canvas.translate(mark.x, page.height - mark.y)
    canvas.rotate(mark.angle)
    canvas.setFont(pdf_font("bold"), mark.size)
    # Centred on the cap height's middle, so the text's centre sits on the page's.
    canvas.drawCentredString(0, -0.36 * mark.size, mark.text)
    canvas.restoreState()
