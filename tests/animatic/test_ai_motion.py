"""AI motion: diffusion keys over the moved hero frame, and the frames between them.

The keys come from real img2img runs on the tiny random-weight SD1 model (CPU,
64 x 32, two denoising steps each)."""

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from previz_app.animatic.ai_motion import ai_sources, key_times, plan_motion, run_motion
from previz_app.animatic.keyframes import KeyframeMotion
from previz_app.animatic.compose import ComposeOptions, FrameComposer, MissingMediaError
from previz_app.animatic.motion import source_box, view_at
from previz_app.animatic.picture import Picture, PlanarStill
from previz_app.animatic.timeline import build_timeline
from previz_app.engine.base import Cancelled, EngineError, RenderContext
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.diffusion import DiffusersEngine
from previz_app.engine.frames import frame_request, shot_context, store_take
from previz_app.engine.jobs import JobRunner, JobState
from previz_app.engine.request import Mode, read_png_request
from previz_app.store import operations, shots
from previz_app.store.motion import latest_motion, motions_for

KEY_SIZE = (64, 32)


@pytest.fixture(scope="module")
def engine():
    return DiffusersEngine(device="cpu")


@pytest.fixture
def runner(engine, drafted):
    started = JobRunner({"diffusers": engine}, media=drafted.media.read)
    yield started
    started.shutdown()


def give_hero(folder, shot_id):
    """A blocking-engine hero frame, small so the test stays quick."""
    request = frame_request(shot_context(folder, shot_id), size=(320, 134))
    return store_take(folder, shot_id, BlockingEngine().render(request, RenderContext()))


@pytest.fixture
def pushed_in(drafted):
    """The first shot as a one-second push-in with a hero frame."""
    shot = shots.list_shots(drafted.db)[0]
    for field, value in (("movement", "dolly_in"), ("duration", 1.0)):
        operations.perform(drafted.db, operations.EditShot(shot.id, field, value))
    give_hero(drafted, shot.id)
    return drafted, shot.id


def timeline_shot(folder, shot_id):
    return next(item for item in build_timeline(folder.db).shots if item.shot.id == shot_id)


def image_of(folder, digest):
    return Image.open(io.BytesIO(folder.media.read(digest))).convert("RGB")


def pixels(image):
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def plan(folder, item, model, **options):
    options = {"keys_per_second": 2, "strength": 0.5, "steps": 4, "size": KEY_SIZE, **options}
    return plan_motion(folder, item, str(model), "sd1", **options)


def test_key_times_span_the_shot_evenly():
    assert key_times(1.0, 2) == [0.0, 0.5, 1.0]
    assert key_times(0.1, 4) == [0.0, 1.0]  # always start and end
    assert len(key_times(3.0, 4)) == 13
    assert len(key_times(3.0, 100, frames=5)) == 5  # never more keys than frames
    with pytest.raises(ValueError, match="keys per second"):
        key_times(3.0, 0)


def test_plan_moves_the_hero_and_asks_img2img_with_one_seed(pushed_in, tiny_models):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    planned = plan(folder, item, tiny_models.pipeline)
    assert [time for time, _request in planned] == [0.0, 0.5, 1.0]
    requests = [request for _time, request in planned]
    txt2img = frame_request(shot_context(folder, shot_id), engine="diffusers", model=str(tiny_models.pipeline), size=KEY_SIZE)
    assert {request.seed for request in requests} == {txt2img.seed}
    assert all(r.mode is Mode.img2img and r.engine == "diffusers" and r.strength == 0.5 for r in requests)
    assert all((r.prompt, r.negative_prompt, r.width, r.height) == (txt2img.prompt, txt2img.negative_prompt, *KEY_SIZE) for r in requests)
    hero = image_of(folder, item.hero.media_hash)
    moved = [image_of(folder, r.init_image) for r in requests]
    for (time, _request), image in zip(planned, moved):
        assert image.size == KEY_SIZE
        expected = hero.resize(KEY_SIZE, Image.Resampling.LANCZOS, box=source_box(view_at("dolly_in", "", time), hero.size, KEY_SIZE))
        assert np.abs(pixels(image) - pixels(expected)).max() <= 1
    assert np.abs(pixels(moved[0]) - pixels(moved[2])).mean() > 2  # the camera moved
    assert folder.db["media"].count_where("hash IN (?, ?, ?)", [r.init_image for r in requests]) == 3


def test_plan_refuses_a_shot_without_a_hero_and_bad_settings(drafted, pushed_in, tiny_models):
    folder, shot_id = pushed_in
    bare = next(item for item in build_timeline(folder.db).shots if item.hero is None)
    with pytest.raises(ValueError, match=f"shot {bare.number} has no hero frame"):
        plan(folder, bare, tiny_models.pipeline)
    with pytest.raises(ValueError, match="strength must be above 0"):
        plan(folder, timeline_shot(folder, shot_id), tiny_models.pipeline, strength=0)


