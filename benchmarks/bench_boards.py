"""How fast a storyboard PDF of a feature-length board exports, and how much memory it takes.

Goal (issue "Exports"): 500 shots at 6 a page (3x2, A4 landscape, PDF, 300 dpi) in
<= 15 s with peak memory <= 1 GB on a 2-core machine.
Run: .venv/bin/python benchmarks/bench_boards.py [--scenes 50] [--shots 10] [--aspect 1.78]
     [--layout 3x2] [--paper a4] [--orientation landscape] [--dpi 300] [--kind pdf|png]
     [--texture] [--keep DIR] [--profile]

The project has `--scenes` x `--shots` shots with an action line and, every other
shot, dialogue. Each shot's hero take is a 1280-wide blocking frame (the engine's
default size): `HEROES` distinct panels are drawn once, then every shot stores its own
copy with its number stamped on it, so all hero files differ (the PDF cannot share
one image between shots) while the build stays quick. `--texture` adds film-grain
noise to the heroes, so they decode and compress like generated frames rather than
flat line drawings. The build is not timed; the export runs in a fresh process, so
its peak RSS is the export's own.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEROES = 12
ACTION = ("ELLA crosses the kitchen to the window and looks out at the harbour lights; "
          "behind her TOM sets down his bag without a word.")
DIALOGUE = "ELLA: You came back.\nTOM (quietly): The lamp was out. Somebody had to."


def build_project(root: Path, scenes_count: int, shots_per_scene: int, aspect: float, texture: bool) -> Path:
    """A project of scenes_count x shots_per_scene shots, each with its own hero take."""
    from PIL import Image, ImageDraw, ImageFont

    from previz_app.domain.model import Project, Scene, Shot
    from previz_app.domain.vocabulary import IntExt, TimeOfDay
    from previz_app.engine.base import FrameResult, RenderContext
    from previz_app.engine.blocking.panel import BlockingEngine
    from previz_app.engine.frames import frame_request, shot_context, store_take
    from previz_app.store import create_project, scenes, shots

    folder = create_project(root / "Bench", Project(title="Bench Feature", aspect_ratio=aspect))
    engine, panels = BlockingEngine(), []
    font = ImageFont.load_default(size=64)
    for scene_index in range(scenes_count):
        night = scene_index % 2 == 0
        scene_id = scenes.insert_scene(folder.db, Scene(
            str(scene_index + 1), f"INT. KITCHEN {scene_index + 1} - {'NIGHT' if night else 'DAY'}", IntExt.interior,
            "KITCHEN", TimeOfDay.night if night else TimeOfDay.day, position=scene_index, characters=("ELLA", "TOM")))
        for shot_index in range(shots_per_scene):
            shot_id = shots.append_shot(folder.db, Shot(
                scene_id, action=ACTION, dialogue=DIALOGUE if shot_index % 2 else "",
                notes="Practical lamp only." if shot_index % 3 == 0 else "", characters=("ELLA", "TOM")))
            if len(panels) < HEROES:
                result = engine.render(frame_request(shot_context(folder, shot_id)), RenderContext())
                image = result.image.convert("RGB")
                if texture:
                    noise = Image.effect_noise(image.size, 40).convert("RGB")
                    image = Image.blend(image, noise, 0.25)
                panels.append(FrameResult(image, result.request))
            base = panels[(scene_index * shots_per_scene + shot_index) % HEROES]
            image = base.image.copy()
            ImageDraw.Draw(image).text((24, 16), f"{scene_index + 1}-{shot_index + 1}", font=font, fill=(255, 255, 255))
            store_take(folder, shot_id, FrameResult(image, base.request))
    folder.close()
    return root / "Bench.previz" if (root / "Bench.previz").exists() else root / "Bench"


def run_export(project: Path, out: Path, layout: str, paper: str, orientation: str, dpi: int, profile: bool) -> dict:
    """Export the board (in this process) and return the figures."""
    from previz_app.export.boards import BoardExport, export_boards
    from previz_app.store import open_project

    folder = open_project(project)
    request = BoardExport(out, layout=layout, paper=paper, orientation=orientation, dpi=dpi)
    before = _status("VmRSS")
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    report = export_boards(folder.db, folder.media, request)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    folder.close()
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    size = sum(path.stat().st_size for path in report.files)
    return {"seconds": wall, "cpu": cpu, "pages": report.pages, "shots": report.shots, "files": len(report.files),
            "mib": size / 2**20, "rss_before_mib": before / 1024,
            "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "vmhwm_mib": _status("VmHWM") / 1024}


def _status(field: str) -> int:
    """A /proc/self/status figure in KiB (0 where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--shots", type=int, default=10, help="shots per scene")
    parser.add_argument("--aspect", type=float, default=1.78)
    parser.add_argument("--layout", default="3x2")
    parser.add_argument("--paper", default="a4")
    parser.add_argument("--orientation", default="landscape")
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--kind", choices=("pdf", "png"), default="pdf")
    parser.add_argument("--texture", action="store_true", help="grainy heroes that compress like generated frames")
    parser.add_argument("--keep", type=Path, help="build the project here once and reuse it on later runs")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the export to stderr")
    parser.add_argument("--export-only", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        figures = run_export(args.export_only, args.out, args.layout, args.paper, args.orientation, args.dpi, args.profile)
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as temp:
        root = args.keep or Path(temp)
        root.mkdir(parents=True, exist_ok=True)
        project = next((path for path in (root / "Bench.previz", root / "Bench") if path.exists()), None)
        if project is None:
            started = time.perf_counter()
            project = build_project(root, args.scenes, args.shots, args.aspect, args.texture)
            print(f"built {args.scenes * args.shots} shots in {time.perf_counter() - started:.1f} s (not timed below)")
        out = Path(temp) / f"boards.{args.kind}"
        command = [sys.executable, __file__, "--export-only", str(project), "--out", str(out), "--layout", args.layout,
                   "--paper", args.paper, "--orientation", args.orientation, "--dpi", str(args.dpi)]
        if args.profile:
            command.append("--profile")
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
        child = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
        if child.returncode:
            sys.exit(child.stderr)
        if args.profile:
            print(child.stderr)
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print(f"{figures['shots']} shots, {args.layout} on {args.paper} {args.orientation}, {args.dpi} dpi {args.kind}: "
          f"{figures['pages']} pages, {figures['files']} file(s), {figures['mib']:.1f} MiB")
    print(f"export {figures['seconds']:.2f} s ({figures['cpu']:.2f} s CPU, {figures['cpu'] / figures['seconds']:.2f} cores busy), "
          f"{figures['seconds'] / figures['shots'] * 1000:.1f} ms/shot")
    print(f"peak RSS {figures['ru_maxrss_mib']:.0f} MiB (ru_maxrss), VmHWM {figures['vmhwm_mib']:.0f} MiB; "
          f"{figures['rss_before_mib']:.0f} MiB before the export started")


if __name__ == "__main__":
    main()
