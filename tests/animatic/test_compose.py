"""FrameComposer: shots from their sources, dissolves, fades, burn-ins, missing media."""

from dataclasses import replace

import numpy as np
import pytest

from previz_app.animatic.captions import caption_overlay, info_overlay
from previz_app.animatic.compose import KEEP_SOURCES, ComposeOptions, FrameComposer, MissingMediaError
from previz_app.animatic.picture import Picture, PlanarStill
from previz_app.animatic.sources import StillMoves
from previz_app.animatic.timeline import Timeline, build_timeline, place_shots
from previz_app.engine.blocking.panel import render_panel
from previz_app.engine.frames import frame_request, shot_context
from previz_app.engine.request import decode_image
from previz_app.store import operations, shots
from tests.animatic.heroes import give_heroes

SIZE = (320, 136)


def edit(folder, shot, **fields):
    for name, value in fields.items():
        operations.perform(folder.db, operations.EditShot(shot.id, name, value))


@pytest.fixture
def film(drafted):
    give_heroes(drafted)
    return drafted


def composer(folder, **options):
    return FrameComposer(build_timeline(folder.db), folder.media, ComposeOptions(SIZE, **options))


def weight_of_second(mixed: Picture, first: Picture, second: Picture) -> float:
    """The w for which mixed = (1 - w) first + w second fits best (least squares, luma)."""
    a, b, m = (picture.y.astype(np.float64) for picture in (first, second, mixed))
    return float(((m - a) * (b - a)).sum() / ((b - a) ** 2).sum())


def test_a_dissolve_blends_the_outgoing_tail_with_the_incoming_head(film):
    first, second = shots.list_shots(film.db)[:2]
    edit(film, second, transition_in="dissolve", transition_seconds=0.5)  # 12 frames, 6 each side
    frames = composer(film)
    a, b = frames.timeline.shots[:2]
    assert (b.dissolve_in, b.head, a.tail) == (12, 6, 6)
    cut = b.start
    assert frames.clean_frames(cut) == [(0, a.frames), (1, 0)]  # the outgoing shot runs on past its end
    mixed = frames.picture(cut)
    outgoing, incoming = frames.raw(0, a.frames), frames.raw(1, 0)
    assert np.abs(outgoing.y.astype(int) - incoming.y.astype(int)).mean() > 5  # two different pictures
    assert weight_of_second(mixed, outgoing, incoming) == pytest.approx(7 / 13, abs=0.02)
    # It climbs through the window and is the plain shot on either side of it.
    start = cut - b.head
    weights = [weight_of_second(frames.picture(f), frames.raw(0, f - a.start), frames.raw(1, f - b.start)) for f in range(start, start + 12)]
    assert weights == sorted(weights) and weights[0] < 0.12 and weights[-1] > 0.88
    assert frames.clean_frames(start - 1) == [(0, start - 1 - a.start)]
    assert frames.picture(start + 12) is frames.raw(1, 12 - b.head)


def test_fades_start_and_end_on_black(film):
    listed = shots.list_shots(film.db)
    edit(film, listed[0], transition_in="fade_from_black", transition_seconds=0.5)
    edit(film, listed[-1], transition_out="fade_to_black", transition_seconds=0.5)
    frames = composer(film)
    last = frames.timeline.total_frames - 1
    for frame in (0, last):
        picture = frames.picture(frame)
        assert picture.y.max() <= 17 and np.abs(picture.u.astype(int) - 128).max() <= 1
    clean = frames.raw(len(frames.timeline.shots) - 1, frames.timeline.shots[-1].frames - 7)
    halfway = frames.picture(last - 6)
    assert 0.3 < (halfway.y.mean() - 16) / (clean.y.mean() - 16) < 0.7
    assert frames.picture(12) is frames.raw(0, 12)  # past the fade: the shot itself


def test_a_missing_hero_file_is_named_before_any_frame(film):
    timeline = build_timeline(film.db)
    item = timeline.shots[2]
    path = film.media.path(item.hero.media_hash)
    path.unlink()
    with pytest.raises(MissingMediaError, match=f"shot {item.number}: .*{path.name}.* missing"):
        FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="still"))


def test_an_unreadable_hero_file_says_it_cannot_be_read(film):
    timeline = build_timeline(film.db)
    item = timeline.shots[1]
    film.media.path(item.hero.media_hash).write_bytes(b"not a picture")
    frames = FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="still"))
    frames.picture(0)  # other shots draw
    with pytest.raises(MissingMediaError, match=f"shot {item.number}: .* cannot be read"):
        frames.picture(item.start)


def test_without_the_media_check_a_missing_or_broken_hero_fails_only_its_own_shot(film):
    timeline = build_timeline(film.db)
    first, missing, broken, last = timeline.shots
    intact = FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="still"))
    expected = {frame: intact.picture(frame).y for frame in (first.start, last.start, last.end - 1)}
    path = film.media.path(missing.hero.media_hash)
    path.unlink()
    film.media.path(broken.hero.media_hash).write_bytes(b"not a picture")
    with pytest.raises(MissingMediaError, match=f"shot {missing.number}:"):
        FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="still"))  # an export checks up front
    frames = FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="still"), check_media=False)
    for frame, luma in expected.items():  # the other shots play as before
        assert np.array_equal(frames.picture(frame).y, luma)
    for frame in (missing.start, missing.end - 1):  # every time, not only the first
        with pytest.raises(MissingMediaError, match=f"shot {missing.number}: .*{path.name}.* missing"):
            frames.picture(frame)
    with pytest.raises(MissingMediaError, match=f"shot {broken.number}: .* cannot be read"):
        frames.picture(broken.start)
    assert np.array_equal(frames.picture(last.start).y, expected[last.start])
    # Redrawn from its recipe, a shot whose hero file is gone still says so when drawn.
    assert missing.natively_animated
    redrawn = FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="auto"), check_media=False)
    assert redrawn.picture(first.start).size == SIZE
    with pytest.raises(MissingMediaError, match=f"shot {missing.number}: .*{path.name}.* missing"):
        redrawn.picture(missing.start)


