"""Shot numbers as crews write them: scene 12 has shots 12, 12A, 12B, ...

A locked number never changes. Unlocked shots take the next letter after the shot
before them; when that label is held by a locked shot further on (a shot was
inserted after numbers were locked), they extend the previous label instead:
12A -> 12AA, 12AB.
"""

from __future__ import annotations

from collections.abc import Sequence
from string import ascii_uppercase


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (bijective base 26)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = ascii_uppercase[rest] + letters
    return letters


def _letter_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ascii_uppercase.index(char) + 1
    return index - 1


def _successor(label: str, scene_number: str) -> str:
    if label == scene_number:
        return scene_number + "A"
    suffix = label[len(scene_number):]
    if label.startswith(scene_number) and suffix.isalpha() and suffix.isupper():
        return scene_number + _letters(_letter_index(suffix) + 1)
    return label + "A"


def number_shots(scene_number: str, locked: Sequence[str | None]) -> list[str]:
    """Number the shots of one scene, in order.

    `locked[i]` is the locked number of shot i, or None if it follows the order.
    Returns one unique label per shot.
    """
    used = {number for number in locked if number}
    labels: list[str] = []
    previous: str | None = None
    for number in locked:
        if number:
            label = number
        else:
            label = scene_number if previous is None else _successor(previous, scene_number)
            if label in used:
                base = previous if previous is not None else scene_number
                extension = 0
                label = base + _letters(extension)
                while label in used:
                    extension += 1
                    label = base + _letters(extension)
            used.add(label)
        labels.append(label)
        previous = label
    return labels
