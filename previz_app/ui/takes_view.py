"""The takes of the current shot as a strip of thumbnails, newest first, with the
recipe of the selected take beneath: star it, make it the hero, import images."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QListView, QPlainTextEdit, QPushButton, QStyle, QStyledItemDelegate,
    QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from ..domain.model import Take
from ..domain.vocabulary import TakeKind
from ..engine.request import FrameRequest, Mode
from ..store import ProjectError, takes
from ..store import operations as ops
from .images import png_bytes
from .state import ProjectState
from .theme import ACCENT
from .thumbnails import ThumbnailCache
from .workers import BackgroundTask, TaskControl, run_in_background, wait_for_tasks

TILE = QSize(168, 112)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif);;All files (*)"
# Recipes that do not parse raise one of these from json or FrameRequest's checks.
_RECIPE_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


def request_of(take: Take) -> FrameRequest | None:
    """The FrameRequest that made a generated take, or None (not generated, unreadable)."""
    if take.kind is not TakeKind.generated:
        return None
    try:
        return FrameRequest.from_json(take.recipe)
    except _RECIPE_ERRORS:
        return None


def describe_recipe(take: Take) -> str:
    """A readable account of how a take was made, then its raw recipe."""
    try:
        raw = json.dumps(json.loads(take.recipe), indent=2, sort_keys=True, ensure_ascii=False)
        if take.kind is not TakeKind.generated:
            return raw
        request = FrameRequest.from_json(take.recipe)
    except _RECIPE_ERRORS as exc:
        return f"unreadable recipe: {exc}\n\n{take.recipe}"
    lines = [
        f"Engine: {request.engine}",
        f"Model: {request.model or '(default)'}",
        f"Mode: {request.mode.value}",
        f"Seed: {request.seed}",
        f"Steps: {request.steps}",
        f"Guidance: {request.guidance:g}",
        f"Size: {request.width} × {request.height}",
    ]
    if request.mode in (Mode.img2img, Mode.inpaint):
        lines.append(f"Strength: {request.strength:g}")
    if request.loras:
        lines.append("LoRAs: " + ", ".join(f"{Path(lora.path).name} ({lora.weight:g})" for lora in request.loras))
    lines += [f"Prompt: {request.prompt}", f"Negative prompt: {request.negative_prompt}", "", raw]
    return "\n".join(lines)


IMPORT_WAIT_MS = 120_000  # a close waits this long for images still being read

def png_of_image_file(path: Path) -> bytes:
    """Read any image Pillow opens, upright per its EXIF, as PNG bytes (RGB, or RGBA
    when it has transparency). Raises OSError or ValueError when it cannot be read."""
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
    except (SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(str(exc)) from exc
    return png_bytes(image)


class TakesModel(QAbstractListModel):
    """The takes of one shot, newest first. `TakeRole` gives the Take, `HeroRole`
    whether it is the shot's hero."""

    TakeRole = Qt.ItemDataRole.UserRole + 1
    HeroRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, state: ProjectState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.shot_id: int | None = None
        self._takes: list[Take] = []
        self._hero: int | None = None

    def load(self, shot_id: int | None) -> None:
        """Read the takes of `shot_id` (None: none)."""
        self.beginResetModel()
        self.shot_id, self._takes, self._hero = shot_id, [], None
        if shot_id is not None:
            try:
                self._hero = self.state.shot(shot_id).hero_take_id
                self._takes = list(reversed(takes.list_takes(self.state.db, shot_id)))
            except ValueError:  # the shot is gone (deleted, an undone insert)
                self.shot_id = None
        self.endResetModel()

    def take(self, row: int) -> Take:
        return self._takes[row]

    def row_of(self, take_id: int) -> int | None:
        return next((row for row, take in enumerate(self._takes) if take.id == take_id), None)

    def hero_take_id(self) -> int | None:
        return self._hero

    def digests(self) -> set[str]:
        return {take.media_hash for take in self._takes}

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._takes)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._takes):
            return None
        take = self._takes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"Take {take.id} ({take.kind.value})"
        if role == Qt.ItemDataRole.ToolTipRole:
            marks = [m for m, on in (("hero", take.id == self._hero), ("starred", take.starred)) if on]
            return f"Take {take.id}: {take.kind.value}, {take.created}" + (f" — {', '.join(marks)}" if marks else "")
        if role == self.TakeRole:
            return take
        if role == self.HeroRole:
            return take.id == self._hero
        return None


