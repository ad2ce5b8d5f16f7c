"""Shot frame sources: camera moves over a still, the blocking engine redrawing a
moving camera, and the pictures they are made of."""

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from previz_app.animatic.motion import source_box, view_at
from previz_app.animatic.picture import Picture, PlanarStill
from previz_app.animatic.sources import BlockingMoves, StillMoves, blocking_request_for
from previz_app.engine.blocking.panel import render_panel
from previz_app.engine.frames import frame_request, shot_context
from previz_app.engine.request import FrameRequest, Staging
from previz_app.store import operations, scenes, settings, shots

SIZE = (320, 136)


def textured_still(size=(640, 272)) -> Image.Image:
    """A picture with detail everywhere and no symmetry: shapes of many sizes."""
    rng = np.random.default_rng(7)
    image = Image.new("RGB", size, (90, 110, 130))
    draw = ImageDraw.Draw(image)
    for _ in range(220):
        x, y = rng.integers(0, size[0]), rng.integers(0, size[1])
        r = int(rng.integers(3, 30))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=colour)
    return image


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def best_shift(first: np.ndarray, last: np.ndarray, axis: int) -> int:
    """The shift s (pixels along `axis`) for which last[i] best matches first[i + s]."""
    scores, limit = {}, first.shape[axis] // 2
    for s in range(-limit, limit + 1):
        n = first.shape[axis] - abs(s)
        a = np.take(last, range(max(0, -s), max(0, -s) + n), axis=axis)
        b = np.take(first, range(max(0, s), max(0, s) + n), axis=axis)
        scores[s] = correlation(a, b)
    return max(scores, key=scores.get)


def test_a_push_in_narrows_the_field_of_view():
    frames = StillMoves(textured_still(), "dolly_in", "", 0, 24, SIZE)
    first, last = frames.picture(0).y, frames.picture(23).y
    width, height = SIZE
    # The end of a 1.3x push shows the middle 1/1.3 of the first frame, enlarged.
    w, h = width / 1.3, height / 1.3
    box = ((width - w) / 2, (height - h) / 2, (width + w) / 2, (height + h) / 2)
    centre = np.asarray(Image.fromarray(first).resize(SIZE, Image.BILINEAR, box=box))
    assert correlation(last, centre) > 0.9
    assert correlation(last, centre) > correlation(last, first) + 0.2


@pytest.mark.parametrize(("movement", "direction", "axis", "sign"), [
    ("pan", "right", 1, 1), ("pan", "left", 1, -1), ("tilt", "up", 0, -1), ("tilt", "down", 0, 1), ("truck", "right", 1, 1),
])
def test_a_move_shifts_the_picture_the_way_it_is_named(movement, direction, axis, sign):
    frames = StillMoves(textured_still(), movement, direction, 0, 12, SIZE)
    first, last = frames.picture(0).y, frames.picture(11).y
    # Panning right brings what was right of centre to the centre: last[x] = first[x + s], s > 0.
    shift = best_shift(first, last, axis)
    assert shift * sign > 10
    assert correlation(last, np.roll(first, -shift, axis=axis)) > correlation(last, first)


def test_handles_hold_the_first_and_last_frames_and_static_shots_draw_once():
    frames = StillMoves(textured_still(), "dolly_in", "", 0, 10, SIZE)
    first = frames.picture(0)
    assert frames.picture(-3) is first  # the head handle holds: nothing is redrawn
    last = frames.picture(9)
    assert frames.picture(12) is last
    assert not np.array_equal(first.y, last.y)
    still = StillMoves(textured_still(), "static", "", 0, 10, SIZE)
    assert still.picture(0) is still.picture(5) is still.picture(11)
    assert frames.time(-1) == 0.0 and frames.time(20) == 1.0 and frames.time(9) == 1.0
    assert StillMoves(textured_still(), "pan", "left", 0, 1, SIZE).time(0) == 0.0


def test_a_planar_still_can_be_shared_and_fills_the_frame():
    planar = PlanarStill(textured_still())
    frames = StillMoves(planar, "pan", "left", 3, 8, (200, 100))
    picture = frames.picture(4)
    assert picture.size == (200, 100)
    assert picture.u.shape == picture.v.shape == (50, 100)


