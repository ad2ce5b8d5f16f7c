"""The blocking engine's environments, measured on the pixels: size, seams, sky over
ground, light by time of day, features by location, progress and cancel."""

import threading

import numpy as np
import pytest
from PIL import Image

from previz_app.engine.base import Cancelled, EngineError, RenderContext
from previz_app.engine.blocking.environment import render_environment, time_key
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.environment import EnvironmentRequest
from previz_app.engine.request import Staging

W, H = 1200, 150  # a 360° strip about 21° above and below the horizon


def paint(location="FIELD", time_of_day="DAY", int_ext="EXT.", seed=5, width=W, height=H, **request):
    staging = Staging(int_ext=int_ext, location=location, time_of_day=time_of_day)
    image = render_environment(EnvironmentRequest(width, height, staging=staging, seed=seed, **request), RenderContext())
    return image


def pixels(image):
    return np.asarray(image, dtype=np.float32) / 255


def seam_and_steps(image):
    """Mean abs difference across the seam (last column to first) and between each pair of neighbours."""
    rgb = pixels(image)
    steps = np.abs(np.diff(rgb, axis=1)).mean(axis=(0, 2))
    return float(np.abs(rgb[:, 0] - rgb[:, -1]).mean()), steps


@pytest.mark.parametrize("size, span, wrap", [((W, H), 360, True), ((333, 77), 120, False), ((8, 8), 360, True),
                                              ((2501, 9), 360, True), ((64, 301), 45, False)])
def test_output_is_exactly_the_requested_size_in_rgb(size, span, wrap):
    image = paint("CITY STREET", "NIGHT", width=size[0], height=size[1], span_deg=span, wrap=wrap)
    assert image.size == size and image.mode == "RGB"


def test_same_request_repeats_bit_for_bit_and_the_seed_changes_it():
    first, again, other = paint("SNOWY FOREST", seed=11), paint("SNOWY FOREST", seed=11), paint("SNOWY FOREST", seed=12)
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert np.abs(pixels(first) - pixels(other)).mean() > 0.01


@pytest.mark.parametrize("int_ext, location, time_of_day", [
    ("EXT.", "SNOWY FOREST", "NIGHT"), ("EXT.", "CITY STREET", "DAY"), ("EXT.", "HARBOUR", "SUNSET"),
    ("EXT.", "MOUNTAIN PASS", "MORNING"), ("EXT.", "DESERT", "DUSK"), ("INT.", "KITCHEN", "DAY"),
    ("EXT.", "LIGHTHOUSE CLIFF", "NIGHT"),
])
def test_a_wrapping_environment_has_no_seam(int_ext, location, time_of_day):
    seam, steps = seam_and_steps(paint(location, time_of_day, int_ext))
    assert seam <= steps.max(), (seam, steps.max())
    assert seam <= np.percentile(steps, 99), (seam, np.percentile(steps, 99))  # it looks like any other column


