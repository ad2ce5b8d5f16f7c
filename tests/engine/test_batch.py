"""Frames for shots: requests from the store, takes back into it."""

import io
import pytest
from PIL import Image

from previz_app.engine.base import EngineError, FrameResult
from previz_app.engine.batch import GenerateOptions, plan_requests, run_batch
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.frames import frame_size
from previz_app.engine.jobs import JobRunner
from previz_app.engine.request import FrameRequest, Mode
from previz_app.store import shots, takes


def shot_ids(folder):
    return [shot.id for shot in shots.list_shots(folder.db)]


def run(folder, engine, planned):
    runner = JobRunner({engine.name: engine}, media=folder.media.read)
    try:
        return run_batch(folder, runner, planned)
    finally:
        runner.shutdown()


def test_frame_sizes_follow_the_aspect_ratio():
    assert frame_size(2.39, width=1280) == (1280, 536)
    assert frame_size(1.78, side=512) == (680, 384)
    assert frame_size(2.39, side=1024) == (1584, 664)
    with pytest.raises(ValueError, match="width or a side"):
        frame_size(1.78)


def test_blocking_frames_become_takes_with_their_recipe(drafted):
    ids = shot_ids(drafted)
    planned = plan_requests(drafted, ids, GenerateOptions())
    assert [shot_id for shot_id, _ in planned] == ids
    report = run(drafted, BlockingEngine(), planned)
    assert len(report.takes) == len(ids) and not report.failed
    for shot_id, request in planned:
        shot = shots.get_shot(drafted.db, shot_id)
        (take,) = takes.list_takes(drafted.db, shot_id)
        assert shot.hero_take_id == take.id  # the first frame of a shot is its hero
        assert FrameRequest.from_json(take.recipe) == request
        with Image.open(io.BytesIO(drafted.media.read(take.media_hash))) as image:
            assert image.size == (1280, 536)  # the project is 2.39
            assert FrameRequest.from_json(image.text["previz"]) == request
            assert request.staging.size == shot.size.value


def test_variations_use_seed_plus_i_and_keep_the_first_hero(drafted):
    first = shot_ids(drafted)[0]
    planned = plan_requests(drafted, [first], GenerateOptions(variations=3, seed=100))
    seeds = [request.seed for _, request in planned]
    assert seeds == [seeds[0], seeds[0] + 1, seeds[0] + 2]
    report = run(drafted, BlockingEngine(), planned)
    stored = takes.list_takes(drafted.db, first)
    assert len(stored) == 3 and len({t.media_hash for t in stored}) == 3
    assert shots.get_shot(drafted.db, first).hero_take_id == report.takes[0]


class FlakyEngine:
    name = "blocking"

    def render(self, request, context):
        if request.staging.characters:
            raise EngineError("out of ink")
        return FrameResult(Image.new("RGB", (request.width, request.height)), request)


def test_a_failing_shot_is_reported_and_the_others_are_kept(drafted):
    planned = plan_requests(drafted, shot_ids(drafted), GenerateOptions())
    report = run(drafted, FlakyEngine(), planned)
    with_cast = [shot_id for shot_id, request in planned if request.staging.characters]
    assert with_cast and len(with_cast) < len(planned)
    assert report.failed == [(shot_id, "out of ink") for shot_id in with_cast]
    assert len(report.takes) == len(planned) - len(with_cast)


def test_controlled_mode_stores_the_blocking_maps_it_conditions_on(drafted):
    first = shot_ids(drafted)[0]
    options = GenerateOptions(engine="diffusers", model="m", mode=Mode.controlled, family="sd1", control_models={"depth": "cn-depth", "pose": "cn-pose"})
    ((_, request),) = plan_requests(drafted, [first], options)
    assert request.mode is Mode.controlled and (request.width, request.height) == (792, 328)
    assert [(c.kind.value, c.model) for c in request.controls] == [("depth", "cn-depth"), ("pose", "cn-pose")]
    for control in request.controls:
        with Image.open(io.BytesIO(drafted.media.read(control.image))) as image:
            assert image.size == (792, 328)


def test_img2img_starts_from_the_hero_or_a_fresh_blocking_frame(drafted):
    first = shot_ids(drafted)[0]
    options = GenerateOptions(engine="diffusers", model="m", mode=Mode.img2img, strength=0.4)
    ((_, request),) = plan_requests(drafted, [first], options)
    hero = takes.get_take(drafted.db, shots.get_shot(drafted.db, first).hero_take_id)
    assert request.init_image == hero.media_hash and request.strength == 0.4
    ((_, again),) = plan_requests(drafted, [first], options)
    assert again.init_image == hero.media_hash  # no second blocking frame


def test_options_refuse_what_the_blocking_engine_cannot_do():
    with pytest.raises(ValueError, match="needs --engine diffusers"):
        GenerateOptions(mode=Mode.img2img)
    with pytest.raises(ValueError, match="ControlNet model"):
        GenerateOptions(engine="diffusers", mode=Mode.controlled)
    with pytest.raises(ValueError, match="variations"):
        GenerateOptions(variations=0)


def test_interrupting_a_batch_keeps_finished_frames_and_cancels_the_rest(drafted):
    class OneThenWait:
        """Draws the first frame, then holds every later one until it is cancelled."""

        name = "blocking"
        drawn = 0

        def render(self, request, context):
            self.drawn += 1
            while self.drawn > 1:
                context.cancel_event.wait(0.01)
                context.check_cancelled()
            return BlockingEngine().render(request, context)

    planned = plan_requests(drafted, shot_ids(drafted), GenerateOptions())
    runner = JobRunner({"blocking": OneThenWait()}, media=drafted.media.read)

    def progress(done, total, step, steps):
        if done == 1:
            raise KeyboardInterrupt  # Ctrl-C arrives after the first frame is stored

    try:
        report = run_batch(drafted, runner, planned, progress)
    finally:
        runner.shutdown()
    assert report.interrupted
    assert len(report.takes) == 1 and report.cancelled == len(planned) - 1
    assert sum(len(takes.list_takes(drafted.db, shot_id)) for shot_id, _ in planned) == len(report.takes)