def test_draft_chroma_keeps_luma_and_comes_close_on_colour():
    planar = PlanarStill(textured_still().resize((1280, 544)))
    box = source_box(view_at("dolly_in", "", 0.4), planar.size, (644, 274))
    full, draft = planar.view(box, (644, 274)), planar.view(box, (644, 274), draft_chroma=True)
    assert np.array_equal(full.y, draft.y)
    assert draft.u.shape == full.u.shape == (137, 322)  # odd chroma sizes still fit
    for a, b in ((full.u, draft.u), (full.v, draft.v)):
        difference = np.abs(a.astype(int) - b.astype(int))
        assert difference.mean() < 6
        assert difference.max() > 0  # it is a different, cheaper resampling


def test_rgb_converts_to_bt709_limited_range():
    red = Picture.from_rgb(Image.new("RGB", (4, 4), (255, 0, 0)))
    assert (red.y[0, 0], red.u[0, 0], red.v[0, 0]) == (63, 102, 240)
    assert all(abs(got - want) <= 1 for got, want in zip(red.to_rgb().getpixel((1, 1)), (255, 0, 0)))
    white, black = Picture.from_rgb(Image.new("RGB", (4, 2), "white")), Picture.from_rgb(Image.new("RGB", (4, 2), "black"))
    assert (white.y.min(), white.u.max(), black.y.max(), black.v.min()) == (235, 128, 16, 128)
    image = textured_still((321, 137))  # odd sides are cropped to even
    picture = Picture.from_rgb(image)
    assert picture.size == (320, 136)
    back = np.asarray(picture.to_rgb()).astype(int)
    original = np.asarray(image)[:136, :320].astype(int)
    # Chroma is shared by 2x2 blocks, so edges blur; flat areas come back as they were.
    assert np.median(np.abs(back - original)) <= 1


def blocking_request(movement="dolly_in", size=SIZE):
    staging = Staging(size="MS", movement=movement, characters=("ELLA", "TOM"), int_ext="INT", location="KITCHEN", time_of_day="DAY")
    return FrameRequest(width=size[0], height=size[1], engine="blocking", seed=11, steps=1, staging=staging)


def test_blocking_moves_redraw_every_frame_of_a_dolly():
    request = blocking_request()
    frames = BlockingMoves(request, 6, SIZE)
    pictures = [frames.picture(index) for index in range(6)]
    for a, b in zip(pictures, pictures[1:]):
        assert np.abs(a.y.astype(int) - b.y.astype(int)).mean() > 0.5
    expected = Picture.from_rgb(render_panel(replace(request.staging, time=3 / 5), *SIZE, request.seed).image)
    for got, want in zip(pictures[3].planes(), expected.planes()):
        assert np.array_equal(got, want)
    assert frames.picture(9) is pictures[5]  # the end holds without a redraw
    assert np.array_equal(frames.picture(-2).y, pictures[0].y)


def test_a_static_blocking_shot_is_drawn_once():
    frames = BlockingMoves(blocking_request("static"), 5, SIZE)
    assert frames.picture(0) is frames.picture(4)


def test_blocking_moves_need_a_blocking_request():
    with pytest.raises(ValueError, match="blocking"):
        BlockingMoves(replace(blocking_request(), engine="diffusers"), 5, SIZE)
    with pytest.raises(ValueError, match="blocking"):
        BlockingMoves(replace(blocking_request(), staging=None), 5, SIZE)


def test_a_shot_without_a_hero_is_drawn_as_its_first_frame_would_be(drafted):
    shot = shots.list_shots(drafted.db)[0]
    operations.perform(drafted.db, operations.EditShot(shot.id, "movement", "pan"))
    shot = shots.get_shot(drafted.db, shot.id)
    request = blocking_request_for(shot, scenes.get_scene(drafted.db, shot.scene_id), settings.read_project(drafted.db))
    assert request == frame_request(shot_context(drafted, shot.id))
    assert request.staging.movement == "pan" and request.seed == shot.id * 7919 % 2**31