def test_the_seam_measure_sees_a_cut():
    night, day = np.asarray(paint("SNOWY FOREST", "NIGHT")), np.asarray(paint("SNOWY FOREST", "DAY"))
    spliced = Image.fromarray(np.ascontiguousarray(np.concatenate([night[:, : W // 2], day[:, W // 2:]], axis=1)))
    seam, steps = seam_and_steps(spliced)
    assert seam > np.percentile(steps, 99)


def test_the_sky_is_above_and_the_ground_below():
    rgb = pixels(paint("FIELD", "DAY"))
    top, bottom = rgb[: H // 6].mean(axis=(0, 1)), rgb[-H // 6:].mean(axis=(0, 1))
    assert top[2] > top[0] + 0.15  # blue sky
    assert bottom[1] > bottom[2] + 0.1 and bottom[0] > bottom[2]  # green ground
    assert top.mean() > bottom.mean()


def test_night_is_darker_than_dusk_is_darker_than_day_outside_and_in():
    for int_ext, location in (("EXT.", "FOREST"), ("INT.", "KITCHEN")):
        day, dusk, night = (pixels(paint(location, time, int_ext)).mean() for time in ("DAY", "DUSK", "NIGHT"))
        assert day > dusk > night, (location, day, dusk, night)
        assert night < 0.75 * day


def test_an_interior_is_a_room_not_a_landscape():
    outside, inside = pixels(paint("KITCHEN", "DAY", "EXT.")), pixels(paint("KITCHEN", "DAY", "INT."))
    assert np.abs(outside - inside).mean() > 0.1
    ceiling = inside[:3].mean(axis=(0, 1))
    assert ceiling[2] < ceiling[0]  # a painted ceiling overhead, not blue sky
    # Walls meet in upright corners: some columns are much darker than their neighbours all the way up.
    middle = inside[H // 3: 2 * H // 3].mean(axis=(0, 2))
    assert (middle < np.roll(middle, 2) - 0.05).sum() >= 3


def test_location_words_pick_the_features():
    snow, grass = pixels(paint("SNOWY FIELD")), pixels(paint("FIELD"))
    assert snow[-H // 4:].mean() > grass[-H // 4:].mean() + 0.2  # snow lies on the ground

    def lit_windows(rgb):
        warm = (rgb[..., 0] > 0.7) & (rgb[..., 0] > rgb[..., 2] + 0.3)
        return int(warm[: H // 2].sum())

    assert lit_windows(pixels(paint("CITY STREET", "NIGHT"))) > 100
    assert lit_windows(pixels(paint("SNOWY FOREST", "NIGHT"))) == 0

    sea, land = pixels(paint("HARBOUR")), pixels(paint("FIELD"))
    below = slice(H // 2 + 2, H // 2 + 12)  # just under the horizon
    assert (sea[below, :, 2] > sea[below, :, 0] + 0.05).mean() > 0.15  # water to the horizon
    assert (land[below, :, 2] > land[below, :, 0] + 0.05).mean() == 0

    sand = pixels(paint("DESERT"))[-H // 4:].mean(axis=(0, 1))
    assert sand[0] > sand[1] > sand[2] + 0.1


def test_progress_reaches_the_total_and_cancel_stops_between_bands():
    steps = []
    staging = Staging(int_ext="EXT.", location="FOREST", time_of_day="DAY")
    request = EnvironmentRequest(3000, 400, staging=staging)
    render_environment(request, RenderContext(on_progress=lambda done, total: steps.append((done, total))))
    total = steps[-1][1]
    assert total > 2 and steps[-1] == (total, total) and steps[0] == (0, total)
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)

    cancel = threading.Event()

    def stop_after_first(done, _total):
        if done >= 1:
            cancel.set()

    reached = []
    with pytest.raises(Cancelled):
        render_environment(request, RenderContext(on_progress=lambda d, t: (reached.append(d), stop_after_first(d, t)),
                                                  cancel_event=cancel))
    assert max(reached) < total
    cancel.set()
    with pytest.raises(Cancelled):
        render_environment(request, RenderContext(cancel_event=cancel))


def test_engine_paints_environments_and_refuses_to_upscale():
    engine = BlockingEngine()
    request = EnvironmentRequest(600, 80, staging=Staging(int_ext="EXT.", location="BEACH", time_of_day="SUNSET"))
    image = engine.environment(request, RenderContext())
    assert np.array_equal(np.asarray(image), np.asarray(render_environment(request, RenderContext())))
    with pytest.raises(EngineError) as raised:
        engine.upscale(image, request.resized(1200, 160), RenderContext())
    assert str(raised.value) == ("upscaling an environment needs a diffusion model (--engine diffusers --model …); "
                                 "the blocking engine paints environments at the wall's own resolution")


@pytest.mark.parametrize("words, key", [("LATE NIGHT", "NIGHT"), ("CONTINUOUS", "DAY"), ("EARLY MORNING", "MORNING"),
                                        ("", "DAY"), ("sunset", "SUNSET"), ("TWILIGHT", "DUSK")])
def test_time_of_day_words_name_a_sky(words, key):
    assert time_key(words) == key
