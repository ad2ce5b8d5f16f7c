"""Building engines and checking models for the generation queue: off the GUI thread
when it is slow, once per settings that decide it. Scripted engines, no model."""

import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest
from PIL import Image

from previz_app.engine.base import EngineError, FrameResult
from previz_app.engine.frames import TRAINED_SIDE, frame_size
from previz_app.engine.jobs import JobRunner
from previz_app.engine.request import FrameRequest
from previz_app.store import shots
from previz_app.ui import queue_engines
from previz_app.ui.queue import GenerationQueue
from previz_app.ui.queue_engines import _StandIn
from previz_app.ui.queue_view import QueueView
from previz_app.ui.services import EngineSettings

from .fakes import ScriptedEngine

LOADING = "Loading the diffusers engine…"


class CheckingEngine(ScriptedEngine):
    """Says which family a model is, as the diffusers engine does; `refused` names a
    model it rejects."""

    def __init__(self):
        super().__init__(steps=1)
        self.checked: list[tuple[str, int]] = []
        self.refused = None

    def check(self, model):
        self.checked.append((model, threading.get_ident()))
        if model == self.refused:
            raise EngineError("not a diffusion model")
        return "sdxl"


class EngineFactory:
    """`services.engines` that records each build and its thread; a diffusers build
    waits for `release`, and raises `failure` when set."""

    def __init__(self, engine):
        self.engine, self.builds, self.failure = engine, [], None
        self.release = threading.Event()
        self.release.set()

    def __call__(self, choice):
        self.builds.append((choice, threading.get_ident()))
        if choice.engine == "diffusers":
            assert self.release.wait(10)
        if self.failure is not None:
            raise self.failure
        return {"blocking": self.engine, "diffusers": self.engine}


@pytest.fixture
def engine():
    return CheckingEngine()


@pytest.fixture
def factory(services, engine):
    services.engines = EngineFactory(engine)
    return services.engines


@pytest.fixture
def queue(state, services, factory):
    made = GenerationQueue(state, services)
    yield made
    factory.release.set()
    made.shutdown()


@pytest.fixture
def errors(state):
    reported = []
    state.error_reported.connect(reported.append)
    return reported


def use(services, queue, **changes):
    """Save settings as OK in Engine settings does."""
    services.save_engine_settings(EngineSettings(**{"engine": "diffusers", "model": "m.safetensors", **changes}))
    queue.apply_engine_settings()


def first_shot(state):
    return shots.list_shots(state.db)[0].id


def test_the_diffusers_engine_loads_and_the_model_is_checked_off_the_gui_thread_then_the_jobs_queue(state, services, queue, factory, engine, qtbot):
    view = QueueView(queue)
    qtbot.addWidget(view)
    use(services, queue)
    factory.release.clear()
    with qtbot.waitSignal(queue.status_changed) as status:
        assert queue.generate([first_shot(state)], variations=2) == []
    assert status.args == [LOADING] and queue.status() == LOADING and queue.entries() == []
    qtbot.waitUntil(lambda: view.summary_label.text() == LOADING)

    with qtbot.waitSignal(queue.jobs_added, timeout=10_000) as added:
        factory.release.set()
    assert len(added.args[0]) == 2 and queue.status() == ""
    gui = threading.get_ident()
    [(_, built_on)] = factory.builds
    [(model, checked_on)] = engine.checked
    assert model == "m.safetensors" and gui not in (built_on, checked_on)
    qtbot.waitUntil(lambda: all(queue.entry(job_id).ended for job_id in added.args[0]), timeout=10_000)
    assert (engine.rendered[0].width, engine.rendered[0].height) == frame_size(2.39, side=TRAINED_SIDE["sdxl"])
    qtbot.waitUntil(lambda: view.summary_label.text() == "Idle")

    # Built and checked: the next request queues at once.
    assert len(queue.generate([first_shot(state)])) == 1 and len(factory.builds) == 1 and len(engine.checked) == 1


