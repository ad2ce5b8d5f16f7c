"""The blocking engine: panels measured on the image, not compared to stored pictures."""

import numpy as np
import pytest

from previz_app.engine.base import Cancelled, RenderContext
from previz_app.engine.blocking.layout import key_time
from previz_app.engine.blocking.panel import BlockingEngine, render_panel
from previz_app.engine.request import FrameRequest, Staging

W, H = 640, 268  # the project's 2.39 at half HD; the engine draws any size
NOSE, NECK = (255, 0, 0), (255, 85, 0)


def draw(seed=3, **staging):
    defaults = {"characters": ("ELLA",), "int_ext": "INT", "location": "KITCHEN", "time_of_day": "DAY"}
    return render_panel(Staging(**{**defaults, **staging}), W, H, seed)


def keypoint(render, colour):
    """Centre of a joint in the OpenPose map, found by its exact colour."""
    pose = np.asarray(render.pose)
    ys, xs = np.nonzero(np.all(pose == colour, axis=2))
    assert len(ys), f"joint {colour} is not in the frame"
    return float(xs.mean()), float(ys.mean())


def head_to_neck(render):
    (nx, ny), (kx, ky) = keypoint(render, NOSE), keypoint(render, NECK)
    return float(np.hypot(nx - kx, ny - ky))


def horizon_row(render):
    """Rows of sky above the ground, in the emptiest column (no prop in front)."""
    return int(np.isinf(render.depth_m).sum(axis=0).max())


def test_panel_and_maps_have_the_requested_size_and_kinds():
    render = draw()
    assert render.image.size == render.depth.size == render.pose.size == render.lineart.size == (W, H)
    assert (render.image.mode, render.depth.mode, render.pose.mode, render.lineart.mode) == ("RGB", "L", "RGB", "L")
    lines = np.asarray(render.lineart)
    assert set(np.unique(lines)) <= {0, 255} and 0.005 < (lines > 0).mean() < 0.3


def test_figure_grows_as_the_shot_tightens():
    sizes = ["WS", "MWS", "MS", "MCU", "CU"]
    heights = [head_to_neck(draw(size=size)) for size in sizes]
    assert heights == sorted(heights) and heights[-1] > 5 * heights[0], dict(zip(sizes, heights))


def test_extreme_close_up_fills_the_frame_with_a_face():
    render = draw(size="ECU")
    x, _ = keypoint(render, NOSE)
    column = render.depth_m[:, round(x)]
    assert (column < float(render.depth_m.min()) + 0.3).all()  # face from the top edge to the bottom


def test_wide_shot_shows_the_whole_figure_small_in_the_set():
    render = draw(size="WS")
    pose = np.asarray(render.pose)
    rows = np.nonzero(pose.any(axis=(1, 2)))[0]
    assert 0.3 * H < rows.max() - rows.min() < 0.9 * H  # head to ankles, with room to spare
    assert keypoint(render, (0, 255, 255))  # the right ankle is in frame


def test_over_the_shoulder_puts_a_listener_in_the_foreground():
    render = draw(size="OTS", characters=("ELLA", "TOM"))
    assert float(render.depth_m.min()) < 1.5  # a shoulder right in front of the lens
    assert keypoint(render, NOSE)  # and the speaker faces us


def test_horizon_follows_the_camera_angle():
    exterior = {"int_ext": "EXT", "location": "FIELD", "characters": (), "size": "MS"}
    eye, high, low = (horizon_row(draw(angle=angle, **exterior)) for angle in ("eye", "high", "low"))
    assert abs(eye - H / 2) <= 2
    assert high < eye < low
    assert horizon_row(draw(angle="bird", **exterior)) == 0


