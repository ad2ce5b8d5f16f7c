"""The user's model library: the folders they added, the last scan, and what the
diffusers engine borrows from it (configs for single files, TAESD for previews).

It lives in one folder (`library_dir`): `folders.json` lists added folders,
`scan-cache.json` is the ScanCache, `models.json` the last scan's entries, `hashes.json`
the models' SHA-256 by path, size and mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from previz_app.engine.discovery.cache import ScanCache, file_hash, write_json_atomic
from previz_app.engine.discovery.entry import Family, ModelEntry, ModelKind
from previz_app.engine.discovery.scan import default_roots, scan


def library_dir(home: Path, environ: Mapping[str, str]) -> Path:
    """PREVIZ_HOME when set, else $XDG_DATA_HOME/previz, else ~/.local/share/previz."""
    if environ.get("PREVIZ_HOME"):
        return Path(environ["PREVIZ_HOME"]).expanduser()
    data = Path(environ["XDG_DATA_HOME"]) if environ.get("XDG_DATA_HOME") else home / ".local" / "share"
    return data / "previz"


def _read_json(path: Path, default: object) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


@dataclass(frozen=True)
class ModelLibrary:
    folder: Path
    home: Path
    environ: Mapping[str, str]

    @classmethod
    def for_user(cls, home: Path | None = None, environ: Mapping[str, str] | None = None) -> ModelLibrary:
        home = home or Path.home()
        environ = os.environ if environ is None else environ
        return cls(library_dir(home, environ), home, environ)

    def added_folders(self) -> list[Path]:
        listed = _read_json(self.folder / "folders.json", [])
        return [Path(p) for p in listed if isinstance(p, str)] if isinstance(listed, list) else []

    def forget(self, path: Path) -> None:
        """Stop scanning an added folder (its files stay where they are)."""
        path = Path(path).expanduser().absolute()
        write_json_atomic(self.folder / "folders.json", [str(p) for p in self.added_folders() if p != path])

    def roots(self) -> list[Path]:
        """Where a scan looks: the usual places that exist, then the added folders."""
        roots = default_roots(self.home, self.environ)
        return roots + [p for p in self.added_folders() if p not in roots]

    def scan(self, add: Iterable[Path] = ()) -> list[ModelEntry]:
        """Remember the folders in `add`, scan every root, keep the result."""
        added = self.added_folders()
        for path in add:
            path = Path(path).expanduser().absolute()
            if not path.exists():
                raise ValueError(f"{path} does not exist")
            if path not in added:
                added.append(path)
        write_json_atomic(self.folder / "folders.json", [str(p) for p in added])
        cache = ScanCache(self.folder / "scan-cache.json")
        entries = scan(self.roots(), cache)
        cache.save()
        write_json_atomic(self.folder / "models.json", [asdict(e) for e in entries])
        return entries

    def listed(self) -> list[ModelEntry] | None:
        """The last scan's entries; None before the first scan."""
        records = _read_json(self.folder / "models.json", None)
        if not isinstance(records, list):
            return None
        entries = []
        for record in records:
            try:
                entry = ModelEntry(**record)
                entries.append(replace(entry, kind=ModelKind(entry.kind), family=Family(entry.family)))
            except (TypeError, ValueError):
                continue
        return entries

    def configs(self) -> dict[str, str]:
        """Healthy diffusers folders that single files borrow configs from: a pipeline by
        family (`sd1`) and a ControlNet folder by `controlnet-` and family."""
        found: dict[str, str] = {}
        for entry in self.listed() or []:
            if entry.error or entry.family is Family.unknown:
                continue
            if entry.kind is ModelKind.pipeline:
                found.setdefault(entry.family.value, entry.path)
            elif entry.kind is ModelKind.controlnet and Path(entry.path).is_dir():
                found.setdefault(f"controlnet-{entry.family.value}", entry.path)
        return found

    def model_hash(self, model: str, announce: Callable[[str], None] | None = None) -> str:
        """SHA-256 of a model file, or of a diffusers folder's weights and configs (each
        file's hash, by relative path); "" for hub ids. Cached while no file changes, so
        only the first use of a multi-gigabyte model pays for reading it; `announce`
        hears the model's name just before that read."""
        path = Path(model).expanduser()
        if not path.exists():
            return ""
        key = str(path.absolute())
        fingerprint = [list(item) for item in _fingerprint(path)]
        known = _read_json(self.folder / "hashes.json", {})
        known = known if isinstance(known, dict) else {}
        record = known.get(key)
        if isinstance(record, dict) and record.get("files") == fingerprint and isinstance(record.get("sha256"), str):
            return record["sha256"]
        if announce is not None:
            announce(path.name)
        if path.is_file():
            digest = file_hash(path)
        else:
            combined = hashlib.sha256()
            for name, _size, _mtime in fingerprint:
                combined.update(f"{name}\0{file_hash(path / name)}\n".encode())
            digest = combined.hexdigest()
        known[key] = {"files": fingerprint, "sha256": digest}
        write_json_atomic(self.folder / "hashes.json", known)
        return digest

    def previews(self) -> dict[str, str]:
        """Family -> a TAESD decoder (a diffusers folder, or an original decoder file)."""
        found: dict[str, str] = {}
        for entry in self.listed() or []:
            usable = Path(entry.path).is_dir() or "decoder" in Path(entry.path).name
            if entry.kind is ModelKind.taesd and not entry.error and usable and entry.family is not Family.unknown:
                found.setdefault(entry.family.value, entry.path)
        return found


_HASHED_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".json", ".txt", ".model")


def _fingerprint(path: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime_ns) of the files whose bytes decide a model."""
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _HASHED_SUFFIXES and not p.name.startswith(".")
    )
    return [(f.relative_to(path).as_posix() if f != path else f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]

