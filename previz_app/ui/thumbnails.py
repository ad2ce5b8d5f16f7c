"""Thumbnails of media images: decoded and scaled in a thread pool, kept on disk by
content hash (so every project shares them), and held in memory up to a budget."""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

# Thumbnails are made in a few widths; a request gets the smallest one that is wide enough.
WIDTHS = (160, 320, 640, 1280)


def thumbnail_width(width: float) -> int:
    return next((w for w in WIDTHS if w >= width), WIDTHS[-1])


class ThumbnailCache(QObject):
    """`get(digest, width)` returns a pixmap at once, or None and loads it in the pool;
    `thumbnail_ready(digest)` follows on the GUI thread."""

    thumbnail_ready = Signal(str)
    _loaded = Signal(str, int, QImage)  # from pool threads, queued to the GUI thread

    def __init__(
        self, media_root: Path, cache_dir: Path, pool: QThreadPool | None = None,
        budget_bytes: int = 256 * 2**20, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.media_root, self.cache_dir = Path(media_root), Path(cache_dir)
        self._pool = pool or QThreadPool(self)
        self._budget, self._used = budget_bytes, 0
        self._pixmaps: OrderedDict[tuple[str, int], QPixmap] = OrderedDict()
        self._queued: set[tuple[str, int]] = set()
        self._missing: set[str] = set()
        self._order = itertools.count()
        self._loaded.connect(self._on_loaded, Qt.ConnectionType.QueuedConnection)

    def get(self, digest: str, width: float) -> QPixmap | None:
        """The thumbnail of `digest` at least `width` device pixels wide, if in memory."""
        key = (digest, thumbnail_width(width))
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if digest not in self._missing and key not in self._queued:
            self._queued.add(key)
            # Newest first: what the user scrolled to now beats what flew past.
            self._pool.start(_Load(self, digest, key[1]), priority=next(self._order) % 2**30)
        return None

    def stop(self) -> None:
        """Drop the loads not started and wait for the running ones (the project closes)."""
        self._pool.clear()
        self._pool.waitForDone()
        self._queued.clear()

    def is_missing(self, digest: str) -> bool:
        """True when the media file is gone or unreadable (the view says so)."""
        return digest in self._missing

    def pending(self) -> int:
        return len(self._queued)

    def _on_loaded(self, digest: str, width: int, image: QImage) -> None:
        self._queued.discard((digest, width))
        if image.isNull():
            self._missing.add(digest)
        else:
            pixmap = QPixmap.fromImage(image)
            self._pixmaps[(digest, width)] = pixmap
            self._used += _bytes(pixmap)
            while self._used > self._budget and len(self._pixmaps) > 1:
                _, old = self._pixmaps.popitem(last=False)
                self._used -= _bytes(old)
        self.thumbnail_ready.emit(digest)

    def cached_path(self, digest: str, width: int) -> Path:
        return self.cache_dir / digest[:2] / f"{digest}-{width}.jpg"

    def media_path(self, digest: str) -> Path:
        return self.media_root / digest[:2] / digest


def _bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


class _Load(QRunnable):
    def __init__(self, cache: ThumbnailCache, digest: str, width: int) -> None:
        super().__init__()
        self.cache, self.digest, self.width = cache, digest, width

    def run(self) -> None:
        image = QImage()
        try:
            image = _load_or_make(self.cache.cached_path(self.digest, self.width), self.cache.media_path(self.digest), self.width)
        finally:
            try:
                self.cache._loaded.emit(self.digest, self.width, image)
            except RuntimeError:
                pass  # the project was closed while this loaded; nobody is waiting for it


def _load_or_make(cached: Path, source: Path, width: int) -> QImage:
    image = QImage(str(cached)) if cached.is_file() else QImage()
    if not image.isNull():
        return image
    full = QImage(str(source))
    if full.isNull():
        return full
    image = full.scaledToWidth(min(width, full.width()), Qt.TransformationMode.SmoothTransformation)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        if image.save(str(tmp), "JPG", 88):
            os.replace(tmp, cached)
    except OSError:
        pass  # a read-only or full cache disk costs speed next time, nothing else
    return image
