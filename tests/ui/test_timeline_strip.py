"""The timeline strip: shots drawn to scale with their hero frames, scrubbing moves
the playhead, dragging a shot's right edge retimes it by whole frames as one
undoable edit."""

import random
import threading
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QRegion

from previz_app.domain.model import MAX_SHOT_SECONDS
from previz_app.domain.timecode import frame_boundaries
from previz_app.domain.vocabulary import TakeKind, frame_rate
from previz_app.engine.request import FrameRequest, encode_png
from previz_app.store import operations as ops
from previz_app.store import shots
from previz_app.ui import player as player_module
from previz_app.ui.player import PlayerView
from previz_app.ui.timeline_strip import MIN_THUMBNAIL_PX, STRIP_HEIGHT, retimed_seconds

LEFT = Qt.MouseButton.LeftButton
Y = STRIP_HEIGHT // 2
PPF = 8  # pixels per frame: zoomed in past fitting the short test film


def blank_source(timeline, size):
    return lambda frame: Image.new("RGB", size, (0, 0, 0))


@pytest.fixture
def make_player(state, thumbnails, shown, qtbot):
    made = []

    def make():
        player = shown(PlayerView(state, thumbnails, blank_source, lambda: 0), 1000, 480)
        made.append(player)
        qtbot.waitUntil(lambda: player.timeline is not None)  # read in the pool
        return player

    yield make
    for player in made:
        assert player.stop()


def film(state):
    return shots.list_shots(state.db)


def test_shots_are_drawn_as_wide_as_their_frames(make_player, state):
    in_order = film(state)
    assert state.perform(ops.EditShot(in_order[1].id, "duration", 7.25))
    player = make_player()
    strip, timeline = player.strip, player.timeline
    assert len({item.frames for item in timeline.shots}) > 1
    width = strip.viewport().width()
    assert strip.pixels_per_frame == pytest.approx(width / timeline.total_frames)  # the film fits
    assert strip.horizontalScrollBar().maximum() == 0

    def check_to_scale():
        ppf = strip.pixels_per_frame
        offset = strip.horizontalScrollBar().value()
        for index, item in enumerate(timeline.shots):
            rect = strip.shot_rect(index)
            assert rect.width() == pytest.approx(item.frames * ppf)
            assert rect.left() == pytest.approx(item.start * ppf - offset)

    check_to_scale()
    strip.zoom_in()
    strip.zoom_in()
    assert strip.pixels_per_frame == pytest.approx(width / timeline.total_frames * 2.25)
    assert strip.horizontalScrollBar().maximum() > 0  # a zoomed film scrolls
    strip.horizontalScrollBar().setValue(150)
    check_to_scale()
    for _ in range(5):
        strip.zoom_out()
    assert strip.pixels_per_frame == pytest.approx(width / timeline.total_frames)  # no smaller than the width


def test_the_strip_paints_each_shots_hero_frame(make_player, state, qtbot):
    colour = (30, 200, 90)
    data = encode_png(Image.new("RGB", (478, 200), colour), FrameRequest(478, 200))
    digest = state.folder.media.put(data)
    second = film(state)[1]
    player = make_player()
    strip = player.strip
    with qtbot.waitSignal(strip.thumbnails.thumbnail_ready, timeout=10_000):
        state.record_take(second.id, TakeKind.imported, digest, len(data))
        qtbot.waitUntil(lambda: player.timeline.shots[1].hero is not None)
        strip.viewport().repaint()

    def pixel(index):
        image = strip.viewport().grab().toImage()
        ratio = image.devicePixelRatio()
        rect = strip.shot_rect(index)
        x, y = rect.left() + rect.width() * 0.6, rect.bottom() - 6
        return image.pixelColor(round(x * ratio), round(y * ratio)).getRgb()[:3]

    qtbot.waitUntil(lambda: all(abs(a - b) <= 8 for a, b in zip(pixel(1), colour)))
    assert abs(pixel(0)[1] - colour[1]) > 40  # no hero there


