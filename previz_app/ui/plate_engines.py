"""The engines the plate dialog generates environments with, and the one thread they
run on.

An environment takes minutes and a diffusion model gigabytes, so the engines are
built once for the settings in force and kept across generations (the diffusers
engine keeps its loaded model), and generations run one at a time on a thread of
their own, never on the shared pool the thumbnails and previews need.

They are not the generation queue's engines: the queue's runner (engine/jobs.py)
runs frame requests only and owns its worker thread, so an environment cannot be
queued there, and the diffusers engine is not safe to call from two threads at once.
So while the dialog is open with a diffusion model loaded, that model is held twice;
closing the dialog lets this copy go (`release`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np
from PySide6.QtCore import QCoreApplication, QThreadPool

from ..domain.wall import WallProfile
from ..engine.base import Cancelled, Engine, RenderContext
from ..export.plate_source import PlateGeneration, generate_source
from .queue_engines import engines_key, library_key
from .services import EngineSettings, Services
from .workers import BackgroundTask, TaskControl, run_in_background


class PlateEngines:
    """Engines for plate environments, cached by what decides them (`engines_key`, and
    for diffusion the library's configs and decoders), run one generation at a time in
    `pool`. `task` is the newest generation started."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._lock = threading.Lock()  # the cache is filled in the pool's thread, let go of on the GUI thread
        self._key: tuple | None = None
        self._engines: Mapping[str, Engine] | None = None
        self.builds = 0  # how many times engines were built: once per settings, not per click
        self.task: BackgroundTask | None = None
        self._closed = False
        # The application's, not the dialog's: a pool deleted with its dialog would
        # wait, on the GUI thread, for a model still loading. `close` lets it go.
        self.pool = QThreadPool(QCoreApplication.instance())
        self.pool.setMaxThreadCount(1)

    def generate(self, choice: EngineSettings, wall: WallProfile, generation: PlateGeneration) -> BackgroundTask:
        """Start making `generation`'s environment for `wall` with the engines for
        `choice`; the task's `succeeded` gets the pixels (uint8, H × W × 3). Cancel is
        looked at once the engines are there, once the model is checked, and then
        wherever the engine looks (every step, window and tile)."""

        def work(control: TaskControl) -> np.ndarray:
            engines = self.engines(choice)  # a diffusion model is loaded the first time only
            _stop_if_cancelled(control)
            engine = engines.get(generation.engine)
            check = getattr(engine, "check", None) if generation.engine != "blocking" else None
            if check is not None:
                check(generation.model)  # headers only: a model that cannot be used says so before the work
                _stop_if_cancelled(control)
            context = RenderContext(on_progress=control.progress, cancel_event=control.cancel_event)
            return generate_source(engines, wall, generation, context)

        # The task belongs to the application (as LatestTask's do): the dialog may be
        # deleted while the engine still paints.
        self.task = run_in_background(self.pool, work, parent=QCoreApplication.instance())
        return self.task

    def engines(self, choice: EngineSettings) -> Mapping[str, Engine]:
        """The engines for `choice`: those kept, when built for the same key, else new
        ones (the old ones let go of first, so two models never load side by side).
        Runs in the pool's thread. Raises what building them raises."""
        key = engines_key(choice)
        if choice.engine != "blocking":
            key += library_key(self._services)
        with self._lock:
            if self._engines is not None and self._key == key:
                return self._engines
            self._key = self._engines = None
        built = dict(self._services.engines(choice))
        with self._lock:
            self._key, self._engines = key, built
            self.builds += 1
        return built

    def is_generating(self) -> bool:
        return self.task is not None and self.task.running

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def release(self) -> None:
        """Let the kept engines go (a generation running keeps its own until it ends):
        the next generation builds them again."""
        with self._lock:
            self._key = self._engines = None

    def close(self) -> None:
        """Cancel a generation, let the engines go and delete the pool once its thread
        is done: the dialog is going. Once is enough; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        self.cancel()
        self.release()
        if self.is_generating():
            self.task.ended.connect(self.pool.deleteLater)
        else:
            self.pool.deleteLater()


def _stop_if_cancelled(control: TaskControl) -> None:
    if control.cancelled:
        raise Cancelled("generation cancelled")
