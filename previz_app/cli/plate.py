"""`previz export plate`: an LED-wall plate from a panorama or wide picture."""

from __future__ import annotations

from pathlib import Path

import click

from ..store import open_project
from .export import export_group, run_export
from .wall import resolve_wall


@export_group.command("plate")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--wall", "wall_path", metavar="NAME|FILE.json", required=True,
              help="The wall: a profile JSON file (`previz wall ... --save F.json` writes one), or the name of "
                   "a wall stored in the project (`previz wall ... --project DIR --name NAME`).")
@click.option("--source", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="The picture: an equirectangular 360° panorama, or a wide image (PNG, JPEG, TIFF; sRGB).")
@click.option("--kind", type=click.Choice(["equirect", "wide"]), default="equirect", show_default=True,
              help="How the source maps to directions: a 360°×180° panorama, or a picture spanning the wall.")
@click.option("--format", "fmt", type=click.Choice(["exr", "tiff", "png16"]), default="exr", show_default=True,
              help="exr: half float, scene-linear ACEScg; tiff, png16: 16-bit sRGB.")
@click.option("--lowpass", type=click.FloatRange(0, 8), default=0.0, show_default=True,
              help="Extra blur in wall pixels, against moiré on camera.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="The folder for the tiles and their JSON sidecar (default: the project's exports/plate).")
def plate(directory: Path, wall_path: str, source: Path, kind: str, fmt: str, lowpass: float, out: Path | None) -> None:
    """Reproject SOURCE onto the wall's pixel canvas and write it as cabinet-aligned tiles.

    Tiles are at most one processor output (and 16,384 px a side); the sidecar
    `plate.json` gives each tile's pixel origin, size and cabinets, so the tiles
    reassemble exactly. A source with fewer pixels per degree than the wall is
    warned about, with by how much.
    """
    from ..export.plate import PlateExport, export_plate

    with open_project(directory) as folder:
        wall = resolve_wall(wall_path, folder.db)  # an existing file, else a wall stored in the project
        request = PlateExport(out or folder.exports_dir / "plate", wall, source, kind, fmt, lowpass)
        if out is None:
            folder.exports_dir.mkdir(exist_ok=True)
        report = run_export(folder, "plate", lambda _db, _media, *args: export_plate(*args), request)
    if report.warning:
        click.echo(f"warning: {report.warning}", err=True)
    canvas = report.canvas
    click.echo(f"{canvas.width_px:,} × {canvas.height_px:,} px in {len(report.files) - 1} tiles")
    click.echo(f"wrote   {report.out}")