def test_clicking_and_dragging_on_the_strip_scrubs(make_player, qtbot):
    player = make_player()
    strip, viewport = player.strip, player.strip.viewport()
    player.transport.play(1)
    qtbot.mousePress(viewport, LEFT, pos=QPoint(100, Y))
    assert not player.transport.playing  # scrubbing stops playback
    assert player.transport.playhead == strip.frame_at(100) == int(100 / strip.pixels_per_frame) > 0
    qtbot.mouseMove(viewport, QPoint(400, Y))
    assert player.transport.playhead == strip.frame_at(400)
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(400, Y))
    assert strip.playhead == player.transport.playhead
    qtbot.mouseMove(viewport, QPoint(500, Y))
    assert player.transport.playhead == strip.frame_at(400)  # released: moving no longer scrubs


def test_the_view_follows_the_playhead_while_playing(make_player):
    player = make_player()
    strip = player.strip
    strip.set_pixels_per_frame(8)
    strip.horizontalScrollBar().setValue(0)
    far = player.timeline.total_frames - 10
    strip.set_playhead(far)
    assert strip.horizontalScrollBar().value() == 0  # paused, a seek does not scroll
    strip.set_playhead(far, follow=True)
    assert 0 <= strip.frame_x(far) < strip.viewport().width()


@pytest.mark.parametrize("fps", [24, 23.976])
def test_dragging_a_shots_edge_retimes_it_by_whole_frames_and_undo_restores_it(make_player, state, qtbot, fps):
    assert state.perform(ops.EditProject("fps", fps))
    state.undo_stack.clear()
    player = make_player()
    strip, viewport = player.strip, player.strip.viewport()
    strip.set_pixels_per_frame(PPF)
    strip.horizontalScrollBar().setValue(0)
    before = player.timeline
    first = before.shots[0]
    edge = round(strip.shot_rect(0).right())
    assert edge == first.frames * PPF

    qtbot.mouseMove(viewport, QPoint(edge - 20, Y))
    assert viewport.cursor().shape() == Qt.CursorShape.ArrowCursor
    qtbot.mouseMove(viewport, QPoint(edge + 2, Y))
    assert viewport.cursor().shape() == Qt.CursorShape.SplitHCursor

    qtbot.mousePress(viewport, LEFT, pos=QPoint(edge + 2, Y))
    qtbot.mouseMove(viewport, QPoint(edge + 2 + 10 * PPF, Y))
    # A live preview: the shot and every later one move, nothing is written yet.
    assert strip.shot_rect(0).width() == (first.frames + 10) * PPF
    assert strip.shot_rect(1).left() == (first.frames + 10) * PPF
    assert shots.get_shot(state.db, first.shot.id).duration == first.shot.duration
    assert player.transport.playhead == 0  # an edge drag does not scrub
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(edge + 2 + 10 * PPF, Y))

    qtbot.waitUntil(lambda: player.timeline.shots[0].frames == first.frames + 10)
    after = player.timeline
    assert state.undo_stack.count() == 1
    assert [s.frames for s in after.shots[1:]] == [s.frames for s in before.shots[1:]]
    assert [s.start - 10 for s in after.shots[1:]] == [s.start for s in before.shots[1:]]
    assert strip.shot_rect(0).width() == (first.frames + 10) * PPF
    duration = shots.get_shot(state.db, first.shot.id).duration
    assert Fraction(duration).limit_denominator(10**6) - Fraction(first.shot.duration) == Fraction(10) / frame_rate(fps)

    state.undo_stack.undo()
    qtbot.waitUntil(lambda: player.timeline.shots[0].frames == first.frames)
    assert shots.get_shot(state.db, first.shot.id).duration == first.shot.duration
    state.undo_stack.redo()
    qtbot.waitUntil(lambda: player.timeline.shots[0].frames == first.frames + 10)


def test_a_shot_keeps_at_least_one_frame(make_player, state, qtbot):
    player = make_player()
    strip, viewport = player.strip, player.strip.viewport()
    strip.set_pixels_per_frame(PPF)
    strip.horizontalScrollBar().setValue(0)
    second = player.timeline.shots[1]
    edge = round(strip.shot_rect(1).right())
    qtbot.mousePress(viewport, LEFT, pos=QPoint(edge, Y))
    qtbot.mouseMove(viewport, QPoint(2, Y))
    assert strip.shot_rect(1).width() == PPF  # one frame
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(2, Y))
    qtbot.waitUntil(lambda: player.timeline.shots[1].frames == 1)
    assert 0 < shots.get_shot(state.db, second.shot.id).duration < 1 / 23.9


