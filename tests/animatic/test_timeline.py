"""The timeline: frame-exact shot placement, transitions and timecode."""

from fractions import Fraction

import pytest

from previz_app.animatic.timeline import build_timeline
from previz_app.domain.timecode import format_timecode, frame_boundaries, timecode_frames
from previz_app.store import operations, settings, shots


def test_boundaries_round_the_running_total_not_each_shot():
    # 1.02 s at 24 fps is 24.48 frames: rounding each shot would lose 0.48 x 3 frames.
    bounds = frame_boundaries([1.02, 1.02, 1.02], 24)
    assert bounds == [0, 24, 49, 73]
    assert bounds[-1] == round(3 * 1.02 * 24)


def test_boundaries_use_the_exact_ntsc_rate():
    # 10 s at 29.97 (30000/1001) is 299.7 frames.
    assert frame_boundaries([10.0], 29.97)[-1] == 300
    assert frame_boundaries([100.0], 23.976)[-1] == round(Fraction(100) * Fraction(24000, 1001))  # 2398


def test_timecode_round_trips_at_the_nominal_rate():
    assert timecode_frames("01:00:00:00", 24) == 86400
    assert timecode_frames("01:00:00:00", 29.97) == 108000
    assert format_timecode(86400 + 25, 24) == "01:00:01:01"
    with pytest.raises(ValueError, match="out of range"):
        timecode_frames("00:00:00:24", 24)
    with pytest.raises(ValueError, match="HH:MM:SS:FF"):
        timecode_frames("1 hour", 24)


def test_timeline_places_every_shot_in_scene_order(drafted):
    listed = shots.list_shots(drafted.db)
    timeline = build_timeline(drafted.db)
    assert [item.shot.id for item in timeline.shots] == [shot.id for shot in listed]
    assert timeline.total_frames == round(sum(shot.duration for shot in listed) * 24)
    for before, after in zip(timeline.shots, timeline.shots[1:]):
        assert before.end == after.start
    assert timeline.timecode(0) == "01:00:00:00"
    assert timeline.index_at(timeline.shots[1].start) == 1


def test_one_scene_and_an_unknown_scene(drafted):
    timeline = build_timeline(drafted.db, scene_number="2")
    assert {item.scene.number for item in timeline.shots} == {"2"}
    with pytest.raises(ValueError, match="no scene numbered"):
        build_timeline(drafted.db, scene_number="99")


def test_transitions_resolve_to_frames(drafted):
    first, second = shots.list_shots(drafted.db)[:2]
    for shot_id, field, value in (
        (first.id, "transition_in", "dissolve"),  # nothing before it: a fade from black
        (second.id, "transition_in", "dissolve"),
        (second.id, "transition_seconds", 0.5),
        (second.id, "transition_out", "fade_to_black"),
    ):
        operations.perform(drafted.db, operations.EditShot(shot_id, field, value))
    settings.update_project(drafted.db, start_timecode="00:59:50:00")
    a, b = build_timeline(drafted.db).shots[:2]
    assert (a.fade_in, a.dissolve_in, a.tail) == (24, 0, 6)
    assert (b.dissolve_in, b.head, b.fade_out) == (12, 6, 12)
    assert build_timeline(drafted.db).timecode(0) == "00:59:50:00"


def test_a_dissolve_wins_over_the_fade_out_before_it(drafted):
    first, second = shots.list_shots(drafted.db)[:2]
    operations.perform(drafted.db, operations.EditShot(first.id, "transition_out", "fade_to_black"))
    assert build_timeline(drafted.db).shots[0].fade_out == 24
    operations.perform(drafted.db, operations.EditShot(second.id, "transition_in", "dissolve"))
    a, b = build_timeline(drafted.db).shots[:2]
    assert (a.fade_out, a.tail, b.dissolve_in) == (0, 12, 24)


def test_bad_transition_values_are_refused(drafted):
    shot = shots.list_shots(drafted.db)[0]
    with pytest.raises(ValueError, match="transition in"):
        operations.EditShot(shot.id, "transition_in", "wipe")
    with pytest.raises(ValueError, match="level must be between"):
        operations.EditShot(shot.id, "audio_level_db", 40)
    with pytest.raises(ValueError, match="timecode"):
        settings.update_project(drafted.db, start_timecode="25:00")
