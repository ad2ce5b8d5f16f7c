"""Walk the folders where people keep models and list what is there.

Three layouts are recognised under a root: a Hugging Face hub cache
(`models--org--name/snapshots/<rev>/`), a ComfyUI models folder (`checkpoints`,
`loras`, ...) and an AUTOMATIC1111 one (`Stable-diffusion`, `Lora`, ...). Any other
folder is walked whole. Subfolder names only say where to look: what a file is comes
from its header (classify). Diffusers folders are one entry each; pickled weights
(.ckpt, .pt, .pth, .bin) are listed but never opened, since loading one can run code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from previz_app.engine.discovery.cache import ScanCache
from previz_app.engine.discovery.classify import classify
from previz_app.engine.discovery.diffusers_folder import (
    MODEL_WEIGHTS_GLOB,
    is_model_folder,
    is_pipeline,
    model_folder_entry,
    mtime_ns,
    pipeline_entry,
)
from previz_app.engine.discovery.entry import ModelEntry, ModelFileError, ModelKind
from previz_app.engine.discovery.header import read_header

SAFETENSORS_SUFFIXES = frozenset({".safetensors", ".sft"})
PICKLE_SUFFIXES = frozenset({".ckpt", ".pt", ".pth", ".bin"})
COMFYUI_FOLDERS = (
    "checkpoints", "diffusion_models", "unet", "controlnet", "loras", "vae", "vae_approx",
    "embeddings", "diffusers",
)
A1111_FOLDERS = ("Stable-diffusion", "Lora", "LyCORIS", "ControlNet", "VAE", "VAE-approx")
# Folder names only one of the two tools creates, to tell their layouts apart.
_COMFYUI_MARKS = {"checkpoints", "diffusion_models", "unet", "loras", "vae_approx"}
_A1111_MARKS = {"Stable-diffusion", "Lora", "VAE-approx"}


def scan(roots: Iterable[str | os.PathLike[str]], cache: ScanCache | None = None) -> list[ModelEntry]:
    """List the models under `roots`, in walk order, each file or diffusers folder once.

    A file that cannot be read or is damaged becomes an entry with kind unknown and
    `error` set; the scan itself only skips folders it may not list. With `cache`,
    safetensors files whose size and mtime are unchanged are not opened again; the
    caller saves the cache (`cache.save()`) when it likes.
    """
    walk = _Walk(cache)
    for root in roots:
        walk.root(Path(root).expanduser().absolute())
    return walk.entries


def default_roots(home: Path, environ: Mapping[str, str]) -> list[Path]:
    """The usual model folders that exist for a user with `home` and `environ`: the
    Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else
    $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub), COMFYUI_PATH,
    ~/ComfyUI/models and ~/stable-diffusion-webui/models."""

    def expand(value: str) -> Path:
        return home / value[2:] if value.startswith("~/") else Path(value)

    if hub := environ.get("HF_HUB_CACHE") or environ.get("HUGGINGFACE_HUB_CACHE"):
        candidates = [expand(hub)]
    elif hf_home := environ.get("HF_HOME"):
        candidates = [expand(hf_home) / "hub"]
    else:
        cache_home = expand(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else home / ".cache"
        candidates = [cache_home / "huggingface" / "hub"]
    if comfyui := environ.get("COMFYUI_PATH"):
        candidates.append(expand(comfyui))
    candidates += [home / "ComfyUI" / "models", home / "stable-diffusion-webui" / "models"]
    roots: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir() and candidate.resolve() not in {r.resolve() for r in roots}:
            roots.append(candidate)
    return roots


class _Walk:
    """One scan's state: what was found, and which folders and files were seen."""

    def __init__(self, cache: ScanCache | None) -> None:
        self.cache = cache
        self.entries: list[ModelEntry] = []
        self._seen: set[tuple[int, int]] = set()  # (device, inode) of folders and files

    def root(self, root: Path) -> None:
        if not _is_hf_cache(root) and _is_hf_cache(root / "hub"):  # HF_HOME given
            root = root / "hub"
        if root.is_file():
            self.file(root, "folder", root.stem)
        elif _is_hf_cache(root):
            for repo in _children(root):
                if repo.name.startswith("models--") and repo.is_dir():
                    self.hf_repo(repo)
        else:
            layouts = _layouts(root)
            for folder, source in layouts:
                self.folder(folder, source)
            if not layouts:
                self.folder(root, "folder")

    def hf_repo(self, repo: Path) -> None:
        repo_id = repo.name.removeprefix("models--").replace("--", "/")
        snapshot = _snapshot(repo)
        if snapshot is not None:
            self.folder(snapshot, "hf_cache", name=repo_id)

    def folder(self, top: Path, source: str, name: str = "") -> None:
        """Walk `top` depth first in name order, never entering a folder twice (so
        symlink loops end) and skipping hidden and unreadable folders. `name` names
        `top` itself and prefixes the names of loose files below it."""
        stack = [top]
        while stack:
            folder = stack.pop()
            if not self._first_visit(folder):
                continue
            title = folder.name
            if name:
                title = name if folder == top else f"{name}/{folder.relative_to(top).as_posix()}"
            if is_pipeline(folder):
                entry = pipeline_entry(folder, _diffusers_source(source), title)
                weights = sorted(folder.glob("*/*.safetensors"))
                self._add(replace(entry, error=entry.error or self._weights_error(weights)))
                continue
            if is_model_folder(folder):
                entry = model_folder_entry(folder, _diffusers_source(source), title)
                weights = sorted(folder.glob(MODEL_WEIGHTS_GLOB))
                self._add(replace(entry, error=entry.error or self._weights_error(weights)))
                continue
            subfolders = []
            for child in _children(folder):
                if child.name.startswith("."):
                    continue
                if child.is_dir():
                    subfolders.append(child)
                elif child.is_file():
                    stem = child.stem
                    if name:
                        stem = f"{name}/{child.relative_to(top).with_suffix('').as_posix()}"
                    self.file(child, source, stem)
            stack.extend(reversed(subfolders))

    def file(self, path: Path, source: str, name: str) -> None:
        suffix = path.suffix.lower()
        if suffix not in SAFETENSORS_SUFFIXES and suffix not in PICKLE_SUFFIXES:
            return
        try:
            stat = path.stat()
        except OSError:
            return
        if not self._first_visit(path, stat):
            return
        entry = ModelEntry(
            path=str(path), kind=ModelKind.pickle, source=source,
            size=stat.st_size, mtime_ns=stat.st_mtime_ns, name=name,
        )
        if suffix in SAFETENSORS_SUFFIXES:
            entry = self._checked(entry, path.name)
        self._add(entry)

    def _checked(self, entry: ModelEntry, filename: str) -> ModelEntry:
        """`entry` classified from its file's header, or from the cache."""
        if self.cache is not None:
            cached = self.cache.get(entry.path, entry.size, entry.mtime_ns)
            if cached is not None:
                return replace(cached, source=entry.source, name=entry.name)
        try:
            kind, family, control = classify(read_header(entry.path), entry.name or filename)
            entry = replace(entry, kind=kind, family=family, control=control)
        except ModelFileError as error:
            entry = replace(entry, kind=ModelKind.unknown, error=str(error))
        except OSError as error:  # may pass (a permission fixed): not cached
            return replace(entry, kind=ModelKind.unknown, error=f"cannot read {filename}: {error.strerror}")
        if self.cache is not None:
            self.cache.put(entry)
        return entry

    def _weights_error(self, paths: Iterable[Path]) -> str:
        """The first problem found in the headers of the weight files `paths`, or ""."""
        for path in paths:
            try:
                stat = path.stat()
            except OSError as error:
                return f"cannot read {path.name}: {error.strerror}"
            probe = ModelEntry(path=str(path), kind=ModelKind.unknown, size=stat.st_size,
                               mtime_ns=stat.st_mtime_ns, name=path.stem)
            if error := self._checked(probe, path.name).error:
                return error
        return ""

    def _first_visit(self, path: Path, stat: os.stat_result | None = None) -> bool:
        try:
            stat = stat or path.stat()
        except OSError:
            return False
        identity = (stat.st_dev, stat.st_ino)
        if identity in self._seen:
            return False
        self._seen.add(identity)
        return True

    def _add(self, entry: ModelEntry) -> None:
        self.entries.append(entry)


