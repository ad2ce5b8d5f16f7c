"""Fountain (https://fountain.io) through screenplain's parser."""

from __future__ import annotations

from screenplain.parsers import fountain as screenplain_fountain
from screenplain.richstring import parse_emphasis
from screenplain.types import Action as SpAction
from screenplain.types import Dialog, DualDialog, Slug
from screenplain.types import Transition as SpTransition

from .document import Action, Dialogue, Element, ScriptDocument, Transition, make_scene, split_cue
from .errors import ScriptError


def parse_fountain(text: str, name: str = "script") -> ScriptDocument:
    """Parse Fountain text into scenes. Raises ScriptError when it has no scene heading."""
    screenplay = screenplain_fountain.parse_lines(_lines(text))
    title_page = screenplay.title_page or {}
    scenes = []
    heading: str | None = None
    number: str | None = None
    synopsis = ""
    elements: list[Element] = []
    for paragraph in screenplay.paragraphs:
        if isinstance(paragraph, Slug):
            if heading is not None:
                scenes.append(make_scene(heading, number, elements, synopsis))
            heading, elements = str(paragraph.line), []
            number = str(paragraph.scene_number) if paragraph.scene_number else None
            synopsis = paragraph.synopsis or ""
        elif heading is None:
            continue  # text before the first scene: FADE IN, notes to the reader
        elif isinstance(paragraph, SpAction):
            # Notes removed mid-line leave double spaces; keep line breaks, tidy the rest.
            text_block = "\n".join(" ".join(str(line).split()) for line in paragraph.lines).strip()
            if text_block:
                elements.append(Action(text_block))
        elif isinstance(paragraph, DualDialog):
            elements.append(_dialogue(paragraph.left, dual=True))
            elements.append(_dialogue(paragraph.right, dual=True))
        elif isinstance(paragraph, Dialog):
            elements.append(_dialogue(paragraph))
        elif isinstance(paragraph, SpTransition):
            elements.append(Transition(str(paragraph.line)))
    if heading is not None:
        scenes.append(make_scene(heading, number, elements, synopsis))
    if not scenes:
        raise ScriptError(f"{name}: no scene headings found (INT. / EXT. lines); is this a Fountain screenplay?")
    return ScriptDocument(
        title=" ".join(_title_value(title_page, "Title").split()),
        author=_title_value(title_page, "Author") or _title_value(title_page, "Authors"),
        scenes=tuple(scenes),
    )


def _lines(text: str) -> list[str]:
    # screenplain.parse() removes the boneyard before splitting lines; do the same.
    return screenplain_fountain.boneyard_re.sub("", text).split("\n")


def _title_value(title_page: dict[str, list[str]], key: str) -> str:
    return " ".join(str(parse_emphasis(line)) for line in title_page.get(key, [])).strip()


def _dialogue(dialog: Dialog, dual: bool = False) -> Dialogue:
    character, extension = split_cue(str(dialog.character))
    parentheticals = [str(text) for is_paren, text in dialog.blocks if is_paren]
    spoken = [str(text) for is_paren, text in dialog.blocks if not is_paren]
    return Dialogue(
        character=character,
        text=" ".join(spoken).strip(),
        extension=extension,
        parenthetical=" ".join(parentheticals),
        dual=dual,
    )
