"""Final Draft (.fdx): XML, read with the standard library."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .document import Action, Dialogue, Element, ScriptDocument, Transition, make_scene, split_cue
from .errors import ScriptError


def parse_fdx(text: str, name: str = "script.fdx") -> ScriptDocument:
    """Parse Final Draft XML into scenes.

    Raises ScriptError for XML that is cut off or malformed, a file that is not a
    Final Draft document, or a script without scene headings.
    """
    try:
        root = ET.fromstring(text.lstrip("\ufeff"))
    except ET.ParseError as exc:
        line, column = exc.position
        raise ScriptError(
            f"{name} is not a complete Final Draft file: the XML breaks at line {line}, "
            f"column {column} (truncated or damaged?)"
        ) from None
    if root.tag != "FinalDraft":
        raise ScriptError(f"{name} is XML but not a Final Draft document (root <{root.tag}>)")
    content = root.find("Content")
    paragraphs = list(content.iter("Paragraph")) if content is not None else []

    scenes = []
    heading: str | None = None
    number: str | None = None
    synopsis = ""
    elements: list[Element] = []
    cue: str | None = None
    parenthetical = ""
    dual_ids: set[int] = {
        id(p) for dual in (content.iter("DualDialogue") if content is not None else []) for p in dual.iter("Paragraph")
    }
    for paragraph in paragraphs:
        kind = paragraph.get("Type", "")
        body = _text(paragraph)
        if kind == "Scene Heading" and body:
            if heading is not None:
                scenes.append(make_scene(heading, number, elements, synopsis))
            heading, number, elements, cue = body, (paragraph.get("Number") or "").strip(), [], None
            summary = paragraph.find("SceneProperties/Summary")
            synopsis = " ".join("".join(summary.itertext()).split()) if summary is not None else ""
        elif heading is None or not body:
            continue
        elif kind == "Character":
            cue, parenthetical = body, ""
        elif kind == "Parenthetical":
            parenthetical = body
        elif kind == "Dialogue" and cue is not None:
            character, extension = split_cue(cue)
            elements.append(
                Dialogue(character, body, extension, parenthetical, dual=id(paragraph) in dual_ids)
            )
            parenthetical = ""
        elif kind == "Transition":
            elements.append(Transition(body))
            cue = None
        elif kind in ("Action", "General", "Shot"):
            elements.append(Action(body))
            cue = None
    if heading is not None:
        scenes.append(make_scene(heading, number, elements, synopsis))
    if not scenes:
        raise ScriptError(f"{name}: no scene headings found in this Final Draft file")
    title, author = _title_page(root)
    return ScriptDocument(title=title, author=author, scenes=tuple(scenes))


def _text(paragraph: ET.Element) -> str:
    """The paragraph's own text runs (not those of nested paragraphs)."""
    return "".join("".join(run.itertext()) for run in paragraph.findall("Text")).strip()


def _title_page(root: ET.Element) -> tuple[str, str]:
    """Title page lines: the first is the title; the line after "by" names the author."""
    lines = [_text(p) for p in root.iterfind("TitlePage/Content/Paragraph")]
    lines = [line for line in lines if line]
    if not lines:
        return "", ""
    author = ""
    for index, line in enumerate(lines[:-1]):
        if line.lower().rstrip(":").endswith("by"):
            author = lines[index + 1]
            break
    return " ".join(lines[0].split()), author
