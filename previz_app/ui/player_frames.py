"""Frames for the animatic player: rendered ahead of the playhead on a thread of their
own into a bounded least-recently-used cache of QImages, so playback only copies
pixels. The composer is not thread-safe; the render thread makes and owns its own,
once per timeline: when it cannot be made, every frame of that timeline fails with
the reason, without trying again frame by frame."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from PIL import Image
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from ..animatic.ai_motion import ai_sources
from ..animatic.compose import ComposeOptions, FrameComposer
from ..animatic.timeline import Timeline
from ..store import ProjectFolder
from .images import qimage_from_pil

logger = logging.getLogger(__name__)

# A frame number to a picture; made on the render thread by a FrameSource.
FrameFunction = Callable[[int], Image.Image]
FrameSource = Callable[[Timeline, tuple[int, int]], FrameFunction]

PREVIEW_WIDTH = 640  # logical pixels; times the screen's pixel density
# Device pixels. Drawing costs grow with the area: at 1280 a blocking move takes ~47 ms
# a frame and one render thread drops frames at 24 fps. Qt scales the picture up.
MAX_PREVIEW_WIDTH = 960
CACHE_BUDGET = 256 * 2**20  # bytes of frames kept
MIN_CACHE_FRAMES = 8


def composer_source(folder: ProjectFolder, burn_info: bool = False) -> FrameSource:
    """Frames as the export draws them (transitions, camera moves, blocking redrawn per
    frame, recorded AI motion) at the preview size: one `FrameComposer` per timeline,
    made on the calling thread, which reads the AI motion with a connection of its own.
    A missing hero file fails only its shot's frames (the rest of the film plays)."""

    def make(timeline: Timeline, size: tuple[int, int]) -> FrameFunction:
        db = folder.connect()
        try:
            sources = ai_sources(db, folder.media, timeline, size, check_media=False)
        finally:
            db.close()
        options = ComposeOptions(size=size, burn_info=burn_info, motion="auto")
        return FrameComposer(timeline, folder.media, options, sources, check_media=False).image

    return make


def preview_size(aspect_ratio: float, width: int = PREVIEW_WIDTH, pixel_ratio: float = 1.0) -> tuple[int, int]:
    """An even frame size `width` logical pixels wide at `pixel_ratio` (4:2:0 wants even sizes)."""
    device_width = min(MAX_PREVIEW_WIDTH, round(width * max(1.0, pixel_ratio)))
    device_width -= device_width % 2
    height = max(2, round(device_width / aspect_ratio))
    return device_width, height - height % 2


def first_changed_frame(old: Timeline | None, new: Timeline) -> int:
    """The first frame of `new` that may look different from `old`'s: frames before it
    stay valid in a cache. A shot's dissolve starts `head` frames before its cut."""
    if old is None or old.project != new.project:
        return 0
    for before, after in zip(old.shots, new.shots):
        if before != after:
            return max(0, before.start - max(before.head, after.head))
    shorter = min(len(old.shots), len(new.shots))
    if len(old.shots) == len(new.shots):
        return new.total_frames
    return new.shots[shorter].start if shorter < len(new.shots) else old.shots[shorter].start