def test_auto_motion_redraws_a_blocking_hero_and_still_motion_moves_over_it(film):
    shot = shots.list_shots(film.db)[0]
    edit(film, shot, movement="dolly_in")
    timeline = build_timeline(film.db)
    item = timeline.shots[0]
    assert item.natively_animated
    native = FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="auto"))
    request = item.hero_request
    assert request.staging.movement == "static"  # drawn before the move was chosen: the move plays all the same
    staging = replace(request.staging, movement="dolly_in", time=5 / (item.frames - 1))
    expected = Picture.from_rgb(render_panel(staging, *SIZE, request.seed).image)
    assert np.array_equal(native.picture(5).y, expected.y)
    assert not np.array_equal(native.picture(5).y, native.picture(6).y)

    moved = FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion="still"))
    hero = decode_image(film.media.read(item.hero.media_hash))
    over_still = StillMoves(PlanarStill(hero), "dolly_in", "", shot.seed or shot.id, item.frames, SIZE)
    assert np.array_equal(moved.picture(20).y, over_still.picture(20).y)
    assert not np.array_equal(moved.picture(20).y, native.picture(20).y)
    # A missing hero is a damaged project, even where the shot is redrawn without it.
    film.media.path(item.hero.media_hash).unlink()
    for motion in ("auto", "still"):
        with pytest.raises(MissingMediaError, match="shot 1:"):
            FrameComposer(timeline, film.media, ComposeOptions(SIZE, motion=motion))


def test_shots_without_heroes_are_drawn_by_the_blocking_engine(drafted):
    frames = composer(drafted, motion="still")
    item = frames.timeline.shots[0]
    assert item.hero is None
    request = frame_request(shot_context(drafted, item.shot.id))
    expected = Picture.from_rgb(render_panel(request.staging, *SIZE, request.seed).image)
    assert np.array_equal(frames.picture(0).y, expected.y)


def test_given_sources_replace_a_shot(film):
    class Grey:
        def picture(self, index):
            return Picture(np.full((136, 320), 100 + index, np.uint8), np.full((68, 160), 128, np.uint8), np.full((68, 160), 128, np.uint8))

    timeline = build_timeline(film.db)
    frames = FrameComposer(timeline, film.media, ComposeOptions(SIZE), sources={1: Grey()})
    start = timeline.shots[1].start
    assert frames.picture(start + 3).y[0, 0] == 103
    assert frames.picture(0).y.std() > 5  # the others are their own


def test_only_a_few_shots_stay_loaded(film):
    timeline = build_timeline(film.db)
    items = [(item.shot, item.scene) for item in timeline.shots] * 3
    long = Timeline(timeline.project, tuple(place_shots(timeline.project, items, {item.hero.id: item.hero for item in timeline.shots})))
    frames = FrameComposer(long, film.media, ComposeOptions(SIZE, motion="still"))
    for frame in range(0, long.total_frames, 6):
        frames.picture(frame)
        assert len(frames._kept) <= KEEP_SOURCES


def changed_box(a: np.ndarray, b: np.ndarray):
    rows, cols = np.nonzero(a != b)
    return rows.min(), rows.max(), cols.min(), cols.max()


def test_burn_ins_touch_only_their_boxes(film):
    timeline = build_timeline(film.db)
    plain, burnt = composer(film), composer(film, burn_captions=True, burn_info=True)
    talking = timeline.shots[1]  # "ELLA: You came back."
    frame = talking.start + 4
    clean, marked = plain.picture(frame), burnt.picture(frame)
    caption, (cx, cy) = caption_overlay("ELLA: You came back.", SIZE)
    info, (ix, iy) = info_overlay(talking.number, timeline.timecode(frame), SIZE)
    top, bottom, left, right = changed_box(clean.y, marked.y)
    assert top >= iy - 1 and left >= min(ix, cx) - 1 and bottom <= cy + caption.height and right <= max(ix + info.width, cx + caption.width)
    assert (marked.y[cy : cy + caption.height, cx : cx + caption.width] != clean.y[cy : cy + caption.height, cx : cx + caption.width]).mean() > 0.3
    assert (marked.y[iy : iy + info.height, ix : ix + info.width] != clean.y[iy : iy + info.height, ix : ix + info.width]).mean() > 0.3
    # The timecode runs: the next frame differs from this one only inside the info box.
    top, bottom, left, right = changed_box(marked.y, burnt.picture(frame + 1).y)
    assert top >= iy and bottom < iy + info.height and right < ix + info.width
    # A shot without dialogue has no caption, and the source's own frame is left alone.
    assert np.array_equal(plain.picture(frame).y, clean.y)
    quiet = burnt.picture(timeline.shots[0].start + 4)
    assert np.array_equal(quiet.y[cy:, :], plain.picture(timeline.shots[0].start + 4).y[cy:, :])


def test_frames_outside_the_animatic_are_refused(film):
    frames = composer(film)
    assert frames.image(0).size == SIZE and frames.image(0).mode == "RGB"
    with pytest.raises(ValueError, match="outside the animatic"):
        frames.picture(frames.timeline.total_frames)
    with pytest.raises(ValueError, match="unknown motion"):
        ComposeOptions(SIZE, motion="wobbly")
