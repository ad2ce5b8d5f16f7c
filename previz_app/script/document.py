"""A parsed screenplay, independent of its file format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..domain.vocabulary import IntExt, TimeOfDay


@dataclass(frozen=True, slots=True)
class Action:
    text: str


@dataclass(frozen=True, slots=True)
class Dialogue:
    character: str  # the cue without extensions: "MARA"
    text: str
    extension: str = ""  # "V.O.", "O.S.", "CONT'D"
    parenthetical: str = ""
    dual: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    text: str


Element = Action | Dialogue | Transition


@dataclass(frozen=True, slots=True)
class ScriptScene:
    heading: str
    int_ext: IntExt
    location: str
    time_of_day: TimeOfDay
    number: str | None = None  # as written in the script (#12#), if any
    synopsis: str = ""
    elements: tuple[Element, ...] = ()

    @property
    def characters(self) -> tuple[str, ...]:
        """Speaking characters, in order of first line."""
        names: dict[str, None] = {}
        for element in self.elements:
            if isinstance(element, Dialogue):
                names[element.character] = None
        return tuple(names)

    @property
    def text(self) -> str:
        """The scene as plain screenplay text, for display and for matching revisions."""
        lines = [self.heading, ""]
        for element in self.elements:
            if isinstance(element, Dialogue):
                cue = element.character + (f" ({element.extension})" if element.extension else "")
                lines.append(cue + (" ^" if element.dual else ""))
                if element.parenthetical:
                    lines.append(element.parenthetical)
                lines.append(element.text)
            else:
                lines.append(element.text)
            lines.append("")
        return "\n".join(lines).strip() + "\n"


@dataclass(frozen=True, slots=True)
class ScriptDocument:
    title: str = ""
    author: str = ""
    scenes: tuple[ScriptScene, ...] = field(default_factory=tuple)


_PREFIXES = (
    ("INT./EXT.", IntExt.interior_exterior),
    ("INT/EXT.", IntExt.interior_exterior),
    ("INT/EXT", IntExt.interior_exterior),
    ("INT./EXT", IntExt.interior_exterior),
    ("EXT./INT.", IntExt.interior_exterior),
    ("EXT/INT", IntExt.interior_exterior),
    ("I/E.", IntExt.interior_exterior),
    ("I/E", IntExt.interior_exterior),
    ("INT.", IntExt.interior),
    ("INT", IntExt.interior),
    ("EXT.", IntExt.exterior),
    ("EXT", IntExt.exterior),
    ("EST.", IntExt.exterior),
    ("EST", IntExt.exterior),
)
_TIMES = {member.value: member for member in TimeOfDay if member.value}
_TIMES.update({"MOMENTS LATER": TimeOfDay.later, "SAME": TimeOfDay.continuous, "CONT'D": TimeOfDay.continuous})
_CUE_EXTENSION = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<ext>[^)]*)\))?\s*(?:\((?P<ext2>[^)]*)\))?\s*\^?\s*$")


def parse_heading(heading: str) -> tuple[IntExt, str, TimeOfDay]:
    """Split `INT. LIGHTHOUSE KITCHEN - NIGHT` into (INT, "LIGHTHOUSE KITCHEN", NIGHT).

    A forced heading without INT/EXT keeps its whole text as the location.
    """
    text = " ".join(heading.upper().split())
    int_ext = IntExt.unspecified
    for prefix, kind in _PREFIXES:
        if text.startswith(prefix) and (len(text) == len(prefix) or text[len(prefix)] in " ."):
            int_ext, text = kind, text[len(prefix):].lstrip(" .")
            break
    time_of_day = TimeOfDay.unspecified
    parts = [part.strip() for part in re.split(r"\s+[-–—]+\s+|\s+--\s*", text)]
    if len(parts) > 1 and parts[-1] in _TIMES:
        time_of_day = _TIMES[parts[-1]]
        parts = parts[:-1]
    location = " - ".join(part for part in parts if part)
    return int_ext, location, time_of_day


def split_cue(cue: str) -> tuple[str, str]:
    """`MARA (V.O.) (CONT'D)` -> ("MARA", "V.O.; CONT'D")."""
    match = _CUE_EXTENSION.fullmatch(cue.strip().lstrip("@"))
    if match is None:
        return " ".join(cue.upper().split()), ""
    extensions = [e.strip() for e in (match["ext"], match["ext2"]) if e]
    return " ".join(match["name"].upper().split()), "; ".join(extensions)


def make_scene(heading: str, number: str | None, elements: list[Element], synopsis: str = "") -> ScriptScene:
    int_ext, location, time_of_day = parse_heading(heading)
    return ScriptScene(
        heading=" ".join(heading.split()).upper(),
        int_ext=int_ext,
        location=location,
        time_of_day=time_of_day,
        number=number or None,
        synopsis=synopsis,
        elements=tuple(elements),
    )
