"""`previz wall`: an LED wall's pixel canvas, pixels per degree and processor outputs;
walls kept in a project (`--project`) or as JSON files."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path

import click
from sqlite_utils import Database

from ..domain.wall import (
    DEFAULT_OUTPUT_CAPACITY,
    Cabinet,
    WallCanvas,
    WallProfile,
    WallSection,
    profile_from_dict,
    profile_json,
    profile_to_dict,
    wall_canvas,
)
from ..export.files import staged_output
from ..store import ProjectFolder, open_project
from ..store.operations import perform
from ..store.transaction import read_snapshot
from ..store.wall_operations import DeleteWall, SaveWall
from ..store.walls import NoSuchWallError, UnreadableWallError, get_wall, wall_names
from . import cli


def resolve_wall(value: str | Path, db: Database | None) -> WallProfile:
    """The wall `value` names: an existing file is read as profile JSON; otherwise, with
    a project's `db`, the wall stored under that name. Raises ValueError saying there is
    neither (and listing the stored names), or that a file is not a profile."""
    return _resolve_wall(value, db)[0]


def _resolve_wall(value: str | Path, db: Database | None) -> tuple[WallProfile, bool]:
    """(the wall, whether it came from the project)."""
    path = Path(value)
    if path.is_file():
        try:
            return profile_from_dict(json.loads(path.read_text(encoding="utf-8"))), False
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not JSON: {exc}") from None
    if db is None:
        raise ValueError(f"no file {value} (a wall stored in a project needs --project DIR)")
    try:
        return get_wall(db, str(value)), True
    except NoSuchWallError as exc:
        listing = ", ".join(exc.stored) if exc.stored else "none"
        raise ValueError(f"no wall named {str(value)!r} in this project and no file {value} "
                         f"(stored walls: {listing})") from None


def _cabinet_size(text: str) -> tuple[float, float]:
    try:
        width, height = (float(part) for part in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"write the cabinet as WIDTHxHEIGHT in millimetres, like 500x500, not {text!r}") from None
    return width, height


@cli.command()
@click.option("--load", metavar="FILE|NAME",
              help="Read the wall from a profile JSON file (as --save writes), or with --project a wall stored "
                   "in the project, instead of the options below.")
@click.option("--radius", type=float, help="A curved wall: its radius in metres, from the camera's eye point.")
@click.option("--arc", type=float, help="A curved wall: the degrees it wraps around the stage (up to 360).")
@click.option("--width", type=float, help="A flat wall: its width in metres.")
@click.option("--distance", type=float, default=0.0, help="A flat wall: the camera's distance in metres, for pixels per degree.")
@click.option("--height", type=float, help="The wall's height in metres.")
@click.option("--cabinet", default="500x500", show_default=True, help="Cabinet size WIDTHxHEIGHT in millimetres.")
@click.option("--pitch", type=float, help="Pixel pitch in millimetres (2.84 for a common 500 mm cabinet of 176 pixels).")
@click.option("--capacity", type=int, default=DEFAULT_OUTPUT_CAPACITY, show_default=True,
              help="Pixels one processor output drives.")
@click.option("--name", help="The profile's name (default: wall, or the loaded profile's); with --project, "
                             "the name it is stored under.")
@click.option("--save", "save_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write the profile as JSON here.")
@click.option("--project", "project_dir", type=click.Path(path_type=Path),
              help="A project folder: store the wall in it under its name, or --load, --list or --delete its walls.")
@click.option("--list", "list_stored", is_flag=True, help="With --project: list the walls stored in the project.")
@click.option("--delete", metavar="NAME", help="With --project: remove the wall stored under NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print the profile and its figures (or the list) as JSON.")
def wall(load, radius, arc, width, distance, height, cabinet, pitch, capacity, name, save_path, project_dir,
         list_stored, delete, as_json) -> None:
    """Work out an LED wall's canvas: cabinets, pixels, pixels per degree, outputs.

    A curved wall takes --radius and --arc, a flat one --width; both take --height,
    --cabinet and --pitch. Or --load a saved profile. With --project the wall is also
    stored in the project (a wall loaded from it is only shown, unless --name renames
    a copy); --list and --delete manage the stored walls.
    """
    if list_stored or delete is not None:
        if list_stored and delete is not None:
            raise click.UsageError("give --list or --delete, not both")
        if any(value is not None for value in (load, radius, arc, width, height, pitch, name, save_path)):
            raise click.UsageError("--list and --delete take only --project (and --json)")
        if project_dir is None:
            raise click.UsageError("--list and --delete need the --project the walls are stored in")
        with open_project(project_dir) as folder:
            if delete is not None:
                removal = DeleteWall(delete)
                perform(folder.db, removal)
                click.echo(f"deleted {removal.name} from {folder.path}")
                return
            failed = _list_walls(folder, as_json)
        if failed:
            raise click.exceptions.Exit(1)
        return
    with open_project(project_dir) if project_dir is not None else nullcontext() as folder:
        if load is not None:
            profile, from_project = _resolve_wall(load, folder.db if folder else None)
            profile = replace(profile, name=name) if name is not None else profile
        else:
            profile, from_project = _profile_from_options(
                radius, arc, width, distance, height, cabinet, pitch, capacity, "wall" if name is None else name), False
        canvas = wall_canvas(profile)
        if save_path is not None:
            with staged_output(save_path) as temporary:  # an older profile stays whole if this fails
                temporary.write_text(profile_json(profile) + "\n", encoding="utf-8")
        store = folder is not None and not (from_project and name is None)
        if store:
            if not profile.name.strip():
                raise click.UsageError("give the wall a --name to store it in the project under")
            operation = SaveWall(profile)
            perform(folder.db, operation)
            profile = operation.profile  # its name trimmed, as stored
    if as_json:
        click.echo(json.dumps({"profile": asdict(profile), "canvas": {**asdict(canvas), "pixels": canvas.pixels}}, indent=2))
    else:
        _echo_canvas(profile, canvas)
        if save_path is not None:
            click.echo(f"wrote   {save_path}")
    if store:
        # Beside --json the JSON stays alone on stdout.
        click.echo(f"stored {profile.name} in {folder.path}", err=as_json)


def _echo_canvas(profile: WallProfile, canvas: WallCanvas) -> None:
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


def _list_walls(folder: ProjectFolder, as_json: bool) -> bool:
    """Print the stored walls, one a line (or as JSON), and say whether any failed: a
    stored profile that no longer reads is reported on stderr, the others still listed."""
    entries, failed = [], False
    with read_snapshot(folder.db):
        for stored_name in wall_names(folder.db):
            try:
                profile = get_wall(folder.db, stored_name)
            except UnreadableWallError as exc:
                click.echo(f"previz: error: {exc}", err=True)
                entries.append({"name": stored_name, "error": str(exc)})
                failed = True
                continue
            canvas = wall_canvas(profile)
            entries.append({"name": profile.name, "width_px": canvas.width_px, "height_px": canvas.height_px,
                            "outputs": canvas.outputs, "profile": profile_to_dict(profile)})
    if as_json:
        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
    elif not entries:
        click.echo(f"no walls stored in {folder.path}")
    else:
        width = max(len(entry["name"]) for entry in entries)
        for entry in entries:
            if "error" not in entry:
                click.echo(f"{entry['name']:<{width}}  {entry['width_px']:,} × {entry['height_px']:,} px  "
                           f"{entry['outputs']} output{'s' if entry['outputs'] != 1 else ''}")
    return failed


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
