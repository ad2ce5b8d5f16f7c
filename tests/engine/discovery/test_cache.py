"""The scan cache: headers are read once per file version; a bad cache costs nothing."""

import hashlib
import json
import os

import pytest

from previz_app.engine.discovery import cache as cache_module
from previz_app.engine.discovery import scan as scan_module
from previz_app.engine.discovery.cache import ScanCache, file_hash
from previz_app.engine.discovery.entry import Family, ModelEntry, ModelKind
from previz_app.engine.discovery.header import read_header
from previz_app.engine.discovery.scan import scan

from . import keys
from .keys import write_model

ENTRY = ModelEntry(
    path="/models/lora.safetensors",
    kind=ModelKind.lora,
    family=Family.sdxl,
    control="",
    source="comfyui",
    size=1234,
    mtime_ns=5678,
    name="lora",
    error="",
)


@pytest.fixture
def counted_reads(monkeypatch):
    """The paths whose headers the scanner reads."""
    reads = []

    def counting(path):
        reads.append(os.fspath(path))
        return read_header(path)

    monkeypatch.setattr(scan_module, "read_header", counting)
    return reads


def test_an_entry_is_returned_only_for_the_same_size_and_mtime(tmp_path):
    cache = ScanCache(tmp_path / "cache.json")
    assert cache.get(ENTRY.path, 1234, 5678) is None
    cache.put(ENTRY)
    assert cache.get(ENTRY.path, 1234, 5678) == ENTRY
    assert cache.get(ENTRY.path, 1235, 5678) is None
    assert cache.get(ENTRY.path, 1234, 5679) is None


def test_entries_survive_a_save_and_reload(tmp_path):
    cache = ScanCache(tmp_path / "sub" / "cache.json")
    broken = ModelEntry(path="/m/cut.safetensors", kind=ModelKind.unknown, size=3, mtime_ns=4, error="cut")
    cache.put(ENTRY)
    cache.put(broken)
    cache.save()
    reloaded = ScanCache(tmp_path / "sub" / "cache.json")
    assert len(reloaded) == 2
    assert reloaded.get(ENTRY.path, 1234, 5678) == ENTRY
    assert reloaded.get(broken.path, 3, 4) == broken
    assert os.listdir(tmp_path / "sub") == ["cache.json"]  # no temporary file left behind


def test_save_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = tmp_path / "cache.json"
    cache = ScanCache(path)
    cache.put(ENTRY)
    cache.save()
    before = path.read_text()

    def failing_dump(*args, **kwargs):
        raise OSError("disk full")

    cache.put(ModelEntry(path="/other", kind=ModelKind.vae))
    monkeypatch.setattr(cache_module.json, "dump", failing_dump)
    with pytest.raises(OSError, match="disk full"):
        cache.save()
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["cache.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"version": 99, "entries": {}}',
        b'{"version": 1, "entries": []}',
        b'{"version": 1, "entries": {"/a": 3, "/b": {"size": "x", "mtime_ns": 1}}}',
        b'{"version": 1, "entries": {"/a": {"size": 1, "mtime_ns": 2, "kind": "spaceship", "family": "sd1"}}}',
    ],
    ids=["syntax", "binary", "list", "version", "entries-list", "bad-records", "bad-kind"],
)
def test_a_corrupt_cache_is_ignored(tmp_path, content):
    path = tmp_path / "cache.json"
    path.write_bytes(content)
    cache = ScanCache(path)
    assert cache.get("/a", 1, 2) is None
    cache.put(ENTRY)
    cache.save()
    assert ScanCache(path).get(ENTRY.path, 1234, 5678) == ENTRY


def test_a_scan_reads_each_header_once_until_the_file_changes(tmp_path, counted_reads):
    models = tmp_path / "models"
    lora = write_model(models / "loras" / "style.safetensors", keys.KOHYA_LORA_SDXL)
    write_model(models / "vae" / "sdxl_vae.safetensors", keys.VAE_ORIGINAL)
    cache_path = tmp_path / "cache" / "scan.json"

    cache = ScanCache(cache_path)
    first = scan([models], cache)
    assert len(counted_reads) == 2
    cache.save()

    cache = ScanCache(cache_path)
    assert scan([models], cache) == first
    assert len(counted_reads) == 2

    stat = lora.stat()
    os.utime(lora, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = scan([models], cache)
    assert counted_reads[2:] == [str(lora)]
    assert again[0].mtime_ns == stat.st_mtime_ns + 10**9


def test_a_cached_entry_takes_the_source_and_name_of_this_scan(tmp_path, counted_reads):
    lora = write_model(tmp_path / "models" / "loras" / "style.safetensors", keys.KOHYA_LORA_SD1)
    cache = ScanCache(tmp_path / "cache.json")
    stat = lora.stat()
    cache.put(ModelEntry(str(lora), ModelKind.lora, Family.sd1, source="a1111", size=stat.st_size,
                         mtime_ns=stat.st_mtime_ns, name="old"))
    (entry,) = scan([tmp_path / "models"], cache)
    assert (entry.kind, entry.family, entry.source, entry.name) == (ModelKind.lora, Family.sd1, "comfyui", "style")
    assert counted_reads == []


def test_damaged_files_are_cached_with_their_error(tmp_path, counted_reads):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    cache = ScanCache(tmp_path / "cache.json")
    (first,) = scan([tmp_path], cache)
    (second,) = scan([tmp_path], cache)
    assert first == second
    assert "is empty" in second.error
    assert len(counted_reads) == 1


def test_the_cache_file_is_written_as_json(tmp_path):
    cache = ScanCache(tmp_path / "cache.json")
    cache.put(ENTRY)
    cache.save()
    document = json.loads((tmp_path / "cache.json").read_text())
    assert document["version"] == 1
    assert document["entries"][ENTRY.path]["kind"] == "lora"


def test_file_hash_is_the_sha256_of_the_content(tmp_path):
    path = tmp_path / "model.safetensors"
    content = os.urandom(3 * 1024 * 1024 + 17)  # spans several chunks
    path.write_bytes(content)
    assert file_hash(path) == hashlib.sha256(content).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert file_hash(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()
