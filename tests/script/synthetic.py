"""Deterministic synthetic screenplays of any length, for tests and benchmarks."""

from __future__ import annotations

import random

LOCATIONS = ["LIGHTHOUSE KITCHEN", "CLIFF PATH", "HARBOUR", "TRAWLER DECK", "VILLAGE PUB", "LANTERN ROOM", "BEACH", "CHURCHYARD"]
TIMES = ["DAY", "NIGHT", "DAWN", "DUSK", "CONTINUOUS"]
CHARACTERS = ["MARA", "TOM", "ELSIE", "FINN", "CAPTAIN REYES", "OLD JONAH"]
WORDS = ("the sea wind light rope door lamp stone rain wave glass hand dark cold long road boat bell "
         "salt storm tide shore keeper lantern signal engine harbour distant quiet heavy bright").split()


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + rng.choice([".", ".", "!", "?"])


def screenplay(pages: int = 120, seed: int = 7, title: str = "Synthetic") -> str:
    """A Fountain screenplay of about `pages` pages (one scene a page, ~57 lines each)."""
    rng = random.Random(seed)
    out = [f"Title: {title}", "Author: previz tests", ""]
    for number in range(1, pages + 1):
        place = rng.choice(LOCATIONS)
        prefix = rng.choice(["INT.", "EXT."])
        out += [f"{prefix} {place} - {rng.choice(TIMES)}", ""]
        cast = rng.sample(CHARACTERS, rng.randint(1, 3))
        for beat in range(5):
            out += [" ".join(_sentence(rng, 5, 12) for _ in range(3)) + f" {cast[0].title()} waits.", ""]
            for line in range(3):
                speaker = cast[line % len(cast)]
                out += [speaker, _sentence(rng, 4, 16), ""]
    return "\n".join(out) + "\n"
