"""Write transactions that wait for a busy database instead of failing at once."""

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
