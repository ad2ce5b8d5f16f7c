"""Shared fixtures. Qt (in later UI tests) runs headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from previz_app.domain.model import Project  # noqa: E402
from previz_app.store import create_project  # noqa: E402

DATA = Path(__file__).parent / "script" / "data"
SAMPLE = Path(__file__).parent.parent / "resources" / "sample" / "the_last_lighthouse.fountain"


@pytest.fixture
def folder(tmp_path):
    """A new, empty project, closed after the test."""
    with create_project(tmp_path / "Film", Project(title="Film", aspect_ratio=2.39)) as opened:
        yield opened


@pytest.fixture
def data_dir() -> Path:
    return DATA
