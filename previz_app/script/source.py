"""Reading a screenplay file into text, refusing what is not one with a clear reason."""

from __future__ import annotations

import codecs
from pathlib import Path

from .errors import ScriptError

MAX_SCRIPT_BYTES = 20 * 1024 * 1024
FOUNTAIN_SUFFIXES = (".fountain", ".spmd", ".txt")
FDX_SUFFIXES = (".fdx",)
# Tried after the byte-order marks and UTF-8: older scripts were saved by Windows word
# processors (cp1252). Other 8-bit encodings cannot be told apart from it reliably.
_FALLBACK_ENCODINGS = ("cp1252",)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = {
    b"%PDF": "a PDF",
    b"PK\x03\x04": "a zip archive (a .docx, .fadein or .highland file?)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\xd0\xcf\x11\xe0": "an old Word document",
    b"{\\rtf": "an RTF document",
}


def script_format(path: Path) -> str:
    """'fountain' or 'fdx' from the file name. Raises ScriptError for other kinds."""
    suffix = path.suffix.lower()
    if suffix in FDX_SUFFIXES:
        return "fdx"
    if suffix in FOUNTAIN_SUFFIXES:
        return "fountain"
    accepted = ", ".join(FOUNTAIN_SUFFIXES + FDX_SUFFIXES)
    raise ScriptError(f"{path.name}: unsupported screenplay type {suffix or '(none)'}; use {accepted}")


def read_script_text(path: str | Path) -> str:
    """The text of a screenplay file, decoded.

    Raises ScriptError for a missing, empty, oversized (> 20 MB), binary or truncated
    file, or one whose encoding cannot be read.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise ScriptError(
                f"{path.name} is {size / 1e6:.1f} MB; a screenplay is far smaller "
                f"(limit {MAX_SCRIPT_BYTES // (1024 * 1024)} MB). Is this the right file?"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScriptError(f"{path} is a folder, not a screenplay file") from None
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise ScriptError(f"{path.name} is empty")
    return decode_script(data, path.name)


def decode_script(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _normalize(data.decode(encoding))
            except UnicodeDecodeError:
                raise ScriptError(f"{name}: {encoding} text is cut off or damaged") from None
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise ScriptError(f"{name} is {kind}, not a screenplay; export it as Fountain or Final Draft")
    if b"\x00" in data[:8192]:
        raise ScriptError(f"{name} is a binary file, not a screenplay")
    try:
        return _normalize(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            raise ScriptError(f"{name} ends in the middle of a character: the file looks truncated") from None
    for encoding in _FALLBACK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return _normalize(text)
    raise ScriptError(f"{name}: cannot tell its text encoding; save it as UTF-8 and import again")


def _looks_like_text(text: str) -> bool:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return controls <= len(text) // 1000


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
