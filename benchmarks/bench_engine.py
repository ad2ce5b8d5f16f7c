"""previz's diffusers engine against a plain diffusers pipeline: the table of issue 8.

For each shape (random weights, built and saved as a diffusers folder first), the
workloads, each one row:
- speed: one frame, guidance on (SD1.5-shaped 512², 20 steps; SDXL-shaped 1024², 30).
- variations: four images of one shot (`render_batch`; the plain pipeline with
  num_images_per_prompt=4); the goal column gives four against one of ours.
- previews: ours with a live preview after every step; the goal column gives the cost
  against ours with the engine's rationed previews.
- warm start: a second process with the compile cache on disk (the one this process
  filled): engine creation to the first frame at full speed. Plain: pipeline creation
  to its first frame, also in a fresh process.
- quality: PSNR of our decoded frame and of the plain pipeline's against the plain
  pipeline in fp32, same seed.
Plain pipeline: diffusers' StableDiffusionPipeline / StableDiffusionXLPipeline, default
settings, fp16 on CUDA, fp32 on CPU. Timed calls alternate after one warm-up each (its
time, loading and compiling, is reported) so drift hits all alike; medians of `--runs`.
Share of the compute floor: the work's FLOPs (torch.utils.flop_counter on the plain
pipeline) over the measured matmul rate (bf16 on CUDA, fp32 on CPU), divided by our
time. On CPU only the "small" shape runs: SD1.5's layout at an eighth of the width, 128².

Run: .venv/bin/python benchmarks/bench_engine.py [--shapes sd15 sdxl] [--runs 3] [--steps N]
     [--levers "compile=off,fuse_qkv=off"] [--workloads speed variations ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Quiet loaders: the table is the output. Set before transformers is first imported.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
warnings.filterwarnings("ignore", category=FutureWarning)

import numpy as np
import torch
from random_models import SHAPES, build

from previz_app.engine.base import RenderContext
from previz_app.engine.diffusion import DiffusersEngine
from previz_app.engine.request import FrameRequest

PROMPT = "wide shot, a lighthouse on a cliff at dusk, storyboard pencil sketch"
SEED = 1234
STEPS = {"sd15": 20, "sdxl": 30, "small": 20}
SPEED_GOAL = {"sd15": 6.0, "sdxl": 3.5, "small": 1.0}  # plain ÷ ours
WORKLOADS = ("speed", "variations", "previews", "warm", "quality")
VARIATIONS = 4


@dataclass
class Row:
    workload: str
    plain_s: float | None
    ours_s: float | None
    floor_s: float | None  # the compute floor of the work ours did
    goal: str
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.plain_s / self.ours_s if self.plain_s and self.ours_s else None

    @property
    def floor_share(self) -> float | None:
        return self.floor_s / self.ours_s if self.floor_s and self.ours_s else None

    def line(self) -> str:
        cells = [self.workload, *(None if s is None else f"{s:.3f}" for s in (self.plain_s, self.ours_s))]
        cells.append(None if self.ratio is None else f"{self.ratio:.2f}×")
        cells.append(None if self.floor_share is None else f"{100 * self.floor_share:.0f}%")
        return "| " + " | ".join(cell or "—" for cell in [*cells, self.goal]) + " |"


def timed(calls: dict, device: torch.device, runs: int) -> tuple[dict, dict]:
    """Median seconds of each call, interleaved so drift hits all alike, and the
    seconds of each one's first (warm-up) call."""
    first, spent = {}, {name: [] for name in calls}
    for name, call in calls.items():
        first[name] = once(call, device)
    for _ in range(runs):
        for name, call in calls.items():
            spent[name].append(once(call, device))
    return {name: statistics.median(times) for name, times in spent.items()}, first


def once(call, device: torch.device) -> float:
    """Seconds one call takes, the GPU's queue drained before and after."""
    drain = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    drain()
    start = time.perf_counter()
    call()
    drain()
    return time.perf_counter() - start


