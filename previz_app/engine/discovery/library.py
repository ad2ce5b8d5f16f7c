"""The user's model library: the folders they added, the last scan, and what the
diffusers engine borrows from it (configs for single files, TAESD for previews).

It lives in one folder (`library_dir`): `folders.json` lists added folders,
`scan-cache.json` is the ScanCache, `models.json` the last scan's entries.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from previz_app.engine.discovery.cache import ScanCache
from previz_app.engine.discovery.classify import classify
from previz_app.engine.discovery.diffusers_folder import is_pipeline, pipeline_entry
from previz_app.engine.discovery.entry import Family, ModelEntry, ModelFileError, ModelKind
from previz_app.engine.discovery.header import read_header
from previz_app.engine.discovery.scan import default_roots, scan


def library_dir(home: Path, environ: Mapping[str, str]) -> Path:
    """PREVIZ_HOME when set, else $XDG_DATA_HOME/previz, else ~/.local/share/previz."""
    if environ.get("PREVIZ_HOME"):
        return Path(environ["PREVIZ_HOME"]).expanduser()
    data = Path(environ["XDG_DATA_HOME"]) if environ.get("XDG_DATA_HOME") else home / ".local" / "share"
    return data / "previz"


def _write_json(path: Path, value: object) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(value, stream, indent=1)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
        _write_json(self.folder / "folders.json", [str(p) for p in added])
        cache = ScanCache(self.folder / "scan-cache.json")
        entries = scan(self.roots(), cache)
        cache.save()
        _write_json(self.folder / "models.json", [asdict(e) for e in entries])
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
        """Family -> a healthy diffusers pipeline folder that single files can borrow from."""
        found: dict[str, str] = {}
        for entry in self.listed() or []:
            if entry.kind is ModelKind.pipeline and not entry.error and entry.family is not Family.unknown:
                found.setdefault(entry.family.value, entry.path)
        return found

    def previews(self) -> dict[str, str]:
        """Family -> a TAESD decoder (a diffusers folder, or an original decoder file)."""
        found: dict[str, str] = {}
        for entry in self.listed() or []:
            usable = Path(entry.path).is_dir() or "decoder" in Path(entry.path).name
            if entry.kind is ModelKind.taesd and not entry.error and usable and entry.family is not Family.unknown:
                found.setdefault(entry.family.value, entry.path)
        return found


def model_family(model: str) -> Family:
    """What family a model path is, from its header or JSON; unknown for hub ids,
    pickles and anything unreadable (the engine reports those when it loads)."""
    path = Path(model).expanduser()
    try:
        if path.is_dir() and is_pipeline(path):
            return pipeline_entry(path, "folder", path.name).family
        if path.is_file() and path.suffix.lower() in (".safetensors", ".sft"):
            return classify(read_header(path), path.name).family
    except (OSError, ModelFileError):
        pass
    return Family.unknown
