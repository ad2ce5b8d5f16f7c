"""Writing a text file so that it is either all there or not changed at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()  # read once, at import: os.umask cannot be read without setting it


def publish(path: Path) -> None:
    """Give a finished output the permissions a newly made file or folder gets:
    tempfile made it private to its owner, and a crew shares what an export writes."""
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~UMASK)


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` (UTF-8, `\\n` line ends) to `path`: a temporary file beside it, synced,
    then renamed over it. On any error the temporary file is removed and an existing
    file at `path` is left as it was."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        publish(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
