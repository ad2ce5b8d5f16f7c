"""How long a shot plays, estimated from what happens in it."""

from __future__ import annotations

import re

WORDS_PER_SECOND = 2.5
SECONDS_PER_ACTION_BEAT = 1.5
MIN_SHOT_SECONDS = 1.5
# A beat is a sentence of action: each one is a moment the audience must see.
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|--|\n")


def count_words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def dialogue_seconds(text: str) -> float:
    """Seconds to speak `text` at about 2.5 words a second."""
    return count_words(text) / WORDS_PER_SECOND


def action_beats(text: str) -> int:
    """Number of beats (sentences) in an action paragraph; at least 1 if it has words."""
    if not count_words(text):
        return 0
    parts = [part for part in _SENTENCE_END.split(text) if count_words(part)]
    return max(1, len(parts))


def estimate_duration(dialogue: str = "", action: str = "") -> float:
    """Seconds a shot needs: spoken dialogue plus action beats, rounded to 0.5 s."""
    seconds = dialogue_seconds(dialogue) + action_beats(action) * SECONDS_PER_ACTION_BEAT
    return max(MIN_SHOT_SECONDS, round(seconds * 2) / 2)
