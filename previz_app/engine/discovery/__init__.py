"""Model discovery: find and classify the models a user already has on disk.

`scan(roots, cache)` walks Hugging Face caches, ComfyUI and AUTOMATIC1111 model
folders and plain folders (`default_roots` lists the usual ones) and returns one
`ModelEntry` per model file or diffusers folder. What a safetensors file holds is
read from its header alone (`read_header`, then `classify` on tensor names and
shapes), so a scan of many gigabytes opens a few kilobytes of each file; pickled
weights are listed, never opened. Damaged files become entries with `error` set.
`ScanCache` keeps entries between scans, keyed by path, size and mtime.

Only the standard library is imported here: no torch, no diffusers. `scan` and
`classify` are not re-exported, since those names are also their modules'; import
them from `previz_app.engine.discovery.scan` and `.classify`.
"""

from previz_app.engine.discovery.cache import ScanCache, file_hash
from previz_app.engine.discovery.classify import Classification
from previz_app.engine.discovery.entry import (
    Family,
    ModelEntry,
    ModelFileError,
    ModelKind,
)
from previz_app.engine.discovery.header import Header, read_header
from previz_app.engine.discovery.scan import default_roots

__all__ = [
    "Classification",
    "Family",
    "Header",
    "ModelEntry",
    "ModelFileError",
    "ModelKind",
    "ScanCache",
    "default_roots",
    "file_hash",
    "read_header",
]
