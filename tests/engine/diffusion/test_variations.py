"""Variations of one request in one pipeline call (DiffusersEngine.render_batch)."""

import hashlib
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from previz_app.engine.base import Cancelled, RenderContext
from previz_app.engine.blocking.panel import render_panel
from previz_app.engine.diffusion import DiffusersEngine
from previz_app.engine.diffusion.acceleration import Acceleration, batchable, default_for
from previz_app.engine.request import FrameRequest, Mode, Staging, encode_png

SEEDS = (11, 12, 13, 14)


def frame(model, **changes) -> FrameRequest:
    return replace(FrameRequest(64, 64, engine="diffusers", model=str(model), prompt="a storyboard frame",
                                negative_prompt="blurry", seed=7, steps=4, guidance=5.0), **changes)


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def engine():
    return DiffusersEngine(device="cpu")


def test_four_variations_in_one_call_are_the_frames_render_makes_alone(engine, tiny_models):
    requests = [frame(tiny_models.pipeline, seed=seed) for seed in SEEDS]
    alone = [pixels(engine.render(request, RenderContext()).image) for request in requests]
    progress, shown = [], []
    results = engine.render_batch(requests, RenderContext(on_progress=lambda s, t: progress.append((s, t)),
                                                          on_preview=shown.append))
    assert [result.request for result in results] == requests
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]  # one denoising loop for all four
    assert shown and shown[0].size == (512, 512)
    for single, result in zip(alone, results):
        assert result.image.size == (64, 64)
        difference = np.abs(single - pixels(result.image))
        # batched kernels round differently from single ones, by a level at most in practice
        assert difference.max() <= 2 and difference.mean() < 0.1
    assert np.abs(alone[0] - alone[1]).mean() > 1  # the seeds do make different frames
    assert np.array_equal(pixels(engine.render_batch(requests[:1], RenderContext())[0].image), alone[0])


def test_img2img_variations_batch_too(engine, tiny_models):
    panel = render_panel(Staging(size="MS", characters=("ANNA",), location="KITCHEN", int_ext="INT"), 64, 64).image
    data = encode_png(panel, FrameRequest(8, 8))
    media = {hashlib.sha256(data).hexdigest(): data}
    requests = [frame(tiny_models.pipeline, seed=seed, mode=Mode.img2img, init_image=next(iter(media)), strength=0.6)
                for seed in SEEDS[:2]]
    alone = [pixels(engine.render(request, RenderContext(media=media.__getitem__)).image) for request in requests]
    progress = []
    batch = engine.render_batch(requests, RenderContext(media=media.__getitem__, on_progress=lambda s, t: progress.append(s)))
    assert progress == [1, 2]  # strength 0.6 of 4 steps, once for both
    for single, result in zip(alone, batch):
        assert np.abs(single - pixels(result.image)).max() <= 2


def test_cancelling_a_batch_stops_it_between_steps(engine, tiny_models):
    cancel = threading.Event()
    steps = []

    def progress(step, total):
        steps.append(step)
        if step == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        engine.render_batch([frame(tiny_models.pipeline, seed=seed) for seed in SEEDS],
                            RenderContext(on_progress=progress, cancel_event=cancel))
    assert steps == [1, 2]
    assert len(engine.render_batch([frame(tiny_models.pipeline, seed=s, steps=1) for s in SEEDS[:2]], RenderContext())) == 2


def test_requests_that_differ_in_more_than_seed_are_refused(engine, tiny_models):
    base = frame(tiny_models.pipeline)
    assert batchable(base, base) and batchable(base, base.variation(3))
    assert not batchable(base, frame(tiny_models.pipeline, prompt="another frame"))
    assert not batchable(base, frame(tiny_models.pipeline, staging=Staging(size="CU")))
    with pytest.raises(ValueError, match="request 2 differs in prompt"):
        engine.render_batch([base, frame(tiny_models.pipeline, prompt="another frame")], RenderContext())
    with pytest.raises(ValueError, match="request 3 differs in steps, guidance"):
        engine.render_batch([base, base.variation(1), frame(tiny_models.pipeline, steps=2, guidance=3.0)], RenderContext())
    with pytest.raises(ValueError, match="at least one request"):
        engine.render_batch([], RenderContext())


def test_with_batching_off_variations_render_one_by_one(engine, tiny_models):
    one_by_one = DiffusersEngine(device="cpu", acceleration=Acceleration.parse("batch_variations=off", default_for(torch.device("cpu"))))
    requests = [frame(tiny_models.pipeline, seed=seed, steps=2) for seed in SEEDS[:2]]
    progress = []
    results = one_by_one.render_batch(requests, RenderContext(on_progress=lambda s, t: progress.append(s)))
    assert progress == [1, 2, 1, 2]
    for request, result in zip(requests, results):
        assert np.array_equal(pixels(result.image), pixels(engine.render(request, RenderContext()).image))


def test_the_engine_tells_the_job_runner_which_requests_batch(engine, tiny_models):
    base = frame(tiny_models.pipeline)
    assert engine.batchable(base, base.variation(1)) and not engine.batchable(base, frame(tiny_models.pipeline, steps=2))
