"""`previz wall`: an LED wall's pixel canvas, pixels per degree and processor outputs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from ..domain.wall import (
    DEFAULT_OUTPUT_CAPACITY,
    Cabinet,
    WallProfile,
    WallSection,
    profile_from_dict,
    profile_json,
    wall_canvas,
)
from ..export.files import staged_output
from . import cli


def _cabinet_size(text: str) -> tuple[float, float]:
    try:
        width, height = (float(part) for part in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"write the cabinet as WIDTHxHEIGHT in millimetres, like 500x500, not {text!r}") from None
    return width, height


@cli.command()
@click.option("--load", "load_path", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Read the wall from a profile JSON file (as --save writes) instead of the options below.")
@click.option("--radius", type=float, help="A curved wall: its radius in metres, from the camera's eye point.")
@click.option("--arc", type=float, help="A curved wall: the degrees it wraps around the stage (up to 360).")
@click.option("--width", type=float, help="A flat wall: its width in metres.")
@click.option("--distance", type=float, default=0.0, help="A flat wall: the camera's distance in metres, for pixels per degree.")
@click.option("--height", type=float, help="The wall's height in metres.")
@click.option("--cabinet", default="500x500", show_default=True, help="Cabinet size WIDTHxHEIGHT in millimetres.")
@click.option("--pitch", type=float, help="Pixel pitch in millimetres (2.84 for a common 500 mm cabinet of 176 pixels).")
@click.option("--capacity", type=int, default=DEFAULT_OUTPUT_CAPACITY, show_default=True,
              help="Pixels one processor output drives.")
@click.option("--name", default="wall", show_default=True, help="The profile's name.")
@click.option("--save", "save_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write the profile as JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the profile and its figures as JSON.")
def wall(load_path, radius, arc, width, distance, height, cabinet, pitch, capacity, name, save_path, as_json) -> None:
    """Work out an LED wall's canvas: cabinets, pixels, pixels per degree, outputs.

    A curved wall takes --radius and --arc, a flat one --width; both take --height,
    --cabinet and --pitch. Or --load a saved profile.
    """
    if load_path is not None:
        try:
            profile = profile_from_dict(json.loads(load_path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{load_path} is not JSON: {exc}") from None
    else:
        profile = _profile_from_options(radius, arc, width, distance, height, cabinet, pitch, capacity, name)
    canvas = wall_canvas(profile)
    if save_path is not None:
        with staged_output(save_path) as temporary:  # an older profile stays whole if this fails
            temporary.write_text(profile_json(profile) + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"profile": asdict(profile), "canvas": {**asdict(canvas), "pixels": canvas.pixels}}, indent=2))
        return
    cabinet_w, cabinet_h = canvas.cabinet_px
    click.echo(f"{profile.name}: {canvas.width_px:,} × {canvas.height_px:,} px "
               f"({canvas.pixels / 1e6:.1f} megapixels), {canvas.cabinets:,} cabinets of {cabinet_w}×{cabinet_h} px")
    for number, section in enumerate(canvas.sections, 1):
        shape = f"curved over {section.arc_deg:.2f}°" if section.arc_deg is not None else "flat"
        density = f", {section.pixels_per_degree:.1f} px/°" if section.pixels_per_degree else ""
        click.echo(f"  section {number}: {shape}, {section.columns} × {section.rows} cabinets, "
                   f"{section.width_px:,} × {section.height_px:,} px{density}")
    if canvas.pixels_per_degree:
        click.echo(f"pixels per degree: {canvas.pixels_per_degree:.1f} (a plate needs at least this much)")
    click.echo(f"processor outputs: {canvas.outputs} at {canvas.output_capacity:,} px each")
    if save_path is not None:
        click.echo(f"wrote   {save_path}")


def _profile_from_options(radius, arc, width, distance, height, cabinet, pitch, capacity, name) -> WallProfile:
    if height is None or pitch is None:
        raise click.UsageError("give the wall's --height and the cabinets' --pitch (or --load a profile)")
    curved = radius is not None or arc is not None
    if curved == (width is not None):
        raise click.UsageError("give --radius and --arc for a curved wall, or --width for a flat one")
    if curved and (radius is None or arc is None):
        raise click.UsageError("a curved wall needs both --radius and --arc")
    cabinet_w, cabinet_h = _cabinet_size(cabinet)
    box = Cabinet(cabinet_w, cabinet_h, pitch)
    if curved:
        section = WallSection("curved", box, height, radius_m=radius, arc_deg=arc)
    else:
        section = WallSection("flat", box, height, width_m=width, viewer_distance_m=distance)
    return WallProfile(name, (section,), capacity)
