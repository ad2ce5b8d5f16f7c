"""Background work where only the newest request matters: a preview of options still
being changed, a list read again after each change to the project. A request waits a
moment for a newer one to replace it; one runs at a time, and the newest asked for
meanwhile starts when it ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, QTimer, Signal

from ..engine.base import Cancelled
from .workers import BackgroundTask, TaskControl, run_in_background, wait_for_tasks


class LatestTask(QObject):
    """Runs the newest of a stream of jobs off the GUI thread, in `pool`. `submit` starts
    a job `delay_ms` later unless a newer one replaces it first; while a job runs, the
    newest submitted waits for it to end. While paused (a hidden window) the newest job
    waits for `resume`. A job that is discarded, or ends in `Cancelled`, reports nothing.
    `finished` follows every job that ends, reported or not."""

    finished = Signal()

    def __init__(self, pool: QThreadPool, delay_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._job: tuple[Callable[[TaskControl], Any], Callable[[Any], None], Callable[[BaseException], None] | None] | None = None
        self._task: BackgroundTask | None = None
        self._generation = 0  # bumped by discard: outcomes of older jobs are dropped
        self._paused = False
        self._delay_ms = delay_ms
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)

    def submit(self, fn: Callable[[TaskControl], Any], on_success: Callable[[Any], None],
               on_failure: Callable[[BaseException], None] | None = None, delay_ms: int | None = None) -> None:
        """Run `fn(control)` in the pool after the delay (`delay_ms` for this one, else the
        default), then `on_success(result)` or `on_failure(exception)` on the GUI thread;
        a job submitted before it starts replaces it."""
        self._job = (fn, on_success, on_failure)
        if not self._paused:
            self._timer.start(self._delay_ms if delay_ms is None else delay_ms)

    def is_busy(self) -> bool:
        """Whether a job waits or runs."""
        return self._job is not None or self.is_running()

    def is_running(self) -> bool:
        return self._task is not None and self._task.running

    def pause(self) -> None:
        """Start nothing until `resume`; the newest job submitted meanwhile waits."""
        self._paused = True
        self._timer.stop()

    def resume(self) -> None:
        """Start the job that waited while paused, if any."""
        self._paused = False
        if self._job is not None:
            self._timer.start(0)

    def discard(self) -> None:
        """Drop the waiting job, and cancel the running one: neither reports."""
        self._job = None
        self._timer.stop()
        self._generation += 1
        if self._task is not None:
            self._task.cancel()

    def stop(self, timeout_ms: int = 0) -> bool:
        """Pause, discard, and wait up to `timeout_ms`, deaf to user input, for a job
        still running (the project is closing). True when none is left running."""
        self.pause()
        self.discard()
        if self._task is None or timeout_ms <= 0:
            return not self.is_running()
        return wait_for_tasks([self._task], timeout_ms)

    def _start(self) -> None:
        if self._paused or self._job is None or self.is_running():
            return  # a running job starts the newest when it ends
        (fn, on_success, on_failure), self._job = self._job, None
        generation = self._generation

        def work(control: TaskControl) -> Any:
            if control.cancelled:
                raise Cancelled()  # discarded before it began: the project may be closed
            return fn(control)

        def succeeded(result: Any) -> None:
            if shiboken6.isValid(self) and generation == self._generation:
                on_success(result)

        def failed(exc: BaseException) -> None:
            if (shiboken6.isValid(self) and generation == self._generation and not isinstance(exc, Cancelled)
                    and on_failure is not None):
                on_failure(exc)

        # The task belongs to the application, not to this object: a dialog deleted while
        # its preview renders (closed, then collected) would delete the task under the
        # worker thread that is about to report on it, and crash. It lets go when done.
        self._task = run_in_background(self.pool, work, succeeded, failed,
                                       parent=QCoreApplication.instance() or self)
        self._task.ended.connect(self._on_ended)

    def _on_ended(self) -> None:
        self._task = None
        self.finished.emit()
        if self._job is not None and not self._paused:
            self._start()
