"""The sketch window: draw a frame over the blocking render, a take or a blank panel,
keep it as a drawn take, and hand it on to img2img."""

from __future__ import annotations

import json
from functools import partial

from PySide6.QtCore import QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QColorDialog, QComboBox, QDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSlider, QToolBar,
    QToolButton, QVBoxLayout, QWidget,
)

from ..domain.model import Take
from ..domain.vocabulary import TakeKind
from ..engine.frames import BLOCKING_WIDTH, frame_request, frame_size, shot_context
from ..store import takes
from .sketch import LAYERS, SketchCanvas
from .sketch_io import Underlay, blocking_underlay, read_sketch, sketch_recipe, take_underlay, write_sketch
from .state import ProjectState
from .workers import BackgroundTask, run_in_background, wait_for_tasks

_FLUSH_WAIT_MS = 30_000  # for a save already running; one takes well under a second


class SketchDialog(QDialog):
    """A non-modal window drawing one frame of `shot_id`, over `source_take_id` if given."""

    take_saved = Signal(int)  # the new drawn take
    refine_requested = Signal(int)  # a take to send to img2img
    underlay_changed = Signal()  # a background load put a new underlay on the canvas

    def __init__(
        self, state: ProjectState, shot_id: int, source_take_id: int | None = None, parent: QWidget | None = None,
        *, pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.setModal(False)
        self._state, self._shot_id, self._source_take_id = state, shot_id, source_take_id
        self._pool = pool or QThreadPool(self)
        self._source: Take | None = takes.get_take(state.db, source_take_id) if source_take_id is not None else None
        self._sketch = sketch_recipe(self._source)
        width, height = frame_size(state.project().aspect_ratio, width=BLOCKING_WIDTH)
        self.canvas = SketchCanvas(QSize(width, height), self)
        self._underlays: dict[str, Underlay] = {"blank": Underlay()}
        self._applied = Underlay()  # what the canvas shows now
        self._loading: set[str] = set()
        # Until a drawn take's saved layers arrive, the canvas holds blank ones: nothing may be saved.
        self._layers_pending = False
        self._saving = self._refine_after_save = self._close_after_save = self._discarding = False
        self._save_task: BackgroundTask | None = None
        self._save_failed = False  # how the last save ended
        self.last_take_id: int | None = None
        self._close_box: QMessageBox | None = None
        self._color_dialog: QColorDialog | None = None
        self.setWindowTitle(f"Sketch — shot {state.shot(shot_id).number} [*]")
        self.canvas.modified_changed.connect(self.setWindowModified)
        self._build()
        self._on_underlay_choice_changed()

    # -- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        self.status_label = QLabel()
        self.underlay_combo = QComboBox()
        if self._sketch is not None:
            self.underlay_combo.addItem("Sketch underlay", "source")
        elif self._source is not None:
            self.underlay_combo.addItem(f"Take {self._source.id}", "source")
        self.underlay_combo.addItem("Blocking render", "blocking")
        self.underlay_combo.addItem("Blank panel", "blank")
        self.underlay_combo.currentIndexChanged.connect(self._on_underlay_choice_changed)

        self.save_button = QPushButton("Save take")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.clicked.connect(self.save)
        self.refine_button = QPushButton("Refine with AI")
        self.refine_button.clicked.connect(self.refine)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Underlay"))
        buttons.addWidget(self.underlay_combo)
        buttons.addWidget(self.status_label, 1)
        for button in (self.save_button, self.refine_button, close_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_toolbar())
        layout.addWidget(self.canvas, 1)
        layout.addLayout(buttons)

    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar(self)
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name, key in (("pen", "P"), ("brush", "B"), ("eraser", "E")):
            action = QAction(name.capitalize(), self, checkable=True, shortcut=QKeySequence(key))
            action.setData(name)
            group.addAction(action)
            bar.addAction(action)
            self.tool_actions[name] = action
        self.tool_actions[self.canvas.tool()].setChecked(True)
        group.triggered.connect(lambda action: self.canvas.set_tool(action.data()))

        self.color_button = QToolButton(self)
        self.color_button.setToolTip("Stroke colour of the current layer")
        self.color_button.clicked.connect(self._on_color_button_clicked)
        bar.addWidget(self.color_button)
        bar.addWidget(QLabel("Size", self))
        self.size_slider = _slider(1, 64, round(self.canvas.pen_width()), "Stroke size (frame pixels)")
        self.size_slider.valueChanged.connect(lambda value: self.canvas.set_pen_width(value))
        bar.addWidget(self.size_slider)
        bar.addSeparator()

        self.layer_combo = QComboBox(self)
        for name in LAYERS:
            self.layer_combo.addItem(name.capitalize(), name)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_choice_changed)
        bar.addWidget(self.layer_combo)
        self.visibility_actions: dict[str, QAction] = {}
        for name in LAYERS:
            action = QAction(f"Show {name}", self, checkable=True, checked=True)
            action.toggled.connect(lambda shown, layer=name: self.canvas.set_layer_visible(layer, shown))
            bar.addAction(action)
            self.visibility_actions[name] = action
        clear = QAction("Clear layer", self)
        clear.triggered.connect(lambda: self.canvas.clear_layer(self.canvas.current_layer))
        bar.addAction(clear)
        bar.addSeparator()

        bar.addWidget(QLabel("Fade", self))
        self.opacity_slider = _slider(0, 100, 100, "Underlay opacity while drawing (saved at full opacity)")
        self.opacity_slider.valueChanged.connect(lambda value: self.canvas.set_underlay_opacity(value / 100))
        bar.addWidget(self.opacity_slider)
        bar.addSeparator()

        # The dialog's own shortcuts: Ctrl+Z here undoes a stroke, not a project edit.
        self.undo_action = self.canvas.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.canvas.undo_stack.createRedoAction(self, "Redo")
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        if QKeySequence("Ctrl+Shift+Z") not in redo_keys:  # the platform's list may lack it
            redo_keys.insert(0, QKeySequence("Ctrl+Shift+Z"))
        self.redo_action.setShortcuts(redo_keys)
        for action in (self.undo_action, self.redo_action):
            bar.addAction(action)
        self._show_color()
        return bar

    # -- tools -------------------------------------------------------------------------

    def _on_layer_choice_changed(self) -> None:
        self.canvas.set_current_layer(self.layer_combo.currentData())
        self._show_color()

    def _on_color_button_clicked(self) -> None:
        self._color_dialog = QColorDialog(self.canvas.color(), self)
        self._color_dialog.colorSelected.connect(self._on_color_selected)
        self._color_dialog.open()

    def _on_color_selected(self, color: QColor) -> None:
        self.canvas.set_color(color)
        self._show_color()

    def _show_color(self) -> None:
        swatch = QPixmap(16, 16)
        swatch.fill(self.canvas.color())
        self.color_button.setIcon(QIcon(swatch))

    # -- underlays ---------------------------------------------------------------------

    def underlay_choice(self) -> str:
        """"source", "blocking" or "blank"."""
        return self.underlay_combo.currentData()

    def set_underlay_choice(self, choice: str) -> None:
        index = self.underlay_combo.findData(choice)
        if index < 0:
            raise ValueError(f"no underlay {choice!r} here")
        self.underlay_combo.setCurrentIndex(index)

    def _on_underlay_choice_changed(self) -> None:
        choice = self.underlay_choice()
        if choice in self._underlays:
            self._apply_underlay(choice)
        elif choice not in self._loading:
            self._load_underlay(choice)

    def _apply_underlay(self, choice: str) -> None:
        self._applied = self._underlays[choice]
        self.canvas.set_underlay(self._applied.image)
        self.underlay_changed.emit()

    def _load_underlay(self, choice: str) -> None:
        media, size = self._state.folder.media, self.canvas.image_size()
        if choice == "blocking":
            try:
                request = frame_request(shot_context(self._state.folder, self._shot_id))
            except ValueError as exc:
                self._state.report_error(f"The blocking render could not be made: {exc}")
                return
            work, status = partial(blocking_underlay, request, size), "Rendering the blocking panel…"
        elif self._sketch is not None:
            self._set_layers_pending(True)
            work, status = partial(read_sketch, media, self._sketch, size), "Loading the sketch…"
        else:
            work, status = partial(take_underlay, media, self._source.media_hash, size), "Loading the take…"
        self._loading.add(choice)
        self.status_label.setText(status)
        run_in_background(
            self._pool, work, lambda loaded: self._on_underlay_loaded(choice, *loaded),
            lambda exc: self._on_underlay_failed(choice, exc), parent=self,
        )

    def _on_underlay_loaded(self, choice: str, underlay: Underlay, layers: dict[str, QImage]) -> None:
        self._loading.discard(choice)
        # After a failed load the user may have drawn on blank layers: a retry keeps those strokes.
        if not self.canvas.is_modified():
            for name, image in layers.items():
                self.canvas.set_layer_image(name, image)
        if layers:
            self._set_layers_pending(False)
        self.status_label.setText("")
        self._underlays[choice] = underlay
        # The user may have picked another underlay meanwhile.
        if self.underlay_choice() == choice:
            self._apply_underlay(choice)

    def _on_underlay_failed(self, choice: str, exc: BaseException) -> None:
        self._loading.discard(choice)
        if choice == "source" and self._sketch is not None:
            # What the canvas shows is what a save keeps: the user sees the layers are blank.
            self._set_layers_pending(False)
        self.status_label.setText("")
        self._state.report_error(f"The sketch underlay could not be loaded: {exc}")

    def _set_layers_pending(self, pending: bool) -> None:
        self._layers_pending = pending
        # Strokes made before the saved layers arrive would be overwritten by them.
        self.canvas.setEnabled(not pending)
        self._update_buttons()

    # -- saving ------------------------------------------------------------------------

    def save(self) -> None:
        """Keep the drawing as a new drawn take, written in the background; `take_saved`
        follows, or an error is reported and the drawing stays as it is. Does nothing
        while a save runs or a drawn take's saved layers are still loading."""
        if self._saving or self._layers_pending:
            return
        self._set_saving(True, "Saving…")
        media, drawing, saved_index = self._state.folder.media, self._drawing(), self.canvas.undo_stack.index()
        self._save_task = run_in_background(
            self._pool, lambda _control: write_sketch(media, *drawing),
            lambda written: self._on_written(written, saved_index), self._on_write_failed, parent=self,
        )

    def flush(self) -> bool:
        """Keep unsaved strokes as a drawn take now, without asking, before the project
        closes: wait for a save already running (or give it up after a while), then write
        what is still unsaved on this thread. Drops a pending refine or close. True when
        nothing unsaved is left; False (after reporting) when the drawing could not be
        kept, so the caller must not discard it."""
        self._refine_after_save = self._close_after_save = False
        if self._close_box is not None:
            self._close_box.close()  # the question is answered: the strokes are kept
        if self._saving:
            self._wait_for_save()
        if self._layers_pending or not self.canvas.is_modified():
            return True  # nothing can have been drawn while the layers load
        self._set_saving(True, "Saving…")
        saved_index = self.canvas.undo_stack.index()
        try:
            written = write_sketch(self._state.folder.media, *self._drawing())
        except Exception as exc:  # noqa: BLE001 - as in the background: reported, never lost
            self._on_write_failed(exc)
            return False
        self._on_written(written, saved_index)
        return not self.canvas.is_modified()

    def _wait_for_save(self) -> None:
        """Wait for the save in flight, deaf to strokes, clicks and a second close; one
        that takes too long is given up (it will not record a take)."""
        wait_for_tasks([self._save_task], _FLUSH_WAIT_MS)
        if self._saving:
            self._abandon_save()

    def _abandon_save(self) -> None:
        # Its files may still be written, but it must not record a take once the project closes.
        task, self._save_task = self._save_task, None
        task.succeeded.disconnect()
        task.failed.disconnect()
        self._set_saving(False, "")

    def _drawing(self) -> tuple[QImage, QImage, QImage, Underlay]:
        """What `write_sketch` keeps: the composite, the layers and the underlay."""
        return self.canvas.composite(), self.canvas.layer("ink"), self.canvas.layer("notes"), self._applied

    def _on_written(self, written: tuple[str, int, dict], saved_index: int) -> None:
        digest, size, sketch = written
        take_id = self._state.record_take(
            self._shot_id, TakeKind.drawn, digest, size, json.dumps({"sketch": sketch}), parent_id=self._source_take_id)
        self._save_task, self._save_failed = None, take_id is None
        self._set_saving(False, "" if take_id is None else f"Saved as take {take_id}")
        if take_id is None:  # reported by the state
            self._refine_after_save = self._close_after_save = False
            return
        # Strokes made while the files were written are not in this take.
        if self.canvas.undo_stack.index() == saved_index:
            self.canvas.mark_saved()
        self.last_take_id = take_id
        self.take_saved.emit(take_id)
        if self._refine_after_save:
            self._refine_after_save = False
            self.refine_requested.emit(take_id)
        if self._close_after_save:
            self._close_after_save = False
            self.close()

    def _on_write_failed(self, exc: BaseException) -> None:
        self._save_task, self._save_failed = None, True
        self._refine_after_save = self._close_after_save = False
        self._set_saving(False, "Not saved")
        self._state.report_error(f"The sketch could not be saved: {exc}")

    def refine(self) -> None:
        """Send the drawing to img2img: save it first if it has changed. Does nothing while
        a drawn take's saved layers are still loading."""
        if self._layers_pending:
            return
        unsaved_new = self.last_take_id is None and self._source_take_id is None
        if self.canvas.is_modified() or unsaved_new or self._saving:
            self._refine_after_save = True
            self.save()
        else:
            self.refine_requested.emit(self.last_take_id or self._source_take_id)

    def is_busy(self) -> bool:
        """Whether a load or a save is still running in the background."""
        return self._saving or bool(self._loading)

    def _set_saving(self, saving: bool, status: str) -> None:
        self._saving = saving
        self._update_buttons()
        self.status_label.setText(status)

    def _update_buttons(self) -> None:
        ready = not self._saving and not self._layers_pending
        self.save_button.setEnabled(ready)
        self.refine_button.setEnabled(ready)

    # -- closing -----------------------------------------------------------------------

    def discard(self) -> None:
        """Close without asking, dropping unsaved strokes and any save still running
        (`flush` first keeps them)."""
        if self._saving:
            self._abandon_save()
        self._discarding = True
        self.close()

    def reject(self) -> None:
        if self._may_close():
            super().reject()

    def closeEvent(self, event) -> None:
        if self._may_close():
            super().closeEvent(event)
        else:
            event.ignore()

    def _may_close(self) -> bool:
        if self._saving:  # close once the files are kept
            self._close_after_save = True
            return False
        if self._discarding or not self.canvas.is_modified():
            return True
        if self._close_box is None or not self._close_box.isVisible():
            buttons = QMessageBox.StandardButton
            self._close_box = QMessageBox(
                QMessageBox.Icon.Question, "Unsaved sketch", "Keep this sketch as a new take before closing?",
                buttons.Save | buttons.Discard | buttons.Cancel, self)
            self._close_box.buttonClicked.connect(self._on_close_box_clicked)
            self._close_box.open()
        return False

    def _on_close_box_clicked(self, button) -> None:
        answer = self._close_box.standardButton(button)
        if answer == QMessageBox.StandardButton.Save:
            self._close_after_save = True
            self.save()
        elif answer == QMessageBox.StandardButton.Discard:
            self.discard()


def _slider(low: int, high: int, value: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setMaximumWidth(120)
    slider.setToolTip(tip)
    return slider
