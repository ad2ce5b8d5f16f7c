"""The job runner, driven by scripted engines (no GPU, no model)."""

import threading

import pytest
from PIL import Image

from previz_app.engine.base import EngineError, FrameResult
from previz_app.engine.jobs import JobRunner, JobState
from previz_app.engine.request import FrameRequest


class StepEngine:
    """Renders in `steps` steps; can block on a gate, fail, or report previews."""

    name = "steps"

    def __init__(self, steps=4, gate=None, fail_on=None):
        self.steps, self.gate, self.fail_on = steps, gate, fail_on
        self.order = []
        self.step_reached = threading.Event()

    def render(self, request, context):
        self.order.append(request.prompt)
        if request.prompt == self.fail_on:
            raise EngineError(f"cannot draw {request.prompt}")
        for step in range(self.steps):
            context.check_cancelled()
            context.on_progress(step + 1, self.steps)
            context.on_preview(Image.new("RGB", (8, 8), (step, 0, 0)))
            self.step_reached.set()
            if self.gate is not None:
                self.gate.wait(5)
        return FrameResult(Image.new("RGB", (request.width, request.height)), request)


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
            self.previews.setdefault(job.id, []).append(image.size)


def request(prompt):
    return FrameRequest(16, 16, engine="steps", prompt=prompt)


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


def test_jobs_run_by_priority_then_in_order_and_report_each_step(make_runner):
    gate = threading.Event()
    engine, recorder = StepEngine(gate=gate), Recorder()
    runner = make_runner(engine, recorder)
    first = runner.submit(request("first"))
    assert engine.step_reached.wait(5)  # the worker is busy with the first job
    jobs = [runner.submit(request("low")), runner.submit(request("urgent"), priority=5), runner.submit(request("low2"))]
    gate.set()
    for job in [first, *jobs]:
        assert job.wait(5) and job.state is JobState.finished
    assert engine.order == ["first", "urgent", "low", "low2"]
    assert recorder.progress[first.id] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert recorder.previews[first.id] == [(8, 8)] * 4
    assert recorder.states[first.id] == [JobState.queued, JobState.running, JobState.finished]
    assert first.result.image.size == (16, 16)


def test_prioritize_sends_a_queued_job_to_the_front(make_runner):
    gate = threading.Event()
    engine = StepEngine(gate=gate)
    runner = make_runner(engine)
    first = runner.submit(request("first"))
    assert engine.step_reached.wait(5)
    a, b, c = runner.submit(request("a")), runner.submit(request("b"), priority=3), runner.submit(request("c"))
    assert runner.prioritize(c) and not runner.prioritize(first)
    gate.set()
    for job in (first, a, b, c):
        assert job.wait(5) and job.state is JobState.finished
    assert engine.order == ["first", "c", "b", "a"]
    assert not runner.prioritize(c)


def test_a_failed_job_carries_its_error_and_the_queue_goes_on(make_runner):
    runner = make_runner(StepEngine(fail_on="bad"))
    bad, good = runner.submit(request("bad")), runner.submit(request("good"))
    assert good.wait(5) and bad.wait(5)
    assert bad.state is JobState.failed and bad.error == "cannot draw bad" and bad.result is None
    assert good.state is JobState.finished


class BrokenListener(Recorder):
    """Records, then raises, as a buggy UI slot might."""

    def job_changed(self, job):
        super().job_changed(job)
        raise RuntimeError("listener bug")

    def job_progress(self, job, step, total):
        raise RuntimeError("listener bug")


def test_a_failing_listener_neither_stops_the_worker_nor_hides_the_end(make_runner):
    listener = BrokenListener()
    runner = make_runner(StepEngine(), listener)
    jobs = [runner.submit(request("one")), runner.submit(request("two"))]
    for job in jobs:
        assert job.wait(5) and job.state is JobState.finished
        assert listener.states[job.id] == [JobState.queued, JobState.running, JobState.finished]


def test_cancel_stops_a_running_job_within_one_step(make_runner):
    gate = threading.Event()
    engine, recorder = StepEngine(steps=50, gate=gate), Recorder()
    runner = make_runner(engine, recorder)
    job = runner.submit(request("long"))
    assert engine.step_reached.wait(5)
    runner.cancel(job)
    gate.set()
    assert job.wait(5) and job.state is JobState.cancelled
    assert len(recorder.progress[job.id]) <= 2
    assert recorder.states[job.id] == [JobState.queued, JobState.running, JobState.cancelled]


