"""The job runner batching variations, driven by scripted engines (no GPU, no model)."""

import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from previz_app.engine.base import EngineError, FrameResult, RenderContext
from previz_app.engine.jobs import JobRunner, JobState
from previz_app.engine.request import FrameRequest


def colour(seed):
    return (seed % 256, 40, 80)


class BatchEngine:
    """Renders one request or a batch in `steps` steps; a request's image is filled
    with its seed's colour. Steps wait on the gate named by the prompt, if any."""

    name = "steps"

    def __init__(self, steps=3, gates=None, fail=None, batchable=None, batch_variations=True, one_preview=False):
        self.steps, self.gates, self.fail, self.one_preview = steps, gates or {}, fail or {}, one_preview
        self.acceleration = SimpleNamespace(batch_variations=batch_variations)
        if batchable is not None:
            self.batchable = batchable
        self.calls, self.ended = [], []
        self.started = {}

    def render(self, request, context):
        return self._make([request], context, "render")[0]

    def render_batch(self, requests, context):
        return self._make(list(requests), context, "batch")

    def _make(self, requests, context, how):
        prompt = requests[0].prompt
        self.calls.append((how, [(r.prompt, r.seed) for r in requests]))
        self.started.setdefault(prompt, threading.Event())
        try:
            if prompt in self.fail:
                raise self.fail[prompt]
            for step in range(self.steps):
                context.check_cancelled()
                context.on_progress(step + 1, self.steps)
                images = [Image.new("RGB", (4, 4), colour(r.seed)) for r in requests]
                context.on_preview(images[0] if self.one_preview or how == "render" else images)
                self.started[prompt].set()
                if prompt in self.gates:
                    assert self.gates[prompt].wait(5)
        except BaseException as exc:
            self.ended.append(type(exc).__name__)
            raise
        self.ended.append("done")
        return [FrameResult(Image.new("RGB", (r.width, r.height), colour(r.seed)), r) for r in requests]

    def wait_started(self, prompt):
        while prompt not in self.started:
            threading.Event().wait(0.005)
        assert self.started[prompt].wait(5)


class Recorder:
    def __init__(self):
        self.states, self.progress, self.previews = {}, {}, {}
        self.lock = threading.Lock()

    def job_changed(self, job):
        with self.lock:
            self.states.setdefault(job.id, []).append(job.state)

    def job_progress(self, job, step, total):
        with self.lock:
            self.progress.setdefault(job.id, []).append((step, total))

    def job_preview(self, job, image):
        with self.lock:
            self.previews.setdefault(job.id, []).append(image.getpixel((0, 0)))


def shot(seed, prompt="shot", **changes):
    return FrameRequest(16, 16, engine="steps", prompt=prompt, seed=seed, **changes)


@pytest.fixture
def make_runner():
    runners = []

    def make(engine, listener=None):
        runner = JobRunner({"steps": engine}, listener=listener)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.shutdown(timeout=5)


def busy_runner(make_runner, engine, recorder=None):
    """A runner whose worker is held by a `blocker` job, so what is submitted next queues
    up; returns it and the gate that lets the blocker go."""
    gate = threading.Event()
    engine.gates["blocker"] = gate
    runner = make_runner(engine, recorder)
    runner.submit(shot(0, "blocker"))
    engine.wait_started("blocker")
    return runner, gate


def finish(*jobs):
    for job in jobs:
        assert job.wait(5), f"job {job.id} did not end"


def test_variations_batch_by_four_in_queue_order_and_each_job_gets_its_own_frame(make_runner):
    engine = BatchEngine()
    runner, gate = busy_runner(make_runner, engine)
    first = runner.submit(shot(1))
    other = runner.submit(shot(7, "another shot"))
    rest = [runner.submit(shot(seed)) for seed in (2, 3, 4, 5, 6)]
    gate.set()
    finish(first, other, *rest)
    assert engine.calls[1:] == [
        ("batch", [("shot", 1), ("shot", 2), ("shot", 3), ("shot", 4)]),
        ("render", [("another shot", 7)]),  # alone, and still before the variations queued after it
        ("batch", [("shot", 5), ("shot", 6)]),
    ]
    for job in (first, other, *rest):
        assert job.state is JobState.finished and job.error == ""
        assert job.result.request == job.request
        assert job.result.image.getpixel((3, 3)) == colour(job.request.seed)


def test_a_variation_never_overtakes_a_more_urgent_job(make_runner):
    engine = BatchEngine()
    runner, gate = busy_runner(make_runner, engine)
    low = runner.submit(shot(1))
    high = [runner.submit(shot(2), priority=1), runner.submit(shot(3), priority=1)]
    urgent = runner.submit(shot(9, "urgent"), priority=2)
    low2 = runner.submit(shot(4))
    gate.set()
    finish(low, *high, urgent, low2)
    assert engine.calls[1:] == [
        ("render", [("urgent", 9)]),
        ("batch", [("shot", 2), ("shot", 3)]),
        ("batch", [("shot", 1), ("shot", 4)]),
    ]