def test_longer_lens_compresses_depth_but_keeps_the_framing():
    wide, long = (draw(size="WS", lens_mm=lens) for lens in (18, 135))

    def spread(render):
        depth = render.depth_m[np.isfinite(render.depth_m)]
        return np.percentile(depth, 95) / np.percentile(depth, 5)

    assert spread(long) < 0.7 * spread(wide)
    assert head_to_neck(long) == pytest.approx(head_to_neck(wide), rel=0.2)


def test_night_is_darker_than_dusk_is_darker_than_day():
    means = [np.asarray(draw(time_of_day=t).image, dtype=float).mean() for t in ("NIGHT", "DUSK", "DAY")]
    assert means == sorted(means) and means[2] - means[0] > 60


def test_depth_map_agrees_with_the_layout():
    render = draw(size="MS")
    depth = np.asarray(render.depth, dtype=float)
    x, y = (round(v) for v in keypoint(render, NECK))
    assert depth[y, x] > 2 * np.median(depth[0])  # the actor stands well in front of the back wall
    assert render.depth_m[y, x] == pytest.approx(np.linalg.norm(render.layout.camera.position[[0, 2]]), rel=0.15)
    sky = draw(int_ext="EXT", location="FIELD", characters=())
    assert (np.asarray(sky.depth)[np.isinf(sky.depth_m)] == 0).all()  # infinity is black


def test_exterior_and_interior_sets_differ():
    inside, outside = draw(), draw(int_ext="EXT", location="BEACH")
    assert not np.isinf(inside.depth_m).any()  # walls and ceiling close the room
    assert np.isinf(outside.depth_m).any()  # open sky


def test_seed_varies_composition_and_repeats_exactly():
    one, again, other = draw(seed=1), draw(seed=1), draw(seed=2)
    assert one.image.tobytes() == again.image.tobytes()
    assert one.image.tobytes() != other.image.tobytes()


@pytest.mark.parametrize("movement, direction", [("pan", "left"), ("tilt", "up"), ("dolly_in", ""), ("truck", "right"), ("crane", "up"), ("zoom", "in"), ("handheld", "")])
def test_camera_moves_are_functions_of_time(movement, direction):
    start, end = (draw(size="MS", movement=movement, direction=direction, time=t) for t in (0.0, 1.0))
    assert start.layout.camera != end.layout.camera
    assert start.image.tobytes() != end.image.tobytes()
    still = draw(size="MS", movement="static", time=1.0)
    assert still.layout.camera == draw(size="MS", movement="static", time=0.0).layout.camera


def test_dolly_in_and_zoom_in_enlarge_the_subject():
    for movement, direction in (("dolly_in", ""), ("zoom", "in")):
        start, end = (draw(size="MWS", movement=movement, direction=direction, time=t) for t in (0.0, 1.0))
        assert head_to_neck(end) > 1.2 * head_to_neck(start)


@pytest.mark.parametrize("movement, direction", [("tilt", "up"), ("pan", "left"), ("truck", "right"), ("dolly_out", ""), ("zoom", "out"), ("dolly_in", "")])
def test_a_still_of_a_moving_shot_is_drawn_where_the_move_holds_the_framing(movement, direction):
    static = draw(size="MS", movement="static")
    still = draw(size="MS", movement=movement, direction=direction, time=key_time(movement, direction))
    assert still.layout.camera == static.layout.camera
    assert keypoint(still, NOSE) == keypoint(static, NOSE)


def test_engine_reports_progress_returns_control_maps_and_honours_cancel():
    request = FrameRequest(W, H, staging=Staging(size="MS", characters=("ELLA",)), seed=5)
    steps = []
    result = BlockingEngine().render(request, RenderContext(on_progress=lambda s, t: steps.append((s, t))))
    assert steps == [(0, 1), (1, 1)]
    assert result.request is request and set(result.controls) == {"depth", "pose", "lineart"}
    assert result.image.tobytes() == render_panel(request.staging, W, H, 5).image.tobytes()
    context = RenderContext()
    context.cancel_event.set()
    with pytest.raises(Cancelled):
        BlockingEngine().render(request, context)
