"""The plate source's Generate page: an environment painted for the wall from a scene,
by the blocking engine, or by the diffusion model the engine settings name (with an
optional tiled img2img upscale to the wall's density). It is made off the GUI thread,
with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QCoreApplication, QThreadPool, Signal
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
from ..engine.base import Cancelled, RenderContext
from ..export.plate_source import PlateGeneration, generate_source, scene_staging
from ..store import scenes
from .services import Services
from .state import ProjectState
from .workers import BackgroundTask, TaskControl, run_in_background, wait_for_tasks

MAX_SEED = 2**31 - 1


class PlateGenerateWidget(QWidget):
    """Engine, scene, prompt, seed and upscale, and the Generate / Cancel buttons with
    the progress. `generated(pixels, label)` follows a finished environment (uint8,
    height × width × 3, a `wide` source covering the wall); `message(text, error)`
    says what happens. `wall()` is the wall to generate for (None while it has errors)."""

    generated = Signal(object, str)
    message = Signal(str, bool)

    def __init__(self, state: ProjectState, services: Services, pool: QThreadPool,
                 wall: Callable[[], WallProfile | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.services, self.pool, self._wall = state, services, pool, wall
        self._task: BackgroundTask | None = None
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
        return self._task is not None and self._task.running

    def generate(self) -> bool:
        """Generate an environment for the wall off the GUI thread; False (saying why)
        when it cannot start."""
        wall = self._wall()
        if self.is_generating():
            return False
        if wall is None:
            self.message.emit("Correct the wall first: the environment is made to its size", True)
            return False
        generation = self.generation()
        settings = replace(self.services.engine_settings(), engine=generation.engine)
        make_engines = self.services.engines

        def work(control: TaskControl) -> np.ndarray:
            engines = make_engines(settings)  # the diffusers engine loads its model here
            context = RenderContext(on_progress=control.progress, cancel_event=control.cancel_event)
            return generate_source(engines, wall, generation, context)

        label = f"{generation.engine} environment, seed {generation.seed}"
        alive = shiboken6.isValid
        # The task belongs to the application (as LatestTask's do): this widget may be
        # deleted while the engine still paints.
        self._task = task = run_in_background(
            self.pool, work,
            lambda pixels: alive(self) and self._on_generated(pixels, label),
            lambda exc: alive(self) and self._on_failed(exc),
            parent=QCoreApplication.instance() or self)
        task.progressed.connect(lambda done, total: alive(self) and self._on_progressed(done, total))
        task.ended.connect(lambda: alive(self) and self._update())
        self.progress_bar.setRange(0, 0)  # busy until the engine's first step says how many
        self.message.emit(f"Generating the {label}…", False)
        self._update()
        return True

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def stop(self, timeout_ms: int = 0) -> bool:
        """Cancel a generation and wait up to `timeout_ms` for it to end (the project is
        closing). True when none is left running."""
        self.cancel()
        if self.is_generating() and timeout_ms > 0:
            wait_for_tasks([self._task], timeout_ms)
        return not self.is_generating()

    def _on_generated(self, pixels: np.ndarray, label: str) -> None:
        self.made = True
        self.generated.emit(pixels, label)

    def _on_progressed(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def _on_failed(self, exc: BaseException) -> None:
        cancelled = isinstance(exc, Cancelled)
        self.message.emit("Generation cancelled." if cancelled else f"Generation failed: {exc}", not cancelled)

    def _update(self, *_args) -> None:
        generating = self.is_generating()
        self.generate_button.setEnabled(not generating)
        self.cancel_button.setEnabled(generating)
        self.upscale_check.setEnabled(self.engine_combo.currentData() == "diffusers")
        if not generating:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1 if self.made else 0)
