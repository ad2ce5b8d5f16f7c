"""The job runner: a priority queue feeding one worker thread (one GPU), no Qt.

Every job ends in exactly one final state. A failed job carries its error and the
queue goes on. Listener callbacks run on the worker thread; a UI forwards them to
its own thread, and the thread that owns the database writes the results.

Variations batch: when the engine of the job taken next has `render_batch`, up to
three more queued jobs of the same priority whose requests differ from it only in
seed run with it in one call (four images cost far less than four calls on a GPU).
Each job of a batch keeps its own events, result and final state.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from PIL import Image

from .base import Cancelled, Engine, EngineError, FrameResult, RenderContext
from .request import FrameRequest

logger = logging.getLogger(__name__)

MAX_BATCH = 4  # jobs in one batched call: the leader and up to three variations of it


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    finished = "finished"
    failed = "failed"
    cancelled = "cancelled"


FINAL = frozenset({JobState.finished, JobState.failed, JobState.cancelled})


@dataclass(eq=False)
class Job:
    """One frame to render. `tag` is the caller's (say, the shot it belongs to)."""

    id: int
    request: FrameRequest
    priority: int = 0
    tag: Any = None
    state: JobState = JobState.queued
    error: str = ""
    result: FrameResult | None = None
    step: int = 0
    total: int = 0
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float | None = None) -> bool:
        return self.done_event.wait(timeout)


class JobListener(Protocol):
    def job_changed(self, job: Job) -> None: ...
    def job_progress(self, job: Job, step: int, total: int) -> None: ...
    def job_preview(self, job: Job, image: Image.Image) -> None: ...


class _Silent:
    def job_changed(self, job: Job) -> None:
        pass

    def job_progress(self, job: Job, step: int, total: int) -> None:
        pass

    def job_preview(self, job: Job, image: Image.Image) -> None:
        pass