def test_cancelling_a_queued_job_ends_it_at_once_and_never_runs_it(make_runner):
    gate = threading.Event()
    engine, recorder = StepEngine(gate=gate), Recorder()
    runner = make_runner(engine, recorder)
    busy = runner.submit(request("busy"))
    assert engine.step_reached.wait(5)
    queued = runner.submit(request("queued"))
    runner.cancel(queued)
    assert queued.state is JobState.cancelled and queued.done_event.is_set()
    runner.cancel(queued)  # twice is harmless: still one final state
    gate.set()
    assert busy.wait(5) and busy.state is JobState.finished
    assert "queued" not in engine.order
    assert recorder.states[queued.id] == [JobState.queued, JobState.cancelled]


def test_cancel_all_and_shutdown_leave_every_job_in_one_final_state(make_runner):
    gate = threading.Event()
    engine, recorder = StepEngine(steps=20, gate=gate), Recorder()
    runner = make_runner(engine, recorder)
    jobs = [runner.submit(request(f"job{i}")) for i in range(5)]
    assert engine.step_reached.wait(5)
    runner.cancel_all()
    gate.set()
    runner.shutdown(timeout=5)
    assert all(job.done_event.is_set() and job.state is JobState.cancelled for job in jobs)
    assert all(sum(state in (JobState.finished, JobState.failed, JobState.cancelled) for state in recorder.states[job.id]) == 1 for job in jobs)
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit(request("late"))


def test_unknown_engine_is_refused_at_submit(make_runner):
    runner = make_runner(StepEngine())
    with pytest.raises(ValueError, match="no engine named 'diffusers'; available: steps"):
        runner.submit(FrameRequest(16, 16, engine="diffusers"))


def test_cancel_all_ends_thousands_of_queued_jobs_once_each_and_tells_outside_the_lock(make_runner):
    gate = threading.Event()
    engine = StepEngine(steps=20, gate=gate)

    class Waiting(Recorder):
        """On each cancellation, waits for another thread that uses the runner: it
        would hang if the runner still held its lock while telling."""

        def job_changed(self, job):
            super().job_changed(job)
            if job.state is JobState.cancelled and job is jobs[1]:
                other = threading.Thread(target=runner.prioritize, args=(jobs[2],))
                other.start()
                other.join(2)
                self.other_finished = not other.is_alive()

    recorder = Waiting()
    runner = make_runner(engine, recorder)
    jobs = [runner.submit(request(f"job{i}")) for i in range(2000)]
    assert engine.step_reached.wait(5)
    runner.cancel_all()
    assert all(job.state is JobState.cancelled for job in jobs[1:]) and recorder.other_finished
    gate.set()
    assert jobs[0].wait(5) and jobs[0].state is JobState.cancelled
    final = {JobState.finished, JobState.failed, JobState.cancelled}
    assert all([s for s in recorder.states[job.id] if s in final] == [JobState.cancelled] for job in jobs)
    assert engine.order == ["job0"]
    late = runner.submit(request("late"))  # the queue goes on after a cancel_all
    assert late.wait(5) and late.state is JobState.finished


def test_jobs_sent_to_front_or_cancelled_run_once_in_the_new_order(make_runner):
    gate = threading.Event()
    engine, recorder = StepEngine(gate=gate), Recorder()
    runner = make_runner(engine, recorder)
    first = runner.submit(request("first"))
    assert engine.step_reached.wait(5)
    a, b, c, d = (runner.submit(request(name)) for name in "abcd")
    for job in (c, d, a, d):  # d twice: its older place in the queue must not run it again
        assert runner.prioritize(job)
    runner.cancel(c)
    assert not runner.prioritize(c)
    gate.set()
    for job in (first, a, b, c, d):
        assert job.wait(5)
    assert engine.order == ["first", "d", "a", "b"]
    assert c.state is JobState.cancelled and recorder.states[c.id] == [JobState.queued, JobState.cancelled]
