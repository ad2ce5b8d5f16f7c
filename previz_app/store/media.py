"""Content-addressed media: every file stored once under its SHA-256 name."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database

from .errors import MediaWriteError


class MediaStore:
    """Files under `root/ab/abcdef...`, written atomically: temp file, fsync, rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store `data`; return its SHA-256 hex digest. Idempotent.

        Raises MediaWriteError (nothing partial is left behind) when the disk is
        full or the folder is not writable.
        """
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        tmp_name = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
            tmp_name = None
            _fsync_dir(target.parent)
        except OSError as exc:
            raise MediaWriteError(f"cannot write media file {target.name}: {exc.strerror or exc}") from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
        return digest

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def add_media(db: Database, media: MediaStore, data: bytes, mime: str = "", original_name: str = "") -> str:
    """Store a file's bytes and record them in the `media` table; return the hash.

    The file is written before the row, so a row never points at a missing file.
    """
    digest = media.put(data)
    record_media(db, digest, len(data), mime, original_name)
    return digest


def record_media(db: Database, digest: str, size: int, mime: str = "", original_name: str = "") -> None:
    """Record a file already written with `MediaStore.put` (on any thread) in the `media` table."""
    db["media"].insert(
        {
            "hash": digest,
            "size": size,
            "mime": mime,
            "original_name": original_name,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        ignore=True,
    )
