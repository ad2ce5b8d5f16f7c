"""The deck layout as a PowerPoint file: 16:9 slides with editable text boxes, native
tables, pictures and speaker notes that say how each generated picture was made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from .deck_layout import (
    CELL_PADDING,
    INK,
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
from .fonts import PPTX_FONT

SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)  # 13.333 x 7.5 in: PowerPoint's 16:9
BLANK_LAYOUT = 6
_ALIGN = {"left": PP_ALIGN.LEFT, "center": PP_ALIGN.CENTER, "right": PP_ALIGN.RIGHT}


def write_pptx(layout: DeckLayout, path: Path, before_page: Callable[[int], None] | None = None) -> None:
    """Write `layout` to `path` as a .pptx, one slide a page. `before_page(index)` is
    called before each page (it may raise to stop). Raises what the pictures raise
    (pictures.MissingImageError) and OSError from the disk."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    properties = presentation.core_properties
    properties.title = layout.title
    properties.author = properties.last_modified_by = "previz"
    properties.subject = f"Pitch deck: {layout.title}"
    properties.keywords = "pitch deck; previz"
    for index, page in enumerate(layout.pages):
        if before_page is not None:
            before_page(index)
        _slide(presentation, page)
    presentation.save(str(path))


def _slide(presentation, page: Page) -> None:
    slide = presentation.slides.add_slide(presentation.slide_layouts[BLANK_LAYOUT])
    slide.background.fill.solid()
    slide.background.fill.fore_color.rgb = RGBColor.from_string(page.background)
    for block in page.blocks:
        if isinstance(block, TextBlock):
            _text(slide, block)
        elif isinstance(block, ImageBlock):
            picture, rect = placed_jpeg(block)
            slide.shapes.add_picture(picture.jpeg_fh(), Pt(rect.x), Pt(rect.y), Pt(rect.w), Pt(rect.h))
        elif isinstance(block, ShapeBlock):
            _shape(slide, block)
        elif isinstance(block, TableBlock):
            _table(slide, block)
    if page.notes:
        slide.notes_slide.notes_text_frame.text = page.notes


def _text(slide, block: TextBlock) -> None:
    rect = block.rect
    box = slide.shapes.add_textbox(Pt(rect.x), Pt(rect.y), Pt(rect.w), Pt(rect.h))
    frame = box.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
    frame.vertical_anchor = MSO_ANCHOR.TOP
    for index, paragraph in enumerate(block.paragraphs):
        target = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        target.alignment = _ALIGN[block.align]
        target.line_spacing = Pt(block.leading)
        if block.space_after and index < len(block.paragraphs) - 1:
            target.space_after = Pt(block.space_after)
        _run(target.add_run(), paragraph.text, block.size, block.style, block.color)


def _run(run, text: str, size: float, style: str, color: str) -> None:
    run.text = text
    font = run.font
    font.name = PPTX_FONT
    font.size = Pt(size)
    font.bold = style == "bold"
    font.italic = style == "italic"
    font.color.rgb = RGBColor.from_string(color)


def _shape(slide, block: ShapeBlock) -> None:
    rect = block.rect
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Pt(rect.x), Pt(rect.y), Pt(rect.w), max(Pt(rect.h), Emu(1)))
    shape.fill.solid()
    shape.fill.fore_color.rgb = RGBColor.from_string(block.color)
    shape.line.fill.background()
    shape.shadow.inherit = False
    if block.opacity < 1:  # python-pptx has no API for fill transparency: DrawingML's <a:alpha>
        colour = shape._element.spPr.find(qn("a:solidFill")).find(qn("a:srgbClr"))
        etree.SubElement(colour, qn("a:alpha")).set("val", str(round(block.opacity * 100000)))


def _table(slide, block: TableBlock) -> None:
    rect = block.rect
    rows = [block.header, *block.rows]
    frame = slide.shapes.add_table(len(rows), len(block.header), Pt(rect.x), Pt(rect.y), Pt(rect.w), Pt(rect.h))
    table = frame.table
    table.first_row, table.horz_banding = True, False
    for column, width in zip(table.columns, block.widths):
        column.width = Pt(width)
    for row_index, values in enumerate(rows):
        table.rows[row_index].height = Pt(block.row_height)
        header = row_index == 0
        total = block.total and row_index == len(rows) - 1
        fill = INK if header else RULE if total else (PAPER if row_index % 2 else ZEBRA)
        for column, value in enumerate(values):
            cell = table.cell(row_index, column)
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor.from_string(fill)
            cell.margin_left = cell.margin_right = Pt(CELL_PADDING)
            cell.margin_top = cell.margin_bottom = 0
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.alignment = PP_ALIGN.RIGHT if block.numeric[column] else PP_ALIGN.LEFT
            _run(paragraph.add_run(), value, block.size, "bold" if header or total else "regular",
                 WHITE if header else INK)
