"""Staged output: all of a file or none of it, readable by the crew."""

import errno
import os
import stat

import pytest

from previz_app.export.files import UMASK, ExportError, staged_output


def test_a_finished_file_gets_the_permissions_a_new_file_gets(tmp_path):
    out = tmp_path / "boards.pdf"
    with staged_output(out) as temporary:
        temporary.write_bytes(b"%PDF-1.4")
    assert out.read_bytes() == b"%PDF-1.4"
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~UMASK
    assert [path.name for path in tmp_path.iterdir()] == ["boards.pdf"]


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "deck.pptx"
    out.write_bytes(b"old")
    with pytest.raises(ExportError, match="deck.pptx: the disk is full"):
        with staged_output(out) as temporary:
            temporary.write_bytes(b"half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert out.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["deck.pptx"]


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ExportError, match="the folder .*nowhere does not exist"):
        with staged_output(tmp_path / "nowhere" / "x.csv"):
            pass
