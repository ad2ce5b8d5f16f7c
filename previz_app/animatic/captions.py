"""Dialogue captions for animatics: cues from the shots' dialogue, SRT and WebVTT files,
and the burn-in overlays (captions, shot number and timecode) drawn with PIL.

Cues follow subtitle convention: lines of at most `LINE_CHARS` characters, at most
`CUE_LINES` lines on screen; a shot whose dialogue needs more is shown as several cues
that share the shot's frames in proportion to their length. Each speech keeps its
speaker ("ELLA: You came back."); parentheticals ("(quietly)") are direction, not
speech, and are left out.

Times in the files are `Fraction(frame) / fps`, counted from the video's first frame
(00:00:00.000) and rounded to the millisecond, half up.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..domain.vocabulary import frame_rate
from .files import write_text_atomically
from .timeline import Timeline

LINE_CHARS = 42
CUE_LINES = 2
# A line "ELLA: ..." or "MRS. O'HARA (quietly): ..." starts a speech (see script/drafting.py).
_SPEECH = re.compile(r"^(?P<name>[^:()]{1,40}?)\s*(?P<paren>\([^)]*\))?\s*:(?:\s+(?P<text>.*))?$")
_BOX_ALPHA = 160  # the caption box darkens the picture without hiding it


@dataclass(frozen=True)
class Cue:
    """A caption on screen from frame `start` up to (not including) frame `end`."""

    start: int
    end: int
    text: str
    shot_number: str


def caption_cues(timeline: Timeline) -> list[Cue]:
    """One or more cues for each shot with dialogue, covering the shot exactly."""
    cues: list[Cue] = []
    for item in timeline.shots:
        pages = _pages(_speeches(item.shot.dialogue))
        if not pages:
            continue
        if len(pages) > item.frames:  # more cues than frames: the last frame shows the rest
            pages = pages[: item.frames - 1] + ["\n".join(pages[item.frames - 1 :])]
        weights = [len(page) for page in pages]
        total, done, previous = sum(weights), 0, item.start
        for index, page in enumerate(pages):
            done += weights[index]
            end = item.start + int(Fraction(item.frames * done, total) + Fraction(1, 2))
            # every cue keeps at least a frame, and leaves one to each cue after it
            end = max(previous + 1, min(end, item.end - (len(pages) - 1 - index)))
            cues.append(Cue(previous, end, page, item.number))
            previous = end
    return cues


def _speeches(dialogue: str) -> list[str]:
    """The shot's dialogue as speeches "NAME: words"; a line without a label goes on
    with the speech before it."""
    speeches: list[str] = []
    for line in dialogue.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        match = _SPEECH.match(line)
        if match is None:
            if speeches:
                speeches[-1] += " " + line
            else:
                speeches.append(line)
        elif match["name"] == match["name"].upper():  # a character cue: drop the direction
            speeches.append(f"{match['name']}:" + (f" {match['text']}" if match["text"] else ""))
        else:
            speeches.append(line)  # "Note: ...", typed by hand: keep it as written
    return speeches


def _pages(speeches: list[str]) -> list[str]:
    """Wrap the speeches and group the lines `CUE_LINES` to a cue. Short speeches share
    a cue; a speech that needs several cues has them to itself."""
    pages: list[list[str]] = []
    shareable = False  # the last page holds only whole speeches
    for speech in speeches:
        lines = textwrap.wrap(speech, LINE_CHARS, break_on_hyphens=False)
        if shareable and len(pages[-1]) + len(lines) <= CUE_LINES:
            pages[-1].extend(lines)
            continue
        pages.extend(lines[start : start + CUE_LINES] for start in range(0, len(lines), CUE_LINES))
        shareable = len(lines) <= CUE_LINES
    return ["\n".join(page) for page in pages]


def write_srt(cues: list[Cue], fps: Fraction | float, path: str | Path) -> None:
    """Write `cues` as a SubRip file (UTF-8), atomically (temp file, then rename).

    Raises ValueError for a cue that is empty or ends before it starts.
    """
    blocks = [
        f"{number}\n{_clock(cue.start, fps, ',')} --> {_clock(cue.end, fps, ',')}\n{_cue_text(cue, number)}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    write_text_atomically(Path(path), "\n".join(blocks))


def write_vtt(cues: list[Cue], fps: Fraction | float, path: str | Path) -> None:
    """Write `cues` as a WebVTT file (UTF-8), atomically (temp file, then rename).

    Raises ValueError for a cue that is empty or ends before it starts.
    """
    blocks = ["WEBVTT\n"]
    for number, cue in enumerate(cues, start=1):
        # WebVTT reads cue text as markup: "&" and "<" must be escaped.
        text = _cue_text(cue, number).replace("&", "&amp;").replace("<", "&lt;")
        blocks.append(f"{number}\n{_clock(cue.start, fps, '.')} --> {_clock(cue.end, fps, '.')}\n{text}\n")
    write_text_atomically(Path(path), "\n".join(blocks))


def _cue_text(cue: Cue, number: int) -> str:
    if cue.start < 0 or cue.end <= cue.start:
        raise ValueError(f"caption {number} (shot {cue.shot_number}) runs from frame {cue.start} to {cue.end}; it must end after it starts")
    # A blank line ends a cue and "-->" marks a timing line in both formats.
    lines = [line.replace("-->", "->") for line in cue.text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"caption {number} (shot {cue.shot_number}) has no text")
    return "\n".join(lines)


def _clock(frame: int, fps: Fraction | float, separator: str) -> str:
    rate = fps if isinstance(fps, Fraction) else frame_rate(float(fps))
    millis = int(Fraction(frame) / rate * 1000 + Fraction(1, 2))  # half up
    seconds, ms = divmod(millis, 1000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}{separator}{ms:03d}"


def caption_overlay(text: str, size: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """A caption burn-in for a frame of `size`: white text, centred, on a translucent
    dark box, and where to paste it (bottom centre, inside the title-safe margin).

    Lines too wide for the frame are wrapped again; the font follows the frame height.
    Raises ValueError for empty text or an empty size.
    """
    width, height = _frame(size)
    if not text.strip():
        raise ValueError("a caption needs some text")
    font = _font(height // 20)
    pad, spacing = max(2, font.size // 3), max(1, font.size // 5)
    lines = _fit_lines(text, font, int(width * 0.9) - 2 * pad)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), "\n".join(lines), font=font, spacing=spacing, align="center")
    box_size = (min(width, math.ceil(right - left) + 2 * pad), min(height, math.ceil(bottom - top) + 2 * pad))
    box = Image.new("RGBA", box_size, (0, 0, 0, _BOX_ALPHA))
    draw = ImageDraw.Draw(box)
    draw.multiline_text(
        (box.width / 2, pad - top), "\n".join(lines), font=font, fill=(255, 255, 255, 255), spacing=spacing, align="center", anchor="ma"
    )
    margin = height // 20
    return box, ((width - box.width) // 2, max(0, height - margin - box.height))


def info_overlay(shot_number: str, timecode: str, size: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """A burn-in of the shot number and record timecode ("SHOT 3B  01:00:02:05") for a
    frame of `size`: one small box, and where to paste it (top left).

    The box's size depends only on the frame size and the shot number, so it stays
    still while the timecode runs. Raises ValueError for an empty size.
    """
    width, height = _frame(size)
    font = _font(height // 32)
    pad = max(2, font.size // 3)
    label = f"SHOT {shot_number}  " if shot_number else ""
    # Digits are tabular in the default font: measure the widest so the box never changes.
    template = label + re.sub(r"\d", "8", timecode)
    ascent, descent = font.getmetrics()
    box = Image.new(
        "RGBA",
        (min(width, int(font.getlength(template)) + 2 * pad), min(height, ascent + descent + 2 * pad)),
        (0, 0, 0, _BOX_ALPHA),
    )
    ImageDraw.Draw(box).text((pad, pad), label + timecode, font=font, fill=(255, 255, 255, 255))
    margin = height // 40
    return box, (min(margin, width - box.width), min(margin, height - box.height))


def _frame(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(value) for value in size)
    if width <= 0 or height <= 0:
        raise ValueError(f"a burn-in needs a frame size, not {width}x{height}")
    return width, height


def _font(pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(12, pixels))  # smaller is not legible


def _fit_lines(text: str, font: ImageFont.FreeTypeFont, room: int) -> list[str]:
    """The caption's lines, each re-wrapped by word to fit `room` pixels."""
    fitted: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        current = ""
        for word in line.split():
            candidate = f"{current} {word}" if current else word
            if current and font.getlength(candidate) > room:
                fitted.append(current)
                candidate = word
            current = candidate
        fitted.append(current)
    return fitted or [" "]
