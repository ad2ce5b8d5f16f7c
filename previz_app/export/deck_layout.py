"""The pitch deck's layout model: 16:9 pages of positioned blocks that the PPTX and the
PDF renderer both draw, so the two files have the same pages in the same order.

Everything is in points from the page's top-left corner (960 x 540, a 13.33 x 7.5 inch
slide). Text is measured and wrapped here with `fonts.wrap_text`, so pagination (a long
synopsis going on to a second page) is decided once, for both formats. Pictures are
decoded only when a renderer asks (`ImageBlock.load`), so a deck never holds all of
its images at once; `placed_jpeg` crops and scales them alike for both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from .fonts import ellipsize, wrap_text
from .pdf import JpegPicture, jpeg_picture
from .pictures import Provenance

PAGE_WIDTH, PAGE_HEIGHT = 960.0, 540.0
MARGIN = 56.0
GUTTER = 28.0
# The area between the heading and the footer.
CONTENT_TOP, CONTENT_BOTTOM = 104.0, 480.0
IMAGE_DPI = 150  # pictures are stored at most this dense: sharp on a projector, a small file
JPEG_QUALITY = 86
CELL_PADDING = 7.0  # a table cell's text from its left and right edges

# The theme: dark ink on warm paper, one rust accent. Colours are "RRGGBB".
PAPER = "F6F4EF"
INK = "1D1D1F"
MUTED = "6E6B66"
ACCENT = "B5482C"
RULE = "D6D1C7"
ZEBRA = "ECE8E0"
NIGHT = "141414"
WHITE = "FFFFFF"
ATTACHED_COLOUR = "2F6B3A"
WISHLIST_COLOUR = "9A6A12"

ALIGNMENTS = ("left", "center", "right")
FITS = ("cover", "contain")


@dataclass(frozen=True, slots=True)
class Rect:
    """A box in points, from the page's top-left corner."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph: `text` is what an editable text box holds, `lines` how the
    layout broke it (what the PDF draws)."""

    text: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TextBlock:
    rect: Rect
    paragraphs: tuple[Paragraph, ...]
    size: float  # points
    style: str = "regular"  # fonts.FACES: regular | bold | italic
    color: str = INK
    align: str = "left"  # ALIGNMENTS
    leading: float = 0.0  # baseline to baseline, points
    space_after: float = 0.0  # between paragraphs, points

    @property
    def text(self) -> str:
        return "\n".join(paragraph.text for paragraph in self.paragraphs)


@dataclass(frozen=True, slots=True)
class ImageBlock:
    rect: Rect
    load: Callable[[], Image.Image]  # decodes the picture; raises pictures.MissingImageError
    what: str  # names it in errors and notes: "key art", "shot 12A"
    provenance: Provenance | None  # None: drawn, imported or a blocking diagram
    fit: str = "cover"  # cover: fill the rect, cropping; contain: the whole picture, centred


@dataclass(frozen=True, slots=True)
class ShapeBlock:
    """A filled rectangle: a band over the key art, a rule, a cast marker."""

    rect: Rect
    color: str
    opacity: float = 1.0


@dataclass(frozen=True, slots=True)
class TableBlock:
    rect: Rect
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # cell strings, already fitted to their column
    widths: tuple[float, ...]  # points per column
    numeric: tuple[bool, ...]  # right-aligned columns
    size: float
    row_height: float
    total: bool = False  # the last row is a total: bold, over a rule


Block = TextBlock | ImageBlock | ShapeBlock | TableBlock


@dataclass(frozen=True, slots=True)
class Page:
    section: str  # a key of domain.deck.SECTIONS
    heading: str
    number: int  # 1-based, in the whole deck
    blocks: tuple[Block, ...]
    background: str = PAPER

    @property
    def provenances(self) -> tuple[Provenance, ...]:
        return tuple(block.provenance for block in self.blocks if isinstance(block, ImageBlock) and block.provenance)

    @property
    def notes(self) -> str:
        """The speaker notes: how every generated picture on the page was made."""
        return "\n".join(item.line() for item in self.provenances)


@dataclass(frozen=True, slots=True)
class DeckLayout:
    title: str  # the film's
    pages: tuple[Page, ...]
    omitted: tuple[str, ...]  # SECTIONS keys left out because empty

    def provenances(self) -> list[Provenance]:
        return [item for page in self.pages for item in page.provenances]


def page_heading(heading: str, index: int) -> str:
    """A section's heading on its page `index` (from 0): "Budget", then "Budget (continued)"."""
    return heading if index == 0 else f"{heading} (continued)"


