"""The generation queue: the engine's job runner seen from the GUI thread.

The runner's listener is called on the engine's worker thread. It does the slow
part of a job's end there (the PNG encode and media write, the preview downscale)
and hands small values over to the GUI thread through queued signals; only the GUI
thread touches the database (`state.record_frame`) or anything a view reads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QImage

from ..domain.model import Take
from ..engine.base import Engine, EngineError, FrameResult, RenderContext
from ..engine.engines import ENGINE_NAMES
from ..engine.frames import BLOCKING_WIDTH, TRAINED_SIDE, WrittenFrame, frame_request, frame_size, shot_context, shot_contexts, write_frame
from ..engine.jobs import FINAL, Job, JobRunner, JobState
from ..engine.request import FrameRequest, Mode
from ..store import takes
from ..store.errors import MediaWriteError
from ..store.media import MediaStore
from .images import qimage_from_pil
from .services import EngineSettings, Services
from .state import ProjectState

PREVIEW_WIDTH = 192  # twice the row thumbnail, for HiDPI screens; a finished row keeps its preview
SHUTDOWN_WAIT_S = 10.0  # a render checks for cancel every step; a stuck one is left to die with the process
CHOOSE_MODEL = "Choose a model in Engine settings"
REFINE_NEEDS_DIFFUSERS = "Refine needs the diffusers engine: choose a model in Engine settings"
DEFAULT_FAMILY = "sd1"  # an engine that cannot tell (no `check`) gets SD1's frame size


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


class _EngineSwitch:
    """The engines of the newest settings, read by the worker thread when a job starts.

    The runner holds one stand-in per engine name instead of the engines themselves, so
    a single runner (one GPU thread, one sequence of job ids) outlives settings changes.
    """

    def __init__(self) -> None:
        self.current: Mapping[str, Engine] = {}

    def stand_ins(self) -> dict[str, Engine]:
        return {name: _StandIn(name, self) for name in ENGINE_NAMES}


class _StandIn:
    def __init__(self, name: str, switch: _EngineSwitch) -> None:
        self.name, self._switch = name, switch

    def render(self, request: FrameRequest, context: RenderContext) -> FrameResult:
        engine = self._switch.current.get(self.name)
        if engine is None:
            raise EngineError(f"the {self.name} engine is not chosen in Engine settings")
        return engine.render(request, context)


class _WorkerListener:
    """The runner's listener. Runs on the worker thread (and, for a job's queued and
    cancelled-while-queued states, on the thread that called the runner)."""

    def __init__(self, queue: GenerationQueue, media: MediaStore) -> None:
        self._queue, self._media = queue, media
        self._lock = threading.Lock()
        self._previews: dict[int, QImage] = {}

    def job_changed(self, job: Job) -> None:
        state, error, written = job.state, job.error, None
        if state is JobState.finished and job.result is not None:
            try:
                written = write_frame(self._media, job.result)
            except (MediaWriteError, OSError, ValueError) as exc:
                state, error = JobState.failed, f"the frame could not be saved: {exc}"
            finally:
                job.result = None  # the PNG holds it now; free the image
        self._queue._changed_from_worker.emit(job.id, str(state), error, written)

    def job_progress(self, job: Job, step: int, total: int) -> None:
        self._queue._progress_from_worker.emit(job.id, step, total)

    def job_preview(self, job: Job, image: Image.Image) -> None:
        if image.width > PREVIEW_WIDTH:
            height = max(1, round(image.height * PREVIEW_WIDTH / image.width))
            image = image.resize((PREVIEW_WIDTH, height), Image.Resampling.BILINEAR)
        small = qimage_from_pil(image)
        with self._lock:
            # Only the newest preview is kept; a signal is already on its way if one waits.
            waiting = job.id in self._previews
            self._previews[job.id] = small
        if not waiting:
            self._queue._preview_from_worker.emit(job.id)

    def take_preview(self, job_id: int) -> QImage | None:
        with self._lock:
            return self._previews.pop(job_id, None)


class GenerationQueue(QObject):
    """Frames for shots, made by the engines the settings choose, one job at a time.

    Ids are the runner's job ids. Errors a user can act on go to `state.report_error`.
    """

    job_added = Signal(int)
    job_changed = Signal(int)  # state or position changed
    job_progress = Signal(int, int, int)  # job id, step, total
    job_preview = Signal(int)
    jobs_removed = Signal(list)  # ids forgotten by clear_finished or retry
    frame_kept = Signal(int, int)  # shot id, take id
    busy_changed = Signal(bool)

    # From the worker thread, queued to this object on the GUI thread.
    _changed_from_worker = Signal(int, str, str, object)
    _progress_from_worker = Signal(int, int, int)
    _preview_from_worker = Signal(int)

    def __init__(self, state: ProjectState, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state, self._services = state, services
        self._switch = _EngineSwitch()
        self._engines_key: tuple | None = None
        self._families: dict[str, str] = {}
        self._listener = _WorkerListener(self, state.folder.media)
        self._runner: JobRunner | None = None
        self._jobs: dict[int, _Tracked] = {}
        self._busy = False
        self._closed = False
        queued = Qt.ConnectionType.QueuedConnection
        self._changed_from_worker.connect(self._on_changed_from_worker, queued)
        self._progress_from_worker.connect(self._on_progress_from_worker, queued)
        self._preview_from_worker.connect(self._on_preview_from_worker, queued)

    # -- asking for frames ------------------------------------------------------------

    def generate(self, shot_ids: list[int], variations: int = 1) -> list[int]:
        """txt2img for every shot, `variations` seeds each; the new job ids."""
        if variations < 1:
            self._state.report_error(f"Variations must be at least 1, got {variations}")
            return []
        choice = self._services.engine_settings()
        size = self._frame_size(choice)
        if size is None:
            return []
        try:
            contexts = shot_contexts(self._state.folder, list(shot_ids))  # one read for the lot
        except ValueError as exc:
            self._state.report_error(f"Cannot generate frames: {exc}")
            return []
        ids = []
        for shot_id, context in zip(shot_ids, contexts):
            request = frame_request(context, choice.engine, choice.model, size, steps=choice.steps, guidance=choice.guidance)
            for i in range(variations):
                label = f"{context.shot.number} · v{i + 1} · {choice.engine}"
                ids += self._submit(request.variation(i), shot_id, label, parent_take_id=None)
        return ids

    def refine(self, take_id: int, variations: int = 1) -> list[int]:
        """img2img from a take's image with the chosen model; the new takes' parent is it."""
        choice = self._services.engine_settings()
        if choice.engine == "blocking":
            self._state.report_error(REFINE_NEEDS_DIFFUSERS)
            return []
        take = self._take(take_id, "refined")
        if take is None:
            return []
        size = self._frame_size(choice)
        if size is None:
            return []
        try:
            context = shot_context(self._state.folder, take.shot_id)
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be refined: {exc}")
            return []
        request = frame_request(context, choice.engine, choice.model, size, steps=choice.steps, guidance=choice.guidance)
        request = replace(request, mode=Mode.img2img, init_image=take.media_hash, strength=choice.strength)
        ids = []
        for i in range(variations):
            label = f"{context.shot.number} · refine {i + 1} · {choice.engine}"
            ids += self._submit(request.variation(i), take.shot_id, label, parent_take_id=take_id)
        return ids

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
        if self._prepare_engines(self._services.engine_settings()) is None:
            return []
        try:
            number = self._state.shot(take.shot_id).number
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be generated again: {exc}")
            return []
        return self._submit(request, take.shot_id, f"{number} · again · {request.engine}", parent_take_id=take_id)

    # -- managing jobs ----------------------------------------------------------------

    def cancel(self, job_id: int) -> None:
        """Cancel a queued job now, a running one at its next step."""
        tracked = self._jobs.get(job_id)
        if tracked is not None and self._runner is not None:
            self._runner.cancel(tracked.job)

    def retry(self, job_id: int) -> int | None:
        """Submit a failed or cancelled job again (same request, priority and parent);
        the old entry is forgotten. The new job id, or None."""
        tracked = self._jobs.get(job_id)
        if tracked is None or tracked.entry.state not in (JobState.failed, JobState.cancelled):
            return None
        if self._prepare_engines(self._services.engine_settings()) is None:
            return None
        entry = tracked.entry
        ids = self._submit(tracked.job.request, entry.shot_id, entry.label, entry.parent_take_id, tracked.priority)
        if not ids:
            return None
        del self._jobs[job_id]
        self.jobs_removed.emit([job_id])
        return ids[0]

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
        ended = [job_id for job_id, tracked in self._jobs.items() if tracked.entry.ended]
        for job_id in ended:
            del self._jobs[job_id]
        if ended:
            self.jobs_removed.emit(ended)

    def shutdown(self) -> None:
        """Cancel everything and join the worker; what it reported is applied before
        this returns (a frame that finished is kept). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._runner is not None:
            self._runner.shutdown(cancel=True, timeout=SHUTDOWN_WAIT_S)
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)

    def apply_engine_settings(self) -> None:
        """Use the saved settings from now on: the engines are rebuilt on the next
        submit. The one runner stays; a job that has not started yet when the new
        engines are built renders with them (its request keeps model, steps, seed)."""
        self._engines_key = None
        self._families.clear()

    # -- reading ----------------------------------------------------------------------

    def entries(self) -> list[QueueEntry]:
        """Running first, then queued (priority, then submission), then ended."""
        return [tracked.entry for tracked in sorted(self._jobs.values(), key=_display_key)]

    def entry(self, job_id: int) -> QueueEntry | None:
        tracked = self._jobs.get(job_id)
        return None if tracked is None else tracked.entry

    def is_busy(self) -> bool:
        return self._busy

    # -- inside -----------------------------------------------------------------------

    def _take(self, take_id: int, verb: str) -> Take | None:
        try:
            return takes.get_take(self._state.db, take_id)
        except ValueError as exc:
            self._state.report_error(f"Take {take_id} cannot be {verb}: {exc}")
            return None

    def _frame_size(self, choice: EngineSettings) -> tuple[int, int] | None:
        """The frame size `choice` draws at: the blocking engine's HD width, or the area
        the model was trained on. None (after reporting) when nothing can be queued."""
        if choice.engine != "blocking" and not choice.model:
            self._state.report_error(CHOOSE_MODEL)
            return None
        engines = self._prepare_engines(choice)
        if engines is None:
            return None
        aspect = self._state.project().aspect_ratio
        if choice.engine == "blocking":
            return frame_size(aspect, width=BLOCKING_WIDTH)
        family = self._families.get(choice.model)
        check = getattr(engines.get(choice.engine), "check", None)
        if family is None and check is not None:
            try:
                family = str(check(choice.model))  # headers and JSON only; cached until settings change
            except (EngineError, ValueError, OSError) as exc:
                self._state.report_error(f"The model {choice.model} cannot be used: {exc}")
                return None
            self._families[choice.model] = family
        return frame_size(aspect, side=TRAINED_SIDE.get(family or DEFAULT_FAMILY, TRAINED_SIDE[DEFAULT_FAMILY]))

    def _prepare_engines(self, choice: EngineSettings) -> Mapping[str, Engine] | None:
        """The engines for `choice`, built when first needed or when the settings that
        decide them changed; the runner, built on first use. None after reporting."""
        if self._closed:
            self._state.report_error("The generation queue has been shut down")
            return None
        key = (choice.engine, choice.device, choice.allow_network, choice.allow_pickle)
        if key != self._engines_key:
            try:
                engines = dict(self._services.engines(choice))
            except (EngineError, ValueError, OSError, ImportError) as exc:
                self._state.report_error(f"The {choice.engine} engine could not start: {exc}")
                return None
            self._switch.current, self._engines_key = engines, key
            self._families.clear()
        if self._runner is None:
            self._runner = JobRunner(self._switch.stand_ins(), media=self._state.folder.media.read, listener=self._listener)
        return self._switch.current

    def _submit(self, request: FrameRequest, shot_id: int, label: str, parent_take_id: int | None, priority: int = 0) -> list[int]:
        if request.engine not in self._switch.current or self._runner is None:
            self._state.report_error(f"The {request.engine} engine is not chosen: pick it in Engine settings")
            return []
        try:
            job = self._runner.submit(request, priority, tag=shot_id)
        except (ValueError, RuntimeError) as exc:
            self._state.report_error(f"Cannot queue {label}: {exc}")
            return []
        entry = QueueEntry(job.id, shot_id, label, parent_take_id=parent_take_id)
        self._jobs[job.id] = _Tracked(job, entry, priority)
        self.job_added.emit(job.id)
        self._update_busy()
        return [job.id]

    def _on_changed_from_worker(self, job_id: int, state: str, error: str, written: WrittenFrame | None) -> None:
        tracked = self._jobs.get(job_id)
        if tracked is None:
            return
        entry = tracked.entry
        entry.state, entry.error = JobState(state), error
        kept = None
        if entry.state is JobState.finished and written is not None:
            kept = self._state.record_frame(entry.shot_id, written, entry.parent_take_id)
            entry.take_id = kept
            if kept is None:
                entry.error = "the frame was made but could not be kept"
        self.job_changed.emit(job_id)
        if kept is not None:
            self.frame_kept.emit(entry.shot_id, kept)
        self._update_busy()

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
        busy = any(not tracked.entry.ended for tracked in self._jobs.values())
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