class FrameRenderer(QObject):
    """Renders the frames after the playhead (before it, playing backwards) into a
    cache of at most `budget_bytes`. `request(frame, direction)` moves the playhead;
    the thread starts on the first request and restarts its walk from the new
    playhead after the frame in hand. `frame_ready(frame)` follows each frame on the
    GUI thread; `failed(frame, message)` each frame that could not be drawn.
    `stop()` ends the thread (the project closes)."""

    frame_ready = Signal(int)
    failed = Signal(int, str)
    # Emitted on the render thread, queued to this object on the GUI thread.
    _rendered = Signal(int, int)
    _failed_in_thread = Signal(int, int, str)

    def __init__(self, source: FrameSource | None = None, budget_bytes: int = CACHE_BUDGET, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._budget = budget_bytes
        self._cond = threading.Condition()
        # Everything below is shared with the render thread: read and written under _cond.
        self._source, self._timeline, self._size = source, None, None
        self._version = 0  # bumped whenever what a frame looks like may have changed
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._bytes = 0
        self._errors: dict[int, str] = {}
        self._target: int | None = None
        self._direction = 1
        self._stopping = False
        self._thread: threading.Thread | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._rendered.connect(self._on_rendered, queued)
        self._failed_in_thread.connect(self._on_failed, queued)

    # -- configuration (GUI thread) ----------------------------------------------------

    @property
    def timeline(self) -> Timeline | None:
        return self._timeline

    @property
    def size(self) -> tuple[int, int] | None:
        return self._size

    def capacity(self) -> int:
        """How many frames of the current size the cache holds."""
        if self._size is None:
            return MIN_CACHE_FRAMES
        width, height = self._size
        return max(MIN_CACHE_FRAMES, self._budget // (_line_bytes(width) * height))

    def ahead(self) -> int:
        """How many frames from the playhead are rendered: half the cache, so frames
        rendered ahead are never evicted before they are shown."""
        return max(1, self.capacity() // 2)

    def set_timeline(self, timeline: Timeline | None) -> None:
        """Play `timeline`; cached frames before the first changed shot are kept."""
        # Only this thread writes _timeline: compare outside the lock, which the
        # render thread wants back after every frame.
        keep = 0 if timeline is None else first_changed_frame(self._timeline, timeline)
        unchanged = timeline is not None and self._timeline is not None and keep >= timeline.total_frames == self._timeline.total_frames
        with self._cond:
            self._timeline = timeline
            if not unchanged:  # a new take that is not the hero changes nothing on screen
                self._invalidate(keep)

    def set_size(self, size: tuple[int, int]) -> None:
        with self._cond:
            if size != self._size:
                self._size = size
                self._invalidate(0)

    def set_source(self, source: FrameSource) -> None:
        """Draw frames with `source` from now on (burn-ins switched, say): all are redrawn."""
        with self._cond:
            self._source = source
            self._invalidate(0)

    def _invalidate(self, keep_before: int) -> None:
        self._version += 1
        for frame in [f for f in self._cache if f >= keep_before]:
            self._bytes -= self._cache.pop(frame).sizeInBytes()
        self._errors.clear()
        self._cond.notify_all()

    # -- the playhead (GUI thread) -----------------------------------------------------

    def request(self, frame: int, direction: int = 1) -> None:
        """Render from `frame` on, forwards (`direction` 1) or backwards (-1)."""
        with self._cond:
            if self._stopping:
                return
            self._target, self._direction = frame, (1 if direction >= 0 else -1)
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="previz-player-frames", daemon=True)
                self._thread.start()

    def idle(self) -> None:
        """Render nothing more until the next request (the player is hidden)."""
        with self._cond:
            self._target = None

    def image(self, frame: int) -> QImage | None:
        """The frame, if cached (it becomes the most recently used)."""
        with self._cond:
            image = self._cache.get(frame)
            if image is not None:
                self._cache.move_to_end(frame)
            return image

    def nearest_cached(self, frame: int, direction: int = 1) -> tuple[int, QImage] | None:
        """The cached frame closest to `frame` that playback in `direction` has already
        passed (the one to show when `frame` is not ready), or None."""
        with self._cond:
            if direction >= 0:
                passed = [f for f in self._cache if f <= frame]
                found = max(passed) if passed else None
            else:
                passed = [f for f in self._cache if f >= frame]
                found = min(passed) if passed else None
            if found is None:
                return None
            self._cache.move_to_end(found)
            return found, self._cache[found]

    def error(self, frame: int) -> str | None:
        with self._cond:
            return self._errors.get(frame)

    def cached_frames(self) -> list[int]:
        with self._cond:
            return sorted(self._cache)

    def cached_bytes(self) -> int:
        with self._cond:
            return self._bytes

    @property
    def stopped(self) -> bool:
        return self._stopping

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 2.0) -> bool:
        """End the render thread after the frame in hand, waiting up to `timeout_s`.
        True when it ended; a frame still drawing past that is dropped (the thread is
        a daemon and touches neither the database nor this object's signals' receivers)."""
        with self._cond:
            self._stopping = True
            self._target = None
            self._cond.notify_all()
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    # -- the render thread -------------------------------------------------------------

    def _next_job(self) -> tuple[int, int, Timeline, tuple[int, int], FrameSource] | None:
        timeline, target = self._timeline, self._target
        if target is None or timeline is None or self._size is None or self._source is None:
            return None
        for step in range(self.ahead()):
            frame = target + self._direction * step
            if not 0 <= frame < timeline.total_frames:
                break
            if frame not in self._cache and frame not in self._errors:
                return self._version, frame, timeline, self._size, self._source
        return None

    def _run(self) -> None:
        frames: FrameFunction | None = None
        broken = ""  # why no frames can be made for `made_for`
        made_for = -1
        while True:
            with self._cond:
                job = None if self._stopping else self._next_job()
                while not self._stopping and job is None:
                    self._cond.wait()
                    job = self._next_job()
                if self._stopping:
                    return
            version, frame, timeline, size, source = job
            if made_for != version:
                # Made once per version, failed or not: making it stats every hero and
                # reads the AI motion, too much to repeat for each frame ahead.
                frames, broken, made_for = None, "", version
                try:
                    frames = source(timeline, size)
                except Exception as exc:  # noqa: BLE001 - the user's to see, not a dead thread
                    logger.debug("player frames cannot be made", exc_info=True)
                    broken = _reason(exc)
            message = broken
            if frames is not None:
                try:
                    image = qimage_from_pil(frames(frame))
                except Exception as exc:  # noqa: BLE001 - as above
                    logger.debug("player frame %s failed", frame, exc_info=True)
                    message = _reason(exc)
            if message:
                with self._cond:
                    if version != self._version:
                        continue
                    self._errors[frame] = message
                self._emit(self._failed_in_thread, version, frame, message)
                continue
            with self._cond:
                if version != self._version:
                    continue  # drawn for a timeline that changed meanwhile
                self._store(frame, image)
            self._emit(self._rendered, version, frame)

    def _store(self, frame: int, image: QImage) -> None:
        self._cache[frame] = image
        self._bytes += image.sizeInBytes()
        if self._bytes <= self._budget:
            return
        window = self._window()
        for old in list(self._cache):
            if self._bytes <= self._budget or len(self._cache) <= 1:
                break
            if old != frame and old not in window:
                self._bytes -= self._cache.pop(old).sizeInBytes()

    def _window(self) -> range:
        if self._target is None:
            return range(0)
        if self._direction > 0:
            return range(self._target, self._target + self.ahead())
        return range(self._target - self.ahead() + 1, self._target + 1)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            pass  # the player closed while this frame was drawn; nobody is waiting

    # -- back on the GUI thread ----------------------------------------------------------

    def _on_rendered(self, version: int, frame: int) -> None:
        if version == self._version:
            self.frame_ready.emit(frame)

    def _on_failed(self, version: int, frame: int, message: str) -> None:
        if version == self._version:
            self.failed.emit(frame, message)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _line_bytes(width: int) -> int:
    return (width * 3 + 3) // 4 * 4  # RGB888 rows are padded to 4 bytes
