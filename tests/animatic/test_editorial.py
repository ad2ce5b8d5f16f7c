"""Editorial timelines: each file is read back with OpenTimelineIO's own adapters (and
the EDL's event lines parsed as text) and checked against the shots it was made from.

The adapters never open the media, so the shot files need not exist.
"""

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, to_timecode

from previz_app.animatic.editorial import build_otio, write_edl, write_fcp_xml, write_otio
from previz_app.animatic.timeline import ShotMedia, Timeline, build_timeline, place_shots
from previz_app.domain.model import Project, Scene, Shot
from previz_app.domain.timecode import format_timecode
from previz_app.domain.vocabulary import Angle, Movement, ShotSize, TransitionIn, TransitionOut
from previz_app.store import operations, shots

HANDLE = 5  # frames each shot file holds beyond what the cut needs
NOTES = "Hold on the lamp until the kettle boils.\nThen the door opens."
LONG_NOTE = "The whole crew waits for the fog machine to settle before the slow push in starts"

CUTS = [
    dict(
        duration=1.1, notes=NOTES, dialogue="You came back.", size=ShotSize.cu, angle=Angle.low, movement=Movement.dolly_in
    ),
    dict(duration=2.0),
    dict(duration=0.7, notes=LONG_NOTE),
]

# A fade in at the top, a dissolve, a fade out and in mid-sequence, a fade out that
# meets a dissolve (the dissolve wins), and a fade out at the end.
TRANSITIONS = [
    dict(duration=2.0, transition_in=TransitionIn.fade_from_black, notes=NOTES),
    dict(duration=1.5, transition_in=TransitionIn.dissolve, transition_seconds=0.625),  # 15 frames: uneven halves
    dict(duration=2.0, transition_out=TransitionOut.fade_to_black),
    dict(duration=1.0, transition_in=TransitionIn.fade_from_black),
    dict(duration=1.0, transition_out=TransitionOut.fade_to_black),
    dict(
        duration=2.0, transition_in=TransitionIn.dissolve, transition_seconds=0.5, transition_out=TransitionOut.fade_to_black
    ),
]

RATES = [23.976, 24.0, 25.0, 29.97]


def make_timeline(specs, fps=24.0) -> Timeline:
    project = Project(title="Two Rooms", fps=fps)
    scene = Scene("4", "INT. KITCHEN - NIGHT", id=7)
    listed = [
        Shot(scene_id=7, position=i, number=f"4{chr(65 + i)}", id=100 + i, **spec) for i, spec in enumerate(specs)
    ]
    return Timeline(project, tuple(place_shots(project, [(shot, scene) for shot in listed])))


def shot_media(timeline: Timeline, folder: Path) -> list[ShotMedia]:
    return [
        ShotMedia(item.shot.id, folder / f"shot {item.number}.mov", item.head + HANDLE, item.frames, item.tail + HANDLE)
        for item in timeline.shots
    ]


def clips(read: otio.schema.Timeline) -> list[otio.schema.Clip]:
    return [clip for clip in read.find_clips() if isinstance(clip.media_reference, otio.schema.ExternalReference)]


def edits(read: otio.schema.Timeline) -> list[tuple]:
    """The track as (kind, name or offsets), leaving out gaps and black."""
    found = []
    for item in read.tracks[0]:
        if isinstance(item, otio.schema.Transition):
            found.append(("dissolve", int(item.in_offset.value), int(item.out_offset.value)))
        elif isinstance(item, otio.schema.Clip) and isinstance(item.media_reference, otio.schema.ExternalReference):
            found.append(("clip", item.name))
    return found


def event_lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line[:1].isdigit()]


