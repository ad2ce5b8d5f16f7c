"""The job runner: a priority queue feeding one worker thread (one GPU), no Qt.

Every job ends in exactly one final state. A failed job carries its error and the
queue goes on. Listener callbacks run on the worker thread; a UI forwards them to
its own thread, and the thread that owns the database writes the results.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from PIL import Image

from .base import Cancelled, Engine, FrameResult, RenderContext
from .request import FrameRequest

logger = logging.getLogger(__name__)


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
    """Runs jobs one at a time, highest priority first, then in submission order."""

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
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._stopping = False
        self._running: Job | None = None
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
                self._lock.notify()
        if ended:
            self._announce_end(job)
        return job

    def cancel(self, job: Job) -> None:
        """Cancel a queued job now, or a running one at its next step."""
        job.cancel_event.set()
        with self._lock:
            # Its heap entry stays behind; the worker skips entries of jobs no longer queued.
            ended = job.state is JobState.queued and self._settle(job, JobState.cancelled)
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
        """Cancel every queued job now (one pass) and the running one at its next step."""
        with self._lock:
            cancelled = [job for _, _, job in self._queue if job.state is JobState.queued]
            self._queue.clear()
            for job in cancelled:
                job.cancel_event.set()
            cancelled = [job for job in cancelled if self._settle(job, JobState.cancelled)]
            running = self._running
        for job in cancelled:
            self._announce_end(job)
        if running is not None:
            self.cancel(running)

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
                    while not self._queue and not self._stopping:
                        self._lock.wait()
                    if not self._queue:
                        return
                    entry = heapq.heappop(self._queue)
                    if _is_current(entry):
                        break
                job = entry[2]
                self._running = job
                job.state = JobState.running
            self._tell("job_changed", job)
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running = None

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
            job.result = self._engines[job.request.engine].render(job.request, context)
        except Cancelled:
            self._end(job, JobState.cancelled)
        except BaseException as exc:  # noqa: BLE001 - a failed job must not stop the queue
            job.error = str(exc) or type(exc).__name__
            self._end(job, JobState.failed)
        else:
            self._end(job, JobState.finished)

    def _end(self, job: Job, state: JobState) -> None:
        with self._lock:
            settled = self._settle(job, state)
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
