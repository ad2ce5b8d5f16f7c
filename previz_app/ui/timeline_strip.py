"""The timeline strip under the player: every shot a box as wide as its frames, with
its hero thumbnail and number, and the playhead. Click or drag to scrub; drag a
shot's right edge to retime it (one undoable edit on release). One widget paints it
all, the shots in view only, so a 2,000-shot film costs what its visible part does.

Timelines are read again in the background while the user works (a take lands during
a generation batch, an edit elsewhere): an edge drag survives them, following its shot,
and a released edit stays drawn until a timeline that holds it comes back."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from ..animatic.timeline import Timeline
from ..domain.model import MAX_SHOT_SECONDS
from ..store.operations import EditShot
from .state import ProjectState
from .theme import ACCENT, BASE, DIM_TEXT, TEXT
from .thumbnails import ThumbnailCache

STRIP_HEIGHT = 64
EDGE_GRAB_PX = 4  # how near a shot's right edge the pointer grabs it
MIN_THUMBNAIL_PX = 8  # narrower shots show no hero frame: nothing of it could be seen
MAX_PIXELS_PER_FRAME = 24.0
ZOOM_STEP = 1.5
SCENE_GREYS = (QColor(70, 70, 76), QColor(58, 58, 64))
EDGE_COLOUR = QColor(20, 20, 22)
TAG_COLOUR = QColor(0, 0, 0, 160)
PLAYHEAD = QColor(255, 255, 255)
PLAYHEAD_BAND = QColor(255, 255, 255, 60)


def retimed_seconds(seconds: float, frames: int, fps: Fraction) -> float:
    """A duration `frames` frames longer (or shorter) than `seconds`. Whole frames of
    change move every later cut by exactly that many frames and leave the later shots'
    lengths alone (see `domain.timecode.frame_boundaries`)."""
    return float(Fraction(seconds).limit_denominator(1_000_000) + Fraction(frames) / fps)


@dataclass
class _EdgeDrag:
    index: int
    shot_id: int
    press_x: float
    frames: int
    seconds: float
    delta: int = 0


@dataclass(frozen=True)
class _PendingEdit:
    """A released retime, drawn until a timeline holding it arrives."""

    index: int
    shot_id: int
    frames: int
    seconds: float


class TimelineStripView(QAbstractScrollArea):
    """Shots to scale along a horizontal scroll; `scrubbed(frame)` when the user clicks
    or drags on it. Ctrl+wheel zooms around the pointer; zoomed all the way out the
    film fits the width."""

    scrubbed = Signal(int)

    def __init__(self, state: ProjectState, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.thumbnails = state, thumbnails
        self.timeline: Timeline | None = None
        self.playhead = 0
        self._fit, self._ppf = True, 1.0
        self._starts: list[int] = []
        self._frames: list[int] = []
        self._scene_start: list[bool] = []
        self._grey: list[QColor] = []
        self._drag: _EdgeDrag | None = None
        self._pending: _PendingEdit | None = None
        self._by_digest: dict[str, list[int]] = {}  # hero media -> the shots showing it
        self._scrubbing = False
        self.setFixedHeight(STRIP_HEIGHT + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth())
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click focuses the player, which has the keys
        self.viewport().setMouseTracking(True)
        self.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        thumbnails.thumbnail_ready.connect(self._on_thumbnail_ready)

    # -- what it shows -----------------------------------------------------------------

    def set_timeline(self, timeline: Timeline | None, settled: bool = True) -> None:
        """Show `timeline`. An edge drag in progress goes on over its shot's new place.
        A released edit stays drawn until `timeline` holds it, or until a `settled`
        timeline (read after the edit; no newer read coming) says otherwise (undone,
        say); an unsettled one may have been read before the edit landed."""
        self.timeline = timeline
        shots = timeline.shots if timeline is not None else ()
        where = {item.shot.id: index for index, item in enumerate(shots)}
        drag = self._drag
        if drag is not None:
            index = where.get(drag.shot_id)
            if index is None:
                self._drag = None  # its shot is gone
            else:
                # The edit on release is the new length from this timeline's duration.
                item = shots[index]
                drag.index, drag.frames, drag.seconds = index, item.frames, item.shot.duration
                drag.delta = max(1 - drag.frames, drag.delta)
        pending = self._pending
        if pending is not None:
            index = where.get(pending.shot_id)
            landed = index is not None and math.isclose(shots[index].shot.duration, pending.seconds, rel_tol=1e-12)
            if index is None or landed or settled:
                self._pending = None
            else:
                self._pending = _PendingEdit(index, pending.shot_id, pending.frames, pending.seconds)
        self._by_digest = {}
        for index, item in enumerate(shots):
            if item.hero is not None:
                self._by_digest.setdefault(item.hero.media_hash, []).append(index)
        # Scenes alternate two greys; each scene's first shot carries a marker.
        self._scene_start = [i == 0 or item.scene.id != shots[i - 1].scene.id for i, item in enumerate(shots)]
        self._grey, parity = [], 1
        for starts in self._scene_start:
            parity ^= starts
            self._grey.append(SCENE_GREYS[parity])
        self._layout()
        self._update_scroll()
        self.viewport().update()

    def set_playhead(self, frame: int, follow: bool = False) -> None:
        """Move the playhead line; with `follow` (playing), page the view to keep it in sight."""
        old = self.playhead
        self.playhead = frame
        if follow and self._scroll_to_show(frame):
            return
        for at in (old, frame):
            x = self.frame_x(at)
            self.viewport().update(math.floor(x) - 8, 0, math.ceil(self._ppf) + 17, self.viewport().height())  # with its marker

    @property
    def pixels_per_frame(self) -> float:
        return self._ppf

    def set_pixels_per_frame(self, ppf: float, anchor_x: float | None = None) -> None:
        """Zoom to `ppf` (clamped between fitting the film and MAX_PIXELS_PER_FRAME),
        keeping the frame under `anchor_x` in place."""
        anchor_x = self.viewport().width() / 2 if anchor_x is None else anchor_x
        anchor = (anchor_x + self.horizontalScrollBar().value()) / self._ppf
        fit = self._fit_ppf()
        self._fit = ppf <= fit
        self._ppf = max(fit, min(MAX_PIXELS_PER_FRAME, ppf))
        self._update_scroll()
        self.horizontalScrollBar().setValue(round(anchor * self._ppf - anchor_x))
        self.viewport().update()

    def zoom_in(self) -> None:
        self.set_pixels_per_frame(self._ppf * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_pixels_per_frame(self._ppf / ZOOM_STEP)

    # -- geometry (viewport coordinates) -----------------------------------------------

    def frame_x(self, frame: float) -> float:
        return frame * self._ppf - self.horizontalScrollBar().value()

    def frame_at(self, x: float) -> int:
        """The frame under `x`, clamped to the film."""
        total = self._total()
        return max(0, min(total - 1, math.floor((x + self.horizontalScrollBar().value()) / self._ppf)))

    def shot_rect(self, index: int) -> QRectF:
        """Where shot `index` is drawn (as a drag in progress lays it out)."""
        left = self.frame_x(self._starts[index])
        return QRectF(left, 0, self._frames[index] * self._ppf, STRIP_HEIGHT)

    def edge_at(self, x: float) -> int | None:
        """The shot whose right edge is within reach of `x`, if any."""
        if not self._starts:
            return None
        index = bisect.bisect_right(self._starts, (x + self.horizontalScrollBar().value()) / self._ppf) - 1
        for candidate in (index, index - 1):
            if 0 <= candidate < len(self._starts):
                edge = self.frame_x(self._starts[candidate] + self._frames[candidate])
                if abs(edge - x) <= EDGE_GRAB_PX:
                    return candidate
        return None

    def _total(self) -> int:
        return self._starts[-1] + self._frames[-1] if self._starts else 0

    def _layout(self) -> None:
        """Shot starts and lengths, with a dragged edge's change applied."""
        shots = self.timeline.shots if self.timeline is not None else ()
        change = None  # (index, its frames)
        if self._drag is not None:
            change = (self._drag.index, self._drag.frames + self._drag.delta)
        elif self._pending is not None:
            change = (self._pending.index, self._pending.frames)
        self._starts, self._frames = [], []
        shift = 0
        for index, item in enumerate(shots):
            frames = item.frames
            if change is not None and index == change[0]:
                frames = change[1]
            self._starts.append(item.start + shift)
            self._frames.append(frames)
            shift += frames - item.frames

    def _fit_ppf(self) -> float:
        total = self._total()
        return max(1e-3, self.viewport().width() / total) if total else 1.0

    def _update_scroll(self) -> None:
        # Refitting while an edge is dragged would move the edge away from the pointer.
        if self._drag is None and self._pending is None and (self._fit or self._ppf < self._fit_ppf()):
            self._fit, self._ppf = True, self._fit_ppf()
        bar = self.horizontalScrollBar()
        bar.setPageStep(self.viewport().width())
        bar.setSingleStep(max(1, round(self._ppf * 4)))
        bar.setRange(0, max(0, math.ceil(self._total() * self._ppf) - self.viewport().width()))

    def _scroll_to_show(self, frame: int) -> bool:
        x, width = self.frame_x(frame), self.viewport().width()
        if 0 <= x < width - self._ppf:
            return False
        # A page at a time, with the playhead near the side it comes from.
        lead = width * (0.9 if x < 0 else 0.1)
        self.horizontalScrollBar().setValue(round(frame * self._ppf - lead))
        return True

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_scroll()

    # -- painting ----------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self.viewport())
        area = event.rect()
        painter.fillRect(area, BASE)
        timeline = self.timeline
        if timeline is None or not self._starts:
            painter.setPen(DIM_TEXT)
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "Nothing to play")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        metrics = QFontMetrics(painter.font())
        offset = self.horizontalScrollBar().value()
        first = max(0, bisect.bisect_right(self._starts, (area.left() + offset) / self._ppf) - 1)
        for index in range(first, len(self._starts)):
            rect = self.shot_rect(index)
            if rect.left() > area.right():
                break
            self._paint_shot(painter, rect, timeline.shots[index], self._grey[index], self._scene_start[index], metrics)
        self._paint_drag(painter, metrics)
        self._paint_playhead(painter)

    def _paint_playhead(self, painter: QPainter) -> None:
        # White, not the accent: scene starts are accent lines.
        x = self.frame_x(self.playhead)
        if self._ppf >= 4:
            painter.fillRect(QRectF(x, 0, self._ppf, STRIP_HEIGHT), PLAYHEAD_BAND)
        painter.fillRect(QRectF(x - 1, 0, 2, STRIP_HEIGHT), PLAYHEAD)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(PLAYHEAD)
        painter.drawPolygon(QPolygonF([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 8)]))

    def _paint_shot(self, painter: QPainter, rect: QRectF, item, grey: QColor, scene_start: bool, metrics: QFontMetrics) -> None:
        painter.fillRect(rect, grey)
        painter.save()
        painter.setClipRect(rect.adjusted(0, 0, -1, 0))
        digest = item.hero.media_hash if item.hero is not None else None
        aspect = self.timeline.project.aspect_ratio
        if digest and rect.width() >= MIN_THUMBNAIL_PX:
            height = rect.height() - 2
            pixmap = self.thumbnails.get(digest, height * aspect * self.devicePixelRatioF())
            if pixmap is not None:
                width = min(height * aspect, max(0.0, rect.width() - 2))
                source = QRectF(0, 0, pixmap.width() * width / (height * aspect), pixmap.height())
                painter.drawPixmap(QRectF(rect.left() + 1, rect.top() + 1, width, height), pixmap, source)
        text = item.number
        if rect.width() > metrics.horizontalAdvance(text) + 6:
            tag = QRectF(rect.left() + 1, rect.top() + 1, metrics.horizontalAdvance(text) + 6, metrics.height())
            painter.fillRect(tag, TAG_COLOUR)
            painter.setPen(TEXT)
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
        painter.fillRect(QRectF(rect.right() - 1, rect.top(), 1, rect.height()), EDGE_COLOUR)
        if scene_start:
            painter.fillRect(QRectF(rect.left(), rect.top(), 2, rect.height()), ACCENT)

    def _paint_drag(self, painter: QPainter, metrics: QFontMetrics) -> None:
        drag = self._drag
        if drag is None or self.timeline is None:
            return
        rect = self.shot_rect(drag.index)
        painter.setPen(QPen(ACCENT, 2))
        painter.drawRect(rect.adjusted(1, 1, -1, -1))
        frames = drag.frames + drag.delta
        seconds = retimed_seconds(drag.seconds, drag.delta, self.timeline.fps)
        label = f"{frames} fr · {seconds:.2f} s"
        width = metrics.horizontalAdvance(label) + 8
        left = min(rect.right() + 4, self.viewport().width() - width)
        tag = QRectF(left, rect.bottom() - metrics.height() - 2, width, metrics.height())
        painter.fillRect(tag, TAG_COLOUR)
        painter.setPen(TEXT)
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)

    def _on_thumbnail_ready(self, digest: str) -> None:
        # Only the shots showing it, and of those only the ones in view: the cache
        # serves every view of the project, and a full repaint costs every visible shot.
        viewport = self.viewport()
        width = viewport.width()
        for index in self._by_digest.get(digest, ()):
            rect = self.shot_rect(index)
            if rect.width() >= MIN_THUMBNAIL_PX and rect.right() >= 0 and rect.left() <= width:
                viewport.update(rect.toAlignedRect())

    # -- the mouse ---------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.timeline is None or not self._starts:
            super().mousePressEvent(event)
            return
        x = event.position().x()
        index = self.edge_at(x)
        if index is not None:
            item = self.timeline.shots[index]
            self._drag = _EdgeDrag(index, item.shot.id, x, item.frames, item.shot.duration)
            self.viewport().update()
        else:
            self._scrubbing = True
            self.scrubbed.emit(self.frame_at(x))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        x = event.position().x()
        if self._drag is not None:
            self._drag_to(x)
        elif self._scrubbing:
            self.scrubbed.emit(self.frame_at(x))
        else:
            grab = self.edge_at(x) is not None
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor if grab else Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is not None:
            self._drag_to(event.position().x())
            self._finish_drag()
        self._scrubbing = False
        event.accept()

    def _drag_to(self, x: float) -> None:
        drag, fps = self._drag, self.timeline.fps
        longest = math.floor((Fraction(MAX_SHOT_SECONDS) - Fraction(drag.seconds).limit_denominator(1_000_000)) * fps)
        drag.delta = max(1 - drag.frames, min(longest, round((x - drag.press_x) / self._ppf)))
        self._layout()
        self._update_scroll()
        self.viewport().update()

    def _finish_drag(self) -> None:
        drag, self._drag = self._drag, None
        if drag.delta:
            seconds = retimed_seconds(drag.seconds, drag.delta, self.timeline.fps)
            self._pending = _PendingEdit(drag.index, drag.shot_id, drag.frames + drag.delta, seconds)
            # The state's shots_changed brings the new timeline (and clears _pending).
            if not self.state.perform(EditShot(drag.shot_id, "duration", seconds)):
                self._pending = None
        self._layout()
        self._update_scroll()
        self.viewport().update()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if delta.y():
                factor = ZOOM_STEP if delta.y() > 0 else 1 / ZOOM_STEP
                self.set_pixels_per_frame(self._ppf * factor, event.position().x())
        else:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - (delta.x() or delta.y()))
        event.accept()


