"""The engine settings dialog: which engine, which model, how many steps, what the
engine may do (download, read pickles), and the project's style preset.

Engine choices live in QSettings (`Services.save_engine_settings`); the style preset is
a project setting and goes through the undo stack. Model folders and scans belong to
the user's model library, which the CLI shares, so they are kept as soon as a scan runs.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..domain.vocabulary import STYLE_PRESETS
from ..engine.discovery.entry import ModelEntry, ModelKind, size_text
from ..engine.discovery.library import ModelLibrary
from ..store import operations as ops
from .services import EngineSettings, Services
from .state import ProjectState
from .theme import ACCENT, DIM_TEXT
from .workers import BackgroundTask, TaskControl, run_in_background

ENGINE_LABELS = {"blocking": "Built-in blocking (no model)", "diffusers": "Diffusion model"}
DEVICE_LABELS = {"": "Automatic", "cuda": "cuda", "mps": "mps", "cpu": "cpu"}
# Only whole pipelines can be chosen as "the model"; LoRAs, ControlNets and VAEs are parts.
PICKABLE_KINDS = (ModelKind.checkpoint, ModelKind.pipeline)


class EngineSettingsDialog(QDialog):
    """Edit the engine settings; OK saves them and emits `settings_changed(EngineSettings)`."""

    settings_changed = Signal(object)

    def __init__(self, services: Services, state: ProjectState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Engine settings")
        self.services, self.state = services, state
        self._saved = services.engine_settings()
        self._style = state.project().style_preset if state is not None else ""
        library = services.library()
        self._folders: list[Path] = library.added_folders()
        self._scan_task: BackgroundTask | None = None
        self._scan_token = 0
        self._rescan = False
        self._build()
        self._show_models(library.listed() or [])
        self._show_choice(self._saved)
        self.engine_combo.currentIndexChanged.connect(self._on_engine_changed)
        self._on_engine_changed()

    # -- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        self.engine_combo = QComboBox()
        for name, label in ENGINE_LABELS.items():
            self.engine_combo.addItem(label, name)

        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.lineEdit().setPlaceholderText("A model from the list, a path, or a Hugging Face id")
        self.model_combo.setMinimumContentsLength(40)

        self.folders_list = QListWidget()
        self.folders_list.setMaximumHeight(90)
        self.folders_list.addItems([str(p) for p in self._folders])
        self.add_button = QPushButton("Add…")
        self.remove_button = QPushButton("Remove")
        self.scan_button = QPushButton("Scan")
        self.scan_button.setToolTip("Look for models in the usual places and in these folders (reads file headers only)")
        self.cancel_scan_button = QPushButton("Cancel")
        self.scan_progress = QProgressBar()
        self.scan_progress.setRange(0, 0)  # a scan cannot say how far it is: busy
        self.scan_progress.setMaximumHeight(12)
        self.scan_progress.setTextVisible(False)
        self.scan_status = QLabel()
        self.scan_status.setStyleSheet(f"color: {DIM_TEXT.name()}")
        self._set_scanning(False)
        self.add_button.clicked.connect(self._on_add_requested)
        self.remove_button.clicked.connect(self._on_remove_requested)
        self.scan_button.clicked.connect(self.scan)
        self.cancel_scan_button.clicked.connect(self.cancel_scan)

        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.scan_button, self.cancel_scan_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        folders = QVBoxLayout()
        folders.addWidget(self.folders_list)
        folders.addLayout(buttons)
        folders.addWidget(self.scan_progress)
        folders.addWidget(self.scan_status)

        self.device_combo = QComboBox()
        for device, label in DEVICE_LABELS.items():
            self.device_combo.addItem(label, device)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 200)
        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setRange(0.0, 30.0)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setDecimals(1)
        self.strength_spin = QDoubleSpinBox()
        self.strength_spin.setRange(0.0, 1.0)
        self.strength_spin.setSingleStep(0.05)
        self.strength_spin.setDecimals(2)
        self.variations_spin = QSpinBox()
        self.variations_spin.setRange(1, 16)

        self.style_combo = QComboBox()
        for key, description in STYLE_PRESETS.items():
            self.style_combo.addItem(key.replace("_", " ").capitalize(), key)
            self.style_combo.setItemData(self.style_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        if self.state is None:
            self.style_combo.setEnabled(False)
            self.style_combo.setToolTip("The style is a project setting: open a project to choose it")
        else:
            self.style_combo.setCurrentIndex(max(0, self.style_combo.findData(self._style)))

        self.network_check = QCheckBox("Allow downloads from the Hugging Face Hub")
        self.pickle_check = QCheckBox("Allow pickled checkpoints (.ckpt/.pt/.bin; read with weights_only=True)")
        self.pickle_warning = QLabel("Pickled files can run code when loaded: allow them only for files you trust.")
        self.pickle_warning.setStyleSheet(f"color: {DIM_TEXT.name()}")

        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {ACCENT.name()}")
        self.message_label.hide()

        form = QFormLayout()
        form.addRow("Engine", self.engine_combo)
        form.addRow("Model", self.model_combo)
        form.addRow("Model folders", folders)
        form.addRow("Device", self.device_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Guidance", self.guidance_spin)
        form.addRow("Img2img strength", self.strength_spin)
        form.addRow("Default variations", self.variations_spin)
        form.addRow("Style preset", self.style_combo)
        form.addRow(self.network_check)
        form.addRow(self.pickle_check)
        form.addRow(self.pickle_warning)

        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message_label)
        layout.addWidget(box)

    def _model_widgets(self) -> list[QWidget]:
        return [
            self.model_combo, self.folders_list, self.add_button, self.remove_button, self.scan_button,
            self.device_combo, self.steps_spin, self.guidance_spin, self.strength_spin,
            self.network_check, self.pickle_check, self.pickle_warning,
        ]

    # -- values ------------------------------------------------------------------------

    def _show_choice(self, choice: EngineSettings) -> None:
        self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findData(choice.engine)))
        self._show_model(choice.model)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(choice.device)))
        self.steps_spin.setValue(choice.steps)
        self.guidance_spin.setValue(choice.guidance)
        self.strength_spin.setValue(choice.strength)
        self.variations_spin.setValue(choice.variations)
        self.network_check.setChecked(choice.allow_network)
        self.pickle_check.setChecked(choice.allow_pickle)

    def _show_model(self, model: str) -> None:
        index = self.model_combo.findData(model) if model else -1
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        else:
            self.model_combo.setCurrentIndex(-1)
            self.model_combo.setEditText(model)

    def model(self) -> str:
        """The chosen model: a listed model's path, or what the user typed."""
        text = self.model_combo.currentText().strip()
        index = self.model_combo.currentIndex()
        if index < 0 or self.model_combo.itemText(index) != text:
            index = self.model_combo.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0 and self.model_combo.itemData(index):
            return self.model_combo.itemData(index)
        return text

    def choice(self) -> EngineSettings:
        """The settings as the widgets say now."""
        return EngineSettings(
            engine=self.engine_combo.currentData(),
            model=self.model(),
            device=self.device_combo.currentData(),
            steps=self.steps_spin.value(),
            guidance=self.guidance_spin.value(),
            strength=self.strength_spin.value(),
            variations=self.variations_spin.value(),
            allow_network=self.network_check.isChecked(),
            allow_pickle=self.pickle_check.isChecked(),
        )

    def _problem(self, choice: EngineSettings) -> str:
        if choice.engine != "diffusers":
            return ""
        if not choice.model:
            return "Choose a model for the diffusion engine: pick one found by a scan, or type a path or Hugging Face id."
        path = Path(choice.model).expanduser()
        # "org/name" is a Hugging Face id; only something written as a path must exist.
        if (path.is_absolute() or choice.model.startswith(("~", "."))) and not path.exists():
            return f"{choice.model} does not exist."
        return ""

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def accept(self) -> None:
        """Check, keep the style preset (an undoable project edit) and the engine
        settings, then close. A problem is shown in the dialog, which stays open."""
        choice = self.choice()
        if problem := self._problem(choice):
            self.show_message(problem)
            return
        style = self.style_combo.currentData()
        if self.state is not None and style != self._style:
            if not self.state.perform(ops.EditProject("style_preset", style)):
                self.show_message(f"The style preset could not be changed to {style!r}.")
                return
            self._style = style
        self.services.save_engine_settings(choice)
        self.show_message("")
        self.settings_changed.emit(choice)
        super().accept()

    def done(self, result: int) -> None:
        self.cancel_scan()
        super().done(result)

    def _on_engine_changed(self) -> None:
        uses_model = self.engine_combo.currentData() == "diffusers"
        for widget in self._model_widgets():
            widget.setEnabled(uses_model)

    # -- model folders and scans -------------------------------------------------------

    def folders(self) -> list[Path]:
        return list(self._folders)

    def add_folder(self, path: str | Path) -> bool:
        """Add a model folder and scan; False (with a message) if it is not a folder."""
        folder = Path(path).expanduser().absolute()
        if not folder.is_dir():
            self.show_message(f"{folder} is not a folder.")
            return False
        if folder not in self._folders:
            self._folders.append(folder)
            self.folders_list.addItem(str(folder))
        self.scan()
        return True

    def remove_folder(self, path: str | Path) -> None:
        """Stop looking in a folder; a scan then drops its models from the list."""
        folder = Path(path).expanduser().absolute()
        if folder not in self._folders:
            return
        row = self._folders.index(folder)
        self._folders.pop(row)
        self.folders_list.takeItem(row)
        self.scan()

    def _on_add_requested(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Add a model folder")
        if chosen:
            self.add_folder(chosen)

    def _on_remove_requested(self) -> None:
        for item in self.folders_list.selectedItems():
            self.remove_folder(item.text())

    def is_scanning(self) -> bool:
        return self._scan_task is not None

    def scan(self) -> None:
        """Scan the library in the background (the usual places and the folders listed
        here); the model list follows when it ends. A scan asked for during another
        runs after it."""
        if self._scan_task is not None:
            self._rescan = True
            return
        self._scan_token += 1
        token, library, folders = self._scan_token, self.services.library(), list(self._folders)
        self.show_message("")
        self._set_scanning(True)
        self._scan_task = run_in_background(
            self.services.pool,
            functools.partial(_scan_library, library, folders),
            functools.partial(self._on_scan_finished, token),
            functools.partial(self._on_scan_failed, token),
            parent=self,
        )

    def cancel_scan(self) -> None:
        """Stop waiting for the scan. The library cannot stop a scan midway, so one
        already reading headers finishes in the background and keeps what it found."""
        if self._scan_task is None:
            return
        self._scan_task.cancel()
        self._scan_token += 1
        self._scan_task, self._rescan = None, False
        self._set_scanning(False)
        self.scan_status.setText("Scan cancelled")

    def _on_scan_finished(self, token: int, entries: list[ModelEntry] | None) -> None:
        if token != self._scan_token:
            return
        self._scan_ended()
        if entries is not None:
            shown = self._show_models(entries)
            self.scan_status.setText(f"Found {len(entries)} model files; {shown} can be chosen as the model")
        if self._rescan:
            self._rescan = False
            self.scan()

    def _on_scan_failed(self, token: int, error: BaseException) -> None:
        if token != self._scan_token:
            return
        self._scan_ended()
        self._rescan = False
        self.scan_status.setText("")
        self.show_message(f"The scan failed: {error}")

    def _scan_ended(self) -> None:
        self._scan_task = None
        self._set_scanning(False)

    def _set_scanning(self, scanning: bool) -> None:
        self.scan_progress.setVisible(scanning)
        self.cancel_scan_button.setVisible(scanning)
        if scanning:
            self.scan_status.setText("Scanning…")

    def _show_models(self, entries: list[ModelEntry]) -> int:
        """Offer the healthy checkpoints and pipelines of `entries`; keep the choice."""
        current = self.model()
        pickable = sorted(
            (e for e in entries if e.kind in PICKABLE_KINDS and not e.error),
            key=lambda e: (e.name or Path(e.path).name).lower(),
        )
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for entry in pickable:
            self.model_combo.addItem(model_label(entry), entry.path)
            self.model_combo.setItemData(self.model_combo.count() - 1, entry.path, Qt.ItemDataRole.ToolTipRole)
        self._show_model(current)
        self.model_combo.blockSignals(False)
        return len(pickable)


def _scan_library(library: ModelLibrary, folders: list[Path], control: TaskControl) -> list[ModelEntry] | None:
    """Runs in the pool: remember exactly `folders`, then scan. None when cancelled first."""
    known = library.added_folders()
    for folder in known:
        if folder not in folders:
            library.forget(folder)
    if control.cancelled:
        return None
    return library.scan([folder for folder in folders if folder not in known])


def model_label(entry: ModelEntry) -> str:
    """"name · family · size", as the model picker shows an entry."""
    parts = [entry.name or Path(entry.path).name, entry.family.value]
    if entry.size:
        parts.append(size_text(entry.size))
    return " · ".join(parts)
