"""render_animatic: the whole film into MP4, MOV or PNGs, per-shot media, sound,
progress and cancelling; every output read back with PyAV or PIL."""

import threading
import wave
from fractions import Fraction

import av
import numpy as np
import pytest

from previz_app.animatic import encode, render
from previz_app.animatic.audio import AudioMix, import_audio
from previz_app.animatic.compose import ComposeOptions, FrameComposer, MissingMediaError
from previz_app.animatic.encode import VideoWriter
from previz_app.animatic.picture import Picture
from previz_app.animatic.render import plan_shot_media, render_animatic
from previz_app.animatic.timeline import Timeline, build_timeline, place_shots
from previz_app.domain.model import Project, Scene, Shot
from previz_app.engine.base import Cancelled
from previz_app.store import operations, settings, shots
from previz_app.store.media import MediaStore
from tests.animatic.heroes import give_heroes

SIZE = (320, 136)


@pytest.fixture
def out(tmp_path):
    """An empty folder for the outputs (the project lives in tmp_path too)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def film(drafted):
    """Four short shots (0.5, 0.5, 0.25, 0.5 s at 24 fps), a dissolve into the second."""
    give_heroes(drafted)
    listed = shots.list_shots(drafted.db)
    for shot, seconds in zip(listed, (0.5, 0.5, 0.25, 0.5)):
        operations.perform(drafted.db, operations.EditShot(shot.id, "duration", seconds))
    for field, value in (("transition_in", "dissolve"), ("transition_seconds", 0.25), ("movement", "pan"), ("direction", "left")):
        operations.perform(drafted.db, operations.EditShot(listed[1].id, field, value))
    return drafted


def decoded_frames(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray()[: SIZE[1]] for frame in container.decode(video=0)]


def test_mp4_reads_back_frame_exact(film, out):
    timeline = build_timeline(film.db)
    seen = []
    report = render_animatic(timeline, film.media, out / "film.mp4", ComposeOptions(SIZE), progress=lambda done, total: seen.append((done, total)))
    assert report.frames == timeline.total_frames == 42 and report.seconds == Fraction(42, 24)
    with av.open(str(report.out)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264" and video.codec_context.pix_fmt == "yuv420p"
        assert video.average_rate == 24 and (video.width, video.height) == SIZE
        assert video.duration * video.time_base == Fraction(42, 24)
        assert not container.streams.audio  # no sound asked for
    frames = decoded_frames(report.out)
    assert len(frames) == 42
    composer = FrameComposer(timeline, film.media, ComposeOptions(SIZE))
    for index in (0, 13, 41):
        assert np.abs(frames[index].astype(int) - composer.picture(index).y).mean() < 3
    assert seen[-1] == (42, 42) and all(0 <= done <= total == 42 for done, total in seen)


def test_prores_and_png_outputs(film, out):
    timeline = build_timeline(film.db)
    report = render_animatic(timeline, film.media, out / "film.mov", ComposeOptions(SIZE))
    with av.open(str(report.out)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "prores" and video.codec_context.profile == "HQ"
        assert video.frames == timeline.total_frames and video.average_rate == 24
    report = render_animatic(timeline, film.media, out / "frames", ComposeOptions(SIZE, motion="still"))
    names = sorted(path.name for path in report.out.iterdir())
    assert names == [f"frame_{n:06d}.png" for n in range(1, timeline.total_frames + 1)]


def test_shot_media_hold_clean_frames_with_handles(film, out):
    listed = shots.list_shots(film.db)
    operations.perform(film.db, operations.EditShot(listed[0].id, "transition_in", "fade_from_black"))
    timeline = build_timeline(film.db)
    media = out / "media"
    media.mkdir()
    options = ComposeOptions(SIZE, burn_info=True)
    report = render_animatic(timeline, film.media, out / "film.mp4", options, shot_media_dir=media)
    assert report.shot_media == plan_shot_media(timeline, media, out / "film.mp4")
    assert [item.path.name for item in report.shot_media] == [f"{n + 1:04d}_{item.number}.mp4" for n, item in enumerate(timeline.shots)]
    assert sorted(path.name for path in media.iterdir()) == [item.path.name for item in report.shot_media]
    first, second = report.shot_media[:2]
    assert (first.head, first.frames, first.tail) == (0, 12, 3) and (second.head, second.frames, second.tail) == (3, 12, 0)
    assert first.shot_id == listed[0].id
    composer = FrameComposer(timeline, film.media, ComposeOptions(SIZE))
    for item, index in zip(report.shot_media, range(len(timeline.shots))):
        frames = decoded_frames(item.path)
        assert len(frames) == item.head + item.frames + item.tail
        with av.open(str(item.path)) as container:
            assert not container.streams.audio
        # Clean: no fade from black, no burnt-in timecode; handles run on past the cut.
        for local in (-item.head, 0, item.frames + item.tail - 1):
            assert np.abs(frames[local + item.head].astype(int) - composer.raw(index, local).y).mean() < 3
    assert decoded_frames(first.path)[0].mean() > 40 and np.median(decoded_frames(out / "film.mp4")[0]) <= 17  # the film fades in


def test_shot_media_beside_a_png_sequence_are_mp4(film, out):
    timeline = build_timeline(film.db)
    with pytest.raises(ValueError, match="does not exist"):
        render_animatic(timeline, film.media, out / "frames", ComposeOptions(SIZE), shot_media_dir=out / "media")
    assert list(out.iterdir()) == []
    (out / "media").mkdir()
    report = render_animatic(timeline, film.media, out / "frames", ComposeOptions(SIZE), shot_media_dir=out / "media")
    assert {item.path.suffix for item in report.shot_media} == {".mp4"}


def test_cancel_mid_render_leaves_no_file(film, out):
    timeline = build_timeline(film.db)
    (out / "media").mkdir()
    (out / "film.mp4").write_bytes(b"last week's cut")
    asked, cancelling = [], threading.Event()

    class Waiting:
        """The last shot: its frames wait until cancel has been asked, so the
        render cannot end first."""

        def picture(self, index):
            cancelling.wait(10)
            return Picture.black(SIZE)

    def cancelled():
        asked.append(1)
        if len(asked) >= 20:  # the first three shots are done by now, their media too
            cancelling.set()
        return cancelling.is_set()

    seen = []
    with pytest.raises(Cancelled):
        render_animatic(
            timeline, film.media, out / "film.mp4", ComposeOptions(SIZE), shot_media_dir=out / "media",
            sources={3: Waiting()}, progress=lambda done, total: seen.append(done), cancelled=cancelled,
        )
    assert sorted(path.name for path in out.iterdir()) == ["film.mp4", "media"]
    assert (out / "film.mp4").read_bytes() == b"last week's cut"
    assert list((out / "media").iterdir()) == []
    assert max(seen) < timeline.total_frames


def test_a_missing_hero_stops_the_render_before_it_starts(film, out):
    timeline = build_timeline(film.db)
    film.media.path(timeline.shots[3].hero.media_hash).unlink()
    with pytest.raises(MissingMediaError, match=f"shot {timeline.shots[3].number}:"):
        render_animatic(timeline, film.media, out / "film.mp4", ComposeOptions(SIZE, motion="still"))
    assert list(out.iterdir()) == []


def write_tone(path, seconds, rate=48000):
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * 330 * t) * 0.4 * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())


def audio_samples(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        name = stream.codec_context.name
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    samples = np.concatenate(chunks, axis=1)
    if samples.shape[0] == 1:  # packed 16-bit: L R L R ...
        samples = samples.reshape(-1, 2).T.astype(np.float32) / 32767
    return name, samples


def test_sound_is_mixed_in_and_silence_is_a_track_too(film, out):
    write_tone(out / "line.wav", 0.4)
    digest = import_audio(film, out / "line.wav")
    second = shots.list_shots(film.db)[1]
    operations.perform(film.db, operations.EditShot(second.id, "audio_hash", digest))
    timeline = build_timeline(film.db)
    report = render_animatic(timeline, film.media, out / "film.mov", ComposeOptions(SIZE), audio=AudioMix(timeline, film.media))
    name, samples = audio_samples(report.out)
    assert name == "pcm_s16le" and samples.shape[-1] == 42 * 2000
    level = np.abs(samples)
    start = timeline.shots[1].start * 2000
    assert level[:, :start].max() == 0 and level[:, start : start + 9600].max() > 0.3

    operations.perform(film.db, operations.EditShot(second.id, "audio_hash", None))
    settings.update_project(film.db, music_hash=None)
    quiet = build_timeline(film.db)
    report = render_animatic(quiet, film.media, out / "quiet.mp4", ComposeOptions(SIZE), audio=AudioMix(quiet, film.media))
    name, samples = audio_samples(report.out)
    assert name == "aac" and np.abs(samples).max() == 0
    assert samples.shape[-1] >= 42 * 2000


def snapshot(folder):
    """Every file under `folder` (hidden ones too) and its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("stage", ["finish", "rename"])
