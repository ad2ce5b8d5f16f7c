"""`previz motion`: AI motion keys for shots, on the terminal, with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..animatic.ai_motion import plan_motion, run_motion
from ..animatic.timeline import build_timeline
from ..engine.base import Cancelled
from ..engine.discovery.entry import Family
from ..engine.discovery.library import ModelLibrary
from ..engine.engines import EngineOptions, make_engines
from ..engine.jobs import JobRunner
from ..store import open_project
from . import cli
from .frames import select_shots


def _hashing(name: str) -> None:
    click.echo(f"reading {name} once to record its SHA-256 in the recipes", err=True)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--model", required=True, help="Diffusers folder, .safetensors checkpoint or Hugging Face id.")
@click.option("--scene", "scene_number", help="Only the shots of scene N.")
@click.option("--shot", "shot_number", help="Only the shot numbered NUMBER (with --scene when numbers repeat).")
@click.option("--keys-per-second", type=click.FloatRange(0, 24, min_open=True), default=4.0, show_default=True,
              help="Diffusion keys per second of shot (at least start and end).")
@click.option("--strength", type=click.FloatRange(0, 1, min_open=True), default=0.35, show_default=True,
              help="How far each key departs from its moved frame.")
@click.option("--steps", type=click.IntRange(1, 200), default=25, show_default=True, help="Denoising steps.")
@click.option("--guidance", type=float, default=7.0, show_default=True, help="Classifier-free guidance scale.")
@click.option("--device", default=None, help="cuda, mps or cpu (default: the best available).")
@click.option("--allow-pickle", is_flag=True, help="Allow pickled .ckpt/.pt/.bin checkpoints (loaded with weights_only=True).")
def motion(directory: Path, model, scene_number, shot_number, keys_per_second, strength, steps, guidance, device, allow_pickle) -> None:
    """Draw each shot's camera move with a diffusion model: keys over the hero frame,
    img2img with the shot's seed; animatic exports then play them.

    Shots without a hero frame are skipped. Ctrl-C cancels: the shot in progress
    records nothing, shots finished before it keep their motion.
    """
    library = ModelLibrary.for_user()
    engines = make_engines(
        ("diffusers",), EngineOptions(device, False, allow_pickle, configs=library.configs(), previews=library.previews())
    )
    family = engines["diffusers"].check(model)  # a missing or refused model fails before any work
    family_name = family.value if family is not Family.unknown else "sd1"
    model_hash = library.model_hash(model, _hashing)
    with open_project(directory) as folder:
        wanted = set(select_shots(folder, scene_number, shot_number))
        chosen = [item for item in build_timeline(folder.db, scene_number).shots if item.shot.id in wanted]
        for item in chosen:
            if item.hero is None:
                click.echo(f"skipped shot {item.number}: no hero frame (run previz generate first)", err=True)
        chosen = [item for item in chosen if item.hero is not None]
        if not chosen:
            raise ValueError("no shot has a hero frame to move over; run `previz generate` first")
        plans = [
            (item, plan_motion(folder, item, model, family_name, keys_per_second, strength, steps, guidance, model_hash=model_hash))
            for item in chosen
        ]
        runner = JobRunner(engines, media=folder.media.read)
        done: list[tuple[str, int]] = []
        plain = not sys.stderr.isatty()  # a log gets a line per key; click draws no bar there
        try:
            with click.progressbar(length=sum(len(planned) for _item, planned in plans), label="   motion",
                                   show_pos=True, file=sys.stderr, item_show_func=lambda item: item) as bar:
                for item, planned in plans:
                    start = bar.pos

                    def progress(finished: int, total: int, start: int = start, number: str = item.number) -> None:
                        bar.update(start + finished - bar.pos, f"shot {number}")
                        if plain and finished:
                            click.echo(f"shot {number}: key {finished} of {total}", err=True)

                    run_motion(folder, runner, item, planned, progress)
                    done.append((item.number, len(planned)))
        except (KeyboardInterrupt, Cancelled):
            _report(done)
            click.echo("cancelled: the shot in progress recorded nothing; the shots above keep their motion", err=True)
            sys.exit(130)
        finally:
            runner.shutdown()
    _report(done)


def _report(done: list[tuple[str, int]]) -> None:
    for number, keys in done:
        click.echo(f"shot {number}: {keys} keys")
    click.echo(f"AI motion recorded for {len(done)} shot{'s' if len(done) != 1 else ''}")
