"""The generation queue's engine side: the engines of the newest settings and the
families of the models asked for, got without stalling the GUI thread, and what the
engine's worker thread runs for the queue (the stand-ins, the job listener).

The blocking engine is built at once. The diffusers engine imports torch and diffusers
(seconds) and checking a model can read a whole pickle or ask the hub, so that work
runs in the thread pool and what waited on it continues on the GUI thread afterwards.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..engine.base import Engine, EngineError, FrameResult, RenderContext
from ..engine.engines import ENGINE_NAMES
from ..engine.frames import BLOCKING_WIDTH, TRAINED_SIDE, frame_size, write_frame
from ..engine.jobs import Job, JobState
from ..engine.request import FrameRequest
from ..store.errors import MediaWriteError
from ..store.media import MediaStore
from .images import qimage_from_pil
from .services import EngineSettings, Services
from .workers import TaskControl, run_in_background

DEFAULT_FAMILY = "sd1"  # an engine that cannot tell (no `check`) gets SD1's frame size
PREVIEW_WIDTH = 192  # twice the row thumbnail, for HiDPI screens; a finished row keeps its preview
T = TypeVar("T")


def engines_key(choice: EngineSettings) -> tuple:
    """What decides the engines `choice` is rendered with; steps, guidance and the
    model do not (a model is loaded by the engine when a job asks for it)."""
    if choice.engine == "blocking":
        return ("blocking",)
    return (choice.engine, choice.device, choice.allow_network, choice.allow_pickle)


def library_key(services: Services) -> tuple:
    """What the diffusers engine borrows from the library: configs and TAESD decoders."""
    library = services.library()
    return (tuple(sorted(library.configs().items())), tuple(sorted(library.previews().items())))


class EngineUnusable(Exception):
    """An engine that would not start or a model it refused, worded for the user."""


@dataclass(frozen=True)
class _Prepared:
    engines: dict[str, Engine] | None  # None: the ones already built were used
    library: tuple | None
    family: str | None


class QueueEngines(QObject):
    """The engines of the newest settings, behind one stand-in per engine name: the
    runner keeps the stand-ins, so one runner (one GPU thread, one sequence of job ids)
    outlives settings changes and a job renders with the engines current when it starts.
    """

    status_changed = Signal(str)  # "" when nothing is loading

    def __init__(self, services: Services, report_error: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services, self._report_error = services, report_error
        self.current: Mapping[str, Engine] = {}
        self._built: tuple | None = None  # engines_key of `current`; None: build on next use
        self._library: tuple | None = None  # library_key `current` was built with (diffusers only)
        self._families: dict[str, str] = {}
        self._waiting: dict[tuple, list[Callable[[], object]]] = {}
        self._status: dict[tuple, str] = {}
        self._closed = False

    def stand_ins(self) -> dict[str, Engine]:
        """One engine per name for the runner, rendering with whichever is current."""
        return {name: _StandIn(name, self) for name in ENGINE_NAMES}

    def frame_size(self, choice: EngineSettings, aspect: float) -> tuple[int, int]:
        """The blocking engine's HD width, or the area `choice.model` was trained on
        (known once `when_ready` asked for it)."""
        if choice.engine == "blocking":
            return frame_size(aspect, width=BLOCKING_WIDTH)
        family = self._families.get(choice.model, DEFAULT_FAMILY)
        return frame_size(aspect, side=TRAINED_SIDE.get(family, TRAINED_SIDE[DEFAULT_FAMILY]))

    def status(self) -> str:
        """What is loading now, for the user ("" for nothing)."""
        return next(reversed(self._status.values()), "")

    def when_ready(self, choice: EngineSettings, then: Callable[[], T], check_model: bool = False) -> T | None:
        """Run `then()` once the engines for `choice` are built (and, with `check_model`,
        the family of a diffusion model is known): now, returning its value, when nothing
        has to be loaded (the blocking engine, engines and model seen before); otherwise
        from a background task, on the GUI thread, returning None. Requests for the same
        work share one task. A failure goes to `report_error`; `then` is not called."""
        key = engines_key(choice)
        model = choice.model if check_model and choice.engine != "blocking" else ""
        if key != self._built and choice.engine == "blocking":
            try:
                self._install(key, dict(self._services.engines(choice)), None)
            except (EngineError, ValueError, OSError, ImportError) as exc:
                self._report_error(f"The {choice.engine} engine could not start: {exc}")
                return None
        if key == self._built and model and model not in self._families:
            if getattr(self.current.get(choice.engine), "check", None) is None:
                self._families[model] = DEFAULT_FAMILY  # nothing to ask: no wait
        if key == self._built and (not model or model in self._families):
            return then()
        work = (key, model)
        if work in self._waiting:
            self._waiting[work].append(then)
            return None
        self._waiting[work] = [then]
        engines = dict(self.current) if key == self._built else None
        name = Path(model).name or model
        self._set_status(work, f"Loading the {choice.engine} engine…" if engines is None else f"Checking the model {name}…")
        run_in_background(
            self._services.pool, functools.partial(_prepare, self._services, choice, engines, model),
            functools.partial(self._on_prepared, choice, work), functools.partial(self._on_failed, work), parent=self,
        )
        return None

    def settings_applied(self, choice: EngineSettings) -> None:
        """The user saved new settings: engines are rebuilt only when what decides them
        changed (engine, device, network, pickles, or the library's configs and decoders)."""
        if engines_key(choice) == self._built and self._library is not None and library_key(self._services) != self._library:
            self._built = None

    def close(self) -> None:
        """What waits is dropped when its load ends; a load is not waited for."""
        self._closed = True

    def _install(self, key: tuple, engines: dict[str, Engine], library: tuple | None) -> None:
        self.current, self._built, self._library = engines, key, library
        self._families.clear()

    def _on_prepared(self, choice: EngineSettings, work: tuple, prepared: _Prepared) -> None:
        waiting = self._finish(work)
        if self._closed:
            return
        key, model = work
        if key != self._built:
            # Settings that changed meanwhile win: a build for older ones is not installed.
            if prepared.engines is None or key != engines_key(self._services.engine_settings()):
                self._report_error(f"The engine settings changed while the {choice.engine} engine was loading: nothing was queued")
                return
            self._install(key, prepared.engines, prepared.library)
        if model and prepared.family is not None:
            self._families[model] = prepared.family
        for then in waiting:
            then()

    def _on_failed(self, work: tuple, exc: BaseException) -> None:
        self._finish(work)
        if not self._closed:
            self._report_error(str(exc) if isinstance(exc, EngineUnusable) else f"The engine could not be prepared: {exc}")

    def _finish(self, work: tuple) -> list[Callable[[], object]]:
        self._status.pop(work, None)
        self.status_changed.emit(self.status())
        return self._waiting.pop(work, [])

    def _set_status(self, work: tuple, text: str) -> None:
        self._status[work] = text
        self.status_changed.emit(text)


def _prepare(services: Services, choice: EngineSettings, engines: dict[str, Engine] | None, model: str, _control: TaskControl) -> _Prepared:
    """In a pool thread: build the engines (unless given) and ask `model`'s family."""
    built = library = family = None
    if engines is None:
        try:
            built = engines = dict(services.engines(choice))
            library = library_key(services)
        except (EngineError, ValueError, OSError, ImportError) as exc:
            raise EngineUnusable(f"The {choice.engine} engine could not start: {exc}") from exc
    check = getattr(engines.get(choice.engine), "check", None)
    if model and check is None:
        family = DEFAULT_FAMILY
    elif model:
        try:
            family = str(check(model))  # headers and JSON, or a whole pickle, or the hub
        except (EngineError, ValueError, OSError) as exc:
            raise EngineUnusable(f"The model {model} cannot be used: {exc}") from exc
    return _Prepared(built, library, family)


class _StandIn:
    def __init__(self, name: str, engines: QueueEngines) -> None:
        self.name, self._engines = name, engines

    def render(self, request: FrameRequest, context: RenderContext) -> FrameResult:
        return self._engine().render(request, context)

    def render_batch(self, requests: list[FrameRequest], context: RenderContext) -> list[FrameResult]:
        return self._engine().render_batch(requests, context)

    def batchable(self, a: FrameRequest, b: FrameRequest) -> bool:
        """Whether the engine chosen now renders `a` and `b` in one call (variations)."""
        engine = self._engines.current.get(self.name)
        if not callable(getattr(engine, "render_batch", None)):
            return False
        acceleration = getattr(engine, "acceleration", None)
        return getattr(acceleration, "batch_variations", True) and replace(a, seed=b.seed) == b

    def _engine(self):
        engine = self._engines.current.get(self.name)
        if engine is None:
            raise EngineError(f"the {self.name} engine is not chosen in Engine settings")
        return engine


class WorkerListener:
    """The runner's listener. Runs on the worker thread (and, for a job cancelled while
    queued, on the thread that cancelled it); passes small values on to `changed(job id,
    state, error, WrittenFrame or None)`, `progress(job id, step, total)` and
    `preview(job id)` (then `take_preview`), queued signals to the GUI thread."""

    def __init__(self, media: MediaStore, changed: Callable, progress: Callable, preview: Callable) -> None:
        self._media, self._changed, self._progress, self._preview = media, changed, progress, preview
        self._lock = threading.Lock()
        self._previews: dict[int, QImage] = {}

    def job_changed(self, job: Job) -> None:
        if job.state is JobState.queued:
            return  # every entry starts queued; 2,000 signals saying so would only cost time
        state, error, written = job.state, job.error, None
        if state is JobState.finished and job.result is not None:
            try:
                written = write_frame(self._media, job.result)
            except (MediaWriteError, OSError, ValueError) as exc:
                state, error = JobState.failed, f"the frame could not be saved: {exc}"
            finally:
                job.result = None  # the PNG holds it now; free the image
        self._changed(job.id, str(state), error, written)

    def job_progress(self, job: Job, step: int, total: int) -> None:
        self._progress(job.id, step, total)

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
            self._preview(job.id)

    def take_preview(self, job_id: int) -> QImage | None:
        with self._lock:
            return self._previews.pop(job_id, None)