def test_a_failed_final_commit_keeps_the_previous_export_whole(film, out, monkeypatch, stage):
    timeline = build_timeline(film.db)
    media = out / "media"
    media.mkdir()
    render_animatic(timeline, film.media, out / "film.mp4", ComposeOptions(SIZE), shot_media_dir=media)  # last week's
    before = snapshot(out)
    assert len(before) == 1 + len(timeline.shots)
    if stage == "rename":
        real_replace = encode._replace

        def replace(temp, target):
            if target.name == "film.mp4":  # the animatic goes in last
                raise OSError(28, "No space left on device")
            real_replace(temp, target)

        monkeypatch.setattr(encode, "_replace", replace)
    else:
        real_finish = VideoWriter.finish

        def finish(writer):
            if writer.path.name == "film.mp4":  # its faststart rewrite runs out of disk
                raise OSError(28, "No space left on device")
            real_finish(writer)

        monkeypatch.setattr(VideoWriter, "finish", finish)
    with pytest.raises(OSError, match="No space left"):
        render_animatic(timeline, film.media, out / "film.mp4", ComposeOptions(SIZE, motion="still"), shot_media_dir=media)
    assert snapshot(out) == before  # every shot file and the animatic as they were; nothing else left


class Solid:
    """A shot's frames: flat grey at luma `value`."""

    def __init__(self, value):
        self.value = value

    def picture(self, index):
        picture = Picture.black(SIZE)
        picture.y[:] = self.value
        return picture


