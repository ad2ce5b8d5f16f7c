"""Fixtures the export tests share."""

from __future__ import annotations

import errno

import pytest


class FullDisk:
    """Stands in for `open`: a file whose every write fails as on a full disk."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def seek(self, *args):
        return 0

    def tell(self):
        return 0


@pytest.fixture
def full_disk(monkeypatch):
    """`full_disk(module)`: the files `module` opens refuse every write, as a full disk does."""

    def fill(module) -> None:
        monkeypatch.setattr(module, "open", FullDisk, raising=False)

    return fill
