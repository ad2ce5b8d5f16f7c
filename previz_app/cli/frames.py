"""`previz generate`: frames for shots, on the terminal, with a progress bar."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from ..engine.batch import GenerateOptions, plan_requests, run_batch
from ..engine.engines import ENGINE_NAMES, EngineOptions, make_engines
from ..engine.discovery.entry import Family
from ..engine.discovery.library import ModelLibrary
from ..engine.jobs import JobRunner
from ..engine.request import Lora, Mode
from ..store import ProjectFolder, open_project, scenes, shots
from . import cli


def select_shots(folder: ProjectFolder, scene_number: str | None, shot_number: str | None) -> list[int]:
    """Shot ids the user named: one shot, one scene's shots, or every shot."""
    scene_id = scenes.find_scene(folder.db, scene_number).id if scene_number is not None else None
    listed = shots.list_shots(folder.db, scene_id)
    if shot_number is not None:
        listed = [shot for shot in listed if shot.number == shot_number.strip().upper()]
        if not listed:
            raise ValueError(f"no shot numbered {shot_number!r}" + (f" in scene {scene_number}" if scene_number else ""))
        if len(listed) > 1:
            raise ValueError(f"{len(listed)} shots are numbered {shot_number!r}; name the scene with --scene")
    if not listed:
        raise ValueError("there are no shots to generate; import a script or add shots first")
    return [shot.id for shot in listed]


def _hashing(name: str) -> None:
    click.echo(f"reading {name} once to record its SHA-256 in the recipes", err=True)


def _loras(values: tuple[str, ...]) -> list[tuple[str, float]]:
    parsed = []
    for value in values:
        path, sep, weight = value.rpartition("=")
        try:
            parsed.append((path, float(weight)) if sep else (value, 1.0))
        except ValueError:
            parsed.append((value, 1.0))  # an "=" inside the path
    for path, _weight in parsed:
        if not Path(path).expanduser().is_file():
            raise click.BadParameter(f"{path!r} is not a file", param_hint="--lora")
    # Recipes keep absolute paths, so they re-render from any working directory.
    return [(str(Path(path).expanduser().resolve()), weight) for path, weight in parsed]


def _controls(values: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for value in values:
        kind, sep, path = value.partition("=")
        if not sep or kind not in ("depth", "pose", "lineart") or not path:
            raise click.BadParameter(f"{value!r}: expected KIND=PATH with KIND depth, pose or lineart", param_hint="--control")
        parsed[kind] = path
    return parsed


def _check_levers(text: str) -> None:
    """A usage error naming the lever, before any model is read."""
    from ..engine.diffusion.acceleration import Acceleration

    try:
        Acceleration.parse(text, Acceleration())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--levers (or PREVIZ_LEVERS)") from exc


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--scene", "scene_number", help="Only the shots of scene N.")
@click.option("--shot", "shot_number", help="Only the shot numbered NUMBER (with --scene when numbers repeat).")
@click.option("--engine", type=click.Choice(ENGINE_NAMES), default="blocking", show_default=True, help="blocking: built in, no model. diffusers: a model you have.")
@click.option("--model", default="", help="Diffusers folder, .safetensors checkpoint or Hugging Face id (diffusers engine).")
@click.option("--variations", type=click.IntRange(1, 64), default=1, show_default=True, help="Frames per shot; variation i uses seed + i.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Seed for shots that have none of their own.")
@click.option("--mode", type=click.Choice([m.value for m in Mode if m is not Mode.inpaint]), default="txt2img", show_default=True, help="img2img starts from the shot's hero frame; controlled follows the blocking layout.")
@click.option("--steps", type=click.IntRange(1, 200), default=25, show_default=True, help="Denoising steps (diffusers engine).")
@click.option("--guidance", type=float, default=7.0, show_default=True, help="Classifier-free guidance scale (diffusers engine).")
@click.option("--strength", type=click.FloatRange(0, 1), default=0.6, show_default=True, help="How far img2img departs from its start frame.")
@click.option("--control", "controls", multiple=True, metavar="KIND=PATH", help="ControlNet for controlled mode: depth=, pose= or lineart= a model path. Repeatable.")
@click.option("--lora", "loras", multiple=True, metavar="PATH[=WEIGHT]", help="A LoRA to apply (diffusers engine), weight 1 unless given. Repeatable.")
@click.option("--device", default=None, help="cuda, mps or cpu (default: the best available).")
@click.option("--allow-network", is_flag=True, help="Let the diffusers engine download from the Hugging Face Hub.")
@click.option("--allow-pickle", is_flag=True, help="Allow pickled .ckpt/.pt/.bin checkpoints (loaded with weights_only=True).")
@click.option("--levers", default="", envvar="PREVIZ_LEVERS", metavar="TEXT", help="Speed levers of the diffusers engine changed from the device's defaults, e.g. compile=off,fuse_qkv=off (env PREVIZ_LEVERS).")
def generate(directory: Path, scene_number, shot_number, engine, model, variations, seed, mode, steps, guidance, strength, controls, loras, device, allow_network, allow_pickle, levers) -> None:
    """Render frames for shots and keep each as a take (the first becomes the hero).

    Ctrl-C cancels what is left; frames already rendered are kept.
    """
    if engine == "diffusers" and not model:
        raise click.UsageError("--engine diffusers needs --model (a folder, a .safetensors file or a Hugging Face id)")
    options = GenerateOptions(
        engine=engine, model=model, mode=Mode(mode), variations=variations, seed=seed, steps=steps,
        guidance=guidance, strength=strength, control_models=_controls(controls),
    )
    if loras and engine != "diffusers":
        raise click.UsageError("--lora needs --engine diffusers")
    lora_files = _loras(loras)  # checked before torch loads or the model is read
    if engine == "diffusers":
        _check_levers(levers)
    library = ModelLibrary.for_user()
    engines = make_engines((engine,), EngineOptions(
        device, allow_network, allow_pickle, configs=library.configs(), previews=library.previews(),
        acceleration=levers if engine == "diffusers" else "",
    ))
    if engine == "diffusers":
        family = engines["diffusers"].check(model)  # before any take is planned around it
        # Recipes name the exact weights; each file is read once, then its hash is cached.
        options = replace(options, family=family.value if family is not Family.unknown else "sd1",
                          model_hash=library.model_hash(model, _hashing), loras=tuple(
            Lora(path, weight, library.model_hash(path, _hashing)) for path, weight in lora_files
        ))
    with open_project(directory) as folder:
        planned = plan_requests(folder, select_shots(folder, scene_number, shot_number), options)
        runner = JobRunner(engines, media=folder.media.read)
        try:
            with click.progressbar(
                length=len(planned), label=f"{engine:>9}", show_pos=True, file=sys.stderr, item_show_func=lambda item: item
            ) as bar:
                def progress(done: int, total: int, step: int, steps_total: int) -> None:
                    bar.update(done - bar.pos, f"step {step}/{steps_total}" if steps_total and done < total else None)

                report = run_batch(folder, runner, planned, progress)
        finally:
            runner.shutdown()
    click.echo(f"{len(report.takes)} frame{'s' if len(report.takes) != 1 else ''} kept as takes")
    for shot_id, error in report.failed:
        click.echo(f"failed  shot id {shot_id}: {error}", err=True)
    if report.interrupted:
        click.echo(f"cancelled {report.cancelled}; the frames above are kept", err=True)
        sys.exit(130)
    if report.failed:
        sys.exit(1)
