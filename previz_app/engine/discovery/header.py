"""Read the header of a .safetensors file, never its tensor data.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON
mapping tensor names to {"dtype", "shape", "data_offsets"} (plus an optional
"__metadata__" of strings), then the tensor bytes. Reading the header costs one
small read however large the model is, and it is enough to tell what the model is
and whether the download finished.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from previz_app.engine.discovery.entry import ModelFileError

# Real headers are a few hundred kilobytes at most (a FLUX transformer's is ~100 kB).
MAX_HEADER_BYTES = 100 * 1024 * 1024

_LFS_POINTER = b"version https://git-lfs"


@dataclass(frozen=True, slots=True)
class Header:
    """What a safetensors header says: tensor name to shape, and the free-form
    string metadata some tools write (trainer settings, architecture names)."""

    tensors: dict[str, tuple[int, ...]]
    metadata: dict[str, str] = field(default_factory=dict)


def read_header(path: str | os.PathLike[str]) -> Header:
    """Read and check the header of the safetensors file at `path`.

    Checks that every tensor's bytes lie inside the file, so a download cut short is
    reported here rather than when a pipeline fails to load minutes later.
    Raises ModelFileError (naming the file) when the file is empty, not a safetensors
    file, or truncated; OSError when it cannot be opened or read.
    """
    path = Path(path)
    name = path.name
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            raise ModelFileError(f"{name} is empty (0 bytes); download it again")
        prefix = file.read(8)
        if len(prefix) < 8:
            raise ModelFileError(
                f"{name} is not a safetensors file: it holds only {size} bytes"
            )
        if prefix == _LFS_POINTER[:8] and file.read(64).startswith(_LFS_POINTER[8:]):
            raise ModelFileError(
                f"{name} is a Git LFS pointer, not the model itself; "
                "fetch it with `git lfs pull` or download the file directly"
            )
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise ModelFileError(
                f"{name} is not a safetensors file: its first 8 bytes give a header of "
                f"{length} bytes, more than any real model has"
            )
        if length > size - 8:
            raise ModelFileError(
                f"{name} is truncated: its header needs {length + 8} bytes "
                f"but the file holds {size}"
            )
        file.seek(8)
        raw = file.read(length)
    if len(raw) < length:  # the file shrank while we read it
        raise ModelFileError(f"{name} is truncated: its header ends early")
    return _parse(raw, name, data_start=8 + length, size=size)


def _parse(raw: bytes, name: str, data_start: int, size: int) -> Header:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(
            f"{name} is not a safetensors file: its header is not valid JSON ({error})"
        ) from None
    if not isinstance(document, dict):
        raise ModelFileError(
            f"{name} is not a safetensors file: its header is not a JSON object"
        )
    metadata = document.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{name} has a malformed header: __metadata__ is not an object")
    tensors: dict[str, tuple[int, ...]] = {}
    end = 0
    for key, info in document.items():
        shape, stop = _tensor(info, key, name)
        tensors[key] = shape
        end = max(end, stop)
    if data_start + end > size:
        raise ModelFileError(
            f"{name} is truncated: tensors need {data_start + end} bytes but the file "
            f"holds {size}; download it again"
        )
    return Header(tensors=tensors, metadata={str(k): str(v) for k, v in metadata.items()})


def _tensor(info: object, key: str, name: str) -> tuple[tuple[int, ...], int]:
    """The shape and end offset of one header entry."""
    if not isinstance(info, dict):
        raise ModelFileError(f"{name} has a malformed header: entry {key!r} is not an object")
    shape = info.get("shape")
    offsets = info.get("data_offsets")
    if (
        not isinstance(shape, list)
        or not all(isinstance(n, int) and n >= 0 for n in shape)
        or not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(n, int) and n >= 0 for n in offsets)
        or offsets[0] > offsets[1]
    ):
        raise ModelFileError(
            f"{name} has a malformed header: entry {key!r} lacks a valid shape or data_offsets"
        )
    return tuple(shape), offsets[1]
