"""Remember what each model file was, so a second scan opens only files that changed.

The cache is one JSON file: {"version": 1, "entries": {path: {size, mtime_ns, kind,
family, control, source, name, error}}}. An entry is trusted only while the file's
size and modification time are unchanged. A damaged cache is dropped and rebuilt:
it only ever saves time, so it must never cost a scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from previz_app.engine.discovery.entry import Family, ModelEntry, ModelKind

CACHE_VERSION = 1
HASH_CHUNK_BYTES = 1 << 20


class ScanCache:
    """Model entries keyed by path, valid for one (size, mtime_ns) of the file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._entries: dict[str, dict] = _load(self.path)
        self._dirty = False

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, path: str, size: int, mtime_ns: int) -> ModelEntry | None:
        """The entry stored for `path`, or None when there is none or the file's size
        or modification time has changed since."""
        record = self._entries.get(path)
        if record is None or record.get("size") != size or record.get("mtime_ns") != mtime_ns:
            return None
        try:
            return ModelEntry(
                path=path,
                kind=ModelKind(record["kind"]),
                family=Family(record["family"]),
                control=str(record.get("control", "")),
                source=str(record.get("source", "folder")),
                size=size,
                mtime_ns=mtime_ns,
                name=str(record.get("name", "")),
                error=str(record.get("error", "")),
            )
        except (KeyError, ValueError, TypeError):  # written by another version
            return None

    def put(self, entry: ModelEntry) -> None:
        """Store `entry` under its path, replacing what was there."""
        record = asdict(entry)
        del record["path"]
        record["kind"] = entry.kind.value
        record["family"] = entry.family.value
        self._entries[entry.path] = record
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (a temporary file in the same folder, then
        os.replace), creating the folder if needed. Does nothing when unchanged.
        Raises OSError when the folder cannot be written."""
        if not self._dirty:
            return
        write_json_atomic(self.path, {"version": CACHE_VERSION, "entries": self._entries})
        self._dirty = False


def write_json_atomic(path: Path, value: object) -> None:
    """Write JSON through a temporary file in the same folder and os.replace, so a
    crash or a full disk leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(value, file, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _load(path: Path) -> dict[str, dict]:
    """The entries of the cache at `path`; empty when it is missing or damaged."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
        return {}
    entries = document.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {
        str(key): record
        for key, record in entries.items()
        if isinstance(record, dict)
        and isinstance(record.get("size"), int)
        and isinstance(record.get("mtime_ns"), int)
    }


def file_hash(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of the file at `path` as hex, read in 1 MiB chunks so a 20 GB
    checkpoint never sits in memory. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