def test_a_job_sent_to_the_front_runs_before_its_variations(make_runner):
    engine = BatchEngine()
    runner, gate = busy_runner(make_runner, engine)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2, 3)]
    assert runner.prioritize(jobs[2])
    gate.set()
    finish(*jobs)
    assert engine.calls[1:] == [("render", [("shot", 3)]), ("batch", [("shot", 1), ("shot", 2)])]


def test_requests_differing_beyond_the_seed_or_refused_by_the_engine_render_alone(make_runner):
    engine = BatchEngine(batchable=lambda a, b: a.prompt != "refused")
    runner, gate = busy_runner(make_runner, engine)
    jobs = [
        runner.submit(shot(1)),
        runner.submit(shot(2, steps=9)),
        runner.submit(shot(3, "refused")),
        runner.submit(shot(4, "refused")),
        runner.submit(shot(5, negative_prompt="blur")),
        runner.submit(shot(6)),
    ]
    gate.set()
    finish(*jobs)
    assert [calls for _, calls in engine.calls[1:]] == [
        [("shot", 1), ("shot", 6)], [("shot", 2)], [("refused", 3)], [("refused", 4)], [("shot", 5)],
    ]
    assert engine.calls[2][0] == "render"


@pytest.mark.parametrize("engine", [BatchEngine(batch_variations=False), BatchEngine(batchable=lambda a, b: 1 / 0)])
def test_batching_turned_off_or_an_engine_that_cannot_tell_renders_each_job_alone(make_runner, engine):
    runner, gate = busy_runner(make_runner, engine)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2, 3)]
    gate.set()
    finish(*jobs)
    assert engine.calls[1:] == [("render", [("shot", seed)]) for seed in (1, 2, 3)]
    assert all(job.state is JobState.finished for job in jobs)


@pytest.mark.parametrize("one_preview", [False, True])
def test_each_job_of_a_batch_hears_its_own_states_progress_and_previews(make_runner, one_preview):
    engine, recorder = BatchEngine(one_preview=one_preview), Recorder()
    runner, gate = busy_runner(make_runner, engine, recorder)
    jobs = [runner.submit(shot(seed)) for seed in (11, 12, 13)]
    gate.set()
    finish(*jobs)
    assert engine.calls[1][0] == "batch"
    for job in jobs:
        assert recorder.states[job.id] == [JobState.queued, JobState.running, JobState.finished]
        assert recorder.progress[job.id] == [(1, 3), (2, 3), (3, 3)]
        assert (job.step, job.total) == (3, 3)
        # A per-request preview goes to its own job; a single one is the batch's, for all.
        expected = colour(11) if one_preview else colour(job.request.seed)
        assert recorder.previews[job.id] == [expected] * 3


def test_cancelling_one_job_of_a_running_batch_ends_it_alone(make_runner):
    go = threading.Event()
    engine, recorder = BatchEngine(steps=30, gates={"shot": go}), Recorder()
    runner, gate = busy_runner(make_runner, engine, recorder)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2, 3)]
    gate.set()
    engine.wait_started("shot")
    runner.cancel(jobs[1])
    go.set()
    finish(*jobs)
    assert engine.calls[1] == ("batch", [("shot", 1), ("shot", 2), ("shot", 3)])
    assert engine.ended == ["done", "done"]  # the batch ran on for the other two
    assert jobs[1].state is JobState.cancelled and jobs[1].result is None
    assert recorder.states[jobs[1].id] == [JobState.queued, JobState.running, JobState.cancelled]
    assert len(recorder.progress[jobs[1].id]) <= 2 and len(recorder.previews[jobs[1].id]) <= 2
    for job in (jobs[0], jobs[2]):
        assert job.state is JobState.finished and job.result.image.getpixel((0, 0)) == colour(job.request.seed)
        assert len(recorder.progress[job.id]) == 30


@pytest.mark.parametrize("how", ["each", "all"])
def test_cancelling_every_job_of_a_running_batch_stops_it_within_a_step(make_runner, how):
    go = threading.Event()
    engine, recorder = BatchEngine(steps=30, gates={"shot": go}), Recorder()
    runner, gate = busy_runner(make_runner, engine, recorder)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2)]
    gate.set()
    engine.wait_started("shot")
    if how == "all":
        runner.cancel_all()
    else:
        for job in jobs:
            runner.cancel(job)
    go.set()
    finish(*jobs)
    assert engine.ended == ["done", "Cancelled"]
    for job in jobs:
        assert job.state is JobState.cancelled and job.result is None
        assert recorder.states[job.id] == [JobState.queued, JobState.running, JobState.cancelled]
        assert len(recorder.progress[job.id]) <= 2
    late = runner.submit(shot(3))  # the queue goes on
    finish(late)
    assert late.state is JobState.finished