def test_ok_rebuilds_the_engines_only_when_what_decides_them_changed(state, services, queue, factory, engine, qtbot, monkeypatch):
    library = {"key": ("configs", "previews")}
    monkeypatch.setattr(queue_engines, "library_key", lambda _services: library["key"])
    shot_id = first_shot(state)
    use(services, queue)
    with qtbot.waitSignal(queue.jobs_added, timeout=10_000):
        assert queue.generate([shot_id]) == []

    use(services, queue, steps=9, guidance=3.0)  # a pipeline stays loaded for this
    [job_id] = queue.generate([shot_id])
    qtbot.waitUntil(lambda: queue.entry(job_id).ended, timeout=10_000)
    assert engine.rendered[-1].steps == 9 and len(factory.builds) == 1 and len(engine.checked) == 1

    use(services, queue, model="other.safetensors")  # same engines, a model to check
    with qtbot.waitSignal(queue.jobs_added, timeout=10_000):
        assert queue.generate([shot_id]) == []
    assert len(factory.builds) == 1 and [model for model, _ in engine.checked] == ["m.safetensors", "other.safetensors"]

    for changes in ({"allow_pickle": True}, {"allow_pickle": True, "device": "cpu"}):
        use(services, queue, **changes)
        with qtbot.waitSignal(queue.jobs_added, timeout=10_000):
            assert queue.generate([shot_id]) == []
    assert len(factory.builds) == 3

    library["key"] = ("configs", "a TAESD decoder scanned since")
    use(services, queue, allow_pickle=True, device="cpu")
    with qtbot.waitSignal(queue.jobs_added, timeout=10_000):
        assert queue.generate([shot_id]) == []
    assert len(factory.builds) == 4


def test_requests_made_while_the_engine_loads_share_one_load(state, services, queue, factory, qtbot):
    use(services, queue)
    factory.release.clear()
    first, second = (shot.id for shot in shots.list_shots(state.db)[:2])
    assert queue.generate([first]) == [] and queue.generate([second], variations=2) == []
    with qtbot.waitSignals([queue.jobs_added, queue.jobs_added], timeout=10_000):
        factory.release.set()
    assert len(factory.builds) == 1 and [entry.shot_id for entry in queue.entries()] == [first, second, second]


def test_an_engine_that_cannot_start_or_a_model_it_refuses_is_reported_and_nothing_is_queued(state, services, queue, factory, engine, qtbot):
    use(services, queue)
    factory.failure = ImportError("No module named 'torch'")
    with qtbot.waitSignal(state.error_reported, timeout=10_000) as reported:
        assert queue.generate([first_shot(state)]) == []
    assert reported.args == ["The diffusers engine could not start: No module named 'torch'"]

    factory.failure, engine.refused = None, "broken.ckpt"
    use(services, queue, model="broken.ckpt")
    with qtbot.waitSignal(state.error_reported, timeout=10_000) as reported:
        assert queue.generate([first_shot(state)]) == []
    assert reported.args == ["The model broken.ckpt cannot be used: not a diffusion model"]
    assert queue.entries() == [] and queue.status() == "" and not queue.is_busy()


def test_a_load_that_ends_after_the_settings_changed_or_after_shutdown_queues_nothing(state, services, queue, factory, errors, qtbot):
    use(services, queue)
    factory.release.clear()
    assert queue.generate([first_shot(state)]) == []
    services.save_engine_settings(EngineSettings(engine="blocking"))
    queue.apply_engine_settings()
    [blocking_job] = queue.generate([first_shot(state)])  # the blocking engine is built at once
    with qtbot.waitSignal(state.error_reported, timeout=10_000) as reported:
        factory.release.set()
    assert reported.args == ["The engine settings changed while the diffusers engine was loading: nothing was queued"]
    assert [entry.job_id for entry in queue.entries()] == [blocking_job]

    use(services, queue, allow_network=True)
    factory.release.clear()
    assert queue.generate([first_shot(state)]) == []
    queue.shutdown()
    factory.release.set()
    assert services.pool.waitForDone(10_000)
    qtbot.wait(50)
    assert [entry.job_id for entry in queue.entries()] == [blocking_job] and len(errors) == 1


def test_the_stand_in_batches_variations_only_for_an_engine_that_renders_batches():
    class Batching:
        acceleration = SimpleNamespace(batch_variations=True)

        def __init__(self):
            self.calls = []

        def render(self, request, context):
            self.calls.append([request.seed])
            return FrameResult(Image.new("RGB", (8, 8)), request)

        def render_batch(self, requests, context):
            self.calls.append([request.seed for request in requests])
            return [FrameResult(Image.new("RGB", (8, 8)), request) for request in requests]

    engine = Batching()
    holder = SimpleNamespace(current={"diffusers": engine})
    stand_in = _StandIn("diffusers", holder)
    one = FrameRequest(64, 64, engine="diffusers", model="m", seed=1)
    assert stand_in.batchable(one, one.variation(1)) and not stand_in.batchable(one, replace(one, steps=3))
    runner = JobRunner({"diffusers": stand_in})
    with runner.holding():
        jobs = [runner.submit(one.variation(i)) for i in range(4)]
    assert all(job.wait(10) for job in jobs)
    runner.shutdown()
    assert engine.calls == [[1, 2, 3, 4]]
    engine.acceleration.batch_variations = False
    assert not stand_in.batchable(one, one.variation(1))
    holder.current = {"diffusers": SimpleNamespace(render=engine.render)}  # an engine without batches
    assert not stand_in.batchable(one, one.variation(1))
