"""Generating frames for many shots: plan the requests, run them through the job
runner, and store each finished frame as a take on the calling thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from ..store import ProjectFolder, shots, takes
from .base import RenderContext
from .blocking.panel import BlockingEngine
from .frames import TRAINED_SIDE, frame_request, frame_size, shot_context, store_controls, store_take, with_controls
from .jobs import Job, JobRunner, JobState
from .request import FrameRequest, Lora, Mode


@dataclass(frozen=True)
class GenerateOptions:
    engine: str = "blocking"
    model: str = ""
    model_hash: str = ""
    mode: Mode = Mode.txt2img
    variations: int = 1
    seed: int | None = None
    steps: int = 25
    guidance: float = 7.0
    strength: float = 0.6
    family: str = "sd1"  # decides the frame size for diffusion models
    control_models: dict[str, str] = field(default_factory=dict)
    loras: tuple[Lora, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.variations <= 64:
            raise ValueError(f"variations must be 1 to 64, got {self.variations}")
        if self.engine == "blocking" and self.mode is not Mode.txt2img:
            raise ValueError(f"the blocking engine draws from shot metadata; mode {self.mode} needs --engine diffusers")
        if self.engine == "blocking" and self.loras:
            raise ValueError("LoRAs apply to diffusion models; they need --engine diffusers")
        if self.mode is Mode.controlled and not self.control_models:
            raise ValueError("controlled mode needs at least one ControlNet model (kind=path)")


@dataclass
class BatchReport:
    takes: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    cancelled: int = 0
    interrupted: bool = False


Progress = Callable[[int, int, int, int], None]  # jobs done, jobs, step, steps


def plan_requests(folder: ProjectFolder, shot_ids: Iterable[int], options: GenerateOptions) -> list[tuple[int, FrameRequest]]:
    """(shot id, request) for every shot and variation. Init images and control
    maps come from the shot's hero take or a blocking render, stored as media."""
    planned = []
    blocking = BlockingEngine()
    for shot_id in shot_ids:
        context = shot_context(folder, shot_id)
        size = None
        if options.engine != "blocking":
            size = frame_size(context.project.aspect_ratio, side=TRAINED_SIDE.get(options.family, 512))
        request = frame_request(context, options.engine, options.model, size, options.seed, options.steps, options.guidance)
        request = replace(request, model_hash=options.model_hash, loras=options.loras)
        if options.mode is Mode.controlled:
            drawn = blocking.render(replace(request, engine="blocking"), RenderContext())
            stored = store_controls(folder, drawn, kinds=options.control_models)
            request = with_controls(request, stored, models=options.control_models)
        elif options.mode is Mode.img2img:
            request = replace(request, mode=Mode.img2img, init_image=_init_image(folder, shot_id, request, blocking), strength=options.strength)
        planned.extend((shot_id, request.variation(i)) for i in range(options.variations))
    return planned


def _init_image(folder: ProjectFolder, shot_id: int, request: FrameRequest, blocking: BlockingEngine) -> str:
    hero = shots.get_shot(folder.db, shot_id).hero_take_id
    if hero is not None:
        return takes.get_take(folder.db, hero).media_hash
    drawn = blocking.render(replace(request, engine="blocking"), RenderContext())
    take_id = store_take(folder, shot_id, drawn)
    return takes.get_take(folder.db, take_id).media_hash


def run_batch(folder: ProjectFolder, runner: JobRunner, planned: list[tuple[int, FrameRequest]], progress: Progress | None = None, poll: float = 0.1) -> BatchReport:
    """Submit every request, then store results in order as they finish.

    Runs on the thread that owns `folder`. On KeyboardInterrupt the remaining jobs
    are cancelled, takes stored so far stay, and the report says `interrupted`.
    """
    report = BatchReport()
    jobs = [(shot_id, runner.submit(request, tag=shot_id)) for shot_id, request in planned]
    collected = 0
    try:
        for shot_id, job in jobs:
            while not job.wait(poll):
                if progress:
                    progress(collected, len(jobs), job.step, job.total)
            _collect(folder, shot_id, job, report)
            collected += 1
            if progress:
                progress(collected, len(jobs), 0, 0)
    except KeyboardInterrupt:
        runner.cancel_all()
        for shot_id, job in jobs[collected:]:
            job.wait()  # cancelled jobs end at their next step; a frame that finished is kept
            _collect(folder, shot_id, job, report)
        report.interrupted = True
    return report


def _collect(folder: ProjectFolder, shot_id: int, job: Job, report: BatchReport) -> None:
    if job.state is JobState.finished and job.result is not None:
        report.takes.append(store_take(folder, shot_id, job.result))
        job.result = None  # the take holds it now; free the image
    elif job.state is JobState.failed:
        report.failed.append((shot_id, job.error))
    else:
        report.cancelled += 1
