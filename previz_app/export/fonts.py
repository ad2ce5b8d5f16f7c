"""The typeface every export sets text in, and the text measure its layouts use.

DejaVu Sans (Bitstream Vera extended to Greek, Cyrillic and more; free to embed and
redistribute) ships in resources/fonts, so a fresh machine has it and a PDF embeds
it: text stays real text, searchable and copyable, in the scripts it covers. Layouts
measure with these metrics; the PDF draws with the same font and the PNG renderers
with the same TTF through Pillow, so lines break alike in every format.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "fonts"
# Style -> (PDF font name, TTF file).
FACES = {
    "regular": ("PrevizSans", "DejaVuSans.ttf"),
    "bold": ("PrevizSans-Bold", "DejaVuSans-Bold.ttf"),
    "italic": ("PrevizSans-Italic", "DejaVuSans-Oblique.ttf"),
}
# The face the PPTX asks PowerPoint or Keynote for: DejaVu is not installed on most
# machines, and a deck's text must stay editable, so a common system face.
PPTX_FONT = "Arial"


def register_fonts() -> None:
    """Make the faces known to reportlab (idempotent, cheap after the first call).
    Raises FileNotFoundError naming the folder when the bundled fonts are missing."""
    for name, file in FACES.values():
        if name not in pdfmetrics.getRegisteredFontNames():
            if not (FONT_DIR / file).is_file():
                raise FileNotFoundError(f"the bundled font {file} is missing from {FONT_DIR}; reinstall previz")
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))


def pdf_font(style: str = "regular") -> str:
    """The reportlab font name of `style` ("regular", "bold", "italic")."""
    register_fonts()
    return FACES[style][0]


@lru_cache(maxsize=64)
def pil_font(style: str, pixels: int) -> ImageFont.FreeTypeFont:
    """The same face for Pillow, `pixels` high."""
    return ImageFont.truetype(str(FONT_DIR / FACES[style][1]), max(1, int(pixels)))


def text_width(text: str, size: float, style: str = "regular") -> float:
    """Width of `text` in points at `size` points."""
    return pdfmetrics.stringWidth(text, pdf_font(style), size)


def wrap_text(text: str, size: float, width: float, max_lines: int | None = None, style: str = "regular") -> list[str]:
    """`text` broken into lines no wider than `width` points at `size` points.

    Paragraph breaks are kept; a word wider than the line is cut. With `max_lines`,
    text beyond them is dropped and the last line ends in an ellipsis.
    """
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, style) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, size, style) > width and len(word) > 1:
                cut = _fit(word, size, width, style)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    if max_lines is not None and len(lines) > max_lines:
        if max_lines <= 0:
            return []
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1] + " …", size, width, style)
    return lines


def ellipsize(text: str, size: float, width: float, style: str = "regular") -> str:
    """`text` cut to fit `width` points, ending in "…" when cut."""
    if text_width(text, size, style) <= width:
        return text
    # The longest prefix that fits with its ellipsis, found by halving: a pasted page
    # of text must not cost a measure per character.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(text[:middle].rstrip() + "…", size, style) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…" if low else ""


def _fit(word: str, size: float, width: float, style: str) -> int:
    """How many leading characters of `word` fit `width` (at least one)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(word[:middle], size, style) <= width:
            low = middle
        else:
            high = middle - 1
    return low
