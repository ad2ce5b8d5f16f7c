"""How the board paints a shot: its hero frame in the project's aspect ratio, scaled
once per zoom, with number, size and angle, duration, and the scene's marker."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ..domain.model import Shot
from .board_model import BoardModel, BoardRole, shot_badge
from .theme import ACCENT
from .thumbnails import ThumbnailCache

_PAD = 4  # around a panel, inside its cell
_FITTED_BUDGET = 48 * 2**20  # bytes of frames kept scaled to the panel size
# Painting runs for every visible panel on every scroll step: combine flags once.
_LEFT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
_RIGHT = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
_CENTRE = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignHCenter


class PanelDelegate(QStyledItemDelegate):
    """Paints one shot: its hero frame in the project's aspect ratio, then number, size
    and angle, and duration; the first shot of a scene carries the scene's marker."""

    def __init__(self, model: BoardModel, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self.model, self.thumbnails = model, thumbnails
        self.panel_width = 240
        self._fitted_pixmaps: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._fitted_bytes = 0
        model.aspect_ratio_changed.connect(self._on_aspect_ratio_changed)
        self._update_metrics()

    def set_panel_width(self, width: int) -> None:
        self.panel_width = width
        self._update_metrics()

    def frame_rect(self, cell: QRect) -> QRect:
        """Where the frame is painted inside a cell (tests and screenshots look there)."""
        return QRect(cell.left() + _PAD, cell.top() + _PAD, self.panel_width, self._frame_height)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self._size  # one size per zoom, so the view lays out 2,000 panels by arithmetic

    def _on_aspect_ratio_changed(self, _aspect: float) -> None:
        self._update_metrics()

    def _update_metrics(self) -> None:
        self._frame_height = round(self.panel_width / self.model.aspect_ratio)
        font = QFont()
        self._font, self._bold = font, QFont(font)
        self._bold.setBold(True)
        self._small = QFont(font)
        self._small.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        self._line = QFontMetrics(font).height() + 4
        self._size = QSize(self.panel_width + 2 * _PAD, self._frame_height + self._line + 2 * _PAD)
        self.sizeHintChanged.emit(QModelIndex())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        data = self.model.data  # a Python call: see `_paint_frame`
        shot: Shot = data(index, BoardRole.shot)
        palette, cell = option.palette, option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(cell, palette.color(QPalette.ColorRole.Highlight))
        frame = self.frame_rect(cell)
        self._paint_frame(painter, frame, index, palette)
        if data(index, BoardRole.scene_start):
            self._paint_scene_marker(painter, cell, frame, data(index, BoardRole.scene_label))
        text = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = text if selected else palette.color(QPalette.ColorRole.PlaceholderText)
        caption = QRect(frame.left() + 2, frame.bottom() + 1, frame.width() - 4, self._line)
        painter.setPen(text)
        painter.setFont(self._bold)
        painter.drawText(caption, _LEFT, shot.number)
        painter.setFont(self._font)
        painter.drawText(caption, _RIGHT, f"{shot.duration:.1f} s")
        painter.setPen(dim)
        painter.drawText(caption, _CENTRE, shot_badge(shot))
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight if not selected else QPalette.ColorRole.HighlightedText))
            painter.drawRect(cell.adjusted(0, 0, -1, -1))
        painter.restore()

    def _paint_frame(self, painter: QPainter, frame: QRect, index: QModelIndex, palette: QPalette) -> None:
        # model.data, not index.data(): a plain Python call with no QVariant round trip,
        # and PySide6 6.12 on Python 3.11 loses a reference to None each time C++ hands
        # one back, which a loading frame would do on every paint.
        pixmap: QPixmap | None = self.model.data(index, BoardRole.pixmap)
        if pixmap is not None:
            painter.fillRect(frame, Qt.GlobalColor.black)
            ratio = painter.device().devicePixelRatioF()
            fitted = self._fitted(pixmap, frame, ratio)
            x = frame.x() + (frame.width() - fitted.width() / ratio) / 2
            y = frame.y() + (frame.height() - fitted.height() / ratio) / 2
            painter.drawPixmap(QPointF(x, y), fitted)
            return
        painter.fillRect(frame, palette.color(QPalette.ColorRole.AlternateBase))
        digest = self.model.data(index, BoardRole.hero_digest)
        if digest and not self.thumbnails.is_missing(digest):
            return  # loading: the empty frame is the placeholder, thumbnail_ready repaints it
        painter.setFont(self._small)
        painter.setPen(palette.color(QPalette.ColorRole.BrightText if digest else QPalette.ColorRole.PlaceholderText))
        painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, "missing" if digest else "no frame")

    def _fitted(self, pixmap: QPixmap, frame: QRect, ratio: float) -> QPixmap:
        """`pixmap` scaled once to fit `frame` in device pixels, so painting a panel
        copies pixels instead of filtering them on every scroll step."""
        key = (pixmap.cacheKey(), frame.width(), frame.height(), ratio)
        fitted = self._fitted_pixmaps.get(key)
        if fitted is not None:
            self._fitted_pixmaps.move_to_end(key)
            return fitted
        size = QSize(round(frame.width() * ratio), round(frame.height() * ratio))
        fitted = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        fitted.setDevicePixelRatio(ratio)
        self._fitted_pixmaps[key] = fitted
        self._fitted_bytes += fitted.width() * fitted.height() * 4
        while self._fitted_bytes > _FITTED_BUDGET and len(self._fitted_pixmaps) > 1:
            _, old = self._fitted_pixmaps.popitem(last=False)
            self._fitted_bytes -= old.width() * old.height() * 4
        return fitted

    def _paint_scene_marker(self, painter: QPainter, cell: QRect, frame: QRect, label: str) -> None:
        painter.fillRect(QRect(cell.left(), cell.top(), 3, cell.height()), ACCENT)
        painter.setFont(self._small)
        metrics = painter.fontMetrics()
        text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, frame.width() - 8)
        tag = QRect(frame.left(), frame.top(), metrics.horizontalAdvance(text) + 8, metrics.height() + 2)
        painter.fillRect(tag, ACCENT)
        painter.setPen(Qt.GlobalColor.black)
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
