"""UI fixtures: a project state on a temporary project, services with a temporary
settings file and scripted engines, and a main-window factory that owns cleanup."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QDialog

from previz_app.engine.discovery.library import ModelLibrary
from previz_app.store import shots
from previz_app.ui.inspector import InspectorView
from previz_app.ui.services import Services
from previz_app.ui.state import ProjectState
from previz_app.ui.thumbnails import ThumbnailCache

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
        # The test's own library, and a home without ~/ComfyUI or ~/.cache/huggingface.
        library=lambda: ModelLibrary.for_user(tmp_path / "home", {"PREVIZ_HOME": str(tmp_path / "library")}),
        pool=pool,
    )
    yield made
    pool.waitForDone(10_000)


@pytest.fixture
def state(drafted, qapp):
    """The state of `drafted` (two scenes of drafted shots), owned by the test thread."""
    made = ProjectState(drafted)
    yield made
    made.close()  # joins its take writer; the folder fixture's own close is harmless after


@pytest.fixture
def make_main_window(qtbot, services):
    """A factory for main windows (optionally opening a project); every window is
    closed after the test, which shuts its engine down, and the test fails if a
    window or dialog it opened is still showing."""
    from PySide6.QtWidgets import QApplication

    from previz_app.ui.main_window import MainWindow

    before = set(QApplication.topLevelWidgets())
    windows = []

    def make(project=None):
        window = MainWindow(services)
        windows.append(window)
        window.show()
        if project is not None:
            assert window.open_project(project), "the project did not open"
        return window

    yield make
    for window in windows:
        for dialog in window.findChildren(QDialog):
            dialog.close()
        window.close()
    qtbot.wait(10)
    leaked = [w for w in QApplication.topLevelWidgets() if w not in before and w.isVisible()]
    for widget in leaked:
        widget.close()
    assert not leaked, f"windows left open: {leaked}"


@pytest.fixture
def shown(qtbot):
    """Show a widget at a size and wait until it is on screen; qtbot closes it after."""

    def show(widget, width, height):
        qtbot.addWidget(widget)
        widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return show


@pytest.fixture
def thumbnails(state, tmp_path):
    """A thumbnail cache over the test project, with a pool of its own."""
    pool = QThreadPool()
    yield ThumbnailCache(state.folder.media.root, tmp_path / "thumbs", pool)
    pool.waitForDone(10_000)


@pytest.fixture
def inspector(state, services, qtbot, tmp_path):
    """The inspector on the first shot of the test project."""
    thumbnails = ThumbnailCache(state.folder.media.root, tmp_path / "thumbs", services.pool)
    view = InspectorView(state, thumbnails, pool=services.pool)
    qtbot.addWidget(view)
    view.show()
    state.set_current_shot(shots.list_shots(state.db)[0].id)
    return view