def frames(timecode: str, fps: float) -> int:
    hours, minutes, seconds, frame = (int(part) for part in timecode.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * round(fps) + frame


@pytest.mark.parametrize("fps", RATES)
def test_otio_keeps_every_shot_frame_exact(tmp_path, fps):
    timeline = make_timeline(CUTS, fps)
    media = shot_media(timeline, tmp_path)
    write_otio(timeline, media, tmp_path / "cut.otio")

    read = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    rate = float(Fraction(timeline.fps))
    assert read.name == "Two Rooms"
    assert read.global_start_time == RationalTime(timeline.start_frame, rate)
    assert to_timecode(read.global_start_time, rate, False) == "01:00:00:00"
    found = clips(read)
    assert [clip.name for clip in found] == ["4A", "4B", "4C"]
    for clip, item in zip(found, timeline.shots):
        assert clip.source_range.start_time == RationalTime(HANDLE, rate)
        assert clip.source_range.duration == RationalTime(item.frames, rate)
        assert clip.range_in_parent().start_time.value == item.start
        assert clip.media_reference.target_url == f"shot%20{item.number}.mov"  # beside the timeline: relative
        assert clip.media_reference.available_range.duration.value == item.frames + 2 * HANDLE
    assert read.duration().value == timeline.total_frames
    assert read.duration().rate == rate


def test_otio_carries_notes_as_markers_and_the_script_as_metadata(tmp_path):
    timeline = make_timeline(CUTS)
    write_otio(timeline, shot_media(timeline, tmp_path), tmp_path / "cut.otio")

    first, second, third = clips(otio.adapters.read_from_file(str(tmp_path / "cut.otio")))
    (marker,) = first.markers
    assert marker.name == "Hold on the lamp until the kettle boils."
    assert marker.metadata["previz"]["notes"] == NOTES
    assert marker.marked_range.start_time.value == first.source_range.start_time.value  # the shot's first frame
    assert marker.marked_range.duration.value == 1
    assert list(second.markers) == []
    (long_marker,) = third.markers
    assert len(long_marker.name) <= 60 and long_marker.name.endswith("...")
    assert LONG_NOTE.startswith(long_marker.name[:-3])

    context = first.metadata["previz"]
    assert (context["scene_number"], context["scene_heading"]) == ("4", "INT. KITCHEN - NIGHT")
    assert (context["size"], context["angle"], context["movement"]) == ("CU", "low", "dolly_in")
    assert context["dialogue"] == "You came back."
    assert context["notes"] == NOTES
    assert context["shot_id"] == 100


@pytest.mark.parametrize("suffix", ["otio", "xml"])
def test_dissolves_and_fades_become_transitions(tmp_path, suffix):
    timeline = make_timeline(TRANSITIONS)
    a, b, c, d, e, f = timeline.shots
    assert (b.dissolve_in, f.dissolve_in) == (15, 12)  # what the expectations below rest on
    # timeline.py drops 4E's fade out for the dissolve into 4F; the cut drops it too
    # when a timeline keeps it.
    e = replace(e, fade_out=24)
    timeline = replace(timeline, shots=(a, b, c, d, e, f))
    path = tmp_path / f"cut.{suffix}"
    (write_otio if suffix == "otio" else write_fcp_xml)(timeline, shot_media(timeline, tmp_path), path)

    read = otio.adapters.read_from_file(str(path))
    assert edits(read) == [
        ("dissolve", 0, a.fade_in),  # from black
        ("clip", "4A"),
        ("dissolve", 7, 8),  # centred on the cut: 7 frames from 4B's head, 8 from 4A's tail
        ("clip", "4B"),
        ("clip", "4C"),
        ("dissolve", c.fade_out, 0),  # to black
        ("dissolve", 0, d.fade_in),  # from black
        ("clip", "4D"),
        ("clip", "4E"),  # its fade out gives way to the dissolve into 4F
        ("dissolve", 6, 6),
        ("clip", "4F"),
        ("dissolve", f.fade_out, 0),
    ]
    for clip, item in zip(clips(read), timeline.shots):
        assert clip.source_range.duration.value == item.frames
        assert clip.source_range.start_time.value == item.head + HANDLE
        assert clip.range_in_parent().start_time.value == item.start
    if suffix == "otio":
        kinds = [t.metadata["previz"]["transition"] for t in read.tracks[0] if isinstance(t, otio.schema.Transition)]
        assert kinds == ["fade_from_black", "dissolve", "fade_to_black", "fade_from_black", "dissolve", "fade_to_black"]
        assert clips(read)[4].metadata["previz"]["fade_out"] == 24  # kept where the track cannot show it


@pytest.mark.parametrize("fps", RATES)
def test_fcp_xml_round_trips_at_the_exact_rate_with_absolute_paths(tmp_path, fps):
    timeline = make_timeline(CUTS, fps)
    write_fcp_xml(timeline, shot_media(timeline, tmp_path), tmp_path / "cut.xml", name="Reel 1")

    read = otio.adapters.read_from_file(str(tmp_path / "cut.xml"))
    rate = float(Fraction(timeline.fps))
    assert read.name == "Reel 1"
    assert read.global_start_time == RationalTime(timeline.start_frame, rate)
    found = clips(read)
    assert [clip.name for clip in found] == ["4A", "4B", "4C"]
    for clip, item in zip(found, timeline.shots):
        assert clip.source_range == otio.opentime.TimeRange(RationalTime(HANDLE, rate), RationalTime(item.frames, rate))
        absolute = (tmp_path / f"shot {item.number}.mov").resolve().as_uri()
        expected = "file://localhost" + absolute.removeprefix("file://")
        assert clip.media_reference.target_url == expected
        assert "%20" in expected
    assert [m.name for m in found[0].markers] == ["Hold on the lamp until the kettle boils."]
    assert found[0].markers[0].marked_range.start_time.value == HANDLE

    sequence = ElementTree.parse(tmp_path / "cut.xml").getroot().find("./project/children/sequence")
    assert sequence.findtext("./rate/timebase") == str(round(fps))
    assert sequence.findtext("./rate/ntsc") == ("TRUE" if fps in (23.976, 29.97) else "FALSE")
    assert sequence.findtext("./timecode/string") == "01:00:00:00"
    assert sequence.findtext("./timecode/displayformat") == "NDF"


@pytest.mark.parametrize("fps", RATES)
def test_edl_is_non_drop_frame_from_the_start_timecode(tmp_path, fps):
    timeline = make_timeline(CUTS, fps)
    write_edl(timeline, shot_media(timeline, tmp_path), tmp_path / "cut.edl")

    text = (tmp_path / "cut.edl").read_text()
    assert text.startswith("TITLE: Two Rooms\nFCM: NON-DROP FRAME\n")
    assert ";" not in text  # no drop-frame timecode, 29.97 included
    events = event_lines(text)
    assert [event[1] for event in events] == ["4A", "4B", "4C"]  # reels: the shot numbers
    assert events[0][6] == "01:00:00:00"
    assert events[-1][7] == format_timecode(timeline.start_frame + timeline.total_frames, fps)
    assert "* FROM CLIP NAME:  4B" in text
    assert "* FROM CLIP: shot%204B.mov" in text

    # EDLs carry no rate; OpenTimelineIO reads them at the exact one.
    read = otio.adapters.read_from_file(str(tmp_path / "cut.edl"), rate=float(Fraction(timeline.fps)))
    found = clips(read)
    assert [clip.name for clip in found] == ["4A", "4B", "4C"]
    for clip, item in zip(found, timeline.shots):
        assert clip.source_range.start_time.value == HANDLE
        assert clip.source_range.duration.value == item.frames
        assert clip.range_in_parent().start_time.value == item.start
    # Locators sit at record timecode, in capitals (the adapter's way).
    assert [(m.name, m.marked_range.start_time.value) for m in found[0].markers] == [
        ("HOLD ON THE LAMP UNTIL THE KETTLE BOILS.", timeline.start_frame)
    ]
    assert list(found[1].markers) == []
    assert found[2].markers[0].marked_range.start_time.value == timeline.start_frame + timeline.shots[2].start


def test_edl_writes_dissolves_and_fades_as_cmx_events(tmp_path):
    timeline = make_timeline(TRANSITIONS)
    b, f = timeline.shots[1], timeline.shots[5]
    write_edl(timeline, shot_media(timeline, tmp_path), tmp_path / "cut.edl")

    text = (tmp_path / "cut.edl").read_text()
    events = event_lines(text)
    dissolves = [(event[1], int(event[4])) for event in events if event[3] == "D"]
    assert dissolves == [("4A", 24), ("4B", 15), ("BL", 24), ("4D", 24), ("4F", 12), ("BL", f.fade_out)]
    # Record timecode runs without a hole or an overlap from the start timecode on.
    position = timeline.start_frame
    for event in events:
        record_in, record_out = frames(event[-2], 24), frames(event[-1], 24)
        assert record_in == position
        position = record_out
    assert position == timeline.start_frame + timeline.total_frames
    # The dissolve into 4B starts half its length before the cut, from 4B's head.
    (into_b,) = [event for event in events if event[1] == "4B" and event[3] == "D"]
    assert frames(into_b[-2], 24) == timeline.start_frame + b.start - b.head
    assert frames(into_b[5], 24) == HANDLE

    read = otio.adapters.read_from_file(str(tmp_path / "cut.edl"), rate=24)
    transitions = [t for t in read.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert [int(t.out_offset.value) for t in transitions] == [24, 15, 24, 24, 12, f.fade_out]
    assert read.tracks[0].duration().value == timeline.total_frames


@pytest.mark.parametrize("write", [write_otio, write_edl, write_fcp_xml])
def test_missing_media_is_refused_by_shot_number_and_leaves_the_old_file(tmp_path, write):
    timeline = make_timeline(CUTS)
    media = shot_media(timeline, tmp_path)
    path = tmp_path / "cut.out"
    path.write_text("previous export")

    with pytest.raises(ValueError, match="shot 4B has no media file"):
        write(timeline, [media[0], media[2]], path)
    short = ShotMedia(media[2].shot_id, media[2].path, HANDLE, media[2].frames - 1, HANDLE)
    with pytest.raises(ValueError, match=r"shot 4C \(shot 4C.mov\) holds 16 frames"):
        write(timeline, [media[0], media[1], short], path)

    assert path.read_text() == "previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.out"]  # no temporary file left


def test_media_without_the_handles_a_dissolve_needs_is_refused(tmp_path):
    timeline = make_timeline(TRANSITIONS)
    media = shot_media(timeline, tmp_path)
    media[1] = ShotMedia(media[1].shot_id, media[1].path, 0, media[1].frames, 0)
    with pytest.raises(ValueError, match="shot 4B .* lacks the handles"):
        build_otio(timeline, media, "cut")


def test_media_elsewhere_is_referenced_by_absolute_url(tmp_path):
    timeline = make_timeline(CUTS)
    elsewhere = tmp_path / "renders"
    cut = build_otio(timeline, shot_media(timeline, elsewhere), "cut", relative_to=tmp_path / "timelines")
    assert clips(cut)[0].media_reference.target_url == (elsewhere / "shot 4A.mov").as_uri()
    cut = build_otio(timeline, shot_media(timeline, elsewhere), "cut", relative_to=tmp_path)
    assert clips(cut)[0].media_reference.target_url == "renders/shot%204A.mov"


def test_a_project_timeline_exports_to_all_three(drafted, tmp_path):
    first = shots.list_shots(drafted.db)[0]
    operations.perform(drafted.db, operations.EditShot(first.id, "notes", "Tea steam in the lamp light"))
    timeline = build_timeline(drafted.db)
    media = shot_media(timeline, tmp_path)
    numbers = [item.number for item in timeline.shots]

    write_otio(timeline, media, tmp_path / "film.otio")
    write_edl(timeline, media, tmp_path / "film.edl")
    write_fcp_xml(timeline, media, tmp_path / "film.xml")

    for path, options in (("film.otio", {}), ("film.edl", {"rate": 24}), ("film.xml", {})):
        read = otio.adapters.read_from_file(str(tmp_path / path), **options)
        assert [clip.name for clip in clips(read)] == numbers
        assert [clip.source_range.duration.value for clip in clips(read)] == [item.frames for item in timeline.shots]
        assert clips(read)[0].markers[0].name.upper() == "TEA STEAM IN THE LAMP LIGHT"
    read = otio.adapters.read_from_file(str(tmp_path / "film.otio"))
    assert clips(read)[-1].metadata["previz"]["scene_heading"] == timeline.shots[-1].scene.heading


def dissolve_events(text: str) -> list[tuple[str, str, int]]:
    """Each EDL dissolve as (from reel, to reel, frames): the from reel is the cut
    line of the same event, just before the dissolve's line."""
    events = event_lines(text)
    return [
        (previous[1], event[1], int(event[4]))
        for previous, event in zip(events, events[1:])
        if event[3] == "D" and previous[0] == event[0]
    ]


def assert_record_runs_on(events: list[list[str]], timeline: Timeline, fps: float) -> None:
    position = timeline.start_frame
    for event in events:
        record_in, record_out = frames(event[-2], fps), frames(event[-1], fps)
        assert record_in == position, event
        position = record_out
    assert position == timeline.start_frame + timeline.total_frames


@pytest.mark.parametrize("fps", RATES)
def test_edl_fade_from_black_after_a_cut_dissolves_from_black(tmp_path, fps):
    specs = [dict(duration=2.0), dict(duration=2.0, transition_in=TransitionIn.fade_from_black), dict(duration=2.0)]
    timeline = make_timeline(specs, fps)
    a, b, c = timeline.shots
    write_edl(timeline, shot_media(timeline, tmp_path), tmp_path / "cut.edl")

    text = (tmp_path / "cut.edl").read_text()
    assert dissolve_events(text) == [("BL", "4B", b.fade_in)]  # not a dissolve from 4A, whose file has no tail
    events = event_lines(text)
    assert_record_runs_on(events, timeline, fps)
    (into_b,) = [event for event in events if event[1] == "4B"]
    assert frames(into_b[-2], fps) == timeline.start_frame + b.start  # the fade starts on the cut
    assert frames(into_b[5], fps) == HANDLE

    read = otio.adapters.read_from_file(str(tmp_path / "cut.edl"), rate=float(Fraction(timeline.fps)))
    track = read.tracks[0]
    (fade,) = [item for item in track if isinstance(item, otio.schema.Transition)]
    before = track[track.index(fade) - 1]
    assert isinstance(before.media_reference, otio.schema.GeneratorReference)  # black, not 4A
    assert before.source_range.duration.value == 0
    black = otio.schema.GeneratorReference
    shown = [clip for clip in track.find_clips() if not isinstance(clip.media_reference, black)]
    assert [(clip.name, clip.source_range.start_time.value, clip.source_range.duration.value) for clip in shown] == [
        (item.number, HANDLE, item.frames) for item in (a, b, c)
    ]
    assert track.duration().value == timeline.total_frames


@pytest.mark.parametrize("fps", RATES)
def test_edl_fade_to_black_before_a_cut_dissolves_to_black(tmp_path, fps):
    specs = [dict(duration=2.0), dict(duration=2.0, transition_out=TransitionOut.fade_to_black), dict(duration=2.0)]
    timeline = make_timeline(specs, fps)
    a, b, c = timeline.shots
    write_edl(timeline, shot_media(timeline, tmp_path), tmp_path / "cut.edl")

    text = (tmp_path / "cut.edl").read_text()
    assert dissolve_events(text) == [("4B", "BL", b.fade_out)]
    events = event_lines(text)
    assert_record_runs_on(events, timeline, fps)
    (to_black,) = [event for event in events if event[1] == "BL"]
    assert frames(to_black[-2], fps) == timeline.start_frame + b.end - b.fade_out
    (into_c,) = [event for event in events if event[1] == "4C"]
    assert into_c[3] == "C" and frames(into_c[-2], fps) == timeline.start_frame + c.start  # a plain cut out of black

    read = otio.adapters.read_from_file(str(tmp_path / "cut.edl"), rate=float(Fraction(timeline.fps)))
    track = read.tracks[0]
    (fade,) = [item for item in track if isinstance(item, otio.schema.Transition)]
    shot, black = track[track.index(fade) - 1], track[track.index(fade) + 1]
    assert (shot.source_range.start_time.value, shot.source_range.duration.value) == (HANDLE, b.frames - b.fade_out)
    assert isinstance(black.media_reference, otio.schema.GeneratorReference)  # into black, the fade in 4B's last frames
    assert (black.source_range.duration.value, fade.out_offset.value) == (b.fade_out, b.fade_out)
    assert [clip.name for clip in clips(read)] == ["4A", "4B", "4C"]
    assert track.duration().value == timeline.total_frames


# Shots too short for their fades beside a dissolve, or for a fade in and out: the
# editorial fades shrink so that no two transitions overlap on a clip.
SHORT = 2 / 24  # two frames at 24 fps
CROWDED = {
    "fade in, then a dissolve out": (
        [
            dict(duration=SHORT, transition_in=TransitionIn.fade_from_black),
            dict(duration=2.0, transition_in=TransitionIn.dissolve),
        ],
        [("dissolve", 0, 1), ("clip", "4A"), ("dissolve", 1, 1), ("clip", "4B")],
    ),
    "fade in after a cut, then a dissolve out": (
        [
            dict(duration=2.0),
            dict(duration=SHORT, transition_in=TransitionIn.fade_from_black),
            dict(duration=2.0, transition_in=TransitionIn.dissolve),
        ],
        [("clip", "4A"), ("dissolve", 0, 1), ("clip", "4B"), ("dissolve", 1, 1), ("clip", "4C")],
    ),
    "a dissolve in, then a fade out": (
        [
            dict(duration=2.0),
            dict(duration=SHORT, transition_in=TransitionIn.dissolve, transition_out=TransitionOut.fade_to_black),
        ],
        [("clip", "4A"), ("dissolve", 1, 1), ("clip", "4B"), ("dissolve", 1, 0)],
    ),
    "fade in and out, sharing the shot": (
        [
            dict(duration=2.0),
            dict(
                duration=1.0,
                transition_in=TransitionIn.fade_from_black,
                transition_out=TransitionOut.fade_to_black,
                transition_seconds=1.0,
            ),
            dict(duration=2.0),
        ],
        [("clip", "4A"), ("dissolve", 0, 12), ("clip", "4B"), ("dissolve", 12, 0), ("clip", "4C")],
    ),
}


@pytest.mark.parametrize("case", list(CROWDED))
def test_fades_give_way_so_no_transitions_overlap(tmp_path, case):
    specs, expected = CROWDED[case]
    timeline = make_timeline(specs)
    media = shot_media(timeline, tmp_path)
    for suffix, write in (("otio", write_otio), ("xml", write_fcp_xml)):
        write(timeline, media, tmp_path / f"cut.{suffix}")
        read = otio.adapters.read_from_file(str(tmp_path / f"cut.{suffix}"))
        assert edits(read) == expected, suffix
        assert read.duration().value == timeline.total_frames
    read = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    placed = [clip.metadata["previz"] for clip in clips(read)]
    assert [(p["fade_in"], p["fade_out"]) for p in placed] == [(item.fade_in, item.fade_out) for item in timeline.shots]

    write_edl(timeline, media, tmp_path / "cut.edl")
    events = event_lines((tmp_path / "cut.edl").read_text())
    assert_record_runs_on(events, timeline, 24)
    for event in events:
        if event[3] == "D":  # a dissolve fits in its event
            assert int(event[4]) <= frames(event[-1], 24) - frames(event[-2], 24), event
