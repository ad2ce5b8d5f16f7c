"""Bad screenplay files get an error that names the problem."""

import codecs

import pytest

from previz_app.script import ScriptError
from previz_app.script.importer import read_script
from previz_app.script.source import MAX_SCRIPT_BYTES, read_script_text

SCENE = "INT. ROOM - DAY\n\nA café. Señor Müller waits.\n"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.fountain", b"", "empty.fountain is empty"),
        ("blank.fountain", b"  \n\n \t\n", "blank.fountain is empty"),
        ("nul.fountain", b"INT. A\x00\x01\x02 - DAY" * 10, "is a binary file, not a screenplay"),
        ("script.fountain", b"%PDF-1.7\n%binary", "is a PDF, not a screenplay"),
        ("script.txt", b"PK\x03\x04zipzip", "is a zip archive"),
        ("cut.fountain", SCENE.encode("utf-8")[:-9] + "é".encode("utf-8")[:1], "looks truncated"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ScriptError, match=message):
        read_script_text(path)


def test_missing_folder_and_wrong_type(tmp_path):
    with pytest.raises(ScriptError, match="no such file"):
        read_script_text(tmp_path / "nope.fountain")
    with pytest.raises(ScriptError, match="is a folder"):
        read_script_text(tmp_path)
    (tmp_path / "script.docx").write_bytes(b"x")
    with pytest.raises(ScriptError, match=r"unsupported screenplay type \.docx"):
        read_script(tmp_path / "script.docx")


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.fountain"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SCRIPT_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ScriptError, match="huge.fountain is 21.0 MB"):
        read_script_text(path)


@pytest.mark.parametrize(
    "encoded",
    [
        SCENE.encode("utf-8"),
        codecs.BOM_UTF8 + SCENE.encode("utf-8"),
        SCENE.encode("utf-16"),  # with BOM
        SCENE.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "cp1252"],
)
def test_common_encodings_decode(tmp_path, encoded):
    path = tmp_path / "enc.fountain"
    path.write_bytes(encoded)
    text = read_script_text(path)
    assert "INT. ROOM - DAY" in text
    assert "Señor Müller" in text and "café" in text


def test_not_a_screenplay_at_all(tmp_path):
    path = tmp_path / "shopping.txt"
    path.write_text("eggs\nmilk\n")
    with pytest.raises(ScriptError, match="no scene headings found"):
        read_script(path)


def test_bytes_no_known_encoding_reads_are_refused(tmp_path):
    path = tmp_path / "odd.fountain"
    path.write_bytes(b"INT. ROOM - DAY\n\n" + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 3 + b"\n")
    with pytest.raises(ScriptError, match="cannot tell its text encoding; save it as UTF-8"):
        read_script_text(path)
