"""The generation queue: the engine's job runner seen from the GUI thread.

The runner's listener (`WorkerListener`) does the slow part of a job's end on the
engine's worker thread (the PNG encode and media write, the preview downscale) and
hands small values over to the GUI thread through queued signals; only the GUI thread
touches anything a view reads, and the take writer records finished frames
(`state.record_frame_later`). `QueueEngines` builds engines and checks models, in the
background when that is slow.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, replace

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QImage

from ..domain.model import Take
from ..engine.frames import WrittenFrame, frame_request, shot_context, shot_contexts
from ..engine.jobs import FINAL, Job, JobRunner, JobState
from ..engine.request import FrameRequest, Mode
from ..store import takes
from .queue_engines import QueueEngines, WorkerListener
from .services import EngineSettings, Services
from .state import ProjectState

SHUTDOWN_WAIT_S = 10.0  # a render checks for cancel every step; a stuck one is left to die with the process
CHOOSE_MODEL = "Choose a model in Engine settings"
REFINE_NEEDS_DIFFUSERS = "Refine needs the diffusers engine: choose a model in Engine settings"
SHUT_DOWN = "The generation queue has been shut down"
UNFINISHED = (JobState.queued, JobState.running)


@dataclass
class QueueEntry:
    """One job as a view shows it. Owned and updated by the queue on the GUI thread."""

    job_id: int
    shot_id: int
    label: str
    state: JobState = JobState.queued
    step: int = 0
    total: int = 0
    error: str = ""
    preview: QImage | None = None
    parent_take_id: int | None = None
    take_id: int | None = None

    @property
    def ended(self) -> bool:
        return self.state in FINAL


@dataclass
class _Tracked:
    job: Job
    entry: QueueEntry
    priority: int


@dataclass(frozen=True)
class _Order:
    """One job to submit."""

    request: FrameRequest
    shot_id: int
    label: str
    parent_take_id: int | None
    priority: int = 0


class GenerationQueue(QObject):
    """Frames for shots, made by the engines the settings choose, one job at a time.

    Ids are the runner's job ids. Errors a user can act on go to `state.report_error`.
    `generate`, `refine`, `regenerate` and `retry` return the new job ids when they
    queue at once; when the engine has to load or the model to be checked first
    (`status_changed` says so), they return nothing and the jobs are queued, and
    announced by `jobs_added`, once that is done.
    """

    jobs_added = Signal(list)  # ids, in submission order: one signal for each request
    job_changed = Signal(int)  # state or position changed
    job_progress = Signal(int, int, int)  # job id, step, total
    job_preview = Signal(int)
    jobs_removed = Signal(list)  # ids forgotten by clear_finished or retry
    frame_kept = Signal(int, int)  # shot id, take id
    busy_changed = Signal(bool)
    status_changed = Signal(str)  # what is loading ("Loading the diffusers engine…"), "" for nothing

    # From the worker thread, queued to this object on the GUI thread.
    _changed_from_worker = Signal(int, str, str, object)
    _progress_from_worker = Signal(int, int, int)
    _preview_from_worker = Signal(int)

    def __init__(self, state: ProjectState, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state, self._services = state, services
        self._engines = QueueEngines(services, state.report_error, self)
        self._engines.status_changed.connect(self.status_changed)
        self._listener = WorkerListener(
            state.folder.media, self._changed_from_worker.emit, self._progress_from_worker.emit, self._preview_from_worker.emit
        )
        self._runner: JobRunner | None = None
        self._jobs: dict[int, _Tracked] = {}
        self._counts: Counter[JobState] = Counter()
        self._busy = False
        self._closed = False
        queued = Qt.ConnectionType.QueuedConnection
        self._changed_from_worker.connect(self._on_changed_from_worker, queued)
        self._progress_from_worker.connect(self._on_progress_from_worker, queued)
        self._preview_from_worker.connect(self._on_preview_from_worker, queued)

    # -- asking for frames ------------------------------------------------------------

    def generate(self, shot_ids: list[int], variations: int = 1) -> list[int]:
        """txt2img for every shot, `variations` seeds each; the new job ids (see above)."""
        if variations < 1:
            self._state.report_error(f"Variations must be at least 1, got {variations}")
            return []
        choice = self._services.engine_settings()
        if not self._can_queue(choice):
            return []
        shot_ids = list(shot_ids)
        try:
            contexts = shot_contexts(self._state.folder, shot_ids)  # one read for the lot
        except ValueError as exc:
            self._state.report_error(f"Cannot generate frames: {exc}")
            return []

        def submit() -> list[int]:
            size = self._engines.frame_size(choice, self._state.project().aspect_ratio)
            orders = []
            for shot_id, context in zip(shot_ids, contexts):
                request = frame_request(context, choice.engine, choice.model, size, steps=choice.steps, guidance=choice.guidance)
                for i in range(variations):
                    orders.append(_Order(request.variation(i), shot_id, f"{context.shot.number} · v{i + 1} · {choice.engine}", None))
            return self._submit(orders)

        return self._engines.when_ready(choice, submit, check_model=True) or []

    def refine(self, take_id: int, variations: int = 1) -> list[int]:
        """img2img from a take's image with the chosen model; the new takes' parent is it."""
        choice = self._services.engine_settings()
        if choice.engine == "blocking":
            self._state.report_error(REFINE_NEEDS_DIFFUSERS)
            return []
        take = self._take(take_id, "refined")
        if take is None or not self._can_queue(choice):
            return []
        try:
            context = shot_context(self._state.folder, take.shot_id)
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be refined: {exc}")
            return []

        def submit() -> list[int]:
            size = self._engines.frame_size(choice, self._state.project().aspect_ratio)
            request = frame_request(context, choice.engine, choice.model, size, steps=choice.steps, guidance=choice.guidance)
            request = replace(request, mode=Mode.img2img, init_image=take.media_hash, strength=choice.strength)
            return self._submit([
                _Order(request.variation(i), take.shot_id, f"{context.shot.number} · refine {i + 1} · {choice.engine}", take_id)
                for i in range(variations)
            ])

        return self._engines.when_ready(choice, submit, check_model=True) or []

    def regenerate(self, take_id: int) -> list[int]:
        """The take's own recipe again (same seed, model, size); the new take's parent is it."""
        take = self._take(take_id, "generated again")
        if take is None:
            return []
        try:
            request = FrameRequest.from_json(take.recipe)
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be generated again: {exc}")
            return []
        if not self._can_queue(None):
            return []
        try:
            number = self._state.shot(take.shot_id).number
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be generated again: {exc}")
            return []
        order = _Order(request, take.shot_id, f"{number} · again · {request.engine}", take_id)
        return self._engines.when_ready(self._services.engine_settings(), lambda: self._submit([order])) or []

    # -- managing jobs ----------------------------------------------------------------

    def cancel(self, job_id: int) -> None:
        """Cancel a queued job now, a running one at its next step."""
        tracked = self._jobs.get(job_id)
        if tracked is not None and self._runner is not None:
            self._runner.cancel(tracked.job)

    def retry(self, job_id: int) -> int | None:
        """Submit a failed or cancelled job again (same request, priority and parent);
        the old entry is forgotten. The new job id, or None (see above)."""
        ids = self.retry_many([job_id])
        return ids[0] if ids else None

    def retry_many(self, job_ids: list[int]) -> list[int]:
        """`retry` for each of `job_ids` that failed or was cancelled, as one request."""
        retried = [self._jobs[job_id] for job_id in job_ids if job_id in self._jobs]
        retried = [tracked for tracked in retried if tracked.entry.state in (JobState.failed, JobState.cancelled)]
        if not retried or not self._can_queue(None):
            return []

        def submit() -> list[int]:
            still = [tracked for tracked in retried if self._jobs.get(tracked.entry.job_id) is tracked]
            orders = [_Order(t.job.request, t.entry.shot_id, t.entry.label, t.entry.parent_take_id, t.priority) for t in still]
            ids = self._submit(orders)
            self._forget([tracked.entry.job_id for tracked in still[: len(ids)]])
            return ids

        return self._engines.when_ready(self._services.engine_settings(), submit) or []

    def send_to_front(self, job_id: int) -> bool:
        """Make a queued job the next to run; False if it is no longer queued."""
        tracked = self._jobs.get(job_id)
        if tracked is None or self._runner is None or not self._runner.prioritize(tracked.job):
            return False
        self.job_changed.emit(job_id)
        return True

    def cancel_all(self) -> None:
        if self._runner is not None:
            self._runner.cancel_all()

    def clear_finished(self) -> None:
        """Forget every entry that has ended."""
        self._forget([job_id for job_id, tracked in self._jobs.items() if tracked.entry.ended])

    def shutdown(self) -> None:
        """Cancel everything and join the worker; what it reported is applied before
        this returns: a frame that finished is handed to the take writer, which
        `state.close()` flushes. An engine still loading is not waited for. Safe twice."""
        if self._closed:
            return
        self._closed = True
        self._engines.close()
        if self._runner is not None:
            self._runner.shutdown(cancel=True, timeout=SHUTDOWN_WAIT_S)
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)

    def apply_engine_settings(self) -> None:
        """Use the saved settings from now on. The engines are rebuilt, on the next
        request, only when what decides them changed (engine, device, network, pickles,
        the library's configs): a step count alone keeps a loaded pipeline. The one
        runner stays; a job that has not started when new engines are built renders
        with them (its request keeps model, steps, seed)."""
        self._engines.settings_applied(self._services.engine_settings())

    # -- reading ----------------------------------------------------------------------

    def entries(self) -> list[QueueEntry]:
        """Running first, then queued (priority, then submission), then ended."""
        return [tracked.entry for tracked in sorted(self._jobs.values(), key=_display_key)]

    def entry(self, job_id: int) -> QueueEntry | None:
        tracked = self._jobs.get(job_id)
        return None if tracked is None else tracked.entry

    def counts(self) -> dict[JobState, int]:
        """How many entries are in each state."""
        return {state: self._counts[state] for state in JobState}

    def is_busy(self) -> bool:
        return self._busy

    def status(self) -> str:
        return self._engines.status()

    # -- inside -----------------------------------------------------------------------

    def _take(self, take_id: int, verb: str) -> Take | None:
        try:
            return takes.get_take(self._state.db, take_id)
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be {verb}: {exc}")
            return None

    def _can_queue(self, choice: EngineSettings | None) -> bool:
        """False (after reporting) once shut down, or when `choice` lacks a model it needs."""
        if choice is not None and choice.engine != "blocking" and not choice.model:
            self._state.report_error(CHOOSE_MODEL)
            return False
        if self._closed:
            self._state.report_error(SHUT_DOWN)
            return False
        return True

    def _submit(self, orders: list[_Order]) -> list[int]:
        """Queue `orders` in one go: one `jobs_added` for those that were queued."""
        if self._closed:
            self._state.report_error(SHUT_DOWN)
            return []
        missing = sorted({order.request.engine for order in orders} - set(self._engines.current))
        if missing:
            self._state.report_error(f"The {missing[0]} engine is not chosen: pick it in Engine settings")
            return []
        if self._runner is None:
            self._runner = JobRunner(self._engines.stand_ins(), media=self._state.folder.media.read, listener=self._listener)
        ids = []
        with self._runner.holding():  # variations queued together render as one batch
            for order in orders:
                try:
                    job = self._runner.submit(order.request, order.priority, tag=order.shot_id)
                except (ValueError, RuntimeError) as exc:
                    self._state.report_error(f"Cannot queue {order.label}: {exc}")
                    break
                entry = QueueEntry(job.id, order.shot_id, order.label, parent_take_id=order.parent_take_id)
                self._jobs[job.id] = _Tracked(job, entry, order.priority)
                ids.append(job.id)
        if ids:
            self._counts[JobState.queued] += len(ids)
            self.jobs_added.emit(ids)
            self._update_busy()
        return ids

    def _forget(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self._counts[self._jobs.pop(job_id).entry.state] -= 1
        if job_ids:
            self.jobs_removed.emit(job_ids)

    def _on_changed_from_worker(self, job_id: int, state: str, error: str, written: WrittenFrame | None) -> None:
        tracked = self._jobs.get(job_id)
        if tracked is None:
            return
        entry = tracked.entry
        self._counts[entry.state] -= 1
        entry.state, entry.error = JobState(state), error
        self._counts[entry.state] += 1
        if entry.state is JobState.finished and written is not None:
            done = functools.partial(self._on_frame_recorded, entry)
            self._state.record_frame_later(entry.shot_id, written, entry.parent_take_id, done)
        self.job_changed.emit(job_id)
        self._update_busy()

    def _on_frame_recorded(self, entry: QueueEntry, take_id: int | None) -> None:
        entry.take_id = take_id
        if take_id is None:
            entry.error = "the frame was made but could not be kept"  # the state reported why
        if entry.job_id in self._jobs:
            self.job_changed.emit(entry.job_id)
        if take_id is not None:
            self.frame_kept.emit(entry.shot_id, take_id)

    def _on_progress_from_worker(self, job_id: int, step: int, total: int) -> None:
        tracked = self._jobs.get(job_id)
        if tracked is None:
            return
        tracked.entry.step, tracked.entry.total = step, total
        self.job_progress.emit(job_id, step, total)

    def _on_preview_from_worker(self, job_id: int) -> None:
        preview = self._listener.take_preview(job_id)
        tracked = self._jobs.get(job_id)
        if tracked is None or preview is None:
            return
        tracked.entry.preview = preview
        self.job_preview.emit(job_id)

    def _update_busy(self) -> None:
        busy = any(self._counts[state] for state in UNFINISHED)
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def _display_key(tracked: _Tracked) -> tuple[int, int, int]:
    state = tracked.entry.state
    if state is JobState.running:
        return (0, 0, tracked.entry.job_id)
    if state is JobState.queued:
        return (1, -tracked.job.priority, tracked.entry.job_id)
    return (2, 0, tracked.entry.job_id)