class JobRunner:
    """Runs jobs one at a time (or one batch of variations at a time), highest
    priority first, then in submission order."""

    def __init__(
        self,
        engines: Mapping[str, Engine],
        media: Callable[[str], bytes] | None = None,
        listener: JobListener | None = None,
    ) -> None:
        self._engines = dict(engines)
        self._media = media
        self._listener = listener or _Silent()
        self._queue: list[tuple[int, int, Job]] = []
        # Queued jobs of batching engines by request-but-seed, in submission order;
        # emptied lazily, like the heap.
        self._variations: dict[Hashable, list[Job]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._stopping = False
        self._held = 0  # callers inside `holding()`
        self._running: list[Job] = []
        self._running_cancel = threading.Event()  # the running render's; set when no job wants it
        self._thread = threading.Thread(target=self._work, name="previz-engine", daemon=True)
        self._thread.start()

    def submit(self, request: FrameRequest, priority: int = 0, tag: Any = None) -> Job:
        """Queue `request`. Raises ValueError for an engine this runner lacks and
        RuntimeError once the runner has been shut down."""
        if request.engine not in self._engines:
            raise ValueError(f"no engine named {request.engine!r}; available: {', '.join(sorted(self._engines))}")
        with self._lock:
            if self._stopping:
                raise RuntimeError("the job runner has been shut down")
            job = Job(next(self._ids), request, priority, tag)
        # Told before the worker can see it, so "queued" always comes first; told
        # outside the lock, so a listener may call back into the runner.
        self._tell("job_changed", job)
        with self._lock:
            ended = self._stopping and self._settle(job, JobState.cancelled)
            if not ended:
                heapq.heappush(self._queue, (-job.priority, job.id, job))
                if _batches(self._engines[request.engine]):
                    self._variations.setdefault(_variation_key(request), []).append(job)
                self._lock.notify()
        if ended:
            self._announce_end(job)
        return job

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Keep the worker from taking a new job while the caller queues several, so
        variations queued together are batched together. A running job runs on."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                self._lock.notify()

    def cancel(self, job: Job) -> None:
        """Cancel a queued job now, or a running one at its next step. A job of a running
        batch ends alone; the batch stops only when every job of it is cancelled."""
        job.cancel_event.set()
        with self._lock:
            # Its heap entry stays behind; the worker skips entries of jobs no longer queued.
            ended = job.state is JobState.queued and self._settle(job, JobState.cancelled)
            if ended:
                self._forget_variation(job)
            if job in self._running and all(j.cancel_event.is_set() for j in self._running):
                self._running_cancel.set()
        if ended:
            self._announce_end(job)

    def prioritize(self, job: Job) -> bool:
        """Send a queued job to the front of the queue; False if it is no longer queued."""
        with self._lock:
            if job.state is not JobState.queued:
                return False
            self._drop_stale_top()
            if self._queue and self._queue[0][2] is not job:
                # A new entry, not a rebuilt heap: the old one surfaces after the job has left.
                job.priority = max(job.priority, -self._queue[0][0] + 1)
                heapq.heappush(self._queue, (-job.priority, job.id, job))
        return True

    def cancel_all(self) -> None:
        """Cancel every queued job now (one pass) and the running ones at their next step."""
        with self._lock:
            cancelled = [job for _, _, job in self._queue if job.state is JobState.queued]
            self._queue.clear()
            self._variations.clear()
            for job in cancelled:
                job.cancel_event.set()
            cancelled = [job for job in cancelled if self._settle(job, JobState.cancelled)]
            running = list(self._running)
        for job in cancelled:
            self._announce_end(job)
        for job in running:
            self.cancel(job)

    def shutdown(self, cancel: bool = True, timeout: float | None = None) -> None:
        """Stop taking jobs; cancel what is left (or let it finish) and join the worker."""
        if cancel:
            self.cancel_all()
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            with self._lock:
                while True:
                    while (not self._queue or self._held) and not self._stopping:
                        self._lock.wait()
                    if not self._queue:
                        return
                    entry = heapq.heappop(self._queue)
                    if _is_current(entry):
                        break
                jobs = [entry[2], *self._take_variations(entry[2])]
                for job in jobs:
                    job.state = JobState.running
                self._running = jobs
                self._running_cancel = jobs[0].cancel_event if len(jobs) == 1 else threading.Event()
            for job in jobs:
                self._tell("job_changed", job)
            try:
                if len(jobs) == 1:
                    self._run(jobs[0])
                else:
                    self._run_batch(jobs)
            finally:
                with self._lock:
                    self._running = []

    def _take_variations(self, leader: Job) -> list[Job]:
        """Up to MAX_BATCH - 1 queued jobs to render with `leader` in one call: the first,
        in queue order, of its priority whose requests differ from its only in seed and
        that its engine agrees to batch. The caller holds the lock."""
        engine = self._engines[leader.request.engine]
        if not _batches(engine):
            return []
        key = _variation_key(leader.request)
        queued = [job for job in self._variations.get(key, ()) if job.state is JobState.queued and job is not leader]
        if queued:
            self._variations[key] = queued
        else:
            self._variations.pop(key, None)
        agrees = getattr(engine, "batchable", None)
        taken: list[Job] = []
        for job in queued:
            if len(taken) == MAX_BATCH - 1:
                break
            # Same priority only: a variation never overtakes a more urgent job.
            if job.priority == leader.priority and _agrees(agrees, leader.request, job.request):
                taken.append(job)
        return taken

    def _forget_variation(self, job: Job) -> None:
        """Drop a job that left the queue from its variations list. The caller holds the lock."""
        key = _variation_key(job.request)
        variations = self._variations.get(key)
        if variations is not None and job in variations:
            variations.remove(job)
            if not variations:
                del self._variations[key]

    def _run(self, job: Job) -> None:
        def progress(step: int, total: int) -> None:
            job.step, job.total = step, total
            self._tell("job_progress", job, step, total)

        context = RenderContext(
            on_progress=progress,
            on_preview=lambda image: self._tell("job_preview", job, image),
            cancel_event=job.cancel_event,
        )
        if self._media is not None:
            context.media = self._media
        try:
            context.check_cancelled()
            result = self._engines[job.request.engine].render(job.request, context)
        except Cancelled:
            self._end(job, JobState.cancelled)
        except BaseException as exc:  # noqa: BLE001 - a failed job must not stop the queue
            self._end(job, JobState.failed, error=str(exc) or type(exc).__name__)
        else:
            self._end(job, JobState.finished, result)

    def _run_batch(self, jobs: list[Job]) -> None:
        """Render `jobs` in one `render_batch` call. A job cancelled meanwhile ends at the
        next step on its own; the call is cancelled once every job is."""

        def wanted() -> list[Job]:
            for job in jobs:
                if job.cancel_event.is_set():
                    self._end(job, JobState.cancelled)
            return [job for job in jobs if job.state is JobState.running]

        def progress(step: int, total: int) -> None:
            for job in wanted():
                job.step, job.total = step, total
                self._tell("job_progress", job, step, total)

        def preview(image: Image.Image | Sequence[Image.Image]) -> None:
            # One picture for the whole batch, or one per request in request order.
            images = list(image) if isinstance(image, list | tuple) else [image] * len(jobs)
            for job, picture in zip(jobs, images, strict=False):
                if job.state is JobState.running and not job.cancel_event.is_set():
                    self._tell("job_preview", job, picture)

        context = RenderContext(on_progress=progress, on_preview=preview, cancel_event=self._running_cancel)
        if self._media is not None:
            context.media = self._media
        engine = self._engines[jobs[0].request.engine]
        try:
            context.check_cancelled()
            results = list(engine.render_batch([job.request for job in jobs], context))
            if len(results) != len(jobs):
                raise EngineError(f"the engine made {len(results)} frames for a batch of {len(jobs)}")
        except Cancelled:
            for job in jobs:
                self._end(job, JobState.cancelled)
        except BaseException as exc:  # noqa: BLE001 - a failed batch must not stop the queue
            for job in jobs:
                self._end(job, JobState.failed, error=str(exc) or type(exc).__name__)
        else:
            for job, result in zip(jobs, results, strict=True):
                cancelled = job.cancel_event.is_set()
                self._end(job, JobState.cancelled if cancelled else JobState.finished, None if cancelled else result)

    def _end(self, job: Job, state: JobState, result: FrameResult | None = None, error: str = "") -> None:
        """Give `job` its final state with its result or error, unless it has one already."""
        with self._lock:
            settled = job.state not in FINAL
            if settled:
                job.result, job.error = result, error
                self._settle(job, state)
        if settled:
            self._announce_end(job)

    def _settle(self, job: Job, state: JobState) -> bool:
        """Give `job` its final state; False if it has one already. The caller holds the lock."""
        if job.state in FINAL:
            return False
        job.state = state
        return True

    def _announce_end(self, job: Job) -> None:
        """Tell the listener a job ended, outside the lock, then wake its waiters."""
        try:
            self._tell("job_changed", job)
        finally:
            job.done_event.set()

    def _drop_stale_top(self) -> None:
        """Pop the entries of jobs no longer queued off the top. The caller holds the lock."""
        while self._queue and not _is_current(self._queue[0]):
            heapq.heappop(self._queue)

    def _tell(self, event: str, *args: object) -> None:
        """Call the listener; its failure is logged, never the queue's end."""
        try:
            getattr(self._listener, event)(*args)
        except Exception:  # noqa: BLE001 - a listener bug must not stop the worker
            logger.exception("job listener failed in %s", event)


def _is_current(entry: tuple[int, int, Job]) -> bool:
    """Whether a heap entry still stands for a queued job. Cancel leaves entries behind
    instead of rebuilding the heap, and so does prioritize: a job's new entry has a
    higher priority than its old ones, so those surface only after it has left the queue."""
    return entry[2].state is JobState.queued


def _batches(engine: Engine) -> bool:
    """Whether `engine` renders variations in one call: it has `render_batch`, and its
    acceleration settings, if it has any, leave `batch_variations` on."""
    if not callable(getattr(engine, "render_batch", None)):
        return False
    return bool(getattr(getattr(engine, "acceleration", None), "batch_variations", True))


def _variation_key(request: FrameRequest) -> Hashable:
    """What variations of one request share: everything but the seed."""
    return replace(request, seed=0)


def _agrees(batchable: Callable[[FrameRequest, FrameRequest], bool] | None, a: FrameRequest, b: FrameRequest) -> bool:
    """The engine's own say on batching `a` with `b` (say, only txt2img); yes without one."""
    if batchable is None:
        return True
    try:
        return bool(batchable(a, b))
    except Exception:  # a doubtful pair renders alone; the queue goes on
        logger.exception("the engine could not tell whether two requests batch")
        return False
