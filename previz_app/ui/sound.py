"""Sound in the UI: a shot's own sound and the project's music bed. A file is decoded and
stored off the GUI thread; choosing it, removing it and its level are undoable edits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QThreadPool
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout,
    QWidget,
)
from sqlite_utils import Database

from ..animatic.audio import AudioError, import_audio
from ..domain.model import MAX_LEVEL_DB, MIN_LEVEL_DB
from ..store import ProjectFolder
from ..store import operations as ops
from .state import ProjectState
from .workers import BackgroundTask, run_in_background, wait_for_tasks

AUDIO_FILTER = "Sound (*.wav *.mp3 *.flac);;All files (*)"
IMPORT_WAIT_MS = 60_000

# Makes the edit of one field of whatever the widget shows: `ops.EditProject`, or
# `functools.partial(ops.EditShot, shot_id)`.
EditMaker = Callable[[str, Any], ops.Operation]


def sound_name(db: Database, digest: str | None) -> str:
    """How a stored sound reads: the name of the file it was imported from, or "none"."""
    if digest is None:
        return "none"
    row = db.execute("SELECT original_name FROM media WHERE hash = ?", [digest]).fetchone()
    return row[0] if row and row[0] else f"{digest[:12]}…"


def import_sound_file(folder: ProjectFolder, path: Path) -> str:
    """Decode, store and record a sound file on the calling (pool) thread; return its hash.

    `animatic.audio.import_audio` writes the media row through the folder it is given,
    and a connection belongs to the thread that opened it, so it gets this thread's own
    connection. The row is add-only, like the take writer's: its commit (an fsync) stays
    off the GUI thread, which only makes the undoable edit that points at it.
    """
    db = folder.connect()
    try:
        return import_audio(ProjectFolder(folder.path, db), path)
    finally:
        db.close()


class SoundWidget(QWidget):
    """One sound slot: the file's name, Import…, Remove, and its level in dB.

    `hash_field` and `level_field` name the fields it edits ("audio_hash" and
    "audio_level_db" of a shot, "music_hash" and "music_level_db" of the project);
    `show_sound` says whose they are.
    """

    def __init__(
        self, state: ProjectState, hash_field: str, level_field: str, parent: QWidget | None = None,
        *, pool: QThreadPool | None = None, import_text: str = "Import sound…",
    ) -> None:
        super().__init__(parent)
        self.state, self.hash_field, self.level_field = state, hash_field, level_field
        self.import_text = import_text
        self.pool = pool or QThreadPool.globalInstance()
        self._edit: EditMaker | None = None
        self._digest: str | None = None
        self._level = 0.0
        self._imports: list[BackgroundTask] = []

        self.name_label = QLabel("none")
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.import_button = QPushButton(import_text)
        self.remove_button = QPushButton("Remove")
        self.level_slider = QSlider(Qt.Orientation.Horizontal)
        self.level_slider.setRange(int(MIN_LEVEL_DB), int(MAX_LEVEL_DB))
        self.level_slider.setPageStep(6)
        self.level_spin = QDoubleSpinBox()
        self.level_spin.setRange(MIN_LEVEL_DB, MAX_LEVEL_DB)
        self.level_spin.setDecimals(1)
        self.level_spin.setSingleStep(0.5)
        self.level_spin.setSuffix(" dB")
        self.level_spin.setKeyboardTracking(False)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.name_label, 1)
        top.addWidget(self.import_button)
        top.addWidget(self.remove_button)
        level = QHBoxLayout()
        level.setContentsMargins(0, 0, 0, 0)
        level.addWidget(self.level_slider, 1)
        level.addWidget(self.level_spin)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addLayout(level)

        self.import_button.clicked.connect(self._on_import_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.level_slider.valueChanged.connect(self._on_slider_value_changed)
        self.level_slider.sliderReleased.connect(lambda: self._commit_level(self.level_slider.value()))
        self.level_spin.editingFinished.connect(lambda: self._commit_level(self.level_spin.value()))
        self.show_sound(None, None, 0.0)

    def show_sound(self, edit: EditMaker | None, digest: str | None, level: float) -> None:
        """Show a sound and its level; `edit` makes the edits of its owner (None: nothing
        to edit, everything disabled)."""
        self._edit, self._digest, self._level = edit, digest, level
        self.name_label.setText(sound_name(self.state.db, digest) if edit is not None else "")
        with QSignalBlocker(self.level_slider), QSignalBlocker(self.level_spin):
            self.level_slider.setValue(round(level))
            self.level_spin.setValue(level)
        self._update_enabled()

    def _update_enabled(self) -> None:
        editable, has_sound = self._edit is not None, self._digest is not None
        self.import_button.setEnabled(editable and not self.is_busy())
        self.import_button.setText("Importing…" if self.is_busy() else self.import_text)
        for widget in (self.remove_button, self.level_slider, self.level_spin):
            widget.setEnabled(editable and has_sound)

    # -- importing ---------------------------------------------------------------------

    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import sound", "", AUDIO_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path) -> BackgroundTask | None:
        """Decode and store `path` in the background, then make it the sound of what was
        shown when it was chosen (one undoable edit). A file that cannot be decoded is
        reported and changes nothing."""
        edit, path = self._edit, Path(path)
        if edit is None:
            self.state.report_error("Select a shot before importing a sound.")
            return None
        folder = self.state.folder

        def stored(digest: str) -> None:
            self.state.perform(edit(self.hash_field, digest))

        def failed(exc: BaseException) -> None:
            # An AudioError names the file already.
            self.state.report_error(f"Could not import {'the sound' if isinstance(exc, AudioError) else path.name}: {exc}")

        task = run_in_background(self.pool, lambda _control: import_sound_file(folder, path), stored, failed, parent=self)
        task.ended.connect(self._update_enabled)
        self._imports = [t for t in self._imports if t.running] + [task]
        self._update_enabled()
        return task

    def is_busy(self) -> bool:
        return any(task.running for task in self._imports)

    def flush(self, timeout_ms: int = IMPORT_WAIT_MS) -> bool:
        """Wait until sounds still being imported are stored and chosen (the project is
        closing). False if some did not finish in time."""
        return wait_for_tasks(self._imports, timeout_ms)

    # -- editing -----------------------------------------------------------------------

    def _on_remove_clicked(self) -> None:
        if self._edit is not None and self._digest is not None:
            self.state.perform(self._edit(self.hash_field, None))

    def _on_slider_value_changed(self, value: int) -> None:
        with QSignalBlocker(self.level_spin):
            self.level_spin.setValue(value)
        if not self.level_slider.isSliderDown():  # keys, wheel, clicks; a drag commits on release
            self._commit_level(value)

    def _commit_level(self, value: float) -> None:
        if self._edit is None or abs(value - self._level) < 0.05:
            return
        if not self.state.perform(self._edit(self.level_field, value)):
            self.show_sound(self._edit, self._digest, self._level)


class MusicBedDialog(QDialog):
    """The music under the whole animatic: its file and level."""

    def __init__(self, state: ProjectState, parent: QWidget | None = None, *, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Music bed")
        self.state = state
        self.sound = SoundWidget(state, "music_hash", "music_level_db", pool=pool, import_text="Choose music…")
        note = QLabel("Plays under the whole animatic from its first frame; shots' own sound plays over it.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.sound)
        layout.addWidget(buttons)
        state.project_changed.connect(self._on_project_changed)
        self._on_project_changed()

    def _on_project_changed(self) -> None:
        project = self.state.project()
        self.sound.show_sound(ops.EditProject, project.music_hash, project.music_level_db)
