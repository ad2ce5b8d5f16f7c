"""How fast a full pitch deck renders to PPTX and to PDF, and its peak memory.

Goal (issue "Exports"): a full deck renders in <= 5 s per format.
Run: .venv/bin/python benchmarks/bench_deck.py [--repeat 3] [--out FOLDER]

The deck has every section filled: key art, 12 mood board pictures (1024 x 1024
generated takes), 12 key-sequence shots (1280 x 536 blocking hero frames, two of them
without a hero so the blocking diagram is drawn), 6 characters with pictures, 4
comparable titles, budget, financing, schedule, a team of 6, and a synopsis long
enough for two pages. Pictures are made and stored before timing starts.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFilter

from previz_app.domain.deck import (
    BudgetLine,
    CastStatus,
    Comparable,
    Deck,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
)
from previz_app.domain.model import Project, Scene, Shot
from previz_app.domain.vocabulary import ShotSize, TakeKind
from previz_app.engine.base import RenderContext
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.frames import frame_request, shot_context, store_take
from previz_app.export.deck import DeckExport, export_deck
from previz_app.store import create_project, open_project, scenes, shots, takes
from previz_app.store.deck import write_deck
from previz_app.store.media import add_media

SIZES = [ShotSize.ws, ShotSize.ms, ShotSize.cu, ShotSize.ews, ShotSize.mcu, ShotSize.ots]
PROSE = ("The lamp has not failed in ninety years. Tonight it does, and Ella, who left the island at seventeen, "
         "is the only one who remembers how the clockwork turns. ")


def painting(seed: int, size=(1024, 1024)) -> bytes:
    """A generated-looking picture: soft shapes over noise, as a PNG (so decoding costs what a real one does)."""
    rng = random.Random(seed)
    image = Image.effect_noise(size, 40).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(40, 300)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(3)).save(buffer, "PNG")
    return buffer.getvalue()


def build(path: Path) -> None:
    with create_project(path, Project(title="The Last Lighthouse", aspect_ratio=2.39)) as folder:
        with folder.transaction():
            for n in range(4):
                scene_id = scenes.insert_scene(folder.db, Scene(number=str(n + 1), heading=f"EXT. FAIRHEAD CLIFF {n} - NIGHT",
                                                                position=n, characters=("ELLA", "TOM")))
                for s in range(3):
                    shots.append_shot(folder.db, Shot(scene_id=scene_id, size=SIZES[(n * 3 + s) % len(SIZES)],
                                                      action=PROSE[: 60 + 20 * s], characters=("ELLA",)))
        listed = shots.list_shots(folder.db)
        engine = BlockingEngine()
        for shot in listed[:-2]:  # the last two keep no hero: their board draws the blocking diagram
            store_take(folder, shot.id, engine.render(frame_request(shot_context(folder, shot.id), size=(1280, 536)),
                                                      RenderContext()))
        mood = []
        with folder.transaction():
            for n in range(14):
                data = painting(n)
                digest = add_media(folder.db, folder.media, data, "image/png")
                recipe = json.dumps({"engine": "diffusers", "model": "sdxl-base-1.0", "seed": 1000 + n,
                                     "prompt": f"moody seascape, lighthouse, storm, study {n}"})
                mood.append(takes.record_take(folder.db, listed[0].id, TakeKind.generated, digest, len(data), recipe))
        deck = Deck(
            key_art_take_id=mood[12], logline=PROSE.strip(), synopsis=(PROSE * 8 + "\n") * 8,
            director_statement=PROSE * 10, producer_statement=PROSE * 6, tone="Cold blues, warm lamplight. " * 12,
            mood_take_ids=tuple(mood[:12]),
            characters=tuple(DeckCharacter(f"Character {n}", PROSE * 2, f"Actor {n}",
                                           CastStatus.attached if n % 2 else CastStatus.wishlist, mood[n])
                             for n in range(6)),
            sequence_shot_ids=tuple(shot.id for shot in listed),
            comparables=tuple(Comparable(f"Comparable {n}", 2015 + n, 2_000_000 + n * 500_000, 6_000_000 + n * 1_000_000,
                                         "the-numbers.com", "2026-01-10") for n in range(4)),
            budget_lines=tuple(BudgetLine(name, amount) for name, amount in (
                ("Development", 150_000), ("Above the line", 400_000), ("Production", 1_250_000),
                ("Post-production", 450_000), ("Contingency", 250_000))),
            financing=(FinancingSource("Equity", 1_000_000, True), FinancingSource("Tax credit", 125_000, True),
                       FinancingSource("Presales", 875_000, False), FinancingSource("Gap", 500_000, False)),
            schedule=tuple(ScheduleItem(phase, start, end) for phase, start, end in (
                ("Development", "2026-01", "2026-06"), ("Pre-production", "2026-07", "2026-08"),
                ("Shoot", "2026-09", "2026-10"), ("Post", "2026-11", "2027-03"), ("Delivery", "2027-04", "2027-04"))),
            team=tuple(TeamMember(f"Person {n}", ("Director", "Producer", "Writer", "DoP", "Editor", "Composer")[n],
                                  PROSE * 2) for n in range(6)),
            contact="Fairhead Films\nhello@fairhead.example\n+44 20 0000 0000",
        )
        write_deck(folder.db, deck)


def reset_peak() -> None:
    """Start a new peak-memory measure (Linux: VmHWM is reset by writing 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    """Peak resident memory since the last reset_peak (Linux), else of the whole run."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="a folder to keep the decks in (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build(tmp / "Bench")
        print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
        with open_project(tmp / "Bench") as folder:
            for suffix in (".pptx", ".pdf"):
                times = []
                reset_peak()
                for attempt in range(args.repeat):
                    out = (args.out or tmp) / f"deck{attempt}{suffix}"
                    start = time.perf_counter()
                    report = export_deck(folder.db, folder.media, DeckExport(out))
                    times.append(time.perf_counter() - start)
                print(f"{suffix[1:].upper()}: {report.pages} pages, {out.stat().st_size / 1e6:.1f} MB, "
                      f"first {times[0]:.2f} s, best {min(times):.2f} s (goal <= 5 s); peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