def test_run_records_keys_the_model_drew_with_one_seed(pushed_in, tiny_models, runner):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    planned = plan(folder, item, tiny_models.pipeline)
    seen = []
    motion = run_motion(folder, runner, item, planned, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert motion == latest_motion(folder.db, shot_id, item.hero.id)
    assert motions_for(folder.db, [(shot_id, item.hero.id)]) == {shot_id: motion}
    assert [time for time, _digest in motion.keyframes] == [0.0, 0.5, 1.0]
    for (time, request), (_time, digest) in zip(planned, motion.keyframes):
        key = folder.media.read(digest)
        made = read_png_request(key)  # the key carries the request that drew it
        assert (made.seed, made.init_image, made.mode) == (planned[0][1].seed, request.init_image, Mode.img2img)
        drawn, moved = pixels(image_of(folder, digest)), pixels(image_of(folder, request.init_image))
        assert drawn.shape == moved.shape and np.abs(drawn - moved).mean() > 5  # the model redrew it
        assert folder.db["media"].count_where("hash = ?", [digest]) == 1
    recipe = json.loads(motion.recipe)
    assert (recipe["model"], recipe["strength"], recipe["seed"], recipe["keys"]) == (str(tiny_models.pipeline), 0.5, planned[0][1].seed, 3)
    assert (recipe["movement"], recipe["still_size"]) == ("dolly_in", [320, 134])


def test_cancelling_mid_run_records_nothing(pushed_in, tiny_models, runner):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    planned = plan(folder, item, tiny_models.pipeline)
    media_before = folder.db["media"].count

    def cancel_after_first(done, total):
        if done == 1:
            runner.cancel_all()

    with pytest.raises(Cancelled, match=f"shot {item.number} was cancelled"):
        run_motion(folder, runner, item, planned, progress=cancel_after_first)
    assert folder.db["shot_motion"].count == 0 and folder.db["media"].count == media_before


def test_ctrl_c_cancels_the_keys_left_and_records_nothing(pushed_in, tiny_models, runner):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    planned = plan(folder, item, tiny_models.pipeline, keys_per_second=4)  # five keys
    jobs = []
    real_submit = runner.submit
    runner.submit = lambda request, **kw: jobs.append(real_submit(request, **kw)) or jobs[-1]

    def interrupt(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_motion(folder, runner, item, planned, progress=interrupt)
    assert len(jobs) == 5 and jobs[-1].state is JobState.cancelled
    assert all(job.done_event.is_set() for job in jobs)
    assert folder.db["shot_motion"].count == 0


def test_a_failing_engine_names_the_shot_and_records_nothing(pushed_in, runner):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    planned = plan(folder, item, "/no/such/model")
    with pytest.raises(EngineError, match=rf"AI motion for shot {item.number} failed at key 1 of 3: .*model not found"):
        run_motion(folder, runner, item, planned)
    assert folder.db["shot_motion"].count == 0


def test_animatic_sources_play_the_keys_for_the_current_hero_only(pushed_in, tiny_models, runner):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    motion = run_motion(folder, runner, item, plan(folder, item, tiny_models.pipeline))
    timeline = build_timeline(folder.db)
    sources = ai_sources(folder.db, folder.media, timeline, KEY_SIZE)
    place = [entry.shot.id for entry in timeline.shots].index(shot_id)
    assert list(sources) == [place]
    keys = [Picture.from_rgb(image_of(folder, digest)) for _time, digest in motion.keyframes]
    last = item.frames - 1
    for index, key in ((0, keys[0]), (last, keys[2]), (-3, keys[0]), (last + 5, keys[2])):
        assert np.array_equal(sources[place].picture(index).y, key.y)
    assert not np.array_equal(sources[place].picture(last // 2).y, keys[0].y)
    # The composer draws the shot from them (its own motion would redraw the blocking hero).
    composer = FrameComposer(timeline, folder.media, ComposeOptions(KEY_SIZE), sources)
    assert np.array_equal(composer.raw(place, 0).y, keys[0].y)
    assert not np.array_equal(FrameComposer(timeline, folder.media, ComposeOptions(KEY_SIZE)).raw(place, 0).y, keys[0].y)
    give_hero(folder, shot_id)  # a second take, not yet the hero: the motion still plays
    assert list(ai_sources(folder.db, folder.media, build_timeline(folder.db), KEY_SIZE)) == [place]
    newest = folder.db.execute("SELECT max(id) FROM takes WHERE shot_id = ?", [shot_id]).fetchone()[0]
    operations.perform(folder.db, operations.SetHeroTake(shot_id, newest))
    assert ai_sources(folder.db, folder.media, build_timeline(folder.db), KEY_SIZE) == {}


def test_a_missing_key_file_is_named(pushed_in, tiny_models, runner):
    folder, shot_id = pushed_in
    item = timeline_shot(folder, shot_id)
    motion = run_motion(folder, runner, item, plan(folder, item, tiny_models.pipeline))
    missing = folder.media.path(motion.keyframes[1][1])
    missing.unlink()
    with pytest.raises(MissingMediaError, match=f"shot {item.number}: the AI motion key .*{missing.name} is missing"):
        ai_sources(folder.db, folder.media, build_timeline(folder.db), KEY_SIZE)
    lenient = ai_sources(folder.db, folder.media, build_timeline(folder.db), KEY_SIZE, check_media=False)
    with pytest.raises(MissingMediaError, match=f"shot {item.number}: an AI motion key is missing"):
        next(iter(lenient.values())).picture(0)  # only when the shot is drawn (the player)
    folder.media.path(motion.keyframes[1][1]).write_bytes(b"not a picture")
    sources = ai_sources(folder.db, folder.media, build_timeline(folder.db), KEY_SIZE)
    with pytest.raises(MissingMediaError, match=f"shot {item.number}: an AI motion key cannot be read"):
        next(iter(sources.values())).picture(0)


# -- the frames between keys, on a synthetic still whose every view is known ----------


def target_still(size=(480, 200)):
    """Smooth gradients (so resampling errors stay small) and a dark disc in the middle."""
    width, height = size
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    rgb = np.concatenate([np.broadcast_to(x, (height, width, 1)), np.broadcast_to(y, (height, width, 1)),
                          np.broadcast_to(0.5 + 0.5 * np.sin(6 * x + 4 * y), (height, width, 1))], axis=2)
    image = Image.fromarray((40 + 200 * rgb).astype(np.uint8), "RGB")
    ImageDraw.Draw(image).ellipse((width / 2 - 30, height / 2 - 30, width / 2 + 30, height / 2 + 30), fill=(10, 10, 10))
    return image


def exact_keys(still, movement, direction, times, key_size, seed=0):
    return [(t, still.resize(key_size, Image.Resampling.BILINEAR, box=source_box(view_at(movement, direction, t, seed), still.size, key_size)))
            for t in times]


def still_view(still, movement, direction, time, size, seed=0):
    return PlanarStill(still).view(source_box(view_at(movement, direction, time, seed), still.size, size), size)


@pytest.mark.parametrize("movement, direction", [("dolly_in", ""), ("dolly_out", ""), ("pan", "right"), ("tilt", "up"),
                                                 ("zoom", "in"), ("handheld", ""), ("crane", "down")])
def test_frames_between_keys_follow_the_camera_over_the_still(movement, direction):
    still = target_still()
    size, frames = (240, 100), 25
    motion = KeyframeMotion(exact_keys(still, movement, direction, key_times(1.0, 4), size, seed=3), movement, direction,
                            seed=3, frames=frames, size=size, still_size=still.size)
    errors, stale = [], []
    for index in range(frames):
        time = index / (frames - 1)
        right = still_view(still, movement, direction, time, size, seed=3).y.astype(np.int16)
        errors.append(np.abs(motion.picture(index).y.astype(np.int16) - right).mean())
        # What a camera that stood still since the last key would show.
        held = still_view(still, movement, direction, np.floor(time * 4) / 4, size, seed=3).y.astype(np.int16)
        stale.append(np.abs(held - right).mean())
    assert max(errors) < 1.0, errors
    if movement != "handheld":  # its sway is too small to tell apart
        assert sum(errors) < 0.35 * sum(stale), (errors, stale)


def disc_width(picture):
    row = picture.y[picture.y.shape[0] // 2]
    return int((row < 40).sum())


def test_a_push_in_closes_in_on_the_subject_frame_by_frame():
    still = target_still()
    motion = KeyframeMotion(exact_keys(still, "dolly_in", "", [0.0, 0.5, 1.0], (120, 50)), "dolly_in", "", 0, 49, (240, 100),
                            still_size=still.size)
    widths = [disc_width(motion.picture(index)) for index in range(49)]
    assert all(b >= a for a, b in zip(widths, widths[1:])), widths
    assert widths[-1] >= widths[0] * 1.2


def test_keys_from_different_draws_cross_fade_between_their_moments():
    still = target_still()
    size = (120, 50)
    keys = exact_keys(still, "pan", "left", [0.0, 0.5, 1.0], size)
    tinted = [(t, Image.eval(image, lambda v: min(255, v + 60)) if i == 1 else image) for i, (t, image) in enumerate(keys)]
    motion = KeyframeMotion(tinted, "pan", "left", 0, 21, size, still_size=still.size)
    brightness = [float(motion.picture(index).y.mean()) for index in range(21)]
    # Frame 10 is the bright key itself; the brightness rises to it and falls after.
    assert np.array_equal(motion.picture(10).y, Picture.from_rgb(tinted[1][1]).y)
    assert all(b > a for a, b in zip(brightness[:10], brightness[1:11]))
    assert all(b < a for a, b in zip(brightness[10:20], brightness[11:21]))


def test_keyframe_motion_needs_two_keys_at_different_times():
    image = Image.new("RGB", (16, 8))
    with pytest.raises(ValueError, match="at least two keys"):
        KeyframeMotion([(0.0, image)], "pan", "left", 0, 10, (16, 8))
    with pytest.raises(ValueError, match="at least two keys"):
        KeyframeMotion([(0.5, image), (0.5, image)], "pan", "left", 0, 10, (16, 8))
