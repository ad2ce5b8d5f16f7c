"""The shot board: every shot as a panel in a wrapping grid, drawn by one delegate (no
widget per shot), with a zoom slider, drag to reorder, and the board's edit actions."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QPainter
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QListView, QMenu, QSlider, QVBoxLayout, QWidget

from ..domain.model import Shot
from ..store import operations as ops
from .board_delegate import PanelDelegate
from .board_model import (
    SHOT_FIELDS_MIME, SHOT_MIME, BoardModel, BoardRole, shot_fields_mime, shot_ids_from_mime, shots_from_mime,
)
from .state import ProjectState
from .theme import ACCENT
from .thumbnails import ThumbnailCache

MIN_PANEL_WIDTH, MAX_PANEL_WIDTH, ZOOM_STEP = 120, 480, 40
_SPACING = 6  # between cells


class _PanelListView(QListView):
    """A wrapping grid whose drops land between panels, with a bar where they will land.

    QListView's own drop positions (2 px at a panel's edges) and icon mode's free
    placement suit neither a storyboard, so dropping is done here."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.drop_row: int | None = None

    def dataChanged(self, top_left: QModelIndex, bottom_right: QModelIndex, roles=()) -> None:  # noqa: N802 - Qt's name
        # QListView in list mode lays all 2,000 panels out again on any change
        # (QListModeViewBase::dataChanged); they all have one size, so repainting the
        # changed ones is enough. Each new frame or thumbnail would otherwise cost 20 ms.
        QAbstractItemView.dataChanged(self, top_left, bottom_right, list(roles))

    def drop_row_at(self, pos: QPoint) -> int:
        """The row a drop at viewport `pos` goes before: panels are in reading order, so
        count those before `pos` (above its line, or on it and left of centre)."""
        low, high = 0, self.model().rowCount()
        while low < high:
            mid = (low + high) // 2
            rect = self.visualRect(self.model().index(mid, 0))
            above = rect.bottom() + _SPACING < pos.y()
            if above or (rect.top() - _SPACING <= pos.y() and rect.center().x() <= pos.x()):
                low = mid + 1
            else:
                high = mid
        return low

    def dragEnterEvent(self, event) -> None:
        self._drag_over(event)

    def dragMoveEvent(self, event) -> None:
        self._drag_over(event)

    def dragLeaveEvent(self, event) -> None:
        self._set_drop_row(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        row = self.drop_row_at(event.position().toPoint())
        self._set_drop_row(None)
        if not event.mimeData().hasFormat(SHOT_MIME):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        # The panel under the pointer decides the scene, so a drop on the right half of
        # a scene's last panel lands at that scene's end, not at the next one's start.
        # The store moves the shots and the model resets; the drag's source then asks
        # the model to remove the dragged rows, which it refuses (no removeRows).
        under = self.indexAt(event.position().toPoint())
        scene_id = self.model().shot_at(under.row()).scene_id if under.isValid() else None
        self.model().move_shots(shot_ids_from_mime(event.mimeData()), row, scene_id)

    def _drag_over(self, event) -> None:
        if not event.mimeData().hasFormat(SHOT_MIME):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self._set_drop_row(self.drop_row_at(event.position().toPoint()))

    def _set_drop_row(self, row: int | None) -> None:
        if row != self.drop_row:
            self.drop_row = row
            self.viewport().update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        count = self.model().rowCount() if self.model() else 0
        if self.drop_row is None or count == 0:
            return
        after = self.drop_row >= count
        rect = self.visualRect(self.model().index(count - 1 if after else self.drop_row, 0))
        x = rect.right() + _SPACING // 2 if after else rect.left() - _SPACING // 2
        painter = QPainter(self.viewport())
        painter.fillRect(QRect(x - 1, rect.top(), 3, rect.height()), ACCENT)
        painter.end()


class BoardView(QWidget):
    """The shot board. Selection follows the state's current shot and leads it."""

    generate_requested = Signal(list)  # shot ids, film order
    sketch_requested = Signal(int)  # shot id

    def __init__(self, state: ProjectState, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.thumbnails = state, thumbnails
        self.model = BoardModel(state, thumbnails, self)
        self.delegate = PanelDelegate(self.model, thumbnails, self)
        self._syncing = False
        self._kept: tuple[list[int], int | None] = ([], None)

        view = self.list_view = _PanelListView(self)
        view.setViewMode(QListView.ViewMode.ListMode)
        view.setFlow(QListView.Flow.LeftToRight)
        view.setWrapping(True)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setUniformItemSizes(True)
        view.setSpacing(_SPACING // 2)
        view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        view.setDragDropMode(QListView.DragDropMode.InternalMove)
        view.setDefaultDropAction(Qt.DropAction.MoveAction)
        view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.setItemDelegate(self.delegate)
        view.setModel(self.model)

        self.zoom_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.zoom_slider.setRange(MIN_PANEL_WIDTH, MAX_PANEL_WIDTH)
        self.zoom_slider.setValue(self.delegate.panel_width)
        self.zoom_slider.setAccessibleName("Panel size")
        self.zoom_slider.setMaximumWidth(200)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(QLabel("Panel size", self))
        bar.addWidget(self.zoom_slider)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view, 1)
        layout.addLayout(bar)

        self._make_actions()
        self.set_panel_width(self.delegate.panel_width)
        self.zoom_slider.valueChanged.connect(self.set_panel_width)
        view.selectionModel().currentChanged.connect(self._on_current_index_changed)
        view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        view.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        self.model.modelReset.connect(self._on_model_reset)
        state.current_shot_changed.connect(self._on_current_shot_changed)
        QGuiApplication.clipboard().dataChanged.connect(self._on_clipboard_changed)
        self._on_clipboard_changed()
        self._on_selection_changed()

    def _make_actions(self) -> None:
        def action(text: str, slot, *keys) -> QAction:
            made = QAction(text, self)
            made.setShortcuts([QKeySequence(key) for key in keys])
            made.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        keys = QKeySequence.StandardKey
        self.copy_action = action("Copy", self.copy_selection, keys.Copy)
        self.cut_action = action("Cut", self.cut_selection, keys.Cut)
        self.paste_action = action("Paste", self.paste, keys.Paste)
        self.insert_action = action("New shot", self.insert_shot, "Ins", "Ctrl+Shift+N")
        self.delete_action = action("Delete", self.delete_selection, keys.Delete)
        self.select_all_action = action("Select all", self.list_view.selectAll, keys.SelectAll)
        self.zoom_in_action = action("Larger panels", self._on_zoom_in, keys.ZoomIn)
        self.zoom_out_action = action("Smaller panels", self._on_zoom_out, keys.ZoomOut)
        self.generate_action = action("Generate frames", self._on_generate)
        self.sketch_action = action("Sketch…", self._on_sketch)

    # -- public ------------------------------------------------------------------------

    def selected_shot_ids(self) -> list[int]:
        rows = sorted(index.row() for index in self.list_view.selectionModel().selectedIndexes())
        return [self.model.shot_id_at(row) for row in rows]

    def scroll_to_scene(self, scene_id: int) -> None:
        row = self.model.first_row_of_scene(scene_id)
        if row is not None:
            self.list_view.scrollTo(self.model.index(row), QListView.ScrollHint.PositionAtTop)

    def panel_width(self) -> int:
        return self.delegate.panel_width

    def set_panel_width(self, width: int) -> None:
        width = max(MIN_PANEL_WIDTH, min(MAX_PANEL_WIDTH, int(width)))
        self.model.thumbnail_width = round(width * self.list_view.devicePixelRatioF())
        if width != self.delegate.panel_width:
            self.delegate.set_panel_width(width)
            self.list_view.doItemsLayout()  # now, so the panel being looked at stays in view
            if self.list_view.currentIndex().isValid():
                self.list_view.scrollTo(self.list_view.currentIndex())
        self.zoom_slider.blockSignals(True)
        self.zoom_slider.setValue(width)
        self.zoom_slider.blockSignals(False)
        self.zoom_in_action.setEnabled(width < MAX_PANEL_WIDTH)
        self.zoom_out_action.setEnabled(width > MIN_PANEL_WIDTH)

    def visible_thumbnails_pending(self) -> int:
        """Panels in the viewport whose hero frame is not in memory yet."""
        viewport, count = self.list_view.viewport().rect(), self.model.rowCount()
        pending = 0
        for row in range(self.list_view.drop_row_at(QPoint(0, 0)), count):
            index = self.model.index(row)
            rect = self.list_view.visualRect(index)
            if rect.top() > viewport.bottom():
                break
            digest = self.model.data(index, BoardRole.hero_digest)
            if rect.intersects(viewport) and digest and not self.thumbnails.is_missing(digest):
                pending += self.model.data(index, BoardRole.pixmap) is None
        return pending

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.set_panel_width(self.panel_width())  # the screen, so the pixel ratio, is known now

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self.set_panel_width(self.panel_width())  # moved to a screen of another density
        return super().event(event)

    # -- edits -------------------------------------------------------------------------

    def copy_selection(self) -> None:
        rows = sorted(index.row() for index in self.list_view.selectionModel().selectedIndexes())
        if rows:
            QGuiApplication.clipboard().setMimeData(shot_fields_mime([self.model.shot_at(r) for r in rows]))

    def cut_selection(self) -> None:
        self.copy_selection()
        self.delete_selection()

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(SHOT_FIELDS_MIME):
            return
        try:
            copies = shots_from_mime(mime)
        except ValueError as exc:
            self.state.report_error(f"Paste: {exc}")
            return
        self._insert(copies, "Paste shot" if len(copies) == 1 else f"Paste {len(copies)} shots")

    def insert_shot(self) -> None:
        self._insert([Shot(duration=self.state.project().default_shot_duration)], "Insert shot")

    def delete_selection(self) -> None:
        ids = self.selected_shot_ids()
        if not ids:
            return
        first = self.model.row_of(ids[0])
        if self.state.perform(ops.DeleteShots(ids)) and self.model.rowCount():
            self._select_rows([min(first, self.model.rowCount() - 1)])

    def _insert(self, new_shots: list[Shot], label: str) -> None:
        where = self._insertion_point()
        if where is None:
            self.state.report_error(f"{label}: the project has no scene to put a shot in")
            return
        if not new_shots:
            return
        scene_id, position = where
        inserts = [ops.InsertShot(scene_id, position + i, shot) for i, shot in enumerate(new_shots)]
        if self.state.perform(ops.Compound(label, inserts)):
            self._select_rows([self.model.row_of(op.shot_id) for op in inserts])

    def _insertion_point(self) -> tuple[int, int] | None:
        """After the current shot; without one, at the end of the last scene."""
        row = self.model.row_of(self.state.current_shot_id) if self.state.current_shot_id is not None else None
        if row is not None:
            shot = self.model.shot_at(row)
            return shot.scene_id, shot.position + 1
        last = self.state.db.execute("SELECT id FROM scenes WHERE removed = 0 ORDER BY position DESC LIMIT 1").fetchone()
        if last is None:
            return None
        return last[0], self.state.db.execute("SELECT count(*) FROM shots WHERE scene_id = ?", [last[0]]).fetchone()[0]

    def _select_rows(self, rows: list[int]) -> None:
        """Select `rows` and make the first current (so the state's current shot follows)."""
        selection = QItemSelection()
        for row in rows:
            selection.select(self.model.index(row), self.model.index(row))
        model = self.list_view.selectionModel()
        model.setCurrentIndex(self.model.index(rows[0]), QItemSelectionModel.SelectionFlag.NoUpdate)
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list_view.scrollTo(self.model.index(rows[0]))

    # -- selection and the current shot ------------------------------------------------

    @contextmanager
    def _sync(self):
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _on_current_index_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._syncing and current.isValid():
            self.state.set_current_shot(self.model.shot_id_at(current.row()))

    def _on_current_shot_changed(self, shot_id: int) -> None:
        if self._syncing:
            return
        selection = self.list_view.selectionModel()
        if shot_id < 0:
            with self._sync():
                selection.clearCurrentIndex()
            return
        row = self.model.row_of(shot_id)
        if row is None or selection.currentIndex().row() == row:
            return
        index = self.model.index(row)
        with self._sync():
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list_view.scrollTo(index)

    def _on_model_about_to_be_reset(self) -> None:
        self._kept = (self.selected_shot_ids(), self.model.shot_id_at(self.list_view.currentIndex().row()))

    def _on_model_reset(self) -> None:
        selected, current = self._kept
        selection = QItemSelection()
        for shot_id in selected:
            row = self.model.row_of(shot_id)
            if row is not None:
                selection.select(self.model.index(row), self.model.index(row))
        model = self.list_view.selectionModel()
        with self._sync():
            if current is not None and self.model.row_of(current) is not None:
                model.setCurrentIndex(self.model.index(self.model.row_of(current)), QItemSelectionModel.SelectionFlag.NoUpdate)
            model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _on_selection_changed(self, *_args) -> None:
        has_selection = self.list_view.selectionModel().hasSelection()
        for action in (self.copy_action, self.cut_action, self.delete_action, self.generate_action):
            action.setEnabled(has_selection)
        self.sketch_action.setEnabled(self.list_view.currentIndex().isValid())

    def _on_clipboard_changed(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        self.paste_action.setEnabled(mime is not None and mime.hasFormat(SHOT_FIELDS_MIME))

    # -- menu and zoom -----------------------------------------------------------------

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        if index.isValid() and not self.list_view.selectionModel().isSelected(index):
            self.list_view.setCurrentIndex(index)
        self._on_selection_changed()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addActions([self.generate_action, self.sketch_action])
        menu.addSeparator()
        menu.addActions([self.cut_action, self.copy_action, self.paste_action])
        menu.addSeparator()
        menu.addActions([self.insert_action, self.delete_action])
        menu.popup(self.list_view.viewport().mapToGlobal(pos))

    def _on_generate(self) -> None:
        ids = self.selected_shot_ids()
        if ids:
            self.generate_requested.emit(ids)

    def _on_sketch(self) -> None:
        shot_id = self.model.shot_id_at(self.list_view.currentIndex().row())
        if shot_id is not None:
            self.sketch_requested.emit(shot_id)

    def _on_zoom_in(self) -> None:
        self.set_panel_width(self.panel_width() + ZOOM_STEP)

    def _on_zoom_out(self) -> None:
        self.set_panel_width(self.panel_width() - ZOOM_STEP)
