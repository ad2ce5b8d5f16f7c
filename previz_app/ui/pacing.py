"""The pacing view: the film as a bar chart of shot durations, so long and short
stretches show at a glance. One bar per shot in film order, a line where each scene
starts, the running time above; clicking a bar makes that shot current."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..domain.model import MAX_SHOT_SECONDS
from ..store import scenes as scene_store
from ..store import shots as shot_store
from .state import ProjectState
from .theme import ACCENT, BASE, DIM_TEXT, TEXT

BAR_WIDTH = 0.8
SCENE_GREYS = (QColor(118, 118, 124), QColor(86, 86, 92))
LINE_COLOUR = QColor(150, 150, 150, 140)
TICK_LABEL_PX = 44  # room one shot number needs on the x axis
FEW_SHOTS = 20  # more changed shots than this are cheaper to read as the whole film


def running_time(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour on."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class _ShotAxis(pg.AxisItem):
    """An x axis labelled with shot numbers, as many as fit without overlapping."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.numbers: list[str] = []

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph's name
        if not self.numbers or size <= 0 or maxVal <= minVal:
            return []
        first, last = max(0, math.ceil(minVal)), min(len(self.numbers) - 1, math.floor(maxVal))
        if last < first:
            return []
        shots_per_label = TICK_LABEL_PX * (maxVal - minVal) / size
        step = next(s for s in _nice_steps() if s >= shots_per_label)
        start = -(-first // step) * step  # the first multiple of step in view
        return [(step, list(range(start, last + 1, step)))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [self.numbers[int(v)] if 0 <= int(v) < len(self.numbers) else "" for v in values]


def _nice_steps():
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            yield factor * magnitude
        magnitude *= 10


class PacingView(QWidget):
    """Shot durations along the film; follows the state and sets its current shot."""

    def __init__(self, state: ProjectState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._ids: list[int] = []
        self._heights = np.zeros(0)
        self._parity = np.zeros(0, dtype=int)
        self._scene_count = 0
        self._index: dict[int, int] = {}
        self._boundaries: list[float] = []
        self._shown_count = -1

        self.total_label = QLabel()
        self.axis = _ShotAxis()
        self.plot = pg.PlotWidget(axisItems={"bottom": self.axis}, background=BASE)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.enableAutoRange(axis="y")
        self.plot.setAutoVisible(y=True)  # the y range fits the bars in view
        self.plot.hideButtons()
        self.plot.setLabel("left", "seconds")
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(DIM_TEXT))
            axis.setTextPen(pg.mkPen(TEXT))
        self.view_box = self.plot.getViewBox()
        # Two items, one per grey, so each paints all its bars in one call; the
        # highlight is a third with at most one bar, drawn over them.
        self._bar_items = [pg.BarGraphItem(x0=[], width=BAR_WIDTH, height=[], pen=None, brush=grey) for grey in SCENE_GREYS]
        self._highlight = pg.BarGraphItem(x0=[], width=BAR_WIDTH, height=[], pen=None, brush=ACCENT)
        self._highlight.setZValue(2)
        for item in (*self._bar_items, self._highlight):
            self.plot.addItem(item)
        self._boundary_curve = pg.PlotCurveItem(pen=pg.mkPen(LINE_COLOUR, width=1, style=Qt.PenStyle.DashLine), connect="pairs")
        self.plot.addItem(self._boundary_curve, ignoreBounds=True)  # the bars decide the y range
        self.plot.showAxis("top")
        self.scene_axis = self.plot.getAxis("top")
        self.scene_axis.setPen(pg.mkPen(DIM_TEXT))
        self.scene_axis.setTextPen(pg.mkPen(DIM_TEXT))
        self.plot.scene().sigMouseClicked.connect(self._on_plot_clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.total_label)
        layout.addWidget(self.plot, 1)

        # Several signals follow one edit (scenes_changed, board_changed...): reload once.
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)
        self._reload_timer.timeout.connect(self.reload)
        for signal in (state.board_changed, state.scenes_changed, state.project_changed):
            signal.connect(self._reload_timer.start)
        state.shots_changed.connect(self._on_shots_changed)
        state.current_shot_changed.connect(self._on_current_shot_changed)
        self.reload()

    # -- reading the film --------------------------------------------------------------

    def reload(self) -> None:
        """Read the shots of the film (removed scenes left out) and redraw."""
        self._reload_timer.stop()
        scenes = scene_store.list_scenes(self.state.db, include_removed=False)
        order = {scene.id: n for n, scene in enumerate(scenes)}
        shots = [s for s in shot_store.list_shots(self.state.db) if s.scene_id in order]
        self._ids = [s.id for s in shots]
        self._index = {shot_id: i for i, shot_id in enumerate(self._ids)}
        self._heights = np.array([s.duration for s in shots], dtype=float)
        self._parity = np.array([order[s.scene_id] % 2 for s in shots], dtype=int)
        self._scene_count = len(scenes)
        self.axis.numbers = [s.number for s in shots]

        labels: list[tuple[float, str]] = []
        previous = None
        for i, shot in enumerate(shots):
            if shot.scene_id != previous:
                labels.append((i - 0.5, scenes[order[shot.scene_id]].number))
                previous = shot.scene_id
        self._show_boundaries(labels)
        self._show_bars()
        self.axis.setTicks(None)  # redraws the labels: the numbers changed, maybe not the range
        # The whole film comes back into view only when shots come or go, so a zoom
        # survives editing durations.
        right = max(len(shots), 1)
        self.view_box.setLimits(xMin=-1, xMax=right)
        if len(shots) != self._shown_count:
            self._shown_count = len(shots)
            self.view_box.setXRange(-1, right, padding=0)

    def _show_bars(self) -> None:
        x0 = np.arange(len(self._ids), dtype=float) - BAR_WIDTH / 2
        for grey, item in enumerate(self._bar_items):
            chosen = self._parity == grey
            item.setOpts(x0=x0[chosen], height=self._heights[chosen])
        total = float(self._heights.sum())
        self.total_label.setText(
            f"Total {running_time(total)} · {_plural(len(self._ids), 'shot')} · {_plural(self._scene_count, 'scene')}"
        )
        self._show_highlight()

    def _show_boundaries(self, labels: list[tuple[float, str]]) -> None:
        # One curve of vertical segments and the top axis's ticks: a film of 200
        # scenes would otherwise be 200 line items, each re-laid out on every paint.
        xs = np.repeat([x for x, _ in labels], 2)
        self._boundary_curve.setData(xs, np.tile([0.0, MAX_SHOT_SECONDS], len(labels)))
        self.scene_axis.setTicks([[(x + 0.5, number) for x, number in labels], []])
        self._boundaries = [x for x, _ in labels]

    def _show_highlight(self) -> None:
        current = self._index.get(self.state.current_shot_id, -1)
        if current < 0:
            self._highlight.setOpts(x0=[], height=[])
        else:
            self._highlight.setOpts(x0=[current - BAR_WIDTH / 2], height=[self._heights[current]])

    def _on_shots_changed(self, shot_ids: list[int]) -> None:
        charted = [shot_id for shot_id in shot_ids if shot_id in self._index]
        if len(charted) > FEW_SHOTS:
            self._reload_timer.start()
            return
        # Fields change far more often than the film's order (typing in an inspector),
        # so a few shots are read alone and the chart redrawn only if a duration moved.
        changed = False
        for shot_id in charted:
            try:
                duration = self.state.shot(shot_id).duration
            except ValueError:  # gone: the board_changed that follows reloads
                self._reload_timer.start()
                return
            if duration != self._heights[self._index[shot_id]]:
                self._heights[self._index[shot_id]] = duration
                changed = True
        if changed:
            self._show_bars()

    def _on_current_shot_changed(self, _shot_id: int) -> None:
        self._show_highlight()

    # -- clicks ------------------------------------------------------------------------

    def shot_at(self, x: float, y: float) -> int | None:
        """The shot whose bar covers the data point (x, y), or None."""
        i = int(round(x))
        if not 0 <= i < len(self._ids) or abs(x - i) > BAR_WIDTH / 2:
            return None
        return self._ids[i] if 0 <= y <= self._heights[i] else None

    def _on_plot_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        scene_pos = event.scenePos()
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            return
        point: QPointF = self.view_box.mapSceneToView(scene_pos)
        shot_id = self.shot_at(point.x(), point.y())
        if shot_id is not None:
            self.state.set_current_shot(shot_id)

    # -- for tests and tools -----------------------------------------------------------

    def bar_heights(self) -> list[float]:
        """The heights of the bars as drawn, in film order."""
        heights = np.zeros(len(self._ids))
        for item in self._bar_items:
            positions = np.rint(np.asarray(item.opts["x0"]) + BAR_WIDTH / 2).astype(int)
            heights[positions] = item.opts["height"]
        return heights.tolist()

    def bar_shot_ids(self) -> list[int]:
        return list(self._ids)

    def boundary_positions(self) -> list[float]:
        """x of the line where each scene starts (between its first shot and the last
        shot before it)."""
        return list(self._boundaries)

    def highlighted_bar(self) -> tuple[float, float] | None:
        """(x, height) of the accent bar, or None when no shot of the chart is current."""
        x0, height = self._highlight.opts["x0"], self._highlight.opts["height"]
        if len(x0) == 0:
            return None
        return float(x0[0]) + BAR_WIDTH / 2, float(height[0])
