"""The plate source's Generate page: an environment painted for the wall from a scene,
by the blocking engine, or by the diffusion model the engine settings name (with an
optional tiled img2img upscale to the wall's density). It is made off the GUI thread,
on a thread of its own with the engines kept between generations (plate_engines.py),
with progress and cancel; it remembers the wall it was made for, as another wall would
stretch it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..domain.wall import WallProfile
from ..engine.base import Cancelled
from ..export.plate_projection import wall_span_deg, wide_source_size
from ..export.plate_source import PlateGeneration, full_size, scene_staging, source_recipe
from ..store import scenes
from .plate_engines import PlateEngines
from .services import Services
from .state import ProjectState
from .workers import wait_for_tasks

MAX_SEED = 2**31 - 1
COVERAGE_WIDTH = 4096  # the width wall_coverage measures a wall's height in the picture at


def wall_coverage(wall: WallProfile) -> tuple[float, int]:
    """What a `wide` source made for `wall` is spread over: the angle the wall spans, and
    how tall the wall stands in a picture of that span COVERAGE_WIDTH px wide. Two walls
    with the same coverage take the same picture unstretched (however fine their pixels);
    any other wall would stretch it. Raises ValueError for a bad wall."""
    return round(wall_span_deg(wall), 3), wide_source_size(wall, COVERAGE_WIDTH)[1]


@dataclass(frozen=True)
class GeneratedEnvironment:
    """A finished environment: `pixels` (uint8, height × width × 3, a `wide` source),
    what it is called, how it was made (`recipe`, JSON-ready: the PlateGeneration with
    the picture's width and height) and the `coverage` of the wall it was made for."""

    pixels: np.ndarray
    label: str
    recipe: dict[str, Any]
    coverage: tuple[float, int]


class PlateGenerateWidget(QWidget):
    """Engine, scene, prompt, seed and upscale, and the Generate / Cancel buttons with
    the progress. `environment_changed(GeneratedEnvironment)` follows a finished
    environment; `message_changed(text, error)` says what happens. `wall()` is the wall
    to generate for (None while it has errors). Generations run on `engines`' own
    thread, with engines kept between them (see plate_engines.py); deleting the widget
    cancels one running."""

    environment_changed = Signal(object)
    message_changed = Signal(str, bool)

    def __init__(self, state: ProjectState, services: Services,
                 wall: Callable[[], WallProfile | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.services, self._wall = state, services, wall
        self.engines = PlateEngines(services)
        engines = self.engines
        self.destroyed.connect(lambda *_args: engines.close())  # not self: it is going
        self.made = False  # an environment was generated here
        self.engine_combo = QComboBox()
        self.scene_combo = QComboBox()
        self.scene_combo.setMinimumContentsLength(20)
        self.prompt_edit = QLineEdit()
        self.prompt_edit.setPlaceholderText("Words for the diffusion model; the scene gives place and light")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.upscale_check = QCheckBox("Upscale to the wall's pixels per degree (tiled img2img)")
        self.generate_button = QPushButton("Generate")
        self.cancel_button = QPushButton("Cancel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Engine", self.engine_combo)
        form.addRow("Scene", self.scene_combo)
        form.addRow("Prompt", self.prompt_edit)
        seed = QHBoxLayout()
        seed.addWidget(self.seed_spin)
        seed.addWidget(self.upscale_check, 1)
        form.addRow("Seed", seed)
        running = QHBoxLayout()
        running.addWidget(self.progress_bar, 1)
        running.addWidget(self.generate_button)
        running.addWidget(self.cancel_button)
        form.addRow(running)

        self.engine_combo.currentIndexChanged.connect(self._update)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.refresh_choices()

    def refresh_choices(self) -> None:
        """Offer the engines the settings allow and the project's scenes again."""
        settings = self.services.engine_settings()
        engine = self.engine_combo.currentData()
        self.engine_combo.clear()
        self.engine_combo.addItem("Blocking: painted from the scene", "blocking")
        if settings.model:
            self.engine_combo.addItem(f"Diffusers: {Path(settings.model).name or settings.model}", "diffusers")
        self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findData(engine)))
        scene_id = self.scene_combo.currentData()
        if scene_id is None and self.state.current_shot_id is not None:
            scene_id = self.state.shot(self.state.current_shot_id).scene_id
        self.scene_combo.clear()
        for scene in scenes.list_scenes(self.state.db, include_removed=False):
            self.scene_combo.addItem(f"{scene.number}. {scene.heading}".strip(), scene.id)
        if not self.scene_combo.count():
            self.scene_combo.addItem("No scene", None)
        self.scene_combo.setCurrentIndex(max(0, self.scene_combo.findData(scene_id)))
        self._update()

    def generation(self) -> PlateGeneration:
        """The environment the page describes."""
        settings = self.services.engine_settings()
        engine = self.engine_combo.currentData() or "blocking"
        scene_id = self.scene_combo.currentData()
        return PlateGeneration(
            engine=engine, model=settings.model if engine == "diffusers" else "",
            prompt=self.prompt_edit.text().strip(), seed=self.seed_spin.value(),
            steps=settings.steps, guidance=settings.guidance,
            staging=scene_staging(self.state.db, scene_id) if scene_id is not None else None,
            upscale=engine == "diffusers" and self.upscale_check.isChecked(),
        )

    def is_generating(self) -> bool:
        return self.engines.is_generating()

    def generate(self) -> bool:
        """Generate an environment for the wall off the GUI thread; False (saying why)
        when it cannot start."""
        wall = self._wall()
        if self.is_generating():
            return False
        if wall is None:
            self.message_changed.emit("Correct the wall first: the environment is made to its size", True)
            return False
        generation = self.generation()
        choice = replace(self.services.engine_settings(), engine=generation.engine)
        label = f"{generation.engine} environment, seed {generation.seed}"
        coverage, size = wall_coverage(wall), full_size(wall)
        alive = shiboken6.isValid
        task = self.engines.generate(choice, wall, generation)
        task.succeeded.connect(lambda pixels: alive(self) and self._on_generated(pixels, label, generation, coverage))
        task.failed.connect(lambda exc: alive(self) and self._on_failed(exc, size))
        task.progressed.connect(lambda done, total: alive(self) and self._on_progressed(done, total))
        task.ended.connect(lambda: alive(self) and self._update())
        self.progress_bar.setRange(0, 0)  # busy until the engine's first step says how many
        self.message_changed.emit(f"Generating the {label}…", False)
        self._update()
        return True

    def cancel(self) -> None:
        self.engines.cancel()

    def release_engines(self) -> None:
        """Let the kept engines (a loaded model) go: the dialog is closed."""
        self.engines.release()

    def stop(self, timeout_ms: int = 0) -> bool:
        """Cancel a generation and wait up to `timeout_ms` for it to end (the project is
        closing). True when none is left running."""
        self.cancel()
        if self.is_generating() and timeout_ms > 0:
            wait_for_tasks([self.engines.task], timeout_ms)
        return not self.is_generating()

    def _on_generated(self, pixels: np.ndarray, label: str, generation: PlateGeneration,
                      coverage: tuple[float, int]) -> None:
        self.made = True
        self.environment_changed.emit(GeneratedEnvironment(pixels, label, source_recipe(generation, pixels), coverage))

    def _on_progressed(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def _on_failed(self, exc: BaseException, size: tuple[int, int]) -> None:
        if isinstance(exc, Cancelled):
            self.message_changed.emit("Generation cancelled.", False)
        elif isinstance(exc, MemoryError):
            self.message_changed.emit(f"Generation failed: not enough memory to make the "
                                      f"{size[0]:,} × {size[1]:,} px environment", True)
        else:
            self.message_changed.emit(f"Generation failed: {str(exc) or type(exc).__name__}", True)

    def _update(self, *_args) -> None:
        generating = self.is_generating()
        self.generate_button.setEnabled(not generating)
        self.cancel_button.setEnabled(generating)
        self.upscale_check.setEnabled(self.engine_combo.currentData() == "diffusers")
        if not generating:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1 if self.made else 0)
