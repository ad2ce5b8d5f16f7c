"""Write transactions that wait for a busy database instead of failing at once, and
read snapshots that see one state of it however many queries they run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Commit everything in the block, or nothing.

    BEGIN IMMEDIATE takes the write lock up front, so a second writer (another
    window, a CLI run) waits up to the connection's busy_timeout rather than failing
    half-way. Nested blocks become savepoints.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise


@contextmanager
def read_snapshot(db: Database) -> Iterator[Database]:
    """Every query in the block sees the same state of the project.

    In WAL mode a read transaction keeps its snapshot until it ends, so another
    connection (the app's GUI thread, a CLI run) can commit meanwhile without the
    block seeing half of it. Inside a transaction already, that one's view is used.
    Nothing written in the block is kept: it ends in ROLLBACK.
    """
    if db.conn.in_transaction:
        yield db
        return
    db.conn.execute("BEGIN")
    try:
        yield db
    finally:
        db.conn.execute("ROLLBACK")
