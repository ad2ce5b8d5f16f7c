"""Matching the scenes of a revised script to the scenes a project already has."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.model import Scene
from .document import ScriptScene

# How alike two scenes' texts (runs of three words) must be to count as one scene revised: 60% in general,
# 40% when the heading is unchanged too. Below that a scene is new.
MIN_SIMILARITY = 0.6
MIN_SIMILARITY_SAME_HEADING = 0.4


def imported_heading(scene: Scene) -> str:
    """The heading as the script last gave it (the user may have edited `heading`)."""
    return scene.script_text.split("\n", 1)[0] or scene.heading


def match_scenes(old: Sequence[Scene], new: Sequence[ScriptScene]) -> dict[int, Scene]:
    """Pair each new scene (by index) with the existing scene it revises, if any.

    In order of confidence: same written scene number and heading; identical heading
    and text; then the most similar text (see the thresholds above). Ties go to the
    scene nearest in the film's order. Each existing scene is matched at most once.
    """
    matches: dict[int, Scene] = {}
    taken: set[int] = set()

    def pair(new_index: int, scene: Scene) -> None:
        matches[new_index] = scene
        taken.add(scene.id)

    def nearest(index: int, candidates: list[Scene]) -> Scene | None:
        free = [s for s in candidates if s.id not in taken]
        return min(free, key=lambda s: (abs(s.position - index), s.position)) if free else None

    for index, scene in enumerate(new):
        if scene.number:
            found = nearest(index, [s for s in old if (s.number, imported_heading(s)) == (scene.number, scene.heading)])
            if found is not None:
                pair(index, found)
    for index, scene in enumerate(new):
        if index not in matches:
            found = nearest(index, [s for s in old if s.script_text == scene.text])
            if found is not None:
                pair(index, found)

    old_shingles = {s.id: _shingles(s.script_text) for s in old if s.id not in taken}
    scored = []
    for index in (i for i in range(len(new)) if i not in matches):
        new_shingles = _shingles(new[index].text)
        for scene in (s for s in old if s.id not in taken):
            same_heading = imported_heading(scene) == new[index].heading
            floor = MIN_SIMILARITY_SAME_HEADING if same_heading else MIN_SIMILARITY
            score = similarity(old_shingles[scene.id], new_shingles)
            if score >= floor:
                scored.append((-(score + 0.1 * same_heading), abs(scene.position - index), index, scene))
    for *_, index, scene in sorted(scored, key=lambda item: item[:3]):
        if index not in matches and scene.id not in taken:
            pair(index, scene)
    return matches


def _shingles(text: str) -> set[tuple[str, ...]]:
    """Runs of three words: a rewritten sentence changes a few, a new scene nearly all."""
    words = text.lower().split()
    if len(words) < 3:
        return {tuple(words)}
    return set(zip(words, words[1:], words[2:]))


def similarity(a: set, b: set) -> float:
    """Share of the larger scene's word runs that the other scene also has (0..1)."""
    return len(a & b) / max(len(a), len(b), 1)
