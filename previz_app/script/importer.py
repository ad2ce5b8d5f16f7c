"""Importing a screenplay into a project: first import and re-import of revisions.

Everything is parsed and checked before the first write, and all writes happen in
one transaction: a bad file or a killed process leaves the project as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlite_utils import Database

from ..domain.model import Scene
from ..store import ProjectFolder, cast, scenes, settings, shots
from .document import ScriptDocument, ScriptScene
from .drafting import draft_shots, heading_shot_size, scene_characters
from .fdx import parse_fdx
from .fountain import parse_fountain
from .matching import imported_heading, match_scenes
from .source import read_script_text, script_format

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import changed, scene by scene (labels like `12 INT. HOUSE - DAY`)."""

    script: str
    title: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    shots_drafted: int = 0
    characters_added: int = 0
    locations_added: int = 0

    def summary(self) -> str:
        return (
            f"{self.script}: {len(self.added)} scenes added, {len(self.updated)} updated, "
            f"{len(self.restored)} restored, {len(self.removed)} marked removed, "
            f"{self.unchanged} unchanged; {self.shots_drafted} shots drafted"
        )


def read_script(path: str | Path) -> ScriptDocument:
    """Read and parse a Fountain or Final Draft file. Raises ScriptError."""
    path = Path(path)
    kind = script_format(path)
    text = read_script_text(path)
    if kind == "fdx":
        return parse_fdx(text, path.name)
    return parse_fountain(text, path.name)


def import_script(folder: ProjectFolder, path: str | Path, progress: Progress | None = None) -> ImportReport:
    """Import (or re-import) a screenplay into an open project.

    New scenes get drafted shots; revised scenes get their new text and keep their
    shots; scenes gone from the script are marked removed, never deleted. Raises
    ScriptError before touching the project when the file is unusable.
    """
    return import_document(folder, read_script(path), Path(path).name, progress)


def import_document(
    folder: ProjectFolder, document: ScriptDocument, name: str, progress: Progress | None = None
) -> ImportReport:
    """Import an already parsed script, in one transaction (see `import_script`)."""
    with folder.transaction():
        return apply_document(folder.db, document, name, progress)


def apply_document(db: Database, document: ScriptDocument, name: str, progress: Progress | None = None) -> ImportReport:
    """Write a parsed script into the project (call inside a transaction)."""
    report = ImportReport(script=name, title=document.title)
    existing = scenes.list_scenes(db)
    matches = match_scenes(existing, document.scenes)
    everyone = frozenset(speaker for scene in document.scenes for speaker in scene.characters)
    previous_location: str | None = None
    total = len(document.scenes)
    numbers = _scene_numbers(document)
    for index, parsed in enumerate(document.scenes):
        number = numbers[index]
        values = _scene_values(parsed, number, index, everyone)
        old = matches.get(index)
        label = f"{number} {parsed.heading}"
        if old is None:
            scene_id = scenes.insert_scene(db, Scene(**values))
            drafted = draft_shots(parsed, everyone, new_location=parsed.location != previous_location)
            for shot in drafted:
                shots.append_shot(db, replace(shot, scene_id=scene_id))
            report.added.append(label)
            report.shots_drafted += len(drafted)
        else:
            # The script owns what it says; fields it did not change keep the user's edits.
            if not parsed.synopsis:
                del values["synopsis"]
            if parsed.heading == imported_heading(old):
                for key in ("heading", "int_ext", "location", "time_of_day"):
                    del values[key]
            if parsed.text == old.script_text:
                del values["characters"]
            if old.removed:
                report.restored.append(label)
            elif (old.script_text, old.number) != (values["script_text"], number):
                report.updated.append(label)
            else:
                report.unchanged += 1
            scenes.update_scene(db, old.id, **values)
        previous_location = parsed.location
        if progress is not None:
            progress(index + 1, total)

    matched_ids = {scene.id for scene in matches.values()}
    gone = [scene for scene in existing if scene.id not in matched_ids]
    for offset, scene in enumerate(gone):
        if not scene.removed:
            report.removed.append(f"{scene.number} {scene.heading}")
        scenes.update_scene(db, scene.id, removed=True, position=total + offset)

    report.characters_added = cast.ensure_characters(db, sorted(everyone))
    places = [s.location for s in document.scenes if heading_shot_size(s.heading) is None]
    report.locations_added = cast.ensure_locations(db, places)
    if document.title and not settings.read_project(db).title.strip():
        settings.update_project(db, title=document.title)
    return report


def _scene_numbers(document: ScriptDocument) -> list[str]:
    """Written scene numbers as written; the others count on from the last number,
    skipping any number the script writes elsewhere, so no two scenes share one."""
    written = {scene.number for scene in document.scenes if scene.number}
    numbers, counter = [], 0
    for scene in document.scenes:
        if scene.number:
            digits = re.match(r"\d+", scene.number)
            counter = int(digits.group()) if digits else counter
            numbers.append(scene.number)
            continue
        counter += 1
        while str(counter) in written:
            counter += 1
        numbers.append(str(counter))
    return numbers


def _scene_values(parsed: ScriptScene, number: str, position: int, everyone: frozenset[str]) -> dict:
    return {
        "number": number,
        "heading": parsed.heading,
        "int_ext": parsed.int_ext,
        "location": parsed.location,
        "time_of_day": parsed.time_of_day,
        "synopsis": parsed.synopsis,
        "position": position,
        "script_text": parsed.text,
        "characters": scene_characters(parsed, everyone),
        "removed": False,
    }
