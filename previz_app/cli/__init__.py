"""The `previz` command. Each subcommand is a thin call into the layers below."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path

import click

from .. import __version__
from ..domain.model import Project
from ..domain.vocabulary import STYLE_PRESETS
from ..store import ProjectError, create_project, open_project
from ..store import cast, scenes, settings, shots
from ..store.folder import existing_project
from ..engine.base import EngineError
from ..script import ScriptError
from ..script.importer import import_document, read_script

USER_ERRORS = (ProjectError, ScriptError, EngineError, ValueError, OSError)


def _emit_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _running_time(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="previz")
def cli() -> None:
    """previz: film previsualization and storyboarding, local and private.

    A project is a folder NAME.previz/ holding project.db and media/.
    """


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", required=True, help="The film's title.")
@click.option("--aspect", type=float, default=1.78, show_default=True, help="Aspect ratio: 1.33, 1.78, 1.85, 2.00 or 2.39.")
@click.option("--fps", type=float, default=24.0, show_default=True, help="Frame rate: 23.976, 24, 25, 29.97 or 30.")
@click.option("--logline", default="", help="One sentence that sells the film.")
@click.option("--style", type=click.Choice(list(STYLE_PRESETS)), default="storyboard_pencil", show_default=True, help="Look of generated frames.")
@click.option("--start-timecode", default="01:00:00:00", show_default=True, help="Timecode of the animatic's first frame (HH:MM:SS:FF).")
def new(directory: Path, title: str, aspect: float, fps: float, logline: str, style: str, start_timecode: str) -> None:
    """Create an empty project in DIRECTORY (named NAME.previz)."""
    project = Project(title=title, logline=logline, aspect_ratio=aspect, fps=fps, style_preset=style, start_timecode=start_timecode)
    with create_project(directory, project) as folder:
        click.echo(f"created {folder.path}")


@cli.command("set")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", help="The film's title.")
@click.option("--logline", help="One sentence that sells the film.")
@click.option("--aspect", type=float, help="Aspect ratio: 1.33, 1.78, 1.85, 2.00 or 2.39.")
@click.option("--fps", type=float, help="Frame rate: 23.976, 24, 25, 29.97 or 30 (shot durations stay in seconds).")
@click.option("--style", type=click.Choice(list(STYLE_PRESETS)), help="Look of generated frames.")
@click.option("--start-timecode", help="Timecode of the animatic's first frame (HH:MM:SS:FF).")
def set_command(directory: Path, **values: object) -> None:
    """Change project settings; the others stay as they are."""
    names = {"aspect": "aspect_ratio", "style": "style_preset"}
    changes = {names.get(key, key): value for key, value in values.items() if value is not None}
    if not changes:
        raise click.UsageError("name at least one setting to change, e.g. --start-timecode 00:59:50:00")
    with open_project(directory) as folder:
        with folder.transaction():
            project = settings.update_project(folder.db, **changes)
    click.echo(", ".join(f"{key} = {getattr(project, key)}" for key in changes))


@cli.command("import-script")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("script", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_script_command(directory: Path, script: Path, as_json: bool) -> None:
    """Import a Fountain or Final Draft SCRIPT into the project at DIRECTORY.

    Creates the project when DIRECTORY does not exist (title from the title page).
    Re-importing a revised script updates scenes and keeps every shot and take.
    """
    document = read_script(script)  # a bad file fails before any project is made or opened
    if existing_project(directory) is None:
        folder = create_project(directory, Project(title=document.title or script.stem))
    else:
        folder = open_project(directory)
    with folder:
        report = import_document(folder, document, script.name)
    if as_json:
        _emit_json(asdict(report))
        return
    click.echo(report.summary())
    for kind in ("added", "updated", "restored", "removed"):
        for label in getattr(report, kind):
            click.echo(f"  {kind:<8} {label}")


@cli.command("scenes")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scenes_command(directory: Path, as_json: bool) -> None:
    """List the scenes of a project, in film order."""
    with open_project(directory) as folder:
        listed = scenes.list_scenes(folder.db)
        counts = scenes.shot_counts(folder.db)
    if as_json:
        _emit_json([{**asdict(s), "shot_count": counts.get(s.id, 0)} for s in listed])
        return
    for scene in listed:
        flag = "  (removed)" if scene.removed else ""
        click.echo(f"{scene.number:>5}  {counts.get(scene.id, 0):>3} shots  {scene.heading}{flag}")


@cli.command("shots")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--scene", "scene_number", help="Only the shots of scene N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def shots_command(directory: Path, scene_number: str | None, as_json: bool) -> None:
    """List the shots of a project (or of one scene), numbered."""
    with open_project(directory) as folder:
        scene_id = scenes.find_scene(folder.db, scene_number).id if scene_number is not None else None
        listed = shots.list_shots(folder.db, scene_id)
    if as_json:
        _emit_json([asdict(s) for s in listed])
        return
    for shot in listed:
        what = shot.dialogue or shot.action
        move = shot.movement.value + (f" {shot.direction.value}" if shot.direction.value else "")
        click.echo(
            f"{shot.number:>6}  {shot.size.value:<8} {shot.angle.value:<5} {move:<12} "
            f"{shot.lens_mm:>4.0f}mm {shot.duration:>5.1f}s  {_clip(what, 60)}"
        )


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(directory: Path, as_json: bool) -> None:
    """Show a project's settings and size."""
    with open_project(directory) as folder:
        db = folder.db
        project = settings.read_project(db)
        listed = scenes.list_scenes(db)
        active = {scene.id for scene in listed if not scene.removed}
        durations = [shot.duration for shot in shots.list_shots(db) if shot.scene_id in active]
        facts = {
            **asdict(project),
            "path": str(folder.path),
            "scenes": sum(1 for s in listed if not s.removed),
            "removed_scenes": sum(1 for s in listed if s.removed),
            "shots": db["shots"].count,
            "takes": db["takes"].count,
            "characters": [c.name for c in cast.list_characters(db)],
            "locations": [loc.name for loc in cast.list_locations(db)],
            "running_time_seconds": round(sum(durations), 1),
        }
    if as_json:
        _emit_json(facts)
        return
    click.echo(f"{facts['title'] or '(untitled)'}  —  {facts['path']}")
    if project.logline:
        click.echo(f"  {project.logline}")
    click.echo(f"  format     {project.aspect_ratio:.2f}:1, {project.fps:g} fps, starts at {project.start_timecode}, style {project.style_preset}")
    click.echo(f"  scenes     {facts['scenes']} (+{facts['removed_scenes']} removed)")
    click.echo(f"  shots      {facts['shots']}, running time {_running_time(facts['running_time_seconds'])}")
    click.echo(f"  takes      {facts['takes']}")
    click.echo(f"  characters {', '.join(facts['characters']) or '-'}")
    click.echo(f"  locations  {len(facts['locations'])}")


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("previz-demo"), show_default=True, help="Folder for the demo project and its outputs.")
def demo(out: Path) -> None:
    """Run the main job on the built-in engine: the bundled screenplay to drafted shots, frames and an animatic."""
    from ..demo import run_demo

    run_demo(out, click.echo)


# Subcommands that live in their own modules register themselves on `cli`.
from . import animatic, export, frames, models, motion, plate, wall  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors print one line and exit non-zero, no traceback."""
    try:
        code = cli.main(args=argv, prog_name="previz", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("previz: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except USER_ERRORS as exc:
        click.echo(f"previz: error: {exc}", err=True)
        sys.exit(1)
    except sqlite3.Error as exc:
        click.echo(f"previz: error: the project database refused: {exc} (busy in another program, or read-only?)", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a message
        if os.environ.get("PREVIZ_DEBUG"):
            raise
        click.echo(f"previz: internal error: {type(exc).__name__}: {exc} (set PREVIZ_DEBUG=1 for details)", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