class TakeDelegate(QStyledItemDelegate):
    """Paints a take: its thumbnail, a kind badge, a star, an accent frame for the hero."""

    def __init__(self, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        take: Take = index.data(TakesModel.TakeRole)
        rect = option.rect.adjusted(4, 4, -4, -4)
        painter.save()
        painter.fillRect(rect, QColor(28, 28, 30))
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        pixmap = self.thumbnails.get(take.media_hash, rect.width() * ratio)
        if pixmap is not None:
            scaled = pixmap.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(rect.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(option.palette.placeholderText().color())
            text = "missing image" if self.thumbnails.is_missing(take.media_hash) else "loading…"
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        self._paint_marks(painter, rect, take, bool(index.data(TakesModel.HeroRole)))
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(option.palette.highlightedText().color(), 1, Qt.PenStyle.DashLine))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
        painter.restore()

    def _paint_marks(self, painter: QPainter, rect: QRect, take: Take, hero: bool) -> None:
        badge = QRect(rect.left() + 3, rect.bottom() - 18, 66, 16)
        painter.fillRect(badge, QColor(0, 0, 0, 170))
        painter.setPen(QColor(235, 235, 235))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, take.kind.value)
        if take.starred:
            painter.setPen(ACCENT)
            star = QRect(rect.right() - 20, rect.top() + 2, 18, 18)
            painter.drawText(star, Qt.AlignmentFlag.AlignCenter, "★")
        if hero:
            painter.setPen(QPen(ACCENT, 3))
            painter.drawRect(rect.adjusted(1, 1, -2, -2))


