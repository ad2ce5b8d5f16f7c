"""Recording takes on a thread of its own, over a connection of its own, so the thread
that edits (the GUI) never waits for a commit's fsync. Takes that arrive together are
written in one transaction."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..domain.vocabulary import TakeKind
from .folder import ProjectFolder
from .takes import record_take
from .transaction import write_transaction

logger = logging.getLogger(__name__)
BATCH = 200


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

    def close(self, timeout: float | None = None) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        db = self._folder.connect()
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                while len(batch) < BATCH and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                stopping = None in batch
                takes = [take for take in batch if take is not None]
                if takes:
                    self._tell(self._write(db, takes))
        finally:
            db.close()

    def _write(self, db, takes: list[PendingTake]) -> list[tuple[int, int | None, str]]:
        try:
            with write_transaction(db):
                return [(take.token, self._record(db, take), "") for take in takes]
        except (ValueError, sqlite3.Error) as exc:
            if len(takes) == 1:
                return [(takes[0].token, None, str(exc))]
            # One bad take (its shot deleted meanwhile) must not cost the others.
            return [result for take in takes for result in self._write(db, [take])]

    @staticmethod
    def _record(db, take: PendingTake) -> int:
        return record_take(db, take.shot_id, take.kind, take.digest, take.size, take.recipe, take.parent_id)

    def _tell(self, results: list[tuple[int, int | None, str]]) -> None:
        try:
            self._on_recorded(results)
        except Exception:  # noqa: BLE001 - a listener bug must not stop the writer
            logger.exception("take writer listener failed")
