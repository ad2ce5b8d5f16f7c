"""Thumbnails: made off the GUI thread, kept on disk, missing media reported."""

from PIL import Image

from previz_app.engine.request import FrameRequest, encode_png
from previz_app.ui.thumbnails import ThumbnailCache


def stored_frame(folder, colour=(200, 40, 40), size=(640, 268)):
    return folder.media.put(encode_png(Image.new("RGB", size, colour), FrameRequest(*size)))


def test_a_thumbnail_loads_in_the_background_and_is_cached_on_disk(folder, tmp_path, qtbot):
    digest = stored_frame(folder)
    cache = ThumbnailCache(folder.media.root, tmp_path / "thumbs")
    assert cache.get(digest, 300) is None and cache.pending() == 1
    with qtbot.waitSignal(cache.thumbnail_ready) as ready:
        pass
    assert ready.args == [digest]
    pixmap = cache.get(digest, 300)
    assert (pixmap.width(), pixmap.height()) == (320, 134)
    assert pixmap.toImage().pixelColor(160, 67).red() > 180
    on_disk = cache.cached_path(digest, 320)
    assert on_disk.is_file()
    # A new cache (a new session) reads the small file, even with the original gone.
    folder.media.path(digest).unlink()
    again = ThumbnailCache(folder.media.root, tmp_path / "thumbs")
    again.get(digest, 300)
    qtbot.waitUntil(lambda: again.get(digest, 300) is not None)


def test_missing_media_is_reported_once_not_retried(folder, tmp_path, qtbot):
    cache = ThumbnailCache(folder.media.root, tmp_path / "thumbs")
    digest = "ab" * 32
    cache.get(digest, 100)
    qtbot.waitUntil(lambda: cache.pending() == 0)
    assert cache.is_missing(digest)
    assert cache.get(digest, 100) is None and cache.pending() == 0
