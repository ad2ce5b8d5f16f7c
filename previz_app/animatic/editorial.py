"""Editorial timelines for the animatic's cut: OpenTimelineIO, CMX3600 EDL, FCP7 XML.

One video track holds one clip per shot, named by its shot number and referencing the
shot's own media file (`ShotMedia`: head handle, the shot, tail handle) so an editor
can relink and conform. A shot's notes become a marker on its first frame; its script
context (scene, action, dialogue, size, angle, move, transitions) rides in
`clip.metadata["previz"]`, which only the `.otio` file keeps.

Transitions follow timeline.py:
- a dissolve is a `Transition` centred on the cut: `in_offset` (L // 2) plays from the
  incoming shot's head handle, `out_offset` (L - L // 2) from the outgoing shot's tail;
- a fade from black is a `Transition` out of a zero-length `Gap` (black) into the shot,
  a fade to black one from the shot into such a gap. The EDL writes them as dissolves
  from and to `BL`, FCP XML as `start-black` / `end-black` cross dissolves.
An editor's transitions cannot overlap on a clip, though the picture's can in a very
short shot. So the dissolves keep their frames and the fades take what is left: a fade
to black that meets a dissolve into the next shot is dropped, a fade from black shrinks
to end where the next shot's dissolve begins, and a fade in and out that would overlap
share the shot in proportion to their lengths, meeting near the picture's brightest
frame (a fade cut to nothing becomes a cut). The placed fades stay in the metadata.

Timecode is non-drop-frame at every rate (domain/timecode.py). The `.otio` and FCP XML
files run at the exact rate (24000/1001 for 23.976); an EDL has no rate, only
timecode, so it is written at the nominal rate (24 or 30) with `FCM: NON-DROP FRAME`,
which keeps frame counts exact and stops the adapter from inferring drop-frame
timecode at 29.97.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from ..domain.timecode import nominal_rate
from .files import write_text_atomically
from .timeline import ShotMedia, Timeline, TimelineShot

NAMESPACE = "previz"
MARKER_NAME_LENGTH = 60  # a marker's name is the first line of the notes, this long at most
REEL_LENGTH = 8  # CMX3600 reel names
TITLE_LENGTH = 70  # CMX3600 titles
TRANSITION_NAME = "Cross Dissolve"  # what FCP 7 calls its dissolve, to and from black too


def build_otio(
    timeline: Timeline, media: list[ShotMedia], name: str, *, relative_to: Path | None = None
) -> otio.schema.Timeline:
    """The cut as an OpenTimelineIO timeline at the project's exact frame rate, starting
    at the project's start timecode.

    `media` holds each shot's exported file; a file under `relative_to` (the folder
    the timeline will be written to) is referenced by a relative URL, any other by an
    absolute `file://` URL. Raises ValueError when the timeline has no shots, or a shot
    has no media or media that does not fit it.
    """
    return _build(timeline, media, name, float(timeline.fps), lambda path: _relative_url(path, relative_to))


def write_otio(timeline: Timeline, media: list[ShotMedia], path: Path, name: str | None = None) -> None:
    """Write the cut as an `.otio` file at `path`, media referenced relative to it
    where they lie beside it. `name` defaults to the project's title. Raises ValueError
    as `build_otio` does; the file is replaced whole or not at all."""
    path = Path(path)
    cut = build_otio(timeline, media, _name(timeline, path, name), relative_to=path.parent)
    write_text_atomically(path, otio.adapters.write_to_string(cut, adapter_name="otio_json"))


def write_edl(timeline: Timeline, media: list[ShotMedia], path: Path, name: str | None = None) -> None:
    """Write the cut as a CMX3600 EDL (Avid style, non-drop-frame) at `path`.

    Reels are the shot numbers (letters and digits, 8 at most); `* FROM CLIP NAME:`
    comments carry the shot numbers in full and `* FROM CLIP:` the media files, relative
    to the EDL where they lie beside it. Notes are `* LOC:` locators at record timecode
    (the adapter writes them in capitals, and repeats the outgoing shot's under a
    dissolve). A fade from black after a cut, or at the top, is a dissolve out of a
    zero-length `BL` event. Raises
    ValueError as `build_otio` does; the file is replaced whole or not at all.
    """
    path = Path(path)
    rate = nominal_rate(timeline.fps)
    cut = _edl_cut(timeline, media, path.parent, rate)
    events = otio.adapters.write_to_string(cut, adapter_name="cmx_3600", rate=rate, style="avid", reelname_len=REEL_LENGTH)
    title = " ".join(_name(timeline, path, name).split())[:TITLE_LENGTH]
    write_text_atomically(path, f"TITLE: {title}\nFCM: NON-DROP FRAME\n\n{events}")


def _edl_cut(timeline: Timeline, media: list[ShotMedia], folder: Path, rate: int) -> otio.schema.Timeline:
    """The cut shaped for the CMX3600 adapter: at the nominal rate, reels from shot
    numbers, locators at record timecode, record timecode from the start timecode."""
    cut = _build(timeline, media, "", float(rate), lambda file: _relative_url(file, folder))
    track = cut.tracks[0]
    for clip, item in zip(track.find_clips(), timeline.shots):
        reel = re.sub(r"[^A-Za-z0-9]", "", item.number).upper()[:REEL_LENGTH]
        if reel:
            clip.metadata["cmx_3600"] = {"reel": reel}
        # Locators sit at record timecode in an EDL, as Avid writes them.
        shift = timeline.start_frame + item.start - clip.source_range.start_time.value
        for marker in clip.markers:
            start = marker.marked_range.start_time
            marker.marked_range = TimeRange(RationalTime(start.value + shift, rate), marker.marked_range.duration)
    # The black a fade from black starts in, where no fade to black led into it, is
    # a BL clip: the adapter's writer drops a zero-length gap, which turns the fade
    # into a dissolve from the shot before; its reader refuses a transition first on
    # a track; and its writer puts the black of a first event at record 00:00:00:00
    # whatever the start timecode.
    blacks = [
        index
        for index, item in enumerate(track)
        if isinstance(item, otio.schema.Gap) and not (index and isinstance(track[index - 1], otio.schema.Transition))
    ]
    for index in blacks:
        track[index] = _black_clip(rate)
    # The adapter ignores global_start_time (OpenTimelineIO issue #1385) and takes the
    # record timecode from the track's trimmed range, the way its reader stores it.
    track.source_range = TimeRange(RationalTime(-timeline.start_frame, rate), track.available_range().duration)
    return cut


def write_fcp_xml(timeline: Timeline, media: list[ShotMedia], path: Path, name: str | None = None) -> None:
    """Write the cut as Final Cut Pro 7 XML (xmeml) at `path`: a sequence at the exact
    frame rate (NTSC flag set for 23.976 and 29.97) with non-drop-frame timecode.

    Media are referenced by absolute `file://localhost/` URLs, the form FCP 7 and the
    editors that read its XML expect. Raises ValueError as `build_otio` does; the file
    is replaced whole or not at all.
    """
    path = Path(path)
    cut = _build(timeline, media, _name(timeline, path, name), float(timeline.fps), _file_url)
    write_text_atomically(path, otio.adapters.write_to_string(cut, adapter_name="fcp_xml"))


def _build(
    timeline: Timeline, media: list[ShotMedia], name: str, rate: float, url: Callable[[Path], str]
) -> otio.schema.Timeline:
    files = _media_for(timeline, media)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for index, (item, file) in enumerate(zip(timeline.shots, files)):
        following = timeline.shots[index + 1] if index + 1 < len(timeline.shots) else None
        fade_in, fade_out = _fades(item, following)
        if item.dissolve_in:
            track.append(_transition(item.head, item.dissolve_in - item.head, rate, "dissolve"))
        elif fade_in:
            if not (len(track) and isinstance(track[-1], otio.schema.Gap)):
                track.append(_black(rate, start=0))
            track.append(_transition(0, fade_in, rate, "fade_from_black"))
        track.append(_clip(item, file, rate, url))
        if fade_out:
            track.append(_transition(fade_out, 0, rate, "fade_to_black"))
            track.append(_black(rate, start=fade_out))
    cut = otio.schema.Timeline(name=name, global_start_time=RationalTime(timeline.start_frame, rate))
    cut.tracks.append(track)
    return cut


def _fades(item: TimelineShot, following: TimelineShot | None) -> tuple[int, int]:
    # The fades in frames as the cut can carry them (see the module docstring). The
    # dissolves never overlap each other: timeline.py keeps each within both shots.
    outgoing = following.head if following and following.dissolve_in else 0
    room = item.frames - (item.dissolve_in - item.head) - outgoing
    fade_in, fade_out = item.fade_in, 0 if outgoing else item.fade_out
    if fade_in + fade_out > room:
        # The picture is brightest about where its two ramps cross: there the fades meet.
        fade_in = (2 * room * fade_in + fade_in + fade_out) // (2 * (fade_in + fade_out))
        fade_out = room - fade_in
    return fade_in, fade_out


def _media_for(timeline: Timeline, media: list[ShotMedia]) -> list[ShotMedia]:
    if not timeline.shots:
        raise ValueError("nothing to export: the timeline has no shots")
    by_shot = {file.shot_id: file for file in media}
    files = []
    for item in timeline.shots:
        file = by_shot.get(item.shot.id)
        if file is None:
            raise ValueError(f"shot {item.number} has no media file; export the shots' media with the timeline")
        if file.frames != item.frames:
            raise ValueError(
                f"the media for shot {item.number} ({Path(file.path).name}) holds {file.frames} frames of the shot, "
                f"the timeline {item.frames}; export the shots' media again"
            )
        if file.head < item.head or file.tail < item.tail:
            raise ValueError(
                f"the media for shot {item.number} ({Path(file.path).name}) lacks the handles its dissolves need "
                f"({item.head} frames before, {item.tail} after); export the shots' media again"
            )
        files.append(file)
    return files


def _clip(item: TimelineShot, file: ShotMedia, rate: float, url: Callable[[Path], str]) -> otio.schema.Clip:
    reference = otio.schema.ExternalReference(
        target_url=url(Path(file.path)),
        available_range=TimeRange(RationalTime(0, rate), RationalTime(file.head + file.frames + file.tail, rate)),
    )
    reference.name = Path(file.path).name
    clip = otio.schema.Clip(
        name=item.number,
        media_reference=reference,
        source_range=TimeRange(RationalTime(file.head, rate), RationalTime(item.frames, rate)),
        metadata={NAMESPACE: _context(item)},
    )
    notes = item.shot.notes.strip()
    if notes:
        clip.markers.append(
            otio.schema.Marker(
                name=_headline(notes),
                marked_range=TimeRange(RationalTime(file.head, rate), RationalTime(1, rate)),
                color=otio.schema.MarkerColor.YELLOW,
                metadata={NAMESPACE: {"notes": notes}},
            )
        )
    return clip


def _context(item: TimelineShot) -> dict:
    shot, scene = item.shot, item.scene
    return {
        "shot_id": shot.id,
        "shot_number": item.number,
        "scene_number": scene.number,
        "scene_heading": scene.heading,
        "size": str(shot.size),
        "angle": str(shot.angle),
        "movement": str(shot.movement),
        "direction": str(shot.direction),
        "lens_mm": float(shot.lens_mm),
        "characters": list(shot.characters),
        "action": shot.action,
        "dialogue": shot.dialogue,
        "notes": shot.notes,
        # In frames, as placed on the timeline (see timeline.py).
        "dissolve_in": item.dissolve_in,
        "fade_in": item.fade_in,
        "fade_out": item.fade_out,
    }


def _headline(notes: str) -> str:
    first = notes.splitlines()[0].strip()
    return first if len(first) <= MARKER_NAME_LENGTH else first[: MARKER_NAME_LENGTH - 3].rstrip() + "..."


def _transition(in_offset: int, out_offset: int, rate: float, kind: str) -> otio.schema.Transition:
    return otio.schema.Transition(
        name=TRANSITION_NAME,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=RationalTime(in_offset, rate),
        out_offset=RationalTime(out_offset, rate),
        metadata={NAMESPACE: {"transition": kind}},
    )


def _black(rate: float, start: int) -> otio.schema.Gap:
    # Zero frames long: a fade happens inside its shot's own frames. The EDL writer
    # moves a gap's start back by the fade into it, so that fade's length keeps the
    # black source timecode from going negative.
    return otio.schema.Gap(source_range=TimeRange(RationalTime(start, rate), RationalTime(0, rate)))


def _black_clip(rate: float) -> otio.schema.Clip:
    return otio.schema.Clip(
        media_reference=otio.schema.GeneratorReference(generator_kind="black"),
        source_range=TimeRange(RationalTime(0, rate), RationalTime(0, rate)),
        metadata={"cmx_3600": {"reel": "BL"}},
    )


def _relative_url(path: Path, base: Path | None) -> str:
    if base is None:
        return path.as_uri() if path.is_absolute() else quote(path.as_posix())
    absolute, folder = path.resolve(), Path(base).resolve()
    if absolute.is_relative_to(folder):
        return quote(absolute.relative_to(folder).as_posix())
    return absolute.as_uri()  # not beside the timeline: found where it is on this machine


def _file_url(path: Path) -> str:
    return "file://localhost" + path.resolve().as_uri().removeprefix("file://")


def _name(timeline: Timeline, path: Path, name: str | None) -> str:
    return name or timeline.project.title or path.stem
