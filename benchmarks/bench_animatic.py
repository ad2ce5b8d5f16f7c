"""How fast an animatic of camera moves over stills renders, and how much memory it takes.

Goal (issue "Rough animatics"): a 1920x1080 animatic of still-based moves renders at
>= 4x real time on 2 cores (24 fps -> >= 96 frames/s), and a 10-minute animatic
with peak memory <= 1 GB.
Run: .venv/bin/python benchmarks/bench_animatic.py [--shots 24] [--minutes 10]
     [--moves moving|mixed] [--size 1920x1080] [--kind mp4|mov|png]

The project has shots of `--seconds` each whose hero frames are blocking panels
(drawn once, before timing starts); `--moves moving` gives every shot a camera
move (the worst case), `mixed` adds static shots as a board usually has.
Motion is forced to "still": every frame is a move over a still.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from previz_app.animatic.compose import ComposeOptions
from previz_app.animatic.render import render_animatic
from previz_app.animatic.timeline import build_timeline
from previz_app.domain.model import Project, Scene, Shot
from previz_app.domain.vocabulary import Direction, IntExt, Movement, TimeOfDay
from previz_app.engine.base import RenderContext
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.frames import frame_request, shot_context, store_take
from previz_app.store import create_project, scenes, shots

MOVING = [
    (Movement.dolly_in, Direction.none),
    (Movement.pan, Direction.right),
    (Movement.tilt, Direction.up),
    (Movement.dolly_out, Direction.none),
    (Movement.truck, Direction.left),
    (Movement.crane, Direction.up),
    (Movement.zoom, Direction.in_),
    (Movement.handheld, Direction.none),
]
# Every third shot holds still, as on a typical board.
MIXED = [move for pair in zip(MOVING[::2], MOVING[1::2]) for move in (*pair, (Movement.static, Direction.none))]
HEROES = 8  # distinct hero panels, shared round-robin (drawing is not what is timed)


def build_project(root: Path, count: int, seconds: float, moves: list) -> object:
    folder = create_project(root / "Bench", Project(title="Bench", aspect_ratio=16 / 9))
    scene_id = scenes.insert_scene(folder.db, Scene("1", "INT. KITCHEN - NIGHT", IntExt.interior, "KITCHEN", TimeOfDay.night, characters=("ELLA", "TOM")))
    engine, results = BlockingEngine(), []
    for index in range(count):
        movement, direction = moves[index % len(moves)]
        shot_id = shots.append_shot(folder.db, Shot(scene_id, movement=movement, direction=direction, duration=seconds, characters=("ELLA", "TOM")))
        if len(results) < HEROES:
            results.append(engine.render(frame_request(shot_context(folder, shot_id)), RenderContext()))
        store_take(folder, shot_id, results[index % HEROES])
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each shot")
    parser.add_argument("--minutes", type=float, default=None, help="make the film this long (overrides --shots)")
    parser.add_argument("--moves", choices=("moving", "mixed"), default="moving")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--kind", choices=("mp4", "mov", "png"), default="mp4")
    parser.add_argument("--full-chroma", action="store_true", help="resample colour at full resolution (slower)")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.lower().split("x"))
    count = round(args.minutes * 60 / args.seconds) if args.minutes else args.shots
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        folder = build_project(root, count, args.seconds, MOVING if args.moves == "moving" else MIXED)
        timeline = build_timeline(folder.db)
        out = root / ("animatic" if args.kind == "png" else f"animatic.{args.kind}")
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(f"{platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
        print(f"{count} shots x {args.seconds:g} s ({args.moves}), {timeline.total_frames} frames at {float(timeline.fps):g} fps, {width}x{height} {args.kind}")
        started, cpu = time.perf_counter(), time.process_time()
        options = ComposeOptions((width, height), motion="still", draft_chroma=False if args.full_chroma else None)
        report = render_animatic(timeline, folder.media, out, options)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        size_mb = (sum(path.stat().st_size for path in out.iterdir()) if out.is_dir() else out.stat().st_size) / 2**20
        folder.close()
    fps = report.frames / wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{report.frames} frames in {wall:.2f} s: {fps:.1f} frames/s, {fps / float(timeline.fps):.2f}x real time")
    print(f"CPU {cpu / report.frames * 1000:.2f} ms/frame ({cpu / wall:.2f} cores busy), peak RSS {peak:.0f} MiB, file {size_mb:.1f} MiB")


if __name__ == "__main__":
    main()
