"""One call that turns the project into an animatic and everything that goes with it:
the video, the editor's timelines with per-shot media, and caption files."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path

from sqlite_utils import Database

from ..domain.model import Project
from ..engine.base import Cancelled
from ..store.media import MediaStore
from .ai_motion import ai_sources
from .audio import AudioMix
from .captions import caption_cues, write_srt, write_vtt
from .compose import ComposeOptions
from .editorial import write_edl, write_fcp_xml, write_otio
from .picture import even_size
from .render import plan_shot_media, render_animatic
from .timeline import build_timeline

DEFAULT_WIDTH = 1920
SHOT_MEDIA_NAME = re.compile(r"^\d{4,}_[\w.-]+\.(mp4|mov)$")  # as render.plan_shot_media names them
MOTIONS = ("auto", "still")


@dataclass(frozen=True)
class AnimaticExport:
    """What to write. `out` ends in .mp4 (H.264 + AAC) or .mov (ProRes 422 HQ + PCM), or
    has no suffix for a folder of PNGs. The editorial files get per-shot media in a
    folder `<out name>_media/` beside the first of them."""

    out: Path
    scene: str | None = None
    size: tuple[int, int] | None = None
    burn_captions: bool = False
    burn_info: bool = False
    motion: str = "auto"
    otio: Path | None = None
    edl: Path | None = None
    fcpxml: Path | None = None
    srt: Path | None = None
    vtt: Path | None = None

    @property
    def editorial(self) -> list[tuple[Path, Callable]]:
        pairs = ((self.otio, write_otio), (self.edl, write_edl), (self.fcpxml, write_fcp_xml))
        return [(Path(path), writer) for path, writer in pairs if path is not None]


@dataclass
class ExportReport:
    """The files written (the video, timelines, captions), the per-shot media files
    beside the timelines, and the animatic's length."""

    written: list[Path] = field(default_factory=list)
    frames: int = 0
    seconds: Fraction = Fraction(0)
    shot_media: list[Path] = field(default_factory=list)


def default_size(project: Project, width: int = DEFAULT_WIDTH) -> tuple[int, int]:
    """Full HD width at the project's aspect ratio (even sides, as 4:2:0 needs)."""
    return even_size((width, width / project.aspect_ratio))


def export_animatic(
    db: Database,
    media: MediaStore,
    request: AnimaticExport,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExportReport:
    """Render the animatic and write the files `request` names; return what was written.

    Runs on the thread that owns `db`. Checks everything it can before the long render:
    raises ValueError for an unknown scene, an empty project, a missing output folder or
    an unknown motion, `audio.AudioError` / `compose.MissingMediaError` for a media file
    that is missing (naming the shot), and `engine.base.Cancelled` when `cancelled()`
    turns true; then nothing partial is left behind.
    """
    if request.motion not in MOTIONS:
        raise ValueError(f"unknown motion {request.motion!r}; expected one of: {', '.join(MOTIONS)}")
    out = Path(request.out)
    captions = [(Path(path), writer) for path, writer in ((request.srt, write_srt), (request.vtt, write_vtt)) if path is not None]
    sidecars = [path for path, _writer in request.editorial + captions]
    for target in [out, *sidecars]:
        if not target.parent.is_dir():
            raise ValueError(f"cannot write {target}: the folder {target.parent} does not exist")
    for target in sidecars:
        if target.is_dir():
            raise ValueError(f"cannot write {target}: it is a folder")
    _check(cancelled)
    timeline = build_timeline(db, request.scene)
    size = even_size(request.size) if request.size else default_size(timeline.project)
    media_dir = request.editorial[0][0].parent / f"{out.stem}_media" if request.editorial else None
    made_dir = media_dir is not None and not media_dir.exists()
    staged: list[tuple[Path, Path]] = []  # (temporary name, target)
    audio = AudioMix(timeline, media)
    try:
        sources = ai_sources(db, media, timeline, size) if request.motion == "auto" else None
        _check(cancelled)
        if media_dir is not None:
            media_dir.mkdir(exist_ok=True)
        # Timelines and captions are written first under temporary names: a target that
        # cannot be written fails before the long render, and they go into place with
        # the video, all or none.
        planned = plan_shot_media(timeline, media_dir, out) if media_dir is not None else []
        name = timeline.project.title or out.stem
        cues = caption_cues(timeline)
        writes = [(path, partial(writer, timeline, planned, name=name)) for path, writer in request.editorial]
        writes += [(path, partial(writer, cues, timeline.fps)) for path, writer in captions]
        for path, write in writes:
            handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
            os.close(handle)
            staged.append((Path(temp_name), path))
            write(Path(temp_name))
        report = render_animatic(
            timeline,
            media,
            out,
            ComposeOptions(size, request.burn_captions, request.burn_info, request.motion),
            audio=audio,
            shot_media_dir=media_dir,
            sources=sources,
            progress=progress,
            cancelled=cancelled,
            files=staged,
        )
    except BaseException:
        for temp, _path in staged:
            temp.unlink(missing_ok=True)
        if made_dir and media_dir.is_dir() and not any(media_dir.iterdir()):
            media_dir.rmdir()
        raise
    finally:
        audio.close()
    if media_dir is not None:
        _remove_stale_shot_media(media_dir, {item.path.name for item in report.shot_media})
    return ExportReport(
        [report.out, *(path for _temp, path in staged)], report.frames, report.seconds, [item.path for item in report.shot_media]
    )


def _remove_stale_shot_media(media_dir: Path, current: set[str]) -> None:
    """Shot files an earlier export wrote that this cut no longer uses (shots moved,
    added or deleted renumber the files); only files named as `plan_shot_media`
    names them are touched."""
    for path in media_dir.iterdir():
        if path.name not in current and SHOT_MEDIA_NAME.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)


def _check(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled()
