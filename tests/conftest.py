"""Shared fixtures. Qt (in later UI tests) runs headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from previz_app.domain.model import Project  # noqa: E402
from previz_app.script.importer import import_script  # noqa: E402
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


SCRIPT = """Title: Two Rooms

INT. KITCHEN - NIGHT

ELLA pours tea. TOM watches from the door.

ELLA
You came back.

TOM
The lamp was out.

EXT. LIGHTHOUSE - DAY

The tower stands over a grey sea.
"""


@pytest.fixture
def drafted(folder, tmp_path):
    """`folder` with two scenes of drafted shots."""
    path = tmp_path / "two_rooms.fountain"
    path.write_text(SCRIPT, encoding="utf-8")
    import_script(folder, path)
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny random-weight SD1-shaped models (pipeline, single file, ControlNet, TAESD,
    LoRA), built once per test run; see tests/engine/diffusion/tiny_models.py."""
    from tests.engine.diffusion.tiny_models import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(autouse=True)
def model_library_home(tmp_path_factory, monkeypatch):
    """Each test gets its own empty model library, never the developer's."""
    monkeypatch.setenv("PREVIZ_HOME", str(tmp_path_factory.mktemp("previz-home")))
