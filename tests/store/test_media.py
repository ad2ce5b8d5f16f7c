import errno
import hashlib
import os

import pytest

from previz_app.store.errors import MediaWriteError
from previz_app.store.media import add_media


def test_media_is_stored_once_under_its_sha256(folder):
    data = b"\x89PNG fake but bytes"
    digest = add_media(folder.db, folder.media, data, mime="image/png", original_name="a.png")
    assert digest == hashlib.sha256(data).hexdigest()
    assert folder.media.path(digest).read_bytes() == data
    assert add_media(folder.db, folder.media, data) == digest
    assert folder.db["media"].count == 1
    assert list(folder.media.root.rglob("*")) == [folder.media.path(digest).parent, folder.media.path(digest)]


def test_a_full_disk_raises_a_clear_error_and_leaves_no_partial_file(folder, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(MediaWriteError, match="No space left on device"):
        add_media(folder.db, folder.media, b"a frame that does not fit")
    assert [p for p in folder.media.root.rglob("*") if p.is_file()] == []
    assert folder.db["media"].count == 0
