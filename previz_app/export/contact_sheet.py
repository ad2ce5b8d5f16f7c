"""Storyboard pages as pictures: the board layout (board_layout) drawn with Pillow at
a chosen density, for PNG contact sheets and the app's page preview; and how a
picture sits in its panel, which the PDF (board_pdf) follows too."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageDraw

from .board_layout import PageBox, Rect, TextRun, Watermark
from .fonts import pil_font

FRAME_PT = 0.5
FRAME_GREY = 0.25
EMPTY_GREY = 0.94  # inside a frame the picture does not fill
WATERMARK_GREY, WATERMARK_ALPHA = 0.45, 0.22
TRIM_TOLERANCE = 0.05  # a picture this close to the film's aspect is cropped to fill its frame


def sheet_size(page: PageBox, dpi: float) -> tuple[int, int]:
    """The page's size in pixels at `dpi`."""
    return round(page.width * dpi / 72), round(page.height * dpi / 72)


def fit_picture(image: Image.Image, frame: Rect, dpi: float) -> Image.Image:
    """`image` scaled to its place in `frame` (see `picture_place`) at `dpi`. Safe on
    any thread: the sheets' worker threads call it."""
    crop, place = picture_place(*image.size, frame)
    left, top, right, bottom = _box(place, dpi / 72)
    size = (max(1, right - left), max(1, bottom - top))
    if (0, 0, *size) == crop:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, box=crop, reducing_gap=3.0)


def picture_place(width: int, height: int, frame: Rect) -> tuple[tuple[int, int, int, int], Rect]:
    """The part of a `width` x `height` picture a panel shows (left, top, right,
    bottom) and where it goes in `frame`: trimmed to fill the frame when it is a few
    pixels off the film's aspect, otherwise whole and centred."""
    crop = trim_box(width, height, frame.width / frame.height) or (0, 0, width, height)
    return crop, fit(frame, crop[2] - crop[0], crop[3] - crop[1])


def fit(frame: Rect, width: int, height: int) -> Rect:
    """The largest rectangle of `width`:`height` inside `frame`, centred."""
    scale = min(frame.width / width, frame.height / height)
    w, h = width * scale, height * scale
    return Rect(frame.x + (frame.width - w) / 2, frame.y + (frame.height - h) / 2, w, h)


def trim_box(width: int, height: int, aspect: float) -> tuple[int, int, int, int] | None:
    """The centred crop of a `width` x `height` picture to `aspect` when the two differ
    by a few percent (a frame rounded to whole pixels), so it fills its frame; None
    when it already fits or differs more (it is shown whole, with margins)."""
    ratio = width / height
    if abs(ratio / aspect - 1) < 0.002 or abs(ratio / aspect - 1) > TRIM_TOLERANCE:
        return None
    if ratio > aspect:
        keep = round(height * aspect)
        return ((width - keep) // 2, 0, (width - keep) // 2 + keep, height)
    keep = round(width / aspect)
    return (0, (height - keep) // 2, width, (height - keep) // 2 + keep)


def draw_page(page: PageBox, pictures: Iterable[Image.Image], dpi: float) -> Image.Image:
    """The page at `dpi` as an RGB image; `pictures` are its panels' in order, best
    already scaled by `fit_picture` (on worker threads); others are scaled here."""
    scale = dpi / 72
    sheet = Image.new("RGB", sheet_size(page, dpi), "white")
    draw = ImageDraw.Draw(sheet)
    line = max(1, round(FRAME_PT * scale))
    for panel, picture in zip(page.panels, pictures):
        frame = _box(panel.frame, scale)
        draw.rectangle(frame, fill=_grey(EMPTY_GREY))
        width, height = frame[2] - frame[0], frame[3] - frame[1]
        if picture.width > width or picture.height > height or (picture.width < width - 1 and picture.height < height - 1):
            picture = fit_picture(picture, panel.frame, dpi)  # not scaled for this frame yet
        left, top = frame[0] + (width - picture.width) // 2, frame[1] + (height - picture.height) // 2
        sheet.paste(picture.convert("RGB"), (left, top))
        draw.rectangle((frame[0] - line, frame[1] - line, frame[2] + line - 1, frame[3] + line - 1),
                       outline=_grey(FRAME_GREY), width=line)
        _text(draw, panel.caption, scale)
    _text(draw, page.header + page.footer, scale)
    for x1, y1, x2, y2 in page.rules:
        draw.line((x1 * scale, y1 * scale, x2 * scale, y2 * scale), fill=_grey(0.6), width=line)
    if page.watermark is not None:
        _watermark(sheet, page.watermark, scale)
    return sheet


def save_sheet(sheet: Image.Image, path: Path, dpi: float) -> None:
    """Write `sheet` as PNG to `path` (any name: the staged temp file has none of
    its own), recording its density so it prints at size."""
    sheet.save(path, format="PNG", dpi=(dpi, dpi), compress_level=6)


def _box(rect: Rect, scale: float) -> tuple[int, int, int, int]:
    return (round(rect.x * scale), round(rect.y * scale), round(rect.right * scale), round(rect.bottom * scale))


def _grey(level: float) -> tuple[int, int, int]:
    value = round(255 * level)
    return (value, value, value)


def _text(draw: ImageDraw.ImageDraw, runs: Iterable[TextRun], scale: float) -> None:
    for run in runs:
        if run.text:
            font = pil_font(run.style, round(run.size * scale))
            draw.text((run.x * scale, run.y * scale), run.text, font=font, fill=_grey(run.grey), anchor="ls")


def _watermark(sheet: Image.Image, mark: Watermark, scale: float) -> None:
    """Light diagonal text over the page: drawn on its own mask, turned, then laid on."""
    font = pil_font("bold", round(mark.size * scale))
    left, top, right, bottom = font.getbbox(mark.text)
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), mark.text, font=font, fill=round(255 * WATERMARK_ALPHA))
    mask = mask.rotate(mark.angle, resample=Image.Resampling.BICUBIC, expand=True)
    x, y = round(mark.x * scale - mask.width / 2), round(mark.y * scale - mask.height / 2)
    sheet.paste(_grey(WATERMARK_GREY), (x, y, x + mask.width, y + mask.height), mask)
