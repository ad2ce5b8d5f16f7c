"""Reading safetensors headers, and the errors a damaged file gives."""

import io
import json
import struct

import pytest

from previz_app.engine.discovery import header as header_module
from previz_app.engine.discovery.entry import ModelFileError
from previz_app.engine.discovery.header import Header, read_header

from .keys import write_model


def raw_file(path, document, extra=b""):
    encoded = json.dumps(document).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + extra)
    return path


def test_the_header_gives_shapes_and_metadata(tmp_path):
    path = write_model(
        tmp_path / "model.safetensors",
        {"a.weight": (4, 768), "b.bias": (3,), "alpha": ()},
        metadata={"ss_base_model_version": "sdxl_base_v1-0"},
    )
    header = read_header(path)
    assert header == Header(
        tensors={"a.weight": (4, 768), "b.bias": (3,), "alpha": ()},
        metadata={"ss_base_model_version": "sdxl_base_v1-0"},
    )


def test_only_the_header_is_read(tmp_path, monkeypatch):
    path = write_model(tmp_path / "big.safetensors", {"w": (512, 1024)})  # 1 MiB of tensor data
    read = []

    class CountingFile(io.FileIO):
        def read(self, size=-1):
            data = super().read(size)
            read.append(len(data))
            return data

    monkeypatch.setattr(header_module, "open", lambda p, mode: CountingFile(p, mode), raising=False)
    read_header(path)
    assert 0 < sum(read) < 1024


def test_an_empty_file(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"model\.safetensors is empty"):
        read_header(tmp_path / "model.safetensors")


def test_a_file_shorter_than_the_length_prefix(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\x01\x00")
    with pytest.raises(ModelFileError, match=r"model\.safetensors is not a safetensors file: it holds only 2 bytes"):
        read_header(tmp_path / "model.safetensors")


def test_a_text_file_renamed(tmp_path):
    (tmp_path / "notes.safetensors").write_text("These are my favourite prompts, one per line.\n" * 5)
    with pytest.raises(ModelFileError, match=r"notes\.safetensors is not a safetensors file: .*header of \d+ bytes"):
        read_header(tmp_path / "notes.safetensors")


def test_a_git_lfs_pointer(tmp_path):
    (tmp_path / "model.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 2132625894\n"
    )
    with pytest.raises(ModelFileError, match="Git LFS pointer"):
        read_header(tmp_path / "model.safetensors")


def test_an_absurd_header_length(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ModelFileError, match="more than any real model has"):
        read_header(tmp_path / "model.safetensors")


def test_a_header_longer_than_the_file(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", 4096) + b'{"a": ')
    message = r"model\.safetensors is truncated: its header needs 4104 bytes but the file holds 14"
    with pytest.raises(ModelFileError, match=message):
        read_header(tmp_path / "model.safetensors")


def test_a_download_cut_in_half(tmp_path):
    path = write_model(tmp_path / "model.safetensors", {"a": (64, 64), "b": (64, 64)})
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        ModelFileError,
        match=rf"model\.safetensors is truncated: tensors need {len(whole)} bytes but the file holds {len(whole) // 2}",
    ):
        read_header(path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"\xff\xfe{}", "not valid JSON"),
        (b'{"a": ', "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"a": 3}', "entry 'a' is not an object"),
        (b'{"a": {"dtype": "F16", "shape": [2]}}', "entry 'a' lacks a valid shape or data_offsets"),
        (b'{"a": {"dtype": "F16", "shape": [2], "data_offsets": [4, 0]}}', "lacks a valid shape"),
        (b'{"__metadata__": [1]}', "__metadata__ is not an object"),
    ],
)
def test_malformed_headers(tmp_path, header, message):
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ModelFileError, match=message) as raised:
        read_header(tmp_path / "model.safetensors")
    assert "model.safetensors" in str(raised.value)


def test_a_hand_written_header_with_padding(tmp_path):
    path = raw_file(
        tmp_path / "model.safetensors",
        {"__metadata__": {"format": "pt"}, "w": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}},
        extra=b"\x00" * 8,
    )
    assert read_header(path) == Header(tensors={"w": (2, 2)}, metadata={"format": "pt"})


def test_model_file_error_is_a_value_error(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError):
        read_header(tmp_path / "model.safetensors")


def test_a_missing_file_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_header(tmp_path / "missing.safetensors")
