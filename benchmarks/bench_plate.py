"""How fast an LED-wall plate exports, and how much memory it takes.

Goal (issue "LED-wall plates"): a 270° wall of 2.84 mm pixels, 6 m tall on an 11.4 m
radius (18,832 × 2,112 px), from an 8K equirectangular panorama to tiled half-float
EXR in <= 30 s with peak memory <= 2 GB on 2 cores.
Run: .venv/bin/python benchmarks/bench_plate.py [--format exr|tiff|png16|png8|prores] [--width 8192]
     [--seconds 2] [--generate]
--generate times the whole `previz export plate --generate` job instead: the blocking
engine paints the environment for the wall (a snowy forest at night), then the export.

The panorama is a smooth synthetic sky and ground with grain, written as a PNG before
timing starts; the export (read, reproject, convert, tile, write) runs in a fresh
process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

WALL = {"name": "volume", "output_capacity": 525_000, "sections": [{
    "kind": "curved", "cabinet": {"width_mm": 500, "height_mm": 500, "pitch_mm": 2.84},
    "height_m": 6.0, "radius_m": 11.4, "arc_deg": 270.0}]}


def make_panorama(path: Path, width: int) -> None:
    height = width // 2
    rng = np.random.default_rng(7)
    rows = []
    for top in range(0, height, 512):  # in bands: an 8K float image would be 400 MB
        lat = np.linspace(np.pi / 2 - top / height * np.pi, np.pi / 2 - (top + 512) / height * np.pi, 512)[:, None]
        lon = np.linspace(-np.pi, np.pi, width, endpoint=False)[None, :]
        sky = 0.55 + 0.35 * np.sin(lat) + 0.05 * np.sin(3 * lon)
        band = np.dstack([sky * 0.8, sky * 0.9, sky]) + rng.normal(0, 0.02, (512, width, 3))
        rows.append((np.clip(band, 0, 1) * 255).astype(np.uint8)[: height - top])
    Image.fromarray(np.concatenate(rows)).save(path, compress_level=1)


def child(args: argparse.Namespace) -> None:
    from previz_app.domain.wall import profile_from_dict
    from previz_app.engine.engines import make_engines
    from previz_app.engine.request import Staging
    from previz_app.export.plate import PlateExport, export_plate
    from previz_app.export.plate_source import PlateGeneration, generated_plate

    wall = profile_from_dict(WALL)
    request = PlateExport(Path(args.out), wall, args.source and Path(args.source), format=args.format,
                          seconds=args.seconds)
    start, cpu = time.perf_counter(), time.process_time()
    if args.generate:
        forest = PlateGeneration(staging=Staging(int_ext="EXT", location="SNOWY FOREST", time_of_day="NIGHT"))
        report = generated_plate(make_engines(), forest, request)
    else:
        report = export_plate(request)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = sum(path.stat().st_size for path in report.files)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tiles = len(report.files) - 1 - (report.source is not None)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": peak, "tiles": tiles,
                      "mib": size / 2**20, "canvas": [report.canvas.width_px, report.canvas.height_px],
                      "warning": report.warning}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="exr", choices=["exr", "tiff", "png16", "png8", "prores"])
    parser.add_argument("--seconds", type=float, default=2.0, help="prores: each movie's length")
    parser.add_argument("--generate", action="store_true", help="paint the environment instead of a panorama")
    parser.add_argument("--width", type=int, default=8192, help="the panorama's width (height is half)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-plate-") as scratch:
        command = [sys.executable, __file__, "--child", "--format", args.format, "--seconds", str(args.seconds),
                   "--out", str(Path(scratch) / "plate")]
        if args.generate:
            command.append("--generate")
        else:
            source = Path(scratch) / "pano.png"
            make_panorama(source, args.width)
            command += ["--source", str(source)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{platform.machine()}, Python {platform.python_version()}")
    made = "a painted environment" if args.generate else f"{args.width}×{args.width // 2} panorama"
    print(f"{made} -> {figures['canvas'][0]:,} × {figures['canvas'][1]:,} px wall, "
          f"{figures['tiles']} {args.format} tiles, {figures['mib']:.0f} MiB")
    print(f"export {figures['seconds']:.2f} s ({figures['cpu']:.1f} s CPU), peak RSS {figures['peak_mib']:.0f} MiB "
          "(goal: <= 30 s, <= 2 GB)")
    if figures["warning"]:
        print(f"warning: {figures['warning']}")


if __name__ == "__main__":
    main()
