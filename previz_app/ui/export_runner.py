"""Running an export (animatic, boards, shot list, pitch deck) off the GUI thread: one at
a time, on a thread and a database connection of its own, with progress and cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, Signal
from sqlite_utils import Database

from ..animatic.export import export_animatic
from ..engine.base import Cancelled
from ..store import ProjectFolder
from ..store.media import MediaStore
from .workers import BackgroundTask, TaskControl, run_in_background, wait_for_tasks

CLOSE_WAIT_MS = 30_000


class ExportFunction(Protocol):
    """The shape every export of the non-UI layers has: `export_X(db, media, request,
    progress, cancelled) -> report`; it raises `Cancelled` (leaving no output) once
    `cancelled()` says so, and anything else for a failure the user should read."""

    def __call__(
        self,
        db: Database,
        media: MediaStore,
        request: Any,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Any: ...


class ExportRunner(QObject):
    """Runs one export at a time on a thread of its own (it takes minutes; the shared
    pool stays free for thumbnails and imports), with its own database connection.
    Exactly one of `succeeded`, `failed`, `cancelled` follows a start, then `ended`; a
    start refused because an export is running gets `failed` alone, and an export let
    go by `cancel_and_wait` gets none. `request` is the request of the latest start,
    so a view sharing the runner can tell its own export's signals from another's."""

    started = Signal()
    progressed = Signal(int, int)  # steps done, steps in all
    succeeded = Signal(object)  # the export's report
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, folder: ProjectFolder, export: ExportFunction = export_animatic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder, self._export = folder, export
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._task: BackgroundTask | None = None
        self.request: Any = None

    def is_running(self) -> bool:
        return self._task is not None and self._task.running

    def start(self, request: Any, export: ExportFunction | None = None) -> bool:
        """Start exporting `request` with `export` (default: the runner's own export
        function); False (and `failed`) when an export is running."""
        if self.is_running():
            self.failed.emit("An export is already running; wait for it or cancel it first")
            return False
        folder, export = self.folder, export or self._export

        def work(control: TaskControl) -> Any:
            if control.cancelled:
                raise Cancelled()  # cancelled before it began: the project may be closed
            db = folder.connect()
            try:
                # The exports report a few times a second at most: few queued events.
                return export(db, folder.media, request, control.progress, lambda: control.cancelled)
            finally:
                db.close()

        self.request = request
        self._task = run_in_background(self.pool, work, self._on_succeeded, self._on_failed, parent=self)
        self._task.progressed.connect(self.progressed)
        self._task.ended.connect(self.ended)
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def cancel_and_wait(self, timeout_ms: int = CLOSE_WAIT_MS) -> bool:
        """Cancel a running export and wait, deaf to user input, until its result is in
        and its thread has let go of the project (the project is closing). True when
        nothing is left running. False when the export did not stop in time: it is let
        go to end on its own (it touches only its own connection and the output
        files), and nothing here waits for it or hears from it again."""
        if self._task is None:
            return True
        self._task.cancel()
        deadline = time.monotonic() + timeout_ms / 1000
        if wait_for_tasks([self._task], timeout_ms) and self.pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000))):
            return True
        self._let_go()
        return False

    def _let_go(self) -> None:
        # ~QThreadPool waits for its runnable: deleting this runner (or a gc of its
        # pool) would freeze the GUI until the export noticed the cancel. The
        # application holds the pool, and the task that says when the thread is done,
        # until then.
        task, pool = self._task, self.pool
        self._task = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        holder = QCoreApplication.instance()
        pool.setParent(holder)
        if not task.running:  # its result is in; its thread is a moment from done
            pool.deleteLater()
            return
        for signal in (task.progressed, task.succeeded, task.failed, task.ended):
            signal.disconnect()
        task.setParent(holder)
        task.ended.connect(pool.deleteLater)

    def _on_succeeded(self, report: Any) -> None:
        self.succeeded.emit(report)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(str(exc) or type(exc).__name__)
