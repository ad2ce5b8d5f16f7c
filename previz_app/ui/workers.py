"""Work off the GUI thread: a task runs in a thread pool and reports back through
signals, which Qt delivers on the GUI thread (as anki's `operations` do)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal

logger = logging.getLogger(__name__)
RELEASE_DELAY_MS = 1000


class TaskControl:
    """What a task's function gets: `progress(done, total)` and a cancel flag."""

    def __init__(self, task: BackgroundTask) -> None:
        self._task = task
        self.cancel_event = threading.Event()

    def progress(self, done: int, total: int) -> None:
        self._task._progress_from_pool.emit(done, total)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


class BackgroundTask(QObject):
    """One function run in a pool thread. Exactly one of `succeeded(result)`,
    `failed(exception)` follows, then `ended()`; all are delivered on the GUI thread."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    ended = Signal()
    # Emitted in the pool thread; queued to this object, which lives on the GUI
    # thread, so plain Python callables connected to the public signals run there.
    _progress_from_pool = Signal(int, int)
    _result_from_pool = Signal(bool, object)

    def __init__(self, fn: Callable[[TaskControl], Any], parent: QObject) -> None:
        # The parent keeps the task alive until its result is delivered; then it lets go.
        super().__init__(parent)
        self._fn = fn
        self.control = TaskControl(self)
        self.running = False
        queued = Qt.ConnectionType.QueuedConnection
        self._progress_from_pool.connect(self.progressed, queued)
        self._result_from_pool.connect(self._on_result, queued)

    def start(self, pool: QThreadPool) -> BackgroundTask:
        self.running = True
        pool.start(_Runnable(self))
        return self

    def cancel(self) -> None:
        self.control.cancel_event.set()

    def _run(self) -> None:
        try:
            outcome = (True, self._fn(self.control))
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never lost in a pool thread
            logger.debug("background task failed", exc_info=True)
            outcome = (False, exc)
        try:
            self._result_from_pool.emit(*outcome)
        except RuntimeError:
            # The window that started the task closed meanwhile: nobody is listening.
            logger.info("background task ended after its window closed")

    def _on_result(self, ok: bool, value: object) -> None:
        self.running = False
        try:
            (self.succeeded if ok else self.failed).emit(value)
        finally:
            self.ended.emit()
            self.setParent(None)
            # Held on this thread a moment past the pool thread's own last reference (it
            # is returning from the emit that brought us here): were that one the last,
            # shiboken 6.11 would hand the deletion to this thread through a pending call
            # that crashes (Shiboken::BindingManager::runDeletionInMainThread).
            QTimer.singleShot(RELEASE_DELAY_MS, lambda task=self: None)


class _Runnable(QRunnable):
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task._run()


def run_in_background(
    pool: QThreadPool,
    fn: Callable[[TaskControl], Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    parent: QObject,
) -> BackgroundTask:
    """Run `fn(control)` in `pool`; call `on_success(result)` or `on_failure(exc)` on the
    GUI thread. `parent` (a window) holds the task while it runs."""
    task = BackgroundTask(fn, parent)
    if on_success is not None:
        task.succeeded.connect(on_success)
    if on_failure is not None:
        task.failed.connect(on_failure)
    return task.start(pool)


def wait_for_tasks(tasks: list[BackgroundTask], timeout_ms: int) -> bool:
    """Run a local event loop, deaf to user input, until every task in `tasks` has
    delivered its result (or `timeout_ms` passed); for work that must land before a
    project closes. True when all ended."""
    waiting = {task for task in tasks if task.running}
    if not waiting:
        return True
    loop, timer = QEventLoop(), QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)

    def ended(task: BackgroundTask) -> None:
        waiting.discard(task)
        if not waiting:
            loop.quit()

    slots = {task: (lambda task=task: ended(task)) for task in waiting}
    for task, slot in slots.items():
        task.ended.connect(slot)
    timer.start(timeout_ms)
    loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    timer.stop()
    for task, slot in slots.items():
        task.ended.disconnect(slot)
    return not waiting
