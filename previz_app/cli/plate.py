"""`previz export plate`: an LED-wall plate from a panorama or wide picture."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import click

from ..engine.discovery.library import ModelLibrary
from ..engine.engines import ENGINE_NAMES, EngineOptions, make_engines
from ..store import open_project, scenes
from .export import export_group, run_export
from .wall import resolve_wall


class FrameRate(click.ParamType):
    """A movie's frame rate, exactly: 23.976, 24, 25, 29.97, 30, 50, 59.94, 60 or N/M."""

    name = "fps"

    def convert(self, value, param, ctx) -> Fraction:
        from ..export.plate_movie import movie_rate  # PyAV loads only for the command that needs it

        try:
            return movie_rate(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@export_group.command("plate")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--wall", "wall_path", metavar="NAME|FILE.json", required=True,
              help="The wall: a profile JSON file (`previz wall ... --save F.json` writes one), or the name of "
                   "a wall stored in the project (`previz wall ... --project DIR --name NAME`).")
@click.option("--source", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The picture: an equirectangular 360° panorama, or a wide image (PNG, JPEG, TIFF; sRGB).")
@click.option("--generate", is_flag=True,
              help="Make the environment with an engine instead, from the scene's location and time of day.")
@click.option("--kind", type=click.Choice(["equirect", "wide"]), default="equirect", show_default=True,
              help="How --source maps to directions: a 360°×180° panorama, or a picture spanning the wall.")
@click.option("--format", "fmt", type=click.Choice(["exr", "tiff", "png16", "png8", "prores"]), default="exr",
              show_default=True, help="exr: half float, scene-linear ACEScg; tiff, png16: 16-bit sRGB; png8: 8-bit "
                                      "sRGB; prores: ProRes 4444 movies for a media server.")
@click.option("--dither/--no-dither", default=True, show_default=True, help="Dither png8 against banding in skies.")
@click.option("--seconds", type=click.FloatRange(0.04, 3600), default=2.0, show_default=True,
              help="Length of each ProRes movie (a still, at --fps).")
@click.option("--fps", type=FrameRate(), default="25", show_default=True,
              help="Frame rate of each ProRes movie: 23.976, 24, 25, 29.97, 30, 50, 59.94, 60, or N/M "
                   "(24000/1001).")
@click.option("--lowpass", type=click.FloatRange(0, 8), default=0.0, show_default=True,
              help="Extra blur in wall pixels, against moiré on camera.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="The folder for the tiles and their JSON sidecar (default: the project's exports/plate).")
@click.option("--scene", "scene_number", help="--generate: the scene whose place and light it shows (default: the first).")
@click.option("--engine", type=click.Choice(ENGINE_NAMES), default="blocking", show_default=True,
              help="--generate: blocking paints it, built in; diffusers denoises it with your model.")
@click.option("--model", default="", help="--generate --engine diffusers: a diffusers folder or .safetensors checkpoint.")
@click.option("--prompt", default="", help="--generate: the prompt (default: written from the scene).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True, help="--generate: the seed.")
@click.option("--steps", type=click.IntRange(1, 200), default=25, show_default=True, help="--generate: denoising steps.")
@click.option("--upscale", is_flag=True,
              help="--generate --engine diffusers: upscale to the wall's pixels per degree by tiled img2img.")
@click.option("--device", default=None, help="cuda, mps or cpu (default: the best available).")
@click.option("--allow-pickle", is_flag=True, help="Allow pickled .ckpt/.pt/.bin checkpoints (loaded with weights_only=True).")
def plate(directory: Path, wall_path: str, source: Path | None, generate: bool, kind: str, fmt: str, dither: bool,
          seconds: float, fps: Fraction, lowpass: float, out: Path | None, scene_number: str | None, engine: str, model: str,
          prompt: str, seed: int, steps: int, upscale: bool, device: str | None, allow_pickle: bool) -> None:
    """Reproject a picture onto the wall's pixel canvas and write it as cabinet-aligned tiles.

    The picture is --source, or with --generate an environment made for the wall
    (kept beside the tiles as plate_source.png). Tiles are at most one processor
    output (and 16,384 px a side); the sidecar `plate.json` gives each tile's pixel
    origin, size and cabinets, so the tiles reassemble exactly. A source with fewer
    pixels per degree than the wall is warned about, with by how much.
    """
    from ..export.plate import PlateExport, export_plate
    from ..export.plate_source import PlateGeneration, generated_plate, scene_staging

    if (source is None) == (not generate):
        raise click.UsageError("give either --source IMG or --generate")
    if engine == "diffusers" and not model:
        raise click.UsageError("--engine diffusers needs --model (a folder or a .safetensors file)")
    if upscale and engine != "diffusers":
        raise click.UsageError("--upscale needs --engine diffusers: the blocking engine paints at the wall's resolution")
    with open_project(directory) as folder:
        wall = resolve_wall(wall_path, folder.db)  # an existing file, else a wall stored in the project
        request = PlateExport(out or folder.exports_dir / "plate", wall, source, kind, fmt, lowpass,
                              dither=dither, seconds=seconds, fps=fps)
        if out is None:
            folder.exports_dir.mkdir(exist_ok=True)
        if generate:
            scene = _scene(folder.db, scene_number)
            generation = PlateGeneration(engine, model, prompt, seed=seed, steps=steps, upscale=upscale,
                                         staging=scene_staging(folder.db, scene.id))
            library = ModelLibrary.for_user()
            engines = make_engines((engine,), EngineOptions(device, False, allow_pickle, configs=library.configs(),
                                                             previews=library.previews()))
            click.echo(f"scene   {scene.number} {scene.heading}", err=True)
            report = run_export(folder, engine, lambda _db, _media, *args: generated_plate(engines, generation, *args),
                                request)
        else:
            report = run_export(folder, "plate", lambda _db, _media, *args: export_plate(*args), request)
    if report.warning:
        click.echo(f"warning: {report.warning}", err=True)
    canvas = report.canvas
    tiles = len(report.files) - 1 - (report.source is not None)  # the sidecar, and the environment if kept
    click.echo(f"{canvas.width_px:,} × {canvas.height_px:,} px in {tiles} tiles")
    click.echo(f"wrote   {report.out}")


def _scene(db, number: str | None):
    """The scene numbered `number`, or the film's first."""
    if number is not None:
        return scenes.find_scene(db, number)
    listed = scenes.list_scenes(db, include_removed=False)
    if not listed:
        raise click.UsageError("the project has no scenes to take a place and light from; import a script first")
    return listed[0]
