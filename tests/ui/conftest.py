"""UI fixtures: a project state on a temporary project, services with a temporary
settings file and scripted engines, and a main-window factory that owns cleanup."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThreadPool

from previz_app.engine.discovery.library import ModelLibrary
from previz_app.ui.services import Services
from previz_app.ui.state import ProjectState

from .fakes import ScriptedEngine


@pytest.fixture
def engine():
    """The scripted engine every UI test's services hand out (as "blocking" and "diffusers")."""
    return ScriptedEngine()


@pytest.fixture
def services(tmp_path, engine, qapp):
    pool = QThreadPool()
    made = Services(
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        thumbnail_dir=tmp_path / "thumbnails",
        engines=lambda choice: {"blocking": engine, "diffusers": engine},
        library=ModelLibrary.for_user,  # PREVIZ_HOME is a per-test folder (tests/conftest.py)
        pool=pool,
    )
    yield made
    pool.waitForDone(10_000)


@pytest.fixture
def state(drafted, qapp):
    """The state of `drafted` (two scenes of drafted shots), owned by the test thread."""
    made = ProjectState(drafted)
    yield made
    made.undo_stack.clear()