def test_a_failed_batch_fails_each_of_its_jobs_and_the_queue_goes_on(make_runner):
    error = EngineError("out of GPU memory at 16x16 for a batch of 3")
    engine, recorder = BatchEngine(fail={"shot": error}), Recorder()
    runner, gate = busy_runner(make_runner, engine, recorder)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2, 3)]
    other = runner.submit(shot(4, "other"))
    gate.set()
    finish(*jobs, other)
    assert engine.calls[1] == ("batch", [("shot", 1), ("shot", 2), ("shot", 3)])
    for job in jobs:
        assert job.state is JobState.failed and job.result is None
        assert job.error == "out of GPU memory at 16x16 for a batch of 3"
        assert recorder.states[job.id] == [JobState.queued, JobState.running, JobState.failed]
    assert other.state is JobState.finished and other.error == ""


def test_an_engine_that_returns_too_few_frames_fails_the_batch(make_runner):
    engine = BatchEngine()
    engine.render_batch = lambda requests, context: [FrameResult(Image.new("RGB", (16, 16)), requests[0])]
    runner, gate = busy_runner(make_runner, engine)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2)]
    gate.set()
    finish(*jobs)
    assert all(job.state is JobState.failed for job in jobs)
    assert jobs[0].error == "the engine made 1 frames for a batch of 2"


def test_queued_variations_cancelled_before_their_turn_are_left_out(make_runner):
    engine = BatchEngine()
    runner, gate = busy_runner(make_runner, engine)
    jobs = [runner.submit(shot(seed)) for seed in range(1, 7)]
    runner.cancel(jobs[1])
    runner.cancel(jobs[3])
    gate.set()
    finish(*jobs)
    assert engine.calls[1:] == [("batch", [("shot", 1), ("shot", 3), ("shot", 5), ("shot", 6)])]
    assert [job.state for job in jobs] == [JobState.finished, JobState.cancelled] * 2 + [JobState.finished] * 2
    assert replace(jobs[4].result.request, seed=0) == replace(jobs[0].request, seed=0)


def test_a_job_cancelled_after_the_last_step_of_its_batch_still_ends_cancelled(make_runner):
    go = threading.Event()
    engine = BatchEngine(steps=1, gates={"shot": go})
    runner, gate = busy_runner(make_runner, engine)
    jobs = [runner.submit(shot(seed)) for seed in (1, 2)]
    gate.set()
    engine.wait_started("shot")
    runner.cancel(jobs[0])
    go.set()
    finish(*jobs)
    assert engine.ended == ["done", "done"]
    assert jobs[0].state is JobState.cancelled and jobs[0].result is None
    assert jobs[1].state is JobState.finished and jobs[1].result.image.getpixel((0, 0)) == colour(2)


class HoldFirst(Recorder):
    """Holds the worker when the first job starts running, so the next ones queue up."""

    def __init__(self):
        super().__init__()
        self.held, self.release = threading.Event(), threading.Event()

    def job_changed(self, job):
        super().job_changed(job)
        if job.id == 1 and job.state is JobState.running:
            self.held.set()
            assert self.release.wait(30)


def test_the_diffusers_engine_renders_queued_variations_in_one_call_each_as_alone(tiny_models):
    from previz_app.engine.diffusion import DiffusersEngine  # imports torch: only for this test

    engine, listener = DiffusersEngine(device="cpu"), HoldFirst()
    batches = []
    render_batch = engine.render_batch
    engine.render_batch = lambda requests, context: batches.append(len(requests)) or render_batch(requests, context)
    runner = JobRunner({"diffusers": engine}, listener=listener)
    base = FrameRequest(64, 64, engine="diffusers", model=str(tiny_models.pipeline), prompt="a frame", seed=5, steps=3)
    try:
        first = runner.submit(base)
        assert listener.held.wait(30)
        jobs = [runner.submit(base.variation(index)) for index in (1, 2, 3)]
        listener.release.set()
        for job in (first, *jobs):
            assert job.wait(60) and job.state is JobState.finished, job.error
    finally:
        listener.release.set()
        runner.shutdown(timeout=60)
    assert batches == [3]
    for job in (first, *jobs):
        alone = np.asarray(engine.render(job.request, RenderContext()).image, dtype=np.int16)
        difference = np.abs(alone - np.asarray(job.result.image, dtype=np.int16))
        assert difference.max() <= 2 and difference.mean() < 0.1  # batched kernels round a level apart at most
        assert listener.progress[job.id] == [(1, 3), (2, 3), (3, 3)]
    assert np.abs(np.asarray(jobs[0].result.image, dtype=np.int16) - np.asarray(jobs[1].result.image)).mean() > 1


def test_variations_queued_while_holding_the_worker_run_as_one_batch(make_runner):
    engine = BatchEngine()
    runner = make_runner(engine)
    with runner.holding():
        jobs = [runner.submit(shot(1))]
        threading.Event().wait(0.1)  # time enough for an idle worker to take it, were it not held
        jobs += [runner.submit(shot(seed)) for seed in (2, 3, 4)]
        assert engine.calls == []
    finish(*jobs)
    assert engine.calls == [("batch", [("shot", 1), ("shot", 2), ("shot", 3), ("shot", 4)])]
