"""A drawing surface for storyboard frames: an underlay picture, an ink layer and a
notes layer, drawn with pen, brush or eraser by mouse or tablet, undone per stroke."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPointingDevice, QRadialGradient,
    QTabletEvent, QUndoCommand, QUndoStack,
)
from PySide6.QtWidgets import QWidget

LAYERS = ("ink", "notes")
TOOLS = ("pen", "brush", "eraser")
DEFAULT_COLORS = {"ink": QColor(20, 20, 24), "notes": QColor(220, 40, 40)}
_FORMAT = QImage.Format.Format_ARGB32_Premultiplied
_MARGIN = 8
# A brush dab lays down this fraction of the colour at full pressure; overlapping
# dabs build it up, which is what makes the stroke soft at its edges.
_BRUSH_FLOW = 0.3
_BRUSH_SPACING = 0.15  # dab spacing, as a fraction of the brush width


def blank_layer(size: QSize) -> QImage:
    image = QImage(size, _FORMAT)
    image.fill(Qt.GlobalColor.transparent)
    return image


def white_panel(size: QSize) -> QImage:
    image = QImage(size, _FORMAT)
    image.fill(Qt.GlobalColor.white)
    return image


@dataclass
class _Stroke:
    layer: str
    tool: str
    color: QColor
    before: QImage  # the layer as it was; only the stroke's bounds are kept for undo
    last: QPointF
    bounds: QRect
    carry: float = 0.0  # brush: distance walked since the last dab


class _PixelsCommand(QUndoCommand):
    """A change to one rectangle of one layer, kept as its pixels before and after."""

    def __init__(self, canvas: SketchCanvas, layer: str, rect: QRect, before: QImage, after: QImage, label: str):
        super().__init__(label)
        self._canvas, self._layer, self._rect = canvas, layer, rect
        self._before, self._after = before, after

    def redo(self) -> None:
        self._canvas._paste(self._layer, self._rect, self._after)

    def undo(self) -> None:
        self._canvas._paste(self._layer, self._rect, self._before)


class SketchCanvas(QWidget):
    """The frame (`size` pixels) scaled to fit the widget; strokes land in `current_layer`."""

    modified_changed = Signal(bool)  # whether there are strokes since the last save

    def __init__(self, size: QSize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if size.isEmpty():
            raise ValueError(f"a sketch needs a positive size, not {size.width()}x{size.height()}")
        self._size = QSize(size)
        self._underlay = white_panel(size)
        self._layers = {name: blank_layer(size) for name in LAYERS}
        self._visible = {name: True for name in LAYERS}
        self._colors = {name: QColor(color) for name, color in DEFAULT_COLORS.items()}
        self._underlay_opacity = 1.0
        self._tool = "pen"
        self._width = 4.0
        self._current = "ink"
        self._stroke: _Stroke | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(200)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(160, 90)

    # -- state -------------------------------------------------------------------------

    def image_size(self) -> QSize:
        return QSize(self._size)

    def sizeHint(self) -> QSize:
        return self._size.scaled(QSize(1024, 640), Qt.AspectRatioMode.KeepAspectRatio) + QSize(2 * _MARGIN, 2 * _MARGIN)

    def set_underlay(self, image: QImage | None) -> None:
        """The picture drawn over (None: a white panel), fitted to the frame and kept opaque."""
        panel = white_panel(self._size)
        if image is not None and not image.isNull():
            scaled = image
            if image.size() != self._size:
                scaled = image.scaled(self._size, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                      Qt.TransformationMode.SmoothTransformation)
            painter = QPainter(panel)
            # Centre-crop: a frame of a slightly different aspect keeps its proportions.
            painter.drawImage(QPointF((self._size.width() - scaled.width()) / 2,
                                      (self._size.height() - scaled.height()) / 2), scaled)
            painter.end()
        self._underlay = panel
        self.update()

    def underlay(self) -> QImage:
        return self._underlay.copy()

    def set_layer_image(self, name: str, image: QImage) -> None:
        """Replace a layer (restoring a saved sketch). Not undoable, so the canvas's
        undo history, which holds pixels of the old layers, is cleared."""
        self._check_layer(name)
        self._end_stroke()
        layer = blank_layer(self._size)
        painter = QPainter(layer)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRectF(0, 0, self._size.width(), self._size.height()), image)
        painter.end()
        self._layers[name] = layer
        self.undo_stack.clear()
        self.update()

    def layer(self, name: str) -> QImage:
        """A copy of a layer's pixels (ARGB32 premultiplied)."""
        self._check_layer(name)
        return self._layers[name].copy()

    def composite(self) -> QImage:
        """The frame as it is saved: underlay at full opacity, then the visible layers."""
        image = QImage(self._size, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        painter.drawImage(0, 0, self._underlay)
        for name in LAYERS:
            if self._visible[name]:
                painter.drawImage(0, 0, self._layers[name])
        painter.end()
        return image

    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown sketch tool {name!r}; use one of {', '.join(TOOLS)}")
        self._end_stroke()
        self._tool = name

    def tool(self) -> str:
        return self._tool

    def set_color(self, color: QColor) -> None:
        """The colour of the current layer's strokes (each layer keeps its own)."""
        self._colors[self.current_layer] = QColor(color)

    def color(self) -> QColor:
        return QColor(self._colors[self.current_layer])

    def set_pen_width(self, width: float) -> None:
        if not width > 0:
            raise ValueError(f"a pen width must be positive, not {width}")
        self._width = float(width)

    def pen_width(self) -> float:
        return self._width

    def set_current_layer(self, name: str) -> None:
        self._check_layer(name)
        self._end_stroke()
        self._current = name

    @property
    def current_layer(self) -> str:
        """The layer strokes land in: "ink" or "notes"."""
        return self._current

    def set_layer_visible(self, name: str, visible: bool) -> None:
        self._check_layer(name)
        self._visible[name] = bool(visible)
        self.update()

    def is_layer_visible(self, name: str) -> bool:
        self._check_layer(name)
        return self._visible[name]

    def set_underlay_opacity(self, opacity: float) -> None:
        """How strongly the underlay shows while drawing (0..1); saving ignores it."""
        self._underlay_opacity = min(1.0, max(0.0, float(opacity)))
        self.update()

    def underlay_opacity(self) -> float:
        return self._underlay_opacity

    def clear_layer(self, name: str) -> None:
        """Make a layer transparent, as one undo step."""
        self._check_layer(name)
        self._end_stroke()
        rect = QRect(0, 0, self._size.width(), self._size.height())
        before = self._layers[name].copy()
        self.undo_stack.push(_PixelsCommand(self, name, rect, before, blank_layer(self._size), f"Clear {name}"))

    def is_modified(self) -> bool:
        """Whether there are strokes since the last `mark_saved` (or since opening)."""
        return not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _check_layer(self, name: str) -> None:
        if name not in LAYERS:
            raise ValueError(f"unknown sketch layer {name!r}; use one of {', '.join(LAYERS)}")

    # -- widget <-> image --------------------------------------------------------------

    def _target(self) -> QRectF:
        available = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        scale = max(1e-6, min(available.width() / self._size.width(), available.height() / self._size.height()))
        width, height = self._size.width() * scale, self._size.height() * scale
        return QRectF(available.center().x() - width / 2, available.center().y() - height / 2, width, height)

    def map_to_image(self, point: QPointF) -> QPointF:
        """A widget position in frame pixels."""
        target = self._target()
        scale = target.width() / self._size.width()
        return QPointF((point.x() - target.x()) / scale, (point.y() - target.y()) / scale)

    def map_from_image(self, point: QPointF) -> QPointF:
        """A frame pixel's position in the widget."""
        target = self._target()
        scale = target.width() / self._size.width()
        return QPointF(target.x() + point.x() * scale, target.y() + point.y() * scale)

    def _update_image_rect(self, rect: QRectF) -> None:
        top_left, bottom_right = self.map_from_image(rect.topLeft()), self.map_from_image(rect.bottomRight())
        self.update(QRectF(top_left, bottom_right).toAlignedRect().adjusted(-2, -2, 2, 2))

    # -- painting ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().color(self.backgroundRole()).darker(150))
        target = self._target()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        # A faded underlay fades towards paper white, as on a lightbox.
        painter.fillRect(target, Qt.GlobalColor.white)
        painter.setOpacity(self._underlay_opacity)
        painter.drawImage(target, self._underlay)
        painter.setOpacity(1.0)
        for name in LAYERS:
            if self._visible[name]:
                painter.drawImage(target, self._layers[name])
        painter.setPen(QPen(QColor(210, 210, 210), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        painter.end()

    # -- input -------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin_stroke(event.position(), 1.0)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._stroke is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._continue_stroke(event.position(), 1.0)
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._stroke is not None:
            self._continue_stroke(event.position(), 1.0)
            self._end_stroke()
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:
        # Accepting stops Qt from synthesizing mouse events for the same motion.
        event.accept()
        kind = event.type()
        pressure = max(0.0, min(1.0, event.pressure()))
        if kind == QTabletEvent.Type.TabletPress:
            erasing = event.pointerType() == QPointingDevice.PointerType.Eraser
            self._begin_stroke(event.position(), pressure, "eraser" if erasing else None)
        elif kind == QTabletEvent.Type.TabletMove and self._stroke is not None:
            self._continue_stroke(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletRelease and self._stroke is not None:
            self._end_stroke()

    # -- strokes -----------------------------------------------------------------------

    def _begin_stroke(self, widget_pos: QPointF, pressure: float, tool: str | None = None) -> None:
        self._end_stroke()
        layer = self.current_layer
        point = self.map_to_image(widget_pos)
        before = self._layers[layer].copy()
        self._stroke = _Stroke(layer, tool or self._tool, QColor(self._colors[layer]), before, point, QRect())
        self._draw(point, point, pressure)

    def _continue_stroke(self, widget_pos: QPointF, pressure: float) -> None:
        point = self.map_to_image(widget_pos)
        if point != self._stroke.last:
            self._draw(self._stroke.last, point, pressure)
            self._stroke.last = point

    def _end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        rect = stroke.bounds.intersected(QRect(0, 0, self._size.width(), self._size.height()))
        if rect.isEmpty():
            return
        after = self._layers[stroke.layer].copy(rect)
        label = "Erase" if stroke.tool == "eraser" else f"{stroke.tool.capitalize()} stroke"
        self.undo_stack.push(_PixelsCommand(self, stroke.layer, rect, stroke.before.copy(rect), after, label))

    def _draw(self, start: QPointF, end: QPointF, pressure: float) -> None:
        """Draw one segment of the current stroke into its layer; repaint only its bounds."""
        stroke = self._stroke
        width = max(0.5, self._width * pressure)
        painter = QPainter(self._layers[stroke.layer])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if stroke.tool == "brush":
            self._brush_dabs(painter, start, end, width, pressure)
        else:
            color = QColor(stroke.color)
            if stroke.tool == "eraser":
                painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOut)
                color = QColor(0, 0, 0, 255)
            cap, join = Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin
            painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, cap, join))
            if start == end:
                painter.drawPoint(start)
            else:
                painter.drawLine(start, end)
        painter.end()
        reach = width / 2 + 2
        dirty = QRectF(start, end).normalized().adjusted(-reach, -reach, reach, reach)
        stroke.bounds = stroke.bounds.united(dirty.toAlignedRect())
        self._update_image_rect(dirty)

    def _brush_dabs(self, painter: QPainter, start: QPointF, end: QPointF, width: float, pressure: float) -> None:
        stroke = self._stroke
        spacing = max(0.5, width * _BRUSH_SPACING)
        length = math.hypot(end.x() - start.x(), end.y() - start.y())
        if length == 0:
            self._dab(painter, start, width, pressure)
            return
        distance = spacing - stroke.carry
        while distance <= length:
            t = distance / length
            centre = QPointF(start.x() + (end.x() - start.x()) * t, start.y() + (end.y() - start.y()) * t)
            self._dab(painter, centre, width, pressure)
            distance += spacing
        stroke.carry = length - (distance - spacing)

    def _dab(self, painter: QPainter, centre: QPointF, width: float, pressure: float) -> None:
        radius = width / 2
        core, edge = QColor(self._stroke.color), QColor(self._stroke.color)
        core.setAlphaF(min(1.0, self._stroke.color.alphaF() * pressure * _BRUSH_FLOW))
        edge.setAlphaF(0.0)
        gradient = QRadialGradient(centre, radius)
        gradient.setColorAt(0.0, core)
        gradient.setColorAt(0.4, core)
        gradient.setColorAt(1.0, edge)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawEllipse(centre, radius, radius)

    def _paste(self, layer: str, rect: QRect, pixels: QImage) -> None:
        painter = QPainter(self._layers[layer])
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(rect.topLeft(), pixels)
        painter.end()
        self._update_image_rect(QRectF(rect))