class TakesView(QWidget):
    """The strip of the current shot's takes and the selected take's recipe."""

    selected_take_changed = Signal(int)  # take id, -1 for none

    def __init__(
        self, state: ProjectState, thumbnails: ThumbnailCache, parent: QWidget | None = None,
        *, pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.state, self.thumbnails = state, thumbnails
        self.pool = pool or QThreadPool.globalInstance()
        self._imports: list[BackgroundTask] = []
        self._selected: int | None = None

        self.model = TakesModel(state, self)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(TakeDelegate(thumbnails, self.list_view))
        self.list_view.setViewMode(QListView.ViewMode.IconMode)
        self.list_view.setFlow(QListView.Flow.LeftToRight)
        self.list_view.setWrapping(False)
        self.list_view.setMovement(QListView.Movement.Static)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setFixedHeight(TILE.height() + 24)

        self.star_button = QPushButton("★ Star")
        self.star_button.setCheckable(True)
        self.hero_button = QPushButton("Use as hero")
        self.import_button = QPushButton("Import image…")
        self.recipe_text = QPlainTextEdit()
        self.recipe_text.setReadOnly(True)
        self.recipe_text.setPlaceholderText("Select a take to see how it was made.")
        self.recipe_text.setMaximumHeight(160)

        buttons = QHBoxLayout()
        for button in (self.star_button, self.hero_button, self.import_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list_view)
        layout.addLayout(buttons)
        layout.addWidget(self.recipe_text)

        self.list_view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.list_view.doubleClicked.connect(self._on_double_clicked)
        self.star_button.clicked.connect(self._on_star_clicked)
        self.hero_button.clicked.connect(self._on_hero_clicked)
        self.import_button.clicked.connect(self._on_import_clicked)
        state.current_shot_changed.connect(self._on_current_shot_changed)
        state.takes_changed.connect(self._on_takes_changed)
        state.shots_changed.connect(self._on_shots_changed)
        thumbnails.thumbnail_ready.connect(self._on_thumbnail_ready)
        self._on_current_shot_changed(-1 if state.current_shot_id is None else state.current_shot_id)

    # -- selection ---------------------------------------------------------------------

    def selected_take_id(self) -> int | None:
        return self._selected

    def selected_take(self) -> Take | None:
        row = None if self._selected is None else self.model.row_of(self._selected)
        return None if row is None else self.model.take(row)

    def select_take(self, take_id: int | None) -> None:
        """Select a take of the shown shot (None: clear the selection)."""
        row = None if take_id is None else self.model.row_of(take_id)
        selection = self.list_view.selectionModel()
        if row is None:
            selection.clearSelection()
        else:
            index = self.model.index(row)
            selection.setCurrentIndex(index, selection.SelectionFlag.ClearAndSelect)
            self.list_view.scrollTo(index)
        self._on_selection_changed()

    def _on_selection_changed(self, *_args) -> None:
        rows = self.list_view.selectionModel().selectedRows()
        selected = self.model.take(rows[0].row()).id if rows else None
        changed = selected != self._selected
        self._selected = selected
        self._update_panel()
        if changed:
            self.selected_take_changed.emit(-1 if selected is None else selected)

    def _update_panel(self) -> None:
        take = self.selected_take()
        for button in (self.star_button, self.hero_button):
            button.setEnabled(take is not None)
        self.star_button.setChecked(bool(take and take.starred))
        self.hero_button.setEnabled(take is not None and take.id != self.model.hero_take_id())
        self.import_button.setEnabled(self.model.shot_id is not None)
        self.recipe_text.setPlainText("" if take is None else describe_recipe(take))

    # -- reloading ---------------------------------------------------------------------

    def _reload(self, keep: int | None) -> None:
        self.model.load(self.model.shot_id)
        self.select_take(keep)

    def _on_current_shot_changed(self, shot_id: int) -> None:
        self.model.load(None if shot_id < 0 else shot_id)
        # A new shot opens on its hero, the take Refine and Regenerate most often start from.
        self.select_take(self.model.hero_take_id())

    def _on_takes_changed(self, shot_id: int) -> None:
        if shot_id == self.model.shot_id:
            self._reload(self._selected)

    def _on_shots_changed(self, shot_ids: list) -> None:
        if self.model.shot_id in shot_ids:
            self._reload(self._selected)

    def _on_thumbnail_ready(self, digest: str) -> None:
        if digest in self.model.digests():
            self.list_view.viewport().update()

    # -- actions -----------------------------------------------------------------------

    def _on_star_clicked(self) -> None:
        take = self.selected_take()
        if take is not None:
            self.state.perform(ops.StarTake(take.id, not take.starred))
        self._update_panel()  # a refused star puts the button back

    def _on_hero_clicked(self) -> None:
        take = self.selected_take()
        if take is not None:
            self.state.perform(ops.SetHeroTake(take.shot_id, take.id))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        take = self.model.take(index.row())
        if take.id != self.model.hero_take_id():
            self.state.perform(ops.SetHeroTake(take.shot_id, take.id))

    def _on_import_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import images", "", IMAGE_FILTER)
        if paths:
            self.import_files(paths)

    def import_files(self, paths: list[str]) -> BackgroundTask | None:
        """Import image files as takes of the shown shot: read and encoded in the
        background, recorded on this thread. Files that fail are reported by name."""
        shot_id = self.model.shot_id
        if shot_id is None:
            self.state.report_error("Select a shot before importing images.")
            return None
        media = self.state.folder.media

        def read_all(control: TaskControl) -> tuple[list[tuple[str, str, int]], list[str]]:
            stored, failed = [], []
            for done, path in enumerate(map(Path, paths)):
                if control.cancelled:
                    break
                try:
                    data = png_of_image_file(path)
                    stored.append((path.name, media.put(data), len(data)))
                except (OSError, ValueError, ProjectError) as exc:
                    failed.append(f"{path.name} ({exc})")
                control.progress(done + 1, len(paths))
            return stored, failed

        def record(result: tuple[list[tuple[str, str, int]], list[str]]) -> None:
            stored, failed = result
            for name, digest, size in stored:
                self.state.record_take(shot_id, TakeKind.imported, digest, size, json.dumps({"imported": name}))
            if failed:
                self.state.report_error("Could not import " + "; ".join(failed))

        def crash(exc: BaseException) -> None:
            self.state.report_error(f"Image import failed: {exc}")

        task = run_in_background(self.pool, read_all, record, crash, parent=self)
        self._imports = [t for t in self._imports if t.running] + [task]
        return task

    def flush(self) -> bool:
        """Wait until the images still being read are recorded as takes (the project is
        closing). False if some did not finish in time."""
        return wait_for_tasks(self._imports, IMPORT_WAIT_MS)