def matmul_rate(device: torch.device) -> float:
    """Measured dense matmul FLOP/s: bf16 on CUDA, fp32 on CPU."""
    n, dtype, repeat = (8192, torch.bfloat16, 50) if device.type == "cuda" else (1024, torch.float32, 10)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    out = a @ b

    def products():
        for _ in range(repeat):
            torch.matmul(a, b, out=out)

    return 2 * n**3 * repeat / once(products, device)


def count_flops(call) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        call()
    return counter.get_total_flops()


def psnr(image, reference) -> float:
    ours = np.asarray(image.convert("RGB"), dtype=np.float64)
    theirs = np.asarray(reference.convert("RGB"), dtype=np.float64)
    mse = float(((ours - theirs) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def decibels(value: float) -> str:
    return "identical" if math.isinf(value) else f"{value:.1f} dB"



def make_engine(device: torch.device, levers: str, cache_dir: Path) -> DiffusersEngine:
    """Our engine with the device's default levers, `levers` text applied on top."""
    accepted = inspect.signature(DiffusersEngine).parameters
    options: dict = {"device": str(device)}
    try:
        from previz_app.engine.diffusion import acceleration
    except ImportError:
        acceleration = None
    if acceleration is not None and "acceleration" in accepted:
        base = acceleration.default_for(device)
        options["acceleration"] = acceleration.Acceleration.parse(levers, base) if levers else base
    elif levers:
        print(f"note: this engine has no acceleration settings; --levers {levers!r} ignored", file=sys.stderr)
    if "compile_cache_dir" in accepted:
        options["compile_cache_dir"] = cache_dir / "previz"
    return DiffusersEngine(**options)


def plain_pipeline(shape: str, folder: Path, dtype: torch.dtype, device: torch.device):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    kind = StableDiffusionXLPipeline if shape == "sdxl" else StableDiffusionPipeline
    pipe = kind.from_pretrained(folder, torch_dtype=dtype).to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def plain_arguments(request: FrameRequest, images: int = 1) -> dict:
    seeds = [request.variation(index).seed for index in range(images)]
    generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
    return {
        "prompt": request.prompt, "num_inference_steps": request.steps, "guidance_scale": request.guidance,
        "width": request.width, "height": request.height, "num_images_per_prompt": images,
        "generator": generators[0] if images == 1 else generators,
    }


@contextlib.contextmanager
def preview_interval(seconds: float):
    """The engine's preview rationing set to `seconds` for a while (0: every step)."""
    try:
        from previz_app.engine.diffusion import modes as module
    except ImportError:  # before the step callback moved out of engine.py
        module = sys.modules[DiffusersEngine.__module__]
    before = getattr(module, "PREVIEW_INTERVAL_S", None)
    if before is None:
        raise RuntimeError("the engine has no PREVIEW_INTERVAL_S to set")
    module.PREVIEW_INTERVAL_S = seconds
    try:
        yield
    finally:
        module.PREVIEW_INTERVAL_S = before


class ShapeBench:
    """Every workload of one shape, sharing one model folder, one plain pipeline, one engine."""

    def __init__(self, shape: str, args, device: torch.device, rate: float, scratch: Path) -> None:
        self.shape, self.args, self.device, self.rate = shape, args, device, rate
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        self.size, self.steps = SHAPES[shape]["size"], args.steps or STEPS[shape]
        self.folder = build(shape, scratch / shape, self.dtype, device=device.type)
        self.cache_dir = args.cache_dir
        self.engine = make_engine(device, args.levers, self.cache_dir)
        self.plain = plain_pipeline(shape, self.folder, self.dtype, device)
        self.request = FrameRequest(
            self.size, self.size, engine="diffusers", model=str(self.folder), prompt=PROMPT,
            seed=SEED, steps=self.steps, guidance=7.0,
        )
        self.label = f"{shape} {self.size}² {self.steps} steps CFG"
        self.flops = count_flops(lambda: self.plain(**plain_arguments(self.request)))
        self.ours_s: float | None = None  # steady seconds a frame, once measured
        self.plain_s: float | None = None

    def ours(self, context: RenderContext | None = None):
        return self.engine.render(self.request, context or RenderContext())

    def speed(self) -> Row:
        medians, first = timed(
            {"plain": lambda: self.plain(**plain_arguments(self.request)), "ours": self.ours}, self.device, self.args.runs
        )
        self.ours_s, self.plain_s = medians["ours"], medians["plain"]
        goal = SPEED_GOAL[self.shape]
        return Row(
            self.label, medians["plain"], medians["ours"], self.flops / self.rate,
            f"≥ {goal:g}× (first frame: ours {first['ours']:.1f} s with loading and compiling, plain {first['plain']:.1f} s)",
            {"first_ours_s": first["ours"], "first_plain_s": first["plain"], "flops": self.flops},
        )

    def variations(self) -> Row:
        requests = [self.request.variation(index) for index in range(VARIATIONS)]
        batch = getattr(self.engine, "render_batch", None)
        how = "one render_batch call" if batch is not None else "no render_batch: four renders"

        def ours():
            if batch is not None:
                return batch(requests, RenderContext())
            return [self.engine.render(request, RenderContext()) for request in requests]

        calls = {"plain": lambda: self.plain(**plain_arguments(self.request, VARIATIONS)), "ours": ours}
        if self.ours_s is None:
            calls["one"] = self.ours
        medians, first = timed(calls, self.device, self.args.runs)
        one = medians.get("one", self.ours_s)
        return Row(
            f"{self.shape} variations: {VARIATIONS} images of one shot", medians["plain"], medians["ours"],
            VARIATIONS * self.flops / self.rate,
            f"≤ 1.5× one: {medians['ours'] / one:.2f}× ({how}; first call {first['ours']:.1f} s)",
            {"ours_one_s": one, "times_one": medians["ours"] / one, "first_ours_s": first["ours"]},
        )

    def previews(self) -> Row:
        shown = []
        context = RenderContext(on_preview=shown.append)

        def every_step():
            with preview_interval(0.0):
                self.ours(context)

        def rationed():
            with preview_interval(math.inf):
                self.ours(context)

        calls = {"plain": lambda: self.plain(**plain_arguments(self.request)), "every": every_step, "rationed": rationed}
        medians, _ = timed(calls, self.device, self.args.runs)
        cost = medians["every"] / medians["rationed"] - 1
        shown.clear()
        every_step()
        return Row(
            f"{self.shape} previews every step", medians["plain"], medians["every"], self.flops / self.rate,
            f"≤ 5%: {100 * cost:+.1f}% over one preview a frame ({len(shown)} previews a frame)",
            {"ours_rationed_s": medians["rationed"], "cost": cost, "previews": len(shown)},
        )

    def warm(self) -> Row:
        if self.ours_s is None or self.plain_s is None:
            self.speed()
        job = {"folder": str(self.folder), "shape": self.shape, "request": self.request.to_json(),
               "levers": self.args.levers, "cache_dir": str(self.cache_dir)}
        ours, ours_process = child(dict(job, plain=False, full_speed_s=1.2 * self.ours_s))
        plain, plain_process = child(dict(job, plain=True, full_speed_s=1.2 * self.plain_s))
        reached = "" if ours["reached"] else f", never within 20% of full speed in {ours['frames']} frames"
        return Row(
            f"{self.shape} warm start (2nd process)", plain["seconds"], ours["seconds"], None,
            f"≤ 20 s: engine creation → full-speed frame {ours['seconds']:.1f} s, whole process "
            f"{ours_process:.1f} s (plain {plain_process:.1f} s){reached}",
            {"ours": ours, "ours_process_s": ours_process, "plain_process_s": plain_process},
        )

    def quality(self) -> Row:
        ours = self.ours().image
        plain = self.plain(**plain_arguments(self.request)).images[0]
        reference = plain_pipeline(self.shape, self.folder, torch.float32, self.device)
        exact = reference(**plain_arguments(self.request)).images[0]
        del reference
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        ours_db, plain_db = psnr(ours, exact), psnr(plain, exact)
        return Row(
            f"{self.shape} quality: PSNR vs plain fp32", None, None, None,
            f"ours {decibels(ours_db)}, plain {'fp16' if self.device.type == 'cuda' else 'fp32'} {decibels(plain_db)}",
            {"ours_db": ours_db, "plain_db": plain_db},
        )


def child(job: dict) -> tuple[dict, float]:
    """Run `job` in a fresh Python process; its report and the process's whole time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--warm-child", json.dumps(job)], capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the warm-start process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), seconds


def warm_child(job: dict) -> None:
    """In a fresh process: from creating the engine (or plain pipeline) to the end of the
    first frame within 20% of full speed (at most five frames); prints one JSON line."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    request = FrameRequest.from_json(job["request"])
    start = time.perf_counter()
    if job["plain"]:
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        pipe = plain_pipeline(job["shape"], Path(job["folder"]), dtype, device)
        frame = lambda: pipe(**plain_arguments(request))
    else:
        engine = make_engine(device, job["levers"], Path(job["cache_dir"]))
        frame = lambda: engine.render(request, RenderContext())
    frames, reached = 0, False
    while frames < 5 and not reached:
        frames += 1
        reached = once(frame, device) <= job["full_speed_s"]
    print(json.dumps({"seconds": time.perf_counter() - start, "frames": frames, "reached": reached}))


def isolate_caches(cache_dir: Path) -> None:
    """Compile caches under `cache_dir`, for this process and the ones it starts, so the
    first compile is cold and the second process reads what this one wrote."""
    for variable, name in (("TORCHINDUCTOR_CACHE_DIR", "inductor"), ("TRITON_CACHE_DIR", "triton"), ("XDG_CACHE_HOME", "xdg")):
        os.environ[variable] = str(cache_dir / name)


def header(device: torch.device, rate: float, levers: str) -> dict:
    import diffusers

    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU {platform.processor() or platform.machine()}"
    return {
        "device": name, "torch": torch.__version__, "diffusers": diffusers.__version__,
        "python": platform.python_version(), "matmul_tflops": rate / 1e12, "levers": levers,
        "command": " ".join(shlex.quote(part) for part in ["python", *sys.argv]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=None)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--steps", type=int, default=None, help="steps for every shape (default: 20 sd15, 30 sdxl)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--levers", default="", help='acceleration text over the device default, e.g. "compile=off"')
    parser.add_argument("--cache-dir", type=Path, default=None, help="compile caches (default: a fresh folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here, after each row")
    parser.add_argument("--warm-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for library in (diffusers_logging, transformers_logging):
        library.disable_progress_bar()
        library.set_verbosity_error()
    if args.warm_child:
        warm_child(json.loads(args.warm_child))
        return
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    shapes = args.shapes or (["sd15", "sdxl"] if device.type == "cuda" else ["small"])
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as scratch:
        args.cache_dir = args.cache_dir or Path(scratch) / "cache"
        isolate_caches(args.cache_dir)
        rate = matmul_rate(device)
        settings = getattr(make_engine(device, args.levers, args.cache_dir), "acceleration", None)
        levers = settings.text() if hasattr(settings, "text") else "none (engine without levers)"
        about = header(device, rate, levers)
        print(f"{about['device']}, torch {about['torch']}, diffusers {about['diffusers']}, Python {about['python']}; "
              f"matmul {about['matmul_tflops']:.3f} TFLOP/s ({'bf16' if device.type == 'cuda' else 'fp32'})")
        print(f"levers: {levers}\ncommand: {about['command']}\n")
        print("| workload | plain pipeline s | ours s | ratio | share of compute floor | goal: measured |")
        print("| --- | --- | --- | --- | --- | --- |", flush=True)
        rows: list[Row] = []
        for shape in shapes:
            bench = ShapeBench(shape, args, device, rate, Path(scratch))
            for workload in args.workloads:
                try:
                    row = getattr(bench, workload)()
                except Exception as exc:  # noqa: BLE001 - one workload failing leaves the others' rows
                    row = Row(f"{shape} {workload}", None, None, None, f"failed: {type(exc).__name__}: {exc}"[:300])
                rows.append(row)
                print(row.line(), flush=True)
                if args.json:
                    rows_out = [dict(asdict(r), ratio=r.ratio, floor_share=r.floor_share) for r in rows]
                    args.json.write_text(json.dumps({"header": about, "rows": rows_out}, indent=1, default=str))
            del bench
            if device.type == "cuda":
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