def test_a_drag_that_changes_nothing_is_no_edit(make_player, state, qtbot):
    player = make_player()
    strip, viewport = player.strip, player.strip.viewport()
    edge = round(strip.shot_rect(0).right())
    qtbot.mousePress(viewport, LEFT, pos=QPoint(edge, Y))
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(edge, Y))
    assert state.undo_stack.count() == 0


@pytest.mark.parametrize("fps", [23.976, 29.97, 25])
def test_retiming_by_whole_frames_leaves_every_other_shot_alone(fps):
    rate = frame_rate(fps)
    rng = random.Random(3)
    durations = [rng.choice([1.5, 2.0, 2.7, 3.0, 4.25, 0.3]) for _ in range(40)]
    bounds = frame_boundaries(durations, rate)
    for index in (0, 7, 23, 39):
        for change in (-5, 1, 31):
            frames = bounds[index + 1] - bounds[index]
            if frames + change < 1:
                continue
            retimed = list(durations)
            retimed[index] = retimed_seconds(durations[index], change, rate)
            after = frame_boundaries(retimed, rate)
            lengths, new_lengths = np.diff(bounds), np.diff(after)
            assert new_lengths[index] == lengths[index] + change
            assert list(np.delete(new_lengths, index)) == list(np.delete(lengths, index))
    assert retimed_seconds(MAX_SHOT_SECONDS, 0, rate) == MAX_SHOT_SECONDS


# -- timelines read while the user works ------------------------------------------------


def hero_png(state, colour) -> str:
    data = encode_png(Image.new("RGB", (478, 200), colour), FrameRequest(478, 200))
    return state.folder.media.put(data)


def test_an_edge_drag_goes_on_over_timelines_read_during_it(make_player, state, qtbot):
    player = make_player()
    strip, viewport = player.strip, player.strip.viewport()
    strip.set_pixels_per_frame(PPF)
    strip.horizontalScrollBar().setValue(0)
    second = player.timeline.shots[1]
    edge = round(strip.shot_rect(1).right())
    qtbot.mousePress(viewport, LEFT, pos=QPoint(edge, Y))
    qtbot.mouseMove(viewport, QPoint(edge + 6 * PPF, Y))
    assert strip.shot_rect(1).width() == (second.frames + 6) * PPF

    # A generated take lands on another shot mid-drag: the film is read again.
    before = player.timeline
    state.record_take(player.timeline.shots[0].shot.id, TakeKind.generated, hero_png(state, (9, 9, 9)), 10)
    qtbot.waitUntil(lambda: player.timeline is not before)
    assert strip.shot_rect(1).width() == (second.frames + 6) * PPF  # still dragging

    # A shot comes in before it: the drag follows its shot to its new place.
    scene_id = player.timeline.shots[0].scene.id
    assert state.perform(ops.InsertShot(scene_id, 0))
    qtbot.waitUntil(lambda: len(player.timeline.shots) == len(before.shots) + 1)
    assert player.timeline.shots[2].shot.id == second.shot.id
    assert strip.shot_rect(2).width() == (second.frames + 6) * PPF

    qtbot.mouseMove(viewport, QPoint(edge + 10 * PPF, Y))
    assert strip.shot_rect(2).width() == (second.frames + 10) * PPF
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(edge + 10 * PPF, Y))
    qtbot.waitUntil(lambda: player.timeline.shots[2].frames == second.frames + 10)
    assert shots.get_shot(state.db, second.shot.id).duration == retimed_seconds(second.shot.duration, 10, player.timeline.fps)
    assert state.undo_stack.count() == 2  # the insert and the retime


