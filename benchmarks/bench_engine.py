"""previz's diffusers engine against a plain diffusers pipeline, same model and settings.

On a CUDA GPU: SD1.5-shaped (512x512) and SDXL-shaped (1024x1024) models with random
weights, fp16. On CPU: SD1.5's layout at an eighth of the width, 128x128, fp32.
Both paths run in this one process; each is warmed up once, then timed `--runs` times,\nalternating, so drift in the machine's speed hits both alike.
It prints both medians, their ratio, and the share of the compute floor: the FLOPs of
one frame (torch.utils.flop_counter) over the GPU's measured bf16 matmul rate (fp32 on
CPU).

Run: .venv/bin/python benchmarks/bench_engine.py [--shapes sd15 sdxl] [--steps 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from random_models import SHAPES, build

from previz_app.engine.base import RenderContext
from previz_app.engine.diffusion import DiffusersEngine
from previz_app.engine.request import FrameRequest

PROMPT = "wide shot, a lighthouse on a cliff at dusk, storyboard pencil sketch"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_pair(first, second, device: torch.device, runs: int) -> tuple[float, float]:
    """Median seconds of two calls, interleaved so drift in the machine hits both."""
    first(), second()  # warm-up: kernels, caches, allocator
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, spent in ((first, times[0]), (second, times[1])):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            spent.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def matmul_rate(device: torch.device) -> float:
    """Measured dense matmul FLOP/s: bf16 on CUDA, fp32 on CPU."""
    n, dtype, repeat = (8192, torch.bfloat16, 50) if device.type == "cuda" else (1024, torch.float32, 10)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    sync(device)
    return 2 * n**3 * repeat / (time.perf_counter() - start)


def frame_flops(pipe, arguments: dict) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        pipe(**arguments)
    return counter.get_total_flops()


def compare(shape: str, device: torch.device, steps: int, runs: int, rate: float) -> None:
    from diffusers import DiffusionPipeline

    dtype = torch.float16 if device.type == "cuda" else torch.float32
    size = SHAPES[shape]["size"]
    with tempfile.TemporaryDirectory() as scratch:
        folder = build(shape, Path(scratch) / shape, dtype)
        engine = DiffusersEngine(device=str(device))
        request = FrameRequest(size, size, engine="diffusers", model=str(folder), prompt=PROMPT, steps=steps, guidance=7.0)
        plain = DiffusionPipeline.from_pretrained(folder, torch_dtype=dtype).to(device)
        plain.set_progress_bar_config(disable=True)
        arguments = dict(prompt=PROMPT, num_inference_steps=steps, guidance_scale=7.0, width=size, height=size)
        engine_s, plain_s = timed_pair(
            lambda: engine.render(request, RenderContext()), lambda: plain(**arguments), device, runs
        )
        flops = frame_flops(plain, arguments)
    floor_s = flops / rate
    print(
        f"{shape:>5} {size}x{size} {steps} steps: engine {engine_s:.3f} s, plain pipeline {plain_s:.3f} s, "
        f"ratio {plain_s / engine_s:.2f}x; {flops / 1e9:,.0f} GFLOP a frame, floor {floor_s:.3f} s, "
        f"engine at {100 * floor_s / engine_s:.0f}% of the floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    shapes = args.shapes or (["sd15", "sdxl"] if device.type == "cuda" else ["small"])
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or platform.machine()
    rate = matmul_rate(device)
    print(f"{name}, torch {torch.__version__}, matmul {rate / 1e12:.3f} TFLOP/s ({'bf16' if device.type == 'cuda' else 'fp32'})")
    for shape in shapes:
        compare(shape, device, args.steps, args.runs, rate)


if __name__ == "__main__":
    main()
