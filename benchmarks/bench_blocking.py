"""How fast the built-in blocking engine draws a panel, on one CPU core.

Goal (issue 3): a 1280x536 panel in <= 50 ms on one core.
Run: .venv/bin/python benchmarks/bench_blocking.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from previz_app.engine.blocking.panel import render_panel
from previz_app.engine.request import Staging

CASES = {
    "INT two-shot, night": Staging(size="TWO_SHOT", characters=("ELLA", "TOM"), int_ext="INT", location="KITCHEN", time_of_day="NIGHT"),
    "INT OTS, high angle": Staging(size="OTS", angle="high", characters=("ELLA", "TOM"), int_ext="INT", location="KITCHEN", time_of_day="DAY"),
    "EXT WS, lighthouse, dusk": Staging(size="WS", characters=("ELLA",), int_ext="EXT", location="LIGHTHOUSE", time_of_day="DUSK"),
    "EXT EWS, street, day": Staging(size="EWS", lens_mm=24, int_ext="EXT", location="MAIN STREET", time_of_day="DAY"),
    "INT CU, dolly in (t=0.5)": Staging(size="CU", movement="dolly_in", time=0.5, characters=("MARA",), int_ext="INT", location="LAMP ROOM"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=536)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the goal says
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {args.width}x{args.height}, {args.runs} runs each")
    everything = []
    for label, staging in CASES.items():
        render_panel(staging, args.width, args.height, 0)  # warm caches (font, numpy)
        times = []
        for seed in range(args.runs):
            start = time.perf_counter()
            render_panel(staging, args.width, args.height, seed)
            times.append((time.perf_counter() - start) * 1000)
        everything += times
        print(f"  {label:<28} median {statistics.median(times):5.1f} ms   p95 {sorted(times)[int(0.95 * len(times)) - 1]:5.1f} ms")
    print(f"  {'all':<28} median {statistics.median(everything):5.1f} ms   max {max(everything):5.1f} ms")


if __name__ == "__main__":
    main()
