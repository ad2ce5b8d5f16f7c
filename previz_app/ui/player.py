"""The animatic player: the film at its frame rate from frames rendered ahead, a
transport with the editor's keys (space, J/K/L shuttle, frame steps, Home/End) and
the timeline strip to scrub and retime shots on. A timer polls the transport's
clock (see `transport`); the frame on screen is the one the clock says is due, or,
when it is not drawn yet, the last one drawn before it (a dropped frame)."""

from __future__ import annotations

import time
from fractions import Fraction

from PySide6.QtCore import QRect, Qt, QThreadPool, QTimer
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QVBoxLayout, QWidget

from ..animatic.timeline import Timeline, build_timeline
from .player_frames import FrameRenderer, FrameSource, composer_source, preview_size
from .state import ProjectState
from .thumbnails import ThumbnailCache
from .timeline_strip import TimelineStripView
from .transport import Clock, TransportState
from .workers import BackgroundTask, run_in_background, wait_for_tasks

TICK_MS = 5  # well under a frame at 60 fps; the clock, not the tick, picks the frame


class ScreenWidget(QWidget):
    """Paints one frame, fitted and centred on black, or a message instead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.message = ""
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_image(self, image: QImage | None, message: str = "") -> None:
        self.image, self.message = image, message
        self.update()

    def image_rect(self) -> QRect:
        if self.image is None or self.image.isNull():
            return QRect()
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2, size.width(), size.height())

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.image is not None and not self.image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.image_rect(), self.image)
        if self.message:
            painter.setPen(self.palette().color(QPalette.ColorRole.BrightText))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)


class PlayerView(QWidget):
    """The player: screen, transport row and timeline strip over one project. Frames
    come from `source` (the animatic composer by default); `now` is the clock."""

    def __init__(
        self, state: ProjectState, thumbnails: ThumbnailCache, source: FrameSource | None = None,
        now: Clock = time.monotonic_ns, parent: QWidget | None = None, *, pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.timeline: Timeline | None = None
        self.dropped_frames = 0
        self.displayed_frame: int | None = None  # the frame whose picture is on screen
        self._missed: int | None = None
        self._burn_info = False
        self._source = source
        self._dirty, self._closed, self._again = True, False, False
        self._active, self._live = True, False
        self._pool = pool or QThreadPool.globalInstance()
        self._building: BackgroundTask | None = None
        self.transport = TransportState(now, self)
        self.frames = FrameRenderer(source or composer_source(state.folder), parent=self)
        self.screen = ScreenWidget()
        self.strip = TimelineStripView(state, thumbnails)
        self._build_controls()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        # Several signals follow one edit (shots_changed, then takes_changed...): rebuild once.
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self.rebuild)
        for signal in (state.project_changed, state.scenes_changed, state.board_changed, state.shots_changed, state.takes_changed):
            signal.connect(self._on_project_edited)
        self.transport.playhead_changed.connect(self._on_playhead_changed)
        self.transport.speed_changed.connect(self._on_speed_changed)
        self.frames.frame_ready.connect(self._on_frame_ready)
        self.frames.failed.connect(self._on_frame_failed)
        self.strip.scrubbed.connect(self._on_scrubbed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _build_controls(self) -> None:
        self.timecode_label, self.shot_label, self.speed_label, self.status_label = QLabel(), QLabel(), QLabel(), QLabel()
        self.timecode_label.setStyleSheet("font-family: monospace; font-size: 14px")
        self.status_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.burn_in_box = QCheckBox("Burn-in")
        self.burn_in_box.setToolTip("Show the shot number and timecode in the picture, as the export can")
        self.burn_in_box.toggled.connect(self.set_burn_info)
        self.burn_in_box.setVisible(self._source is None)  # a source of its own draws what it draws
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        icons = QStyle.StandardPixmap
        buttons = (
            (icons.SP_MediaSkipBackward, "First frame (Home)", lambda: self.transport.seek(0)),
            (icons.SP_MediaSeekBackward, "Play backwards, faster each press (J)", self.transport.backward),
            (icons.SP_ArrowLeft, "Previous frame (Left or ,)", lambda: self.transport.step(-1)),
            (icons.SP_MediaPlay, "Play / pause (Space)", self.transport.toggle),
            (icons.SP_ArrowRight, "Next frame (Right or .)", lambda: self.transport.step(1)),
            (icons.SP_MediaSeekForward, "Play forwards, faster each press (L)", self.transport.forward),
            (icons.SP_MediaSkipForward, "Last frame (End)", lambda: self.transport.seek(self.transport.total_frames - 1)),
        )
        self.buttons: list[QToolButton] = []
        for icon, tip, slot in buttons:
            button = QToolButton()
            button.setIcon(self.style().standardIcon(icon))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys belong to the player
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons.append(button)
        self.burn_in_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for widget in (self.timecode_label, self.shot_label, self.speed_label):
            row.addSpacing(12)
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.status_label)
        row.addWidget(self.burn_in_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.screen, 1)
        layout.addLayout(row)
        layout.addWidget(self.strip)

    # -- the timeline ------------------------------------------------------------------

    def _on_project_edited(self, *_args) -> None:
        if self._closed:
            return
        self._dirty = True
        if self._live:
            self._rebuild_timer.start()

    def rebuild(self) -> None:
        """Read the timeline again (shots, takes or the project changed), in the pool
        with a connection of its own: a 2,000-shot film takes 100 ms to read."""
        self._rebuild_timer.stop()
        self._dirty = False
        if self._closed:
            return
        if self._building is not None:
            self._again = True  # the read under way may have missed this edit
            return
        folder = self.state.folder

        def read(_control) -> Timeline:
            db = folder.connect()
            try:
                return build_timeline(db)
            finally:
                db.close()

        self._building = run_in_background(
            self._pool, read, lambda timeline: self._on_built(timeline, ""),
            lambda exc: self._on_built(None, str(exc) if isinstance(exc, ValueError) else f"The film cannot be read: {exc}"),
            parent=self,
        )

    def _on_built(self, timeline: Timeline | None, message: str) -> None:
        self._building = None
        if self._closed:
            return
        self._use_timeline(timeline, message)
        if self._again:
            self._again = False
            self.rebuild()

    def _use_timeline(self, timeline: Timeline | None, message: str) -> None:
        self.timeline = timeline
        if timeline is not None:
            self.frames.set_size(preview_size(timeline.project.aspect_ratio, pixel_ratio=self.devicePixelRatioF()))
        self.frames.set_timeline(timeline)
        # An edit made while this was read comes with the next read (the strip keeps
        # drawing a retime it has not seen yet until then).
        self.strip.set_timeline(timeline, settled=not (self._again or self._dirty))
        self.transport.set_range(0 if timeline is None else timeline.total_frames, timeline.fps if timeline else Fraction(24))
        self.displayed_frame = None
        if timeline is None:
            self.screen.show_image(None, message)
        self._on_playhead_changed(self.transport.playhead)

    def set_burn_info(self, on: bool) -> None:
        """Draw the shot number and timecode into the frames, as an export with burn-ins."""
        if self._source is None and on != self._burn_info:
            self._burn_info = on
            self.frames.set_source(composer_source(self.state.folder, burn_info=on))
            self.displayed_frame = None
            self._on_playhead_changed(self.transport.playhead)

    # -- playback ----------------------------------------------------------------------

    def tick(self) -> None:
        """Show the frame the clock says is due (the timer calls this while playing)."""
        self.transport.advance()

    def displayed_image(self) -> QImage | None:
        return self.screen.image if self.displayed_frame is not None else None

    def _on_speed_changed(self, speed: int) -> None:
        if speed:
            self._timer.start()
        else:
            self._timer.stop()
        self._missed = None
        arrow = "▶" if speed > 0 else "◀"
        self.speed_label.setText("" if speed == 0 else f"{arrow} {abs(speed)}×")
        icon = QStyle.StandardPixmap.SP_MediaPause if speed else QStyle.StandardPixmap.SP_MediaPlay
        self.buttons[3].setIcon(self.style().standardIcon(icon))
        self._on_playhead_changed(self.transport.playhead)

    def _on_playhead_changed(self, frame: int) -> None:
        timeline = self.timeline
        if timeline is None or not timeline.shots:
            self.timecode_label.setText("")
            self.shot_label.setText("")
            return
        direction = -1 if self.transport.speed < 0 else 1
        if self._live:
            self.frames.request(frame, direction)
        self._show(frame, direction)
        self.timecode_label.setText(timeline.timecode(frame))
        self.shot_label.setText(f"Shot {timeline.shots[timeline.index_at(frame)].number}")
        self.strip.set_playhead(frame, follow=self.transport.playing)

    def _show(self, frame: int, direction: int) -> None:
        image = self.frames.image(frame)
        if image is not None:
            self.displayed_frame = frame
            self.screen.show_image(image)
            return
        error = self.frames.error(frame)
        if error is not None:
            # Black and the reason, not a picture from another shot: the frame is not late.
            self.displayed_frame = frame
            self.screen.show_image(None, f"Frame {frame} cannot be drawn: {error}")
            return
        if self.transport.playing and self._missed != frame:
            self._missed = frame
            self.dropped_frames += 1
            self.status_label.setText(f"{self.dropped_frames} dropped")
        nearest = self.frames.nearest_cached(frame, direction)
        if nearest is not None:
            self.displayed_frame = nearest[0]
            self.screen.show_image(nearest[1])

    def _on_frame_ready(self, frame: int) -> None:
        if frame == self.transport.playhead and self.displayed_frame != frame:
            self._show(frame, 1)

    def _on_frame_failed(self, frame: int, _message: str) -> None:
        if frame == self.transport.playhead:
            self._show(frame, 1)

    def _on_scrubbed(self, frame: int) -> None:
        self.transport.pause()
        self.transport.seek(frame)

    # -- keys and visibility -----------------------------------------------------------

    def keyPressEvent(self, event) -> None:
        key, transport = event.key(), self.transport
        actions = {
            Qt.Key.Key_Space: transport.toggle,
            Qt.Key.Key_K: transport.pause,
            Qt.Key.Key_L: transport.forward,
            Qt.Key.Key_J: transport.backward,
            Qt.Key.Key_Right: lambda: transport.step(1),
            Qt.Key.Key_Period: lambda: transport.step(1),
            Qt.Key.Key_Left: lambda: transport.step(-1),
            Qt.Key.Key_Comma: lambda: transport.step(-1),
            Qt.Key.Key_Home: lambda: transport.seek(0),
            Qt.Key.Key_End: lambda: transport.seek(transport.total_frames - 1),
        }
        action = actions.get(key)
        if action is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
            return
        action()
        event.accept()

    def set_active(self, active: bool) -> None:
        """Whether the player can be seen: a dock behind another tab stays "visible" to
        Qt (it is moved off screen), so its dock's visibilityChanged says so instead."""
        self._active = active
        self._update_live()

    def is_live(self) -> bool:
        """True while the player can be seen: it reads the film and renders only then."""
        return self._live

    def _update_live(self) -> None:
        live = self.isVisible() and self._active and not self._closed
        if live == self._live:
            return
        self._live = live
        if not live:
            self.transport.pause()
            self.frames.idle()
        elif self._dirty:
            self.rebuild()
        elif self.timeline is not None:
            self.frames.request(self.transport.playhead, -1 if self.transport.speed < 0 else 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._update_live()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._update_live()

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Stop playing, let a timeline read finish (its connection closes with it) and
        end the render thread: the project closes. True when both ended in time."""
        self._closed, self._live = True, False
        self._timer.stop()
        self._rebuild_timer.stop()
        self.transport.pause()
        read = self._building is None or wait_for_tasks([self._building], round(timeout_s * 1000))
        return self.frames.stop(timeout_s) and read
