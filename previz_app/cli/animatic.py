"""`previz animatic`: the film as a video with its editorial timelines and captions."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from ..animatic.audio import import_audio
from ..animatic.export import MOTIONS, AnimaticExport, export_animatic
from ..engine.base import Cancelled
from ..store import open_project, operations, shots
from . import cli
from .frames import select_shots


def _size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    width, sep, height = value.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected WIDTHxHEIGHT, e.g. 1920x1080", param_hint="--size") from None
    if not (16 <= size[0] <= 8192 and 16 <= size[1] <= 8192) or not sep:
        raise click.BadParameter(f"{value!r}: each side must be 16 to 8192 pixels", param_hint="--size")
    return size


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="FILE.mp4 (H.264), FILE.mov (ProRes 422 HQ), or a folder name without suffix for PNGs.")
@click.option("--scene", "scene_number", help="Only scene N.")
@click.option("--otio", type=click.Path(path_type=Path), help="Also write an OpenTimelineIO timeline (with per-shot media beside it).")
@click.option("--edl", type=click.Path(path_type=Path), help="Also write a CMX3600 EDL.")
@click.option("--fcpxml", type=click.Path(path_type=Path), help="Also write a Final Cut Pro 7 XML timeline.")
@click.option("--captions", is_flag=True, help="Burn dialogue captions into the picture.")
@click.option("--burn-info", is_flag=True, help="Burn the shot number and timecode into the picture.")
@click.option("--srt", type=click.Path(path_type=Path), help="Write dialogue captions as SRT.")
@click.option("--vtt", type=click.Path(path_type=Path), help="Write dialogue captions as WebVTT.")
@click.option("--size", "size_text", metavar="WxH", help="Frame size (default: 1920 wide at the project's aspect ratio).")
@click.option("--motion", type=click.Choice(MOTIONS), default="auto", show_default=True, help="auto: blocking frames re-rendered along the camera move, recorded AI motion used; still: every move over the hero still.")
def animatic(directory: Path, out: Path, scene_number, otio, edl, fcpxml, captions, burn_info, srt, vtt, size_text, motion) -> None:
    """Render the film (or one scene) as an animatic with camera moves, transitions and sound.

    Ctrl-C cancels; nothing partial is left behind.
    """
    request = AnimaticExport(
        out=out, scene=scene_number, size=_size(size_text), burn_captions=captions, burn_info=burn_info,
        motion=motion, otio=otio, edl=edl, fcpxml=fcpxml, srt=srt, vtt=vtt,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_args: stop.set())
    try:
        with open_project(directory) as folder:
            with click.progressbar(length=1, label="animatic", show_pos=True, file=sys.stderr) as bar:
                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                report = export_animatic(folder.db, folder.media, request, progress, stop.is_set)
    except Cancelled:
        click.echo("previz: cancelled; nothing was written", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)
    seconds = float(report.seconds)
    click.echo(f"{report.frames} frames, {seconds // 60:.0f}:{seconds % 60:06.3f}")
    for path in report.written:
        click.echo(f"wrote   {path}")
    if report.shot_media:
        click.echo(f"wrote   {len(report.shot_media)} shot media files in {report.shot_media[0].parent}")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("sound", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shot", "shot_number", help="The shot the sound belongs to (it starts with the shot and stops at its end).")
@click.option("--scene", "scene_number", help="The shot's scene, when shot numbers repeat.")
@click.option("--music", is_flag=True, help="Use the sound as the music bed under the whole animatic.")
@click.option("--level", type=click.FloatRange(-60, 12), default=None, help="Level in dB (default: 0 for a shot, -12 for music).")
def sound(directory: Path, sound: Path, shot_number, scene_number, music, level) -> None:
    """Add a WAV, MP3 or FLAC file to the project as a shot's sound or the music bed."""
    if music == (shot_number is not None):
        raise click.UsageError("name a shot with --shot, or pass --music")
    with open_project(directory) as folder:
        target = None if music else select_shots(folder, scene_number, shot_number)[0]
        digest = import_audio(folder, sound)
        if target is None:
            edits = [operations.EditProject("music_hash", digest)]
            edits += [operations.EditProject("music_level_db", level)] if level is not None else []
        else:
            edits = [operations.EditShot(target, "audio_hash", digest)]
            edits += [operations.EditShot(target, "audio_level_db", level)] if level is not None else []
        operations.perform(folder.db, operations.Compound("Set sound", edits))
        where = "music bed" if target is None else f"shot {shots.get_shot(folder.db, target).number}"
    click.echo(f"{sound.name} -> {where}")
