"""Recording takes on a thread of its own, over a connection of its own, so the thread
that edits (the GUI) never waits for a commit's fsync. Takes that arrive together are
written in one transaction."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..domain.vocabulary import TakeKind
from .folder import ProjectFolder
from .takes import record_take
from .transaction import write_transaction

logger = logging.getLogger(__name__)
BATCH = 200
LOCK_PATIENCE_S = 30.0
RETRY_S = 0.25
BUSY_MS = 1000


@dataclass(frozen=True)
class PendingTake:
    """A take whose PNG is already in the media store; `token` is the caller's."""

    token: int
    shot_id: int
    kind: TakeKind
    digest: str
    size: int
    recipe: str = "{}"
    parent_id: int | None = None


# (token, take id or None, error message or "")
Recorded = Callable[[list[tuple[int, int | None, str]]], None]


class TakeWriter:
    """`submit` from any thread; `on_recorded` hears each batch's outcome on the
    writer's thread. `close` writes what is pending, then stops."""

    def __init__(self, folder: ProjectFolder, on_recorded: Recorded) -> None:
        self._folder, self._on_recorded = folder, on_recorded
        self._queue: queue.Queue[PendingTake | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="previz-take-writer", daemon=True)
        self._thread.start()

    def submit(self, take: PendingTake) -> None:
        self._queue.put(take)

    def close(self, timeout: float | None = LOCK_PATIENCE_S + 10) -> bool:
        """Write what is pending and stop; False if the thread is still busy after
        `timeout` (it goes on, and reports, on its own)."""
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        try:
            db = self._folder.connect()
            db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")  # it retries on its own, patiently
        except sqlite3.Error as exc:
            self._refuse_all(f"cannot open the project to record takes: {exc}")
            return
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                while len(batch) < BATCH and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                stopping = None in batch
                takes = [take for take in batch if take is not None]
                if takes:
                    try:
                        results = self._write_patiently(db, takes)
                    except Exception as exc:  # noqa: BLE001 - a bug must not end the thread silently
                        logger.exception("take writer failed")
                        results = [(take.token, None, str(exc)) for take in takes]
                    self._tell(results)
        finally:
            db.close()

    def _write_patiently(self, db, takes: list[PendingTake]) -> list[tuple[int, int | None, str]]:
        """Write `takes`, waiting out another writer (a CLI run, an import) holding the
        project for up to LOCK_PATIENCE_S."""
        deadline = time.monotonic() + LOCK_PATIENCE_S
        while True:
            try:
                return self._write(db, takes)
            except sqlite3.OperationalError as exc:
                if time.monotonic() > deadline:
                    return [(take.token, None, f"the project stayed locked by another program: {exc}") for take in takes]
                time.sleep(RETRY_S)

    def _write(self, db, takes: list[PendingTake]) -> list[tuple[int, int | None, str]]:
        """One transaction; a take that cannot be kept (its shot deleted meanwhile) is
        split off so it does not cost the others. A locked project raises."""
        try:
            with write_transaction(db):
                return [(take.token, self._record(db, take), "") for take in takes]
        except sqlite3.OperationalError as exc:
            if _locked(exc):
                raise
            if len(takes) == 1:
                return [(takes[0].token, None, str(exc))]
            return [result for take in takes for result in self._write(db, [take])]
        except (ValueError, sqlite3.Error) as exc:
            if len(takes) == 1:
                return [(takes[0].token, None, str(exc))]
            return [result for take in takes for result in self._write(db, [take])]

    def _refuse_all(self, reason: str) -> None:
        while (take := self._queue.get()) is not None:
            self._tell([(take.token, None, reason)])

    @staticmethod
    def _record(db, take: PendingTake) -> int:
        return record_take(db, take.shot_id, take.kind, take.digest, take.size, take.recipe, take.parent_id)

    def _tell(self, results: list[tuple[int, int | None, str]]) -> None:
        try:
            self._on_recorded(results)
        except Exception:  # noqa: BLE001 - a listener bug must not stop the writer
            logger.exception("take writer listener failed")


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)
