"""The player's transport: the playhead, the J/K/L shuttle speed, and the clock that
says which frame is due.

Playback never counts timer ticks: the frame due is the one the wall clock says,
`start + floor(elapsed_ns x fps / 10^9)` at the exact rational rate, so a late tick
shows a later frame instead of slipping the whole film."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction

from PySide6.QtCore import QObject, Signal

MAX_SPEED = 8
NS_PER_SECOND = 10**9

Clock = Callable[[], int]  # monotonic nanoseconds


class PlaybackClock:
    """Which frame is due now: `start` plus `speed` times the frames elapsed since
    `start()`, at the exact rate, in integer arithmetic (no float, no drift)."""

    def __init__(self, fps: Fraction, now: Clock = time.monotonic_ns) -> None:
        self.fps, self._now = Fraction(fps), now
        self._start, self._speed, self._anchor = 0, 0, 0

    def start(self, frame: int, speed: int) -> None:
        self._start, self._speed, self._anchor = frame, speed, self._now()

    def frame(self) -> int:
        elapsed = self._now() - self._anchor
        passed = elapsed * self.fps.numerator * abs(self._speed) // (NS_PER_SECOND * self.fps.denominator)
        return self._start + (passed if self._speed >= 0 else -passed)


class TransportState(QObject):
    """The playhead and the shuttle speed (0 paused, 1, 2, 4, 8 forwards, negative
    backwards). `advance()` moves the playhead to where the clock says; playback stops
    on the first and last frames."""

    playhead_changed = Signal(int)
    speed_changed = Signal(int)

    def __init__(self, now: Clock = time.monotonic_ns, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self.clock = PlaybackClock(Fraction(24), now)
        self.playhead, self.speed, self.total_frames = 0, 0, 0

    @property
    def playing(self) -> bool:
        return self.speed != 0

    def set_range(self, total_frames: int, fps: Fraction) -> None:
        """A new timeline: keep the playhead where it was, inside the film."""
        self.advance()
        self.total_frames = total_frames
        self.clock = PlaybackClock(fps, self._now)
        if total_frames == 0:
            self.pause()
        self._move(min(self.playhead, max(0, total_frames - 1)))
        if self.playing:
            self.clock.start(self.playhead, self.speed)

    def seek(self, frame: int) -> None:
        self._move(max(0, min(frame, self.total_frames - 1)))
        if self.playing:
            self.clock.start(self.playhead, self.speed)

    def step(self, frames: int) -> None:
        self.pause()
        self.seek(self.playhead + frames)

    def play(self, speed: int = 1) -> None:
        if self.total_frames == 0 or speed == 0:
            self.pause()
            return
        self.advance()
        if speed > 0 and self.playhead >= self.total_frames - 1:
            self._move(0)  # play at the end starts the film again
        elif speed < 0 and self.playhead == 0:
            return
        self.clock.start(self.playhead, speed)
        self._set_speed(speed)

    def pause(self) -> None:
        self.advance()
        self._set_speed(0)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play(1)

    def forward(self) -> None:
        """L: play forwards, or twice as fast when already doing so."""
        self.play(min(MAX_SPEED, self.speed * 2) if self.speed > 0 else 1)

    def backward(self) -> None:
        """J: play backwards, or twice as fast when already doing so."""
        self.play(max(-MAX_SPEED, self.speed * 2) if self.speed < 0 else -1)

    def advance(self) -> int:
        """Move the playhead to the frame due now; stop at either end."""
        if not self.playing:
            return self.playhead
        frame, last = self.clock.frame(), self.total_frames - 1
        if (self.speed > 0 and frame >= last) or (self.speed < 0 and frame <= 0):
            self._move(max(0, min(frame, last)))
            self._set_speed(0)
        else:
            self._move(frame)
        return self.playhead

    def _move(self, frame: int) -> None:
        if frame != self.playhead:
            self.playhead = frame
            self.playhead_changed.emit(frame)

    def _set_speed(self, speed: int) -> None:
        if speed != self.speed:
            self.speed = speed
            self.speed_changed.emit(speed)
