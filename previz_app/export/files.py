"""Output files that are either all there or not changed at all."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()  # read once, at import: os.umask cannot be read without setting it


class ExportError(ValueError):
    """An export could not be written; the message says why and what to do."""


@contextmanager
def staged_output(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write the output to. When the block ends
    normally the file is synced and renamed over `path`; on any error (cancel, full
    disk) it is removed and an existing file at `path` is left as it was.

    OSError from the folder or the disk is raised as ExportError naming the file."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp made it private to its owner; an export is for the crew to share.
        os.chmod(temporary, 0o666 & ~UMASK)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full; free some space and export again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied; choose a folder you can write to"
    return exc.strerror or str(exc)