def _children(folder: Path) -> list[Path]:
    """The entries of `folder` sorted by name; none when it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            return sorted((Path(entry.path) for entry in entries), key=lambda p: p.name)
    except OSError:
        return []


def _is_hf_cache(root: Path) -> bool:
    return any(child.name.startswith("models--") and child.is_dir() for child in _children(root))


def _snapshot(repo: Path) -> Path | None:
    """The snapshot refs/main points at, else the newest one."""
    snapshots = repo / "snapshots"
    try:
        revision = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
        if revision and (snapshots / revision).is_dir():
            return snapshots / revision
    except OSError:
        pass
    candidates = [child for child in _children(snapshots) if child.is_dir()]
    return max(candidates, key=mtime_ns, default=None)


def _layouts(root: Path) -> list[tuple[Path, str]]:
    """The ComfyUI and A1111 model folders under `root` (itself or its `models`)."""
    found: list[tuple[Path, str]] = []
    for models in (root / "models", root):
        names = {child.name for child in _children(models)}
        if names & _COMFYUI_MARKS:
            found += [(models / n, "comfyui") for n in COMFYUI_FOLDERS if n in names]
        if names & _A1111_MARKS:
            found += [(models / n, "a1111") for n in A1111_FOLDERS if n in names]
        if found:
            break
    return found


def _diffusers_source(source: str) -> str:
    return "diffusers" if source == "folder" else source


