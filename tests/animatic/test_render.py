"""render_animatic: the whole film into MP4, MOV or PNGs, per-shot media, sound,
progress and cancelling; every output read back with PyAV or PIL."""

import threading
import wave
from fractions import Fraction

import av
import numpy as np
import pytest

from previz_app.animatic.audio import AudioMix, import_audio
from previz_app.animatic.compose import ComposeOptions, FrameComposer, MissingMediaError
from previz_app.animatic.picture import Picture
from previz_app.animatic.render import render_animatic
from previz_app.animatic.timeline import build_timeline
from previz_app.engine.base import Cancelled
from previz_app.store import operations, settings, shots
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
    assert [item.path.name for item in report.shot_media] == [f"{item.number}.mp4" for item in timeline.shots]
    assert sorted(path.name for path in media.iterdir()) == sorted(f"{item.number}.mp4" for item in timeline.shots)
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