def numbered_timeline(shot_list, fps=24.0):
    """A timeline of (scene number, shot number, seconds) with no media at all."""
    project = Project(title="Numbers", fps=fps)
    scenes = {}
    placed = []
    for position, (scene_number, number, seconds) in enumerate(shot_list):
        scene = scenes.setdefault(scene_number, Scene(scene_number, "INT. ROOM - DAY", id=len(scenes) + 1))
        placed.append((Shot(scene_id=scene.id, position=position, number=number, id=100 + position, duration=seconds), scene))
    return Timeline(project, tuple(place_shots(project, placed)))


def test_shot_media_names_never_clash_and_match_the_plan(out):
    # Scenes 1 and 1A both have a shot 1A; "1/2" and "1_2" are the same once made file-safe.
    timeline = numbered_timeline([("1", "1A", 0.25), ("1", "1/2", 0.25), ("1A", "1A", 0.5), ("1A", "1_2", 0.25)])
    media = out / "media"
    media.mkdir()
    plan = plan_shot_media(timeline, media, out / "film.mp4")
    assert [item.path for item in plan] == [media / name for name in ("0001_1A.mp4", "0002_1_2.mp4", "0003_1A.mp4", "0004_1_2.mp4")]
    assert [(item.shot_id, item.head, item.frames, item.tail) for item in plan] == [(100 + n, 0, item.frames, 0) for n, item in enumerate(timeline.shots)]
    assert {item.path.suffix for item in plan_shot_media(timeline, media, out / "film.mov")} == {".mov"}
    assert {item.path.suffix for item in plan_shot_media(timeline, media, out / "frames")} == {".mp4"}
    with pytest.raises(ValueError, match="0001_1A.mp4 would overwrite the animatic"):
        plan_shot_media(timeline, media, media / "0001_1A.mp4")

    values = (40, 90, 140, 190)
    report = render_animatic(
        timeline, MediaStore(out / "no media"), out / "film.mp4", ComposeOptions(SIZE), shot_media_dir=media,
        sources={index: Solid(value) for index, value in enumerate(values)},
    )
    assert report.shot_media == plan
    assert sorted(path.name for path in media.iterdir()) == [item.path.name for item in plan]
    for item, value in zip(plan, values):  # each file holds its own shot, whole
        frames = decoded_frames(item.path)
        assert len(frames) == item.frames
        assert all(abs(float(frame.mean()) - value) < 2 for frame in frames)


def test_composers_draw_different_shots_at_once_but_a_shot_one_frame_at_a_time(out, monkeypatch):
    monkeypatch.setattr(render, "_cores", lambda: 4)  # two composers: one takes even frames, one odd
    timeline = numbered_timeline([("1", "1", 0.04), ("1", "2", 0.2)], fps=25.0)
    assert [(item.start, item.frames) for item in timeline.shots] == [(0, 1), (1, 5)]
    # Frame 0 (shot 1's only frame) and frame 1 (shot 2's first) are each its
    # composer's first: each waits inside its shot's source for the other.
    meeting = threading.Barrier(2, timeout=5)
    overlaps = []

    class Meeting(Solid):
        def __init__(self, value, hold=None):
            super().__init__(value)
            self.hold, self.inside, self.other = hold, False, threading.Event()

        def picture(self, index):
            if self.inside:
                overlaps.append(index)
            self.inside = True
            self.other.set()
            try:
                if index == 0:
                    meeting.wait()
                elif index == self.hold:
                    # The other composer's next frame of this shot would come in now,
                    # were a source ever drawn by two threads at once.
                    self.other.clear()
                    self.other.wait(0.5)
                return super().picture(index)
            finally:
                self.inside = False

    report = render_animatic(
        timeline, MediaStore(out / "no media"), out / "film.mp4", ComposeOptions(SIZE),
        sources={0: Meeting(60), 1: Meeting(180, hold=1)},
    )
    assert not meeting.broken and overlaps == []
    frames = decoded_frames(report.out)
    assert [round(float(frame.mean())) for frame in frames] == [60] + [180] * 5
