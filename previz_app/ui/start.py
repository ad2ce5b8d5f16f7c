"""Starting work: the start page, the new-project dialog, recent projects, and the
screenplay import that runs in the background (one transaction: a failure leaves the
project as it was)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from ..domain.model import Project
from ..domain.vocabulary import ASPECT_RATIOS, FRAME_RATES
from ..script.importer import ImportReport, import_script
from ..store import open_project
from ..store.folder import project_path
from .workers import TaskControl

MAX_RECENT = 10
SCRIPT_FILTER = "Screenplays (*.fountain *.spmd *.txt *.fdx);;All files (*)"


class RecentProjects:
    """The projects opened lately, newest first, kept in QSettings."""

    KEY = "recent/projects"

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def paths(self) -> list[str]:
        value = self.settings.value(self.KEY) or []
        return [value] if isinstance(value, str) else [str(v) for v in value]

    def add(self, path: Path | str) -> None:
        path = str(Path(path).resolve())
        self.settings.setValue(self.KEY, [path, *[p for p in self.paths() if p != path]][:MAX_RECENT])

    def remove(self, path: str) -> None:
        self.settings.setValue(self.KEY, [p for p in self.paths() if p != path])


class ImportCancelled(Exception):
    """The user cancelled an import; its transaction was rolled back."""


def import_in_thread(project: Path, script: Path):
    """A background function that imports `script` into `project` over its own
    connection (connections belong to their thread)."""

    def run(control: TaskControl) -> ImportReport:
        def progress(done: int, total: int) -> None:
            if control.cancelled:
                raise ImportCancelled("import cancelled; the project was not changed")
            control.progress(done, total)

        with open_project(project) as folder:
            return import_script(folder, script, progress)

    return run


class StartPage(QWidget):
    """What the window shows with no project open."""

    new_requested = Signal()
    open_requested = Signal()
    import_requested = Signal()
    recent_requested = Signal(str)

    def __init__(self, recent: RecentProjects, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recent = recent
        title = QLabel("<h1>previz</h1><p>Scenes, shot boards, frames and animatics — on your machine.</p>")
        title.setTextFormat(Qt.TextFormat.RichText)
        self.new_button = QPushButton("New project…")
        self.open_button = QPushButton("Open project…")
        self.import_button = QPushButton("New from screenplay…")
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        self.import_button.clicked.connect(self.import_requested)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.open_button, self.import_button):
            button.setMinimumHeight(36)
            buttons.addWidget(button)
        buttons.addStretch()
        self.recent_list = QListWidget()
        self.recent_list.itemActivated.connect(lambda item: self.recent_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 36, 48, 36)
        layout.addWidget(title)
        layout.addLayout(buttons)
        layout.addSpacing(16)
        layout.addWidget(QLabel("Recent projects"))
        layout.addWidget(self.recent_list, 1)
        self.refresh()

    def refresh(self) -> None:
        self.recent_list.clear()
        for path in self.recent.paths():
            item = QListWidgetItem(f"{Path(path).stem}    {path}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.recent_list.addItem(item)


@dataclass(frozen=True)
class NewProjectChoice:
    path: Path
    project: Project
    script: Path | None = None


class NewProjectDialog(QDialog):
    """Title, folder, format; with `script`, the project is made from a screenplay."""

    def __init__(self, script: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project from screenplay" if script else "New project")
        self.script = script
        self.title_edit = QLineEdit(script.stem.replace("_", " ").title() if script else "")
        self.folder_edit = QLineEdit(str(script.with_suffix(".previz")) if script else str(Path.home() / "Untitled.previz"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.aspect_combo = QComboBox()
        for ratio in ASPECT_RATIOS:
            self.aspect_combo.addItem(f"{ratio:.2f} : 1", ratio)
        self.aspect_combo.setCurrentIndex(ASPECT_RATIOS.index(2.39))
        self.fps_combo = QComboBox()
        for fps in FRAME_RATES:
            self.fps_combo.addItem(f"{fps:g} fps", fps)
        self.fps_combo.setCurrentIndex(list(FRAME_RATES).index(24.0))
        self.message = QLabel()
        self.message.setStyleSheet("color: #ff7070")
        form = QFormLayout()
        if script:
            form.addRow("Screenplay", QLabel(str(script)))
        form.addRow("Title", self.title_edit)
        form.addRow("Project folder", folder_row)
        form.addRow("Aspect ratio", self.aspect_combo)
        form.addRow("Frame rate", self.fps_combo)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(box)

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Project folder", self.folder_edit.text())
        if chosen:
            self.folder_edit.setText(str(project_path(chosen)))

    def choice(self) -> NewProjectChoice:
        """What the dialog says. Raises ValueError for a title or folder that cannot be used."""
        title = self.title_edit.text().strip()
        if not title:
            raise ValueError("give the project a title")
        folder = self.folder_edit.text().strip()
        if not folder:
            raise ValueError("choose a folder for the project")
        project = Project(title=title, aspect_ratio=self.aspect_combo.currentData(), fps=self.fps_combo.currentData())
        return NewProjectChoice(project_path(folder), project, self.script)

    def accept(self) -> None:
        try:
            self.choice()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        super().accept()
