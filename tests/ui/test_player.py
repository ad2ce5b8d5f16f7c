"""The animatic player: the editor's keys drive the transport, the clock picks the
exact frame at NTSC rates without drift, frames come from the render-ahead cache
(bounded, restarted when the playhead jumps, stopped on close) and match the
composer's pictures."""

import threading
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from previz_app.animatic import compose
from previz_app.animatic.compose import MissingMediaError
from previz_app.animatic.ai_motion import ai_sources
from previz_app.animatic.timeline import build_timeline
from previz_app.domain.model import Project
from previz_app.domain.vocabulary import TakeKind, frame_rate
from previz_app.engine.request import FrameRequest, encode_png
from previz_app.store import create_project
from previz_app.store import operations as ops
from previz_app.store.media import add_media
from previz_app.store.motion import save_motion
from previz_app.ui.images import pil_from_qimage, qimage_from_pil
from previz_app.ui.player import PlayerView
from previz_app.ui.player_frames import MAX_PREVIEW_WIDTH, FrameRenderer, first_changed_frame, preview_size
from previz_app.ui.state import ProjectState
from previz_app.ui.transport import PlaybackClock, TransportState

RENDER_THREAD = "previz-player-frames"
FAKE = object()


def picture_of(frame: int, size) -> Image.Image:
    """A picture that says which frame it is."""
    return Image.new("RGB", size, (frame % 256, frame // 256 % 256, 77))


class FakeSource:
    """A frame source that records what it drew, on which thread; with `permits` each
    frame waits for one (a test lets frames through one by one); frames listed in
    `broken` raise."""

    def __init__(self, permits: threading.Semaphore | None = None, broken: set[int] = frozenset()):
        self.drawn: list[int] = []
        self.threads: set[str] = set()
        self.permits, self.broken = permits, broken

    def __call__(self, timeline, size):
        def frame(index: int) -> Image.Image:
            self.threads.add(threading.current_thread().name)
            if self.permits is not None:
                self.permits.acquire(timeout=10)
            if index in self.broken:
                raise ValueError(f"shot media for frame {index} is missing")
            self.drawn.append(index)
            return picture_of(index, size)

        return frame


class FakeClock:
    def __init__(self):
        self.ns = 10**12

    def __call__(self) -> int:
        return self.ns


@pytest.fixture
def make_player(state, thumbnails, shown, qtbot):
    made = []

    def make(source=FAKE, clock=None):
        """`source=None` draws with the real composer."""
        player = PlayerView(state, thumbnails, FakeSource() if source is FAKE else source, clock or FakeClock())
        made.append(player)
        shown(player, 900, 520)
        qtbot.waitUntil(lambda: player.timeline is not None)  # read in the pool
        return player

    yield make
    for player in made:
        assert player.stop()


def same_pixels(a, b) -> bool:
    return np.array_equal(np.asarray(pil_from_qimage(a)), np.asarray(pil_from_qimage(b)))


def no_render_thread() -> bool:
    return not any(thread.name == RENDER_THREAD for thread in threading.enumerate())


# -- keys ------------------------------------------------------------------------------


def test_the_editors_keys_drive_the_transport(make_player, qtbot):
    player = make_player()
    transport = player.transport
    assert transport.total_frames == player.timeline.total_frames > 100
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert transport.speed == 1
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert transport.speed == 0
    qtbot.keyClick(player, Qt.Key.Key_L)
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert transport.speed == 2
    for _ in range(3):
        qtbot.keyClick(player, Qt.Key.Key_L)
    assert transport.speed == 8  # 4, 8, and no faster
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert transport.speed == 0
    qtbot.keyClick(player, Qt.Key.Key_Right)
    qtbot.keyClick(player, Qt.Key.Key_Period)
    assert transport.playhead == 2 and transport.speed == 0
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert transport.playhead == 1
    qtbot.keyClick(player, Qt.Key.Key_J)
    assert transport.speed == -1
    qtbot.keyClick(player, Qt.Key.Key_J)
    assert transport.speed == -2
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert transport.speed == 1  # L while reversing plays forwards again
    qtbot.keyClick(player, Qt.Key.Key_End)
    assert transport.playhead == transport.total_frames - 1
    qtbot.keyClick(player, Qt.Key.Key_Home)
    assert transport.playhead == 0
    qtbot.keyClick(player, Qt.Key.Key_K)
    qtbot.keyClick(player, Qt.Key.Key_Comma)
    assert transport.playhead == 0  # no frame before the first


def test_labels_show_the_timecode_and_shot_of_the_playhead(make_player, qtbot):
    player = make_player()
    timeline = player.timeline
    second = timeline.shots[1]
    player.transport.seek(second.start)
    assert player.timecode_label.text() == timeline.timecode(second.start)
    assert player.timecode_label.text().startswith("01:00:0")  # the project's start timecode
    assert player.shot_label.text() == f"Shot {second.number}"


# -- the clock -------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [23.976, 29.97])
def test_the_clock_gives_the_exact_frame_at_every_frame_boundary(fps):
    rate = frame_rate(fps)
    clock = FakeClock()
    playback = PlaybackClock(rate, clock)
    playback.start(0, 1)
    anchor = clock.ns
    for frame in list(range(0, 2000)) + [86_313, 1_000_001]:
        due_ns = -(-frame * 10**9 * rate.denominator // rate.numerator)  # ceil(frame / fps)
        clock.ns = anchor + due_ns
        assert playback.frame() == frame
        clock.ns = anchor + due_ns - 1
        assert playback.frame() == frame - 1


@pytest.mark.parametrize(("fps", "after_ten_minutes"), [(23.976, 14385), (29.97, 17982), (25, 15000)])
def test_ten_minutes_of_irregular_ticks_end_on_the_exact_frame(fps, after_ten_minutes, qapp):
    rate = frame_rate(fps)
    clock = FakeClock()
    transport = TransportState(clock)
    transport.set_range(10**6, rate)
    transport.play(1)
    start, seen = clock.ns, [0]
    rng = np.random.default_rng(7)
    while clock.ns - start < 600 * 10**9:
        clock.ns = min(start + 600 * 10**9, clock.ns + int(rng.integers(1_000_000, 9_000_000)))
        seen.append(transport.advance())
    assert seen[-1] == after_ten_minutes == int(600 * rate)
    steps = np.diff(seen)
    assert steps.min() >= 0 and steps.max() == 1  # ticks under a frame apart: no frame skipped


def test_shuttle_speeds_multiply_the_rate_and_playback_stops_at_the_ends(qapp):
    clock = FakeClock()
    transport = TransportState(clock)
    transport.set_range(500, Fraction(24))
    transport.seek(100)
    transport.play(2)
    clock.ns += 10**9
    assert transport.advance() == 148
    transport.play(-4)  # re-anchored where it is
    clock.ns += 10**9 // 2
    assert transport.advance() == 100
    clock.ns += 10 * 10**9
    assert transport.advance() == 0 and not transport.playing
    transport.play(8)
    clock.ns += 10 * 10**9
    assert transport.advance() == 499 and not transport.playing
    transport.play(1)  # play on the last frame starts the film again
    assert transport.playhead == 0 and transport.speed == 1


# -- frames ----------------------------------------------------------------------------


def test_playback_shows_cached_frames_for_the_clocks_frame(make_player, qtbot):
    clock = FakeClock()
    source = FakeSource()
    player = make_player(source, clock)
    qtbot.waitUntil(lambda: player.displayed_frame == 0)
    size = player.frames.size
    assert size == preview_size(player.timeline.project.aspect_ratio, pixel_ratio=player.devicePixelRatioF())
    assert same_pixels(player.displayed_image(), qimage_from_pil(picture_of(0, size)))
    qtbot.waitUntil(lambda: len(player.frames.cached_frames()) >= 60)
    player.transport.play(1)
    clock.ns += 50 * 10**9 // 24 + 1  # 50 frames at 24 fps
    player.tick()
    assert player.transport.playhead == player.displayed_frame == 50
    assert same_pixels(player.displayed_image(), qimage_from_pil(picture_of(50, size)))
    assert player.dropped_frames == 0
    assert source.threads == {RENDER_THREAD}  # never drawn on the GUI thread


def test_a_frame_not_ready_shows_the_last_one_and_counts_a_drop(make_player, qtbot):
    clock, permits = FakeClock(), threading.Semaphore(0)
    player = make_player(FakeSource(permits), clock)
    permits.release(5)
    qtbot.waitUntil(lambda: player.frames.cached_frames() == [0, 1, 2, 3, 4])
    assert player.displayed_frame == 0
    player.transport.play(1)
    clock.ns += 9 * 10**9 // 24 + 1
    player.tick()
    assert player.transport.playhead == 9
    assert player.displayed_frame == 4  # the latest frame there is
    assert player.dropped_frames == 1
    player.tick()
    assert player.dropped_frames == 1  # the same late frame counts once
    player.transport.pause()
    permits.release(1000)
    qtbot.waitUntil(lambda: player.displayed_frame == 9)  # drawn next: the playhead moved there
    assert same_pixels(player.displayed_image(), qimage_from_pil(picture_of(9, player.frames.size)))


def test_the_cache_is_bounded_and_renders_from_a_jumped_playhead(qapp, qtbot, state):
    timeline = build_timeline(state.db)
    size = (64, 28)
    frame_bytes = qimage_from_pil(picture_of(0, size)).sizeInBytes()
    source = FakeSource()
    renderer = FrameRenderer(source, budget_bytes=20 * frame_bytes)
    try:
        renderer.set_size(size)
        renderer.set_timeline(timeline)
        assert renderer.capacity() == 20 and renderer.ahead() == 10
        renderer.request(0)
        qtbot.waitUntil(lambda: renderer.cached_frames() == list(range(10)))
        for start in (40, 80, 120):
            renderer.request(start)
            qtbot.waitUntil(lambda: set(range(start, start + 10)) <= set(renderer.cached_frames()))
            assert renderer.cached_bytes() <= 20 * frame_bytes
        assert source.drawn[-10:] == list(range(120, 130))  # in order from the new playhead
        renderer.request(60, direction=-1)
        qtbot.waitUntil(lambda: set(range(51, 61)) <= set(renderer.cached_frames()))
        assert source.drawn[-10:] == list(range(60, 50, -1))
        assert len(renderer.cached_frames()) == 20
    finally:
        assert renderer.stop()
    assert no_render_thread()


def test_an_edit_keeps_the_frames_before_the_changed_shot(make_player, state, qtbot):
    source = FakeSource()
    player = make_player(source)
    first, second = player.timeline.shots[0], player.timeline.shots[1]
    ahead = min(player.timeline.total_frames, player.frames.ahead())
    assert ahead > second.end
    qtbot.waitUntil(lambda: len(player.frames.cached_frames()) == ahead)  # the renderer is idle
    drawn_before = len(source.drawn)
    assert state.perform(ops.EditShot(second.shot.id, "duration", second.shot.duration + 1))
    qtbot.waitUntil(lambda: player.timeline.shots[1].frames > second.frames)
    assert first_changed_frame(build_timeline(state.db), player.timeline) == player.timeline.total_frames
    kept = [f for f in player.frames.cached_frames() if f < second.start]
    assert kept == list(range(second.start - second.head))
    qtbot.waitUntil(lambda: second.start in player.frames.cached_frames())
    assert min(source.drawn[drawn_before:]) >= second.start - second.head  # only changed frames again
    assert first.frames == player.timeline.shots[0].frames


def test_a_frame_that_cannot_be_drawn_says_why(make_player, qtbot):
    player = make_player(FakeSource(broken={30}))
    player.transport.seek(30)
    qtbot.waitUntil(lambda: "frame 30 is missing" in player.screen.message)
    player.transport.seek(31)
    qtbot.waitUntil(lambda: player.displayed_frame == 31)
    assert player.screen.message == ""


class UnmakeableSource:
    """A frame source whose frames cannot be made at all (a damaged project), counting
    how often it was asked to make them."""

    def __init__(self):
        self.made = 0

    def __call__(self, timeline, size):
        self.made += 1
        raise MissingMediaError("shot 3: the AI motion key k.png is missing")


def test_frames_that_cannot_be_made_fail_once_per_timeline_not_once_per_frame(qapp, qtbot, state):
    timeline = build_timeline(state.db)
    size = (64, 28)
    source = UnmakeableSource()
    renderer = FrameRenderer(source, budget_bytes=20 * qimage_from_pil(picture_of(0, size)).sizeInBytes())
    failed = []
    renderer.failed.connect(lambda frame, message: failed.append(frame))
    try:
        renderer.set_size(size)
        renderer.set_timeline(timeline)
        renderer.request(0)
        qtbot.waitUntil(lambda: sorted(failed) == list(range(10)))  # the frames ahead, each told
        assert renderer.error(7) == "shot 3: the AI motion key k.png is missing"
        assert source.made == 1
        renderer.request(40)
        qtbot.waitUntil(lambda: len(failed) == 20)
        assert source.made == 1
        renderer.set_size((32, 14))  # another version of every frame: made again, once
        renderer.request(0)
        qtbot.waitUntil(lambda: len(failed) == 20 + renderer.ahead())
        assert source.made == 2
        assert renderer.cached_frames() == []
    finally:
        assert renderer.stop()


def test_the_preview_is_at_most_960_device_pixels_wide():
    assert preview_size(2.39) == (640, 268)
    assert preview_size(2.39, pixel_ratio=1.5) == (960, 402)
    assert preview_size(2.39, pixel_ratio=2.0) == (960, 402) == preview_size(2.39, pixel_ratio=3.0)
    assert preview_size(1.0, pixel_ratio=2.0) == (MAX_PREVIEW_WIDTH, MAX_PREVIEW_WIDTH) == (960, 960)


def test_a_project_without_shots_has_nothing_to_play(tmp_path, thumbnails, shown, qtbot):
    state = ProjectState(create_project(tmp_path / "Empty", Project(title="Empty")))
    player = shown(PlayerView(state, thumbnails, FakeSource(), FakeClock()), 600, 400)
    try:
        qtbot.waitUntil(lambda: "no shots" in player.screen.message)
        assert player.timeline is None
        player.transport.toggle()
        assert not player.transport.playing
    finally:
        assert player.stop()
        state.close()


def test_stopping_ends_the_render_thread(make_player, qtbot):
    permits = threading.Semaphore(0)
    player = make_player(FakeSource(permits))
    qtbot.waitUntil(player.frames.is_running)
    permits.release(1000)
    assert player.stop(timeout_s=10)
    assert not player.frames.is_running() and no_render_thread()
    player.transport.seek(40)  # after stopping, no new thread
    assert no_render_thread()


def test_the_player_renders_only_once_shown_and_closing_the_project_stops_it(make_main_window, drafted, qtbot):
    window = make_main_window(drafted.path)
    player = window.workspace.player
    qtbot.wait(50)
    assert not player.is_live() and player.timeline is None  # behind the pacing tab: no work
    assert not player.frames.is_running()
    window.player_action.trigger()
    assert player.is_live() and window.focusWidget() is player  # the keys go to it
    qtbot.waitUntil(lambda: player.displayed_frame == 0, timeout=30_000)
    player.transport.play(1)
    window.workspace.docks[3].raise_()  # back to the pacing tab
    qtbot.waitUntil(lambda: not player.is_live())
    assert not player.transport.playing
    window.show_player()
    assert player.is_live()
    assert window.close_project()
    assert no_render_thread()


# -- the real composer -----------------------------------------------------------------


def test_frames_shown_are_the_composers(make_player, state, qtbot):
    player = make_player(source=None)
    timeline = player.timeline
    frame = timeline.shots[1].start + 3
    player.transport.seek(frame)
    qtbot.waitUntil(lambda: player.displayed_frame == frame, timeout=30_000)

    def composed(burn_info: bool) -> Image.Image:
        options = compose.ComposeOptions(size=player.frames.size, burn_info=burn_info, motion="auto")
        return compose.FrameComposer(timeline, state.folder.media, options).image(frame)

    clean = composed(False)
    assert np.asarray(clean).std() > 5  # a drawn panel, not a blank frame
    assert player.displayed_image().size().toTuple() == clean.size
    assert same_pixels(player.displayed_image(), qimage_from_pil(clean))

    player.burn_in_box.setChecked(True)
    qtbot.waitUntil(lambda: player.displayed_frame == frame, timeout=30_000)
    burnt = composed(True)
    assert not np.array_equal(np.asarray(burnt), np.asarray(clean))
    assert same_pixels(player.displayed_image(), qimage_from_pil(burnt))


def test_a_missing_hero_file_fails_only_its_shots_frames(make_player, state, qtbot):
    data = encode_png(Image.new("RGB", (478, 200), (200, 60, 60)), FrameRequest(478, 200))
    second = build_timeline(state.db).shots[1].shot
    digest = add_media(state.db, state.folder.media, data, "image/png")
    state.record_take(second.id, TakeKind.imported, digest, len(data))
    state.folder.media.path(digest).unlink()  # a damaged project
    player = make_player(source=None)
    timeline = player.timeline
    assert timeline.shots[1].hero.media_hash == digest
    options = compose.ComposeOptions(size=player.frames.size, motion="auto")
    with pytest.raises(MissingMediaError):
        compose.FrameComposer(timeline, state.folder.media, options)  # as an export would refuse
    composer = compose.FrameComposer(timeline, state.folder.media, options, check_media=False)

    before = timeline.shots[0].frames // 2
    player.transport.seek(before)
    qtbot.waitUntil(lambda: player.displayed_frame == before, timeout=30_000)
    assert same_pixels(player.displayed_image(), qimage_from_pil(composer.image(before)))
    assert player.screen.message == ""

    inside = timeline.shots[1].start + timeline.shots[1].frames // 2
    player.transport.seek(inside)
    qtbot.waitUntil(lambda: player.displayed_frame == inside, timeout=30_000)
    assert player.displayed_image() is None  # black with the reason, not another shot's picture
    assert f"shot {timeline.shots[1].number}: its hero frame" in player.screen.message
    assert "missing" in player.screen.message

    after = timeline.shots[2].start + timeline.shots[2].frames // 2
    player.transport.seek(after)
    qtbot.waitUntil(lambda: player.displayed_frame == after, timeout=30_000)
    assert same_pixels(player.displayed_image(), qimage_from_pil(composer.image(after)))
    assert player.screen.message == ""


def test_recorded_ai_motion_plays_as_the_export_draws_it(make_player, state, qtbot):
    def stored(colour) -> str:
        return add_media(state.db, state.folder.media, encode_png(Image.new("RGB", (478, 200), colour), FrameRequest(478, 200)), "image/png")

    first = build_timeline(state.db).shots[0].shot
    hero = stored((90, 90, 90))
    take_id = state.record_take(first.id, TakeKind.imported, hero, 1)
    assert state.shot(first.id).hero_take_id == take_id
    save_motion(state.db, first.id, take_id, "{}", [(0.0, stored((220, 30, 30))), (1.0, stored((30, 30, 220)))])
    player = make_player(source=None)
    timeline = player.timeline
    frame = timeline.shots[0].frames // 2
    player.transport.seek(frame)
    qtbot.waitUntil(lambda: player.displayed_frame == frame, timeout=30_000)
    options = compose.ComposeOptions(size=player.frames.size, motion="auto")
    with_keys = compose.FrameComposer(timeline, state.folder.media, options, ai_sources(state.db, state.folder.media, timeline, options.size))
    over_still = compose.FrameComposer(timeline, state.folder.media, options)
    assert same_pixels(player.displayed_image(), qimage_from_pil(with_keys.image(frame)))
    assert not np.array_equal(np.asarray(with_keys.image(frame)), np.asarray(over_still.image(frame)))