def split_paragraphs(text: str) -> list[str]:
    """The non-blank lines of `text`, each a paragraph, spaces collapsed."""
    return [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def text_block(x: float, y: float, w: float, text: str, size: float, style: str = "regular", color: str = INK,
               align: str = "left", leading: float | None = None, max_lines: int | None = None,
               space_after: float = 0.0) -> TextBlock:
    """`text` wrapped to `w` points from (x, y); the block is as high as its lines. With
    `max_lines`, the text beyond them is cut and ends in an ellipsis."""
    leading = leading or round(size * 1.3, 2)
    paragraphs: list[Paragraph] = []
    left = max_lines
    height = 0.0
    for source in split_paragraphs(text):
        if left is not None and left <= 0:
            if paragraphs:  # the text goes on: the last line shown says so
                last = paragraphs[-1]
                cut = last.lines[:-1] + (ellipsize(last.lines[-1] + " …", size, w, style),)
                paragraphs[-1] = Paragraph(" ".join(cut), cut)
            break
        lines = tuple(wrap_text(source, size, w, style=style))
        if left is not None and len(lines) > left:
            lines = tuple(wrap_text(source, size, w, max_lines=left, style=style))
            source = " ".join(lines)
        paragraphs.append(Paragraph(source, lines))
        height += len(lines) * leading + space_after
        if left is not None:
            left -= len(lines)
    return TextBlock(Rect(x, y, w, max(height - space_after, leading)), tuple(paragraphs), size, style, color, align,
                     leading, space_after)


def flow_text(text: str, size: float, frames: Callable[[int], Sequence[Rect]], style: str = "regular",
              color: str = INK, leading: float | None = None, space_after: float = 0.0) -> list[list[TextBlock]]:
    """`text` poured through the frames of successive pages (`frames(page_index)` gives a
    page's columns) for as many pages as it needs; returns each page's text blocks.

    A paragraph that does not fit breaks between lines and goes on in the next frame,
    re-wrapped to its width; it never leaves a single line behind or alone."""
    leading = leading or round(size * 1.4, 2)
    queue = deque(split_paragraphs(text))
    pages: list[list[TextBlock]] = []
    page_index = 0
    while queue:
        blocks: list[TextBlock] = []
        for rect in frames(page_index):
            placed: list[Paragraph] = []
            used = 0.0
            while queue:
                source = queue.popleft()
                lines = wrap_text(source, size, rect.w, style=style)
                fit = int((rect.h - used + 1e-6) // leading)
                if fit >= len(lines):
                    placed.append(Paragraph(source, tuple(lines)))
                    used += len(lines) * leading + space_after
                    continue
                keep = fit - 1 if len(lines) - fit == 1 else fit  # no last line alone on the next frame
                if keep < 2:  # nor a first line alone at the foot of this one
                    keep = 0 if placed else max(1, fit)  # an empty frame takes what it can
                if keep > 0:
                    placed.append(Paragraph(" ".join(lines[:keep]), tuple(lines[:keep])))
                queue.appendleft(" ".join(lines[keep:]) if keep > 0 else source)
                break
            if placed:
                blocks.append(TextBlock(rect, tuple(placed), size, style, color, "left", leading, space_after))
            if not queue:
                break
        pages.append(blocks)
        page_index += 1
    return pages


def fit_cell(text: str, size: float, width: float, style: str = "regular") -> str:
    """A table cell's text cut to one line of its column (less the cell padding)."""
    return ellipsize(" ".join(str(text).split()), size, max(1.0, width - 2 * CELL_PADDING), style)


def placed_jpeg(block: ImageBlock, dpi: int = IMAGE_DPI) -> tuple[JpegPicture, Rect]:
    """The picture of `block` fitted to its rect as a JPEG, and where it goes: the
    rect itself (cover: cropped to fill it) or a centred part of it (contain). Pixels
    are at most `dpi` per inch of the page, never enlarged. Raises what `block.load`
    raises (pictures.MissingImageError naming the picture)."""
    image = block.load()
    rect = block.rect
    width, height = image.size
    box = (0.0, 0.0, float(width), float(height))
    if block.fit == "cover":
        target = rect.w / rect.h
        if width / height > target:  # wider than the rect: crop the sides
            crop = height * target
            box = ((width - crop) / 2, 0.0, (width + crop) / 2, float(height))
        else:
            crop = width / target
            box = (0.0, (height - crop) / 2, float(width), (height + crop) / 2)
        placed = rect
    else:
        scale = min(rect.w / width, rect.h / height)
        w, h = width * scale, height * scale
        placed = Rect(rect.x + (rect.w - w) / 2, rect.y + (rect.h - h) / 2, w, h)
    return jpeg_picture(image, box, (placed.w, placed.h), dpi, JPEG_QUALITY), placed
