"""Matching the scenes of a revised script to the scenes a project already has."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from ..domain.model import Scene
from .document import ScriptScene

# Below this text similarity an unmatched scene counts as new, not as a rewrite.
MIN_SIMILARITY = 0.6


def match_scenes(old: Sequence[Scene], new: Sequence[ScriptScene]) -> dict[int, Scene]:
    """Pair each new scene (by index) with the existing scene it revises, if any.

    In order of confidence: same scene number and heading; identical heading and
    text; headings aligned in sequence (difflib); then the most similar text, at
    least 60% alike. Each existing scene is matched at most once.
    """
    matches: dict[int, Scene] = {}
    taken: set[int] = set()

    def pair(new_index: int, scene: Scene) -> None:
        matches[new_index] = scene
        taken.add(scene.id)

    by_number_heading = {(s.number, s.heading): s for s in old}
    for index, scene in enumerate(new):
        found = by_number_heading.get((scene.number, scene.heading)) if scene.number else None
        if found is not None and found.id not in taken:
            pair(index, found)

    by_text: dict[tuple[str, str], list[Scene]] = {}
    for scene in old:
        by_text.setdefault((scene.heading, scene.script_text), []).append(scene)
    for index, scene in enumerate(new):
        if index in matches:
            continue
        candidates = [s for s in by_text.get((scene.heading, scene.text), []) if s.id not in taken]
        if candidates:
            pair(index, candidates[0])

    free_old = [s for s in old if s.id not in taken]
    free_new = [i for i in range(len(new)) if i not in matches]
    aligner = SequenceMatcher(None, [s.heading for s in free_old], [new[i].heading for i in free_new], autojunk=False)
    for block in aligner.get_matching_blocks():
        for k in range(block.size):
            pair(free_new[block.b + k], free_old[block.a + k])

    scored = []
    for index in (i for i in range(len(new)) if i not in matches):
        for scene in (s for s in old if s.id not in taken):
            matcher = SequenceMatcher(None, scene.script_text, new[index].text, autojunk=False)
            if matcher.real_quick_ratio() >= MIN_SIMILARITY and matcher.quick_ratio() >= MIN_SIMILARITY:
                score = matcher.ratio()
                if score >= MIN_SIMILARITY:
                    scored.append((score, index, scene))
    for _, index, scene in sorted(scored, key=lambda item: -item[0]):
        if index not in matches and scene.id not in taken:
            pair(index, scene)
    return matches