def test_a_retime_stays_drawn_over_a_timeline_read_before_it_landed(make_player, state, qtbot, monkeypatch):
    player = make_player()
    strip, viewport = player.strip, player.strip.viewport()
    strip.set_pixels_per_frame(PPF)
    strip.horizontalScrollBar().setValue(0)
    first = player.timeline.shots[0]
    read, gates, timelines = threading.Event(), [threading.Event(), threading.Event()], []
    real_build = player_module.build_timeline

    def build_timeline(db):
        """Reads, then (the first two reads) waits before handing the timeline over."""
        timeline = real_build(db)
        timelines.append(timeline)
        read.set()
        if len(timelines) <= len(gates):
            assert gates[len(timelines) - 1].wait(10)
        return timeline

    monkeypatch.setattr(player_module, "build_timeline", build_timeline)
    edge = round(strip.shot_rect(0).right())
    qtbot.mousePress(viewport, LEFT, pos=QPoint(edge, Y))
    qtbot.mouseMove(viewport, QPoint(edge + 10 * PPF, Y))
    player.rebuild()  # a read that started before the edit
    assert read.wait(10)
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(edge + 10 * PPF, Y))
    assert strip.shot_rect(0).width() == (first.frames + 10) * PPF

    gates[0].set()
    qtbot.waitUntil(lambda: player.timeline is timelines[0])
    assert player.timeline.shots[0].frames == first.frames  # read before the edit
    assert strip.shot_rect(0).width() == (first.frames + 10) * PPF  # no snapping back
    gates[1].set()
    qtbot.waitUntil(lambda: len(timelines) == 2 and player.timeline is timelines[1])
    assert player.timeline.shots[0].frames == first.frames + 10
    assert strip.shot_rect(0).width() == (first.frames + 10) * PPF

    state.undo_stack.undo()  # a settled read without the edit: it is no longer drawn
    qtbot.waitUntil(lambda: len(timelines) == 3 and player.timeline is timelines[2])
    assert strip.shot_rect(0).width() == first.frames * PPF


# -- thumbnails --------------------------------------------------------------------------


def test_shots_narrower_than_a_few_pixels_ask_for_no_thumbnail(make_player, state, qtbot):
    listed = film(state)
    wide, narrow = hero_png(state, (200, 30, 30)), hero_png(state, (30, 30, 200))
    for shot, digest in ((listed[0], wide), (listed[1], narrow)):
        state.record_take(shot.id, TakeKind.imported, digest, 10)
    assert state.perform(ops.EditShot(listed[1].id, "duration", 1 / 24))  # one frame
    player = make_player()
    strip = player.strip
    asked = []
    real_get = strip.thumbnails.get

    def get(digest, width):
        asked.append(digest)
        return real_get(digest, width)

    strip.thumbnails.get = get
    strip.horizontalScrollBar().setValue(0)
    strip.set_pixels_per_frame(MIN_THUMBNAIL_PX / 2)
    assert strip.shot_rect(1).width() < MIN_THUMBNAIL_PX
    strip.viewport().repaint()
    assert wide in asked and narrow not in asked
    strip.set_pixels_per_frame(MIN_THUMBNAIL_PX)
    strip.horizontalScrollBar().setValue(0)
    strip.viewport().repaint()
    assert narrow in asked


class PaintedRegions(QObject):
    """Records the region of every paint event of the widget it filters."""

    def __init__(self):
        super().__init__()
        self.regions = []

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            self.regions.append(QRegion(event.region()))
        return False


def test_a_thumbnail_that_arrives_repaints_only_the_shots_showing_it(make_player, state, qtbot):
    listed = film(state)
    digests = [hero_png(state, colour) for colour in ((200, 30, 30), (30, 200, 30))]
    for shot, digest in zip(listed[:4], digests * 2):  # shots 0 and 2 show one, 1 and 3 the other
        state.record_take(shot.id, TakeKind.imported, digest, 10)
    player = make_player()
    strip = player.strip
    strip.set_pixels_per_frame(2)
    strip.horizontalScrollBar().setValue(0)
    assert strip.shot_rect(3).right() < strip.viewport().width()
    strip.viewport().repaint()
    qtbot.waitUntil(lambda: strip.thumbnails.pending() == 0)
    qtbot.wait(20)
    painted = PaintedRegions()
    strip.viewport().installEventFilter(painted)
    try:
        strip.thumbnails.thumbnail_ready.emit(digests[1])
        qtbot.waitUntil(lambda: bool(painted.regions))
        qtbot.wait(20)
        area = QRegion()
        for region in painted.regions:
            area = area.united(region)
        showing = QRegion(strip.shot_rect(1).toAlignedRect()).united(strip.shot_rect(3).toAlignedRect())
        assert area == showing
        for other in (0, 2):  # their insides: aligned rects of neighbours share an edge pixel
            assert not area.intersects(strip.shot_rect(other).toAlignedRect().adjusted(2, 0, -2, 0))
    finally:
        strip.viewport().removeEventFilter(painted)
