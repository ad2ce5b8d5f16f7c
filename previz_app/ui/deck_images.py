"""Choosing the deck's pictures: the project's takes (for key art, the mood board and
characters) and shots (for key sequences) as thumbnails, hero and starred takes first.
The project is read off the GUI thread with a connection of its own."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QRect, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ..store import ProjectFolder, scenes, shots, takes
from .latest_task import LatestTask
from .theme import ACCENT
from .thumbnails import ThumbnailCache

TILE = QSize(150, 104)
RELOAD_DELAY_MS = 200  # takes and shots change in bursts (a batch of frames, an undo)


@dataclass(frozen=True)
class Tile:
    """A picture the deck can use: a take (id is the take's) or a shot (id is the shot's)."""

    id: int
    label: str  # "12A · take 34"
    media_hash: str | None  # None: a shot with no frame yet
    hero: bool = False
    starred: bool = False


@dataclass(frozen=True)
class Catalog:
    takes: tuple[Tile, ...] = ()  # hero takes first, then starred, then the rest; film order within
    shots: tuple[Tile, ...] = ()  # film order


def read_catalog(folder: ProjectFolder) -> Catalog:
    """The project's takes and shots as tiles, read with a connection of its own (call
    it off the GUI thread). Shots of removed scenes are left out."""
    db = folder.connect()
    try:
        kept = {scene.id for scene in scenes.list_scenes(db)}
        take_tiles, shot_tiles = [], []
        for shot in shots.list_shots(db):
            if shot.scene_id not in kept:
                continue
            shot_takes = takes.list_takes(db, shot.id)
            hero = next((take for take in shot_takes if take.id == shot.hero_take_id), None)
            shot_tiles.append(Tile(shot.id, f"Shot {shot.number}", hero.media_hash if hero else None, hero is not None))
            for take in shot_takes:
                take_tiles.append(Tile(
                    take.id, f"{shot.number} · take {take.id}", take.media_hash, take.id == shot.hero_take_id, take.starred))
    finally:
        db.close()
    # Stable: film order, newest take last, within each group.
    take_tiles.sort(key=lambda tile: (not tile.hero, not tile.starred))
    return Catalog(tuple(take_tiles), tuple(shot_tiles))


class CatalogState(QObject):
    """The project's pictures for the deck's pickers, read again (debounced) when
    takes or shots change. `catalog_changed` follows each read. While paused (its
    dialog hidden) changes are only noted; `resume` reads the project again if any
    came."""

    catalog_changed = Signal()

    def __init__(self, state, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.catalog = Catalog()
        self.loaded = False
        self._reads = LatestTask(pool, RELOAD_DELAY_MS, self)
        # Bound methods, not lambdas: Qt drops them when this object goes with its dialog.
        for signal in (state.takes_changed, state.board_changed, state.shots_changed):
            signal.connect(self._on_project_changed)

    def _on_project_changed(self, *_args) -> None:
        self.reload(RELOAD_DELAY_MS)

    def reload(self, delay_ms: int = 0) -> None:
        """Read the project's pictures again, `delay_ms` from now (a newer reload
        replaces this one), or once resumed."""
        folder = self.state.folder
        self._reads.submit(lambda _control: read_catalog(folder), self._on_read, self._on_failed, delay_ms)

    def pause(self) -> None:
        self._reads.pause()

    def resume(self) -> None:
        self._reads.resume()

    def stop(self, timeout_ms: int = 0) -> bool:
        """Read no more, and wait up to `timeout_ms` for a read still running (the
        project is closing). True when none is left running."""
        return self._reads.stop(timeout_ms)

    def tile(self, take_id: int | None) -> Tile | None:
        return next((tile for tile in self.catalog.takes if tile.id == take_id), None)

    def _on_read(self, catalog: Catalog) -> None:
        self.catalog, self.loaded = catalog, True
        self.catalog_changed.emit()

    def _on_failed(self, exc: BaseException) -> None:
        self.state.report_error(f"Could not list the project's pictures: {exc}")


class TileModel(QAbstractListModel):
    """Tiles, each with its place among the chosen (1, 2, ... or 0)."""

    TileRole = Qt.ItemDataRole.UserRole + 1
    OrderRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tiles: list[Tile] = []
        self._order: dict[int, int] = {}

    def set_tiles(self, tiles: list[Tile], chosen: tuple[int, ...]) -> None:
        self.beginResetModel()
        self.tiles = list(tiles)
        self._order = {tile_id: place for place, tile_id in enumerate(chosen, 1)}
        self.endResetModel()

    def set_chosen(self, chosen: tuple[int, ...]) -> None:
        self._order = {tile_id: place for place, tile_id in enumerate(chosen, 1)}
        if self.tiles:
            self.dataChanged.emit(self.index(0), self.index(len(self.tiles) - 1), [self.OrderRole])

    def row_of(self, tile_id: int) -> int | None:
        return next((row for row, tile in enumerate(self.tiles) if tile.id == tile_id), None)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.tiles)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.tiles):
            return None
        tile = self.tiles[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return tile.label
        if role == Qt.ItemDataRole.ToolTipRole:
            marks = [m for m, on in (("hero", tile.hero), ("starred", tile.starred)) if on]
            return tile.label + (f" ({', '.join(marks)})" if marks else "")
        if role == self.TileRole:
            return tile
        if role == self.OrderRole:
            return self._order.get(tile.id, 0)
        return None


class TileDelegate(QStyledItemDelegate):
    """A tile: its thumbnail, its label, a star, and its place when chosen."""

    def __init__(self, thumbnails: ThumbnailCache, numbered: bool, parent=None) -> None:
        super().__init__(parent)
        self.thumbnails, self.numbered = thumbnails, numbered

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        tile: Tile = index.data(TileModel.TileRole)
        order = index.data(TileModel.OrderRole)
        rect = option.rect.adjusted(3, 3, -3, -3)
        image = rect.adjusted(0, 0, 0, -18)
        painter.save()
        painter.fillRect(rect, QColor(28, 28, 30))
        pixmap = None
        if tile.media_hash is not None:
            ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
            pixmap = self.thumbnails.get(tile.media_hash, image.width() * ratio)
        if pixmap is not None:
            scaled = pixmap.size().scaled(image.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(image.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(option.palette.placeholderText().color())
            missing = tile.media_hash is None or self.thumbnails.is_missing(tile.media_hash)
            painter.drawText(image, Qt.AlignmentFlag.AlignCenter, "no picture" if missing else "loading…")
        painter.setPen(option.palette.text().color())
        caption = QRect(rect.left() + 4, rect.bottom() - 17, rect.width() - 8, 16)
        painter.drawText(caption, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(tile.label, Qt.TextElideMode.ElideRight, caption.width()))
        if tile.starred:
            painter.setPen(ACCENT)
            painter.drawText(QRect(rect.right() - 20, rect.top() + 2, 18, 18), Qt.AlignmentFlag.AlignCenter, "★")
        if order:
            painter.setPen(QPen(ACCENT, 3))
            painter.drawRect(rect.adjusted(1, 1, -2, -2))
            badge = QRect(rect.left() + 4, rect.top() + 4, 22, 20)
            painter.fillRect(badge, ACCENT)
            painter.setPen(QColor(20, 20, 20))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, str(order) if self.numbered else "✓")
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(option.palette.highlightedText().color(), 1, Qt.PenStyle.DashLine))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
        painter.restore()


class ImagePicker(QWidget):
    """Takes or shots as tiles; a click chooses or un-chooses one. With `multiple`, the
    chosen are kept in the order they were chosen (shown numbered; Earlier / Later move
    the selected one); without, a click chooses that one alone. `chosen_changed(tuple)`
    follows every change the user makes."""

    chosen_changed = Signal(tuple)

    def __init__(self, catalog: CatalogState, thumbnails: ThumbnailCache, *, shots: bool = False,
                 multiple: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog, self.thumbnails, self.shots, self.multiple = catalog, thumbnails, shots, multiple
        self._chosen: tuple[int, ...] = ()

        self.model = TileModel(self)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(TileDelegate(thumbnails, multiple, self.list_view))
        self.list_view.setViewMode(QListView.ViewMode.IconMode)
        self.list_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.list_view.setMovement(QListView.Movement.Static)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list_view.setMinimumHeight(TILE.height() + 12)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.earlier_button = QPushButton("Earlier")
        self.later_button = QPushButton("Later")
        self.clear_button = QPushButton("Clear")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for button in (self.earlier_button, self.later_button):
            buttons.addWidget(button)
            button.setVisible(multiple)  # one picture has no order
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(buttons)

        self.list_view.clicked.connect(lambda index: self.toggle(self.model.tiles[index.row()].id))
        self.list_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.earlier_button.clicked.connect(lambda: self._move(-1))
        self.later_button.clicked.connect(lambda: self._move(1))
        self.clear_button.clicked.connect(lambda: self._choose(()))
        catalog.catalog_changed.connect(self._on_catalog_changed)
        thumbnails.thumbnail_ready.connect(self._on_thumbnail_ready)
        self._on_catalog_changed()

    def chosen(self) -> tuple[int, ...]:
        return self._chosen

    def set_chosen(self, chosen: tuple[int, ...]) -> None:
        """Show `chosen` as chosen (from the store; no signal)."""
        chosen = tuple(chosen)
        if chosen != self._chosen:
            self._chosen = chosen
            self.model.set_chosen(chosen)
            self._update_buttons()

    def toggle(self, tile_id: int) -> None:
        """What a click on a tile does: choose it (after the others, or instead of the
        chosen one without `multiple`), or un-choose it."""
        if tile_id in self._chosen:
            self._choose(tuple(i for i in self._chosen if i != tile_id))
        else:
            self._choose(self._chosen + (tile_id,) if self.multiple else (tile_id,))

    def _choose(self, chosen: tuple[int, ...]) -> None:
        if chosen != self._chosen:
            self.set_chosen(chosen)
            self.chosen_changed.emit(chosen)

    def _move(self, step: int) -> None:
        rows = self.list_view.selectionModel().selectedRows()
        tile_id = self.model.tiles[rows[0].row()].id if rows else None
        if tile_id not in self._chosen:
            return
        chosen = list(self._chosen)
        place = chosen.index(tile_id)
        if 0 <= place + step < len(chosen):
            chosen[place], chosen[place + step] = chosen[place + step], chosen[place]
            self._choose(tuple(chosen))

    def _on_catalog_changed(self) -> None:
        tiles = list(self.catalog.catalog.shots if self.shots else self.catalog.catalog.takes)
        if tiles == self.model.tiles:
            self._update_buttons()  # "Reading…" gives way; the tiles stay as they are
            return
        # A reset forgets the selection and the scroll: the user keeps their place.
        current = self.list_view.currentIndex()
        current_id = self.model.tiles[current.row()].id if current.isValid() else None
        bar = self.list_view.verticalScrollBar()
        scrolled = bar.value()
        self.model.set_tiles(tiles, self._chosen)
        row = None if current_id is None else self.model.row_of(current_id)
        if row is not None:
            self.list_view.setCurrentIndex(self.model.index(row))
        self.list_view.doItemsLayout()  # the scroll range of the new tiles, before scrolling back
        bar.setValue(scrolled)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        rows = self.list_view.selectionModel().selectedRows()
        tile_id = self.model.tiles[rows[0].row()].id if rows else None
        place = self._chosen.index(tile_id) if tile_id in self._chosen else None
        self.earlier_button.setEnabled(place is not None and place > 0)
        self.later_button.setEnabled(place is not None and place < len(self._chosen) - 1)
        self.clear_button.setEnabled(bool(self._chosen))
        kind = "shot" if self.shots else "picture"
        if not self.catalog.loaded:
            self.summary.setText("Reading the project's pictures…")
        elif not self.model.tiles:
            self.summary.setText("The project has no shots yet." if self.shots else
                                 "The project has no takes yet: generate or draw some frames first.")
        elif not self.multiple:
            self.summary.setText(f"Click a {kind} to use it." if not self._chosen else
                                 f"Using {self._label(self._chosen[0])}; click another to change it.")
        else:
            count = len(self._chosen)
            self.summary.setText(f"{count} {kind}{'' if count == 1 else 's'} chosen, in the numbered order. "
                                 "Click to add or remove.")

    def _label(self, tile_id: int) -> str:
        row = self.model.row_of(tile_id)
        return self.model.tiles[row].label if row is not None else f"take {tile_id}"

    def _on_thumbnail_ready(self, digest: str) -> None:
        if any(tile.media_hash == digest for tile in self.model.tiles):
            self.list_view.viewport().update()


def pick_take(catalog: CatalogState, thumbnails: ThumbnailCache, current: int | None,
              parent: QWidget | None = None, title: str = "Choose a picture") -> tuple[bool, int | None]:
    """Ask for one take in a small dialog: (True, take id or None to clear) or (False, None)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.resize(720, 480)
    picker = ImagePicker(catalog, thumbnails, multiple=False)
    picker.set_chosen(() if current is None else (current,))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(picker, 1)
    layout.addWidget(buttons)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False, None
        return True, (picker.chosen()[0] if picker.chosen() else None)
    finally:
        dialog.deleteLater()
