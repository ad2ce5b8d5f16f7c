"""Which scenes an export covers: the whole film, one scene, a range or a list."""

from __future__ import annotations

from ..domain.model import Scene


def select_scenes(scenes: list[Scene], spec: str) -> list[Scene]:
    """The scenes `spec` names, in film order. `spec` is "" (all), a scene number
    ("12A"), a range by film order ("3-7") or a comma list ("2,5,9-11"); numbers
    match case-insensitively. Raises ValueError naming a scene that does not exist or
    a range that runs backwards."""
    spec = (spec or "").strip()
    if not spec:
        return list(scenes)
    order = {scene.number.upper(): index for index, scene in enumerate(scenes)}
    chosen: set[int] = set()
    for part in (piece.strip() for piece in spec.split(",")):
        if not part:
            continue
        ends = [_index(order, scenes, end.strip()) for end in part.split("-", 1)] if part.upper() not in order else [order[part.upper()]]
        first, last = ends[0], ends[-1]
        if last < first:
            raise ValueError(f"scene range {part} runs backwards; write it as {scenes[last].number}-{scenes[first].number}")
        chosen.update(range(first, last + 1))
    return [scene for index, scene in enumerate(scenes) if index in chosen]


def _index(order: dict[str, int], scenes: list[Scene], number: str) -> int:
    if number.upper() not in order:
        known = f"scenes are {scenes[0].number} to {scenes[-1].number}" if scenes else "the project has no scenes"
        raise ValueError(f"no scene {number}; {known}")
    return order[number.upper()]
