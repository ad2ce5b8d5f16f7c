"""VideoWriter: H.264 MP4, ProRes MOV and PNG folders, read back with PyAV and PIL;
exact rates and durations, sound sample-exact, outputs committed atomically."""

import stat
import wave
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from previz_app.animatic import encode
from previz_app.animatic.encode import VideoWriter, commit_all
from previz_app.animatic.files import UMASK
from previz_app.animatic.picture import Picture

SIZE = (320, 136)
NTSC = Fraction(24000, 1001)


def pictures(count, size=SIZE):
    """Frames that differ: a bright bar walking across a gradient."""
    width, height = size
    ramp = np.linspace(40, 200, width).astype(np.uint8)
    made = []
    for index in range(count):
        y = np.tile(ramp, (height, 1))
        x = (index * 7) % (width - 20)
        y[:, x : x + 20] = 230
        u = np.full((height // 2, width // 2), 100 + index % 50, np.uint8)
        v = np.full((height // 2, width // 2), 150, np.uint8)
        made.append(Picture(y, u, v))
    return made


def sine(count, rate=48000, hz=440.0):
    t = np.arange(count) / rate
    return np.stack([np.sin(2 * np.pi * hz * t), 0.5 * np.sin(2 * np.pi * hz * t)]).astype(np.float32) * 0.5


def test_mp4_is_h264_with_exact_rate_and_duration(tmp_path):
    out = tmp_path / "cut.mp4"
    frames = pictures(30)
    with VideoWriter(out, SIZE, NTSC) as writer:
        for picture in frames:
            writer.write(picture)
        writer.commit()
    with av.open(str(out)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and video.codec_context.pix_fmt == "yuv420p"
        assert video.average_rate == NTSC  # exactly 24000/1001, not 23.976
        assert video.duration * video.time_base == Fraction(30) / NTSC
        assert (video.codec_context.color_primaries, video.codec_context.colorspace, video.codec_context.color_trc) == (1, 1, 1)
        assert sound.codec_context.name == "aac" and sound.sample_rate == 48000 and sound.channels == 2
        decoded = [frame.to_ndarray()[: SIZE[1]] for frame in container.decode(video)]
    assert len(decoded) == 30
    # CRF 20 keeps the picture: the walking bar is where it was written.
    for got, want in zip(decoded[::7], frames[::7]):
        assert np.abs(got.astype(int) - want.y).mean() < 2


def test_mov_is_prores_hq_with_pcm_sound_sample_exact(tmp_path):
    out = tmp_path / "cut.mov"
    count, fps = 10, Fraction(25)
    sound = sine(count * 1920)  # 48000 / 25 = 1920 samples a frame
    with VideoWriter(out, SIZE, fps) as writer:
        for index, picture in enumerate(pictures(count)):
            writer.write(picture, sound[:, index * 1920 : (index + 1) * 1920])
        writer.commit()
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "prores" and video.codec_context.profile == "HQ"
        assert video.codec_context.pix_fmt == "yuv422p10le"
        assert video.frames == count and video.average_rate == 25
        assert audio.codec_context.name == "pcm_s16le"
        samples = np.concatenate([frame.to_ndarray().reshape(-1, 2).T for frame in container.decode(audio)], axis=1)
    assert samples.shape == (2, count * 1920)
    assert np.abs(samples / 32767 - sound).max() < 1e-4


def test_png_folder_has_every_frame_and_the_sound(tmp_path):
    out = tmp_path / "frames"
    count = 5
    with VideoWriter(out, SIZE, NTSC) as writer:
        for picture in pictures(count):
            writer.write(picture)  # no sound given: each frame gets its share of silence
        writer.commit()
    names = sorted(path.name for path in out.iterdir())
    assert names == ["audio.wav"] + [f"frame_{n:06d}.png" for n in range(1, count + 1)]
    with Image.open(out / "frame_000003.png") as image:
        assert image.size == SIZE and image.mode == "RGB"
        # The bar of frame 3 (index 2) starts at x = 14: light, against the darker ramp.
        assert np.asarray(image.convert("L"))[60, 20] > np.asarray(image.convert("L"))[60, 100]
    with wave.open(str(out / "audio.wav")) as sound:
        assert (sound.getnchannels(), sound.getframerate(), sound.getsampwidth()) == (2, 48000, 2)
        assert sound.getnframes() == int(count * 48000 / NTSC)  # floor(5 x 2002) = 10010


def test_no_sound_track_without_an_audio_rate(tmp_path):
    out = tmp_path / "quiet.mp4"
    with VideoWriter(out, SIZE, Fraction(24), audio_rate=None) as writer:
        for picture in pictures(3):
            writer.write(picture, sine(2000))  # ignored: there is no track
        writer.commit()
    with av.open(str(out)) as container:
        assert not container.streams.audio and container.streams.video[0].frames == 3


def test_the_output_appears_only_on_commit_and_replaces_the_old_one(tmp_path):
    out = tmp_path / "cut.mp4"
    out.write_bytes(b"the previous cut")
    writer = VideoWriter(out, SIZE, Fraction(24))
    for picture in pictures(4):
        writer.write(picture)
    partial = [path.name for path in tmp_path.iterdir() if path.name != "cut.mp4"]
    assert len(partial) == 1 and partial[0].startswith(".cut.partial-") and partial[0].endswith(".mp4")
    assert out.read_bytes() == b"the previous cut"
    writer.commit()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4"]
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 4


@pytest.mark.parametrize(("name", "kind"), [("cut.mp4", 0o666), ("frames", 0o777)])
def test_a_committed_output_gets_the_permissions_a_new_one_gets(tmp_path, name, kind):
    # The temporary name was private to its owner; the crew must be able to open the cut.
    with VideoWriter(tmp_path / name, SIZE, Fraction(24)) as writer:
        for picture in pictures(2):
            writer.write(picture)
        writer.commit()
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == kind & ~UMASK


@pytest.mark.parametrize("name", ["cut.mp4", "cut.mov", "frames"])
def test_abort_and_errors_leave_nothing_and_keep_the_old_output(tmp_path, name):
    with VideoWriter(tmp_path / name, SIZE, Fraction(24)) as writer:
        writer.write(pictures(1)[0])
        writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(tmp_path / name, SIZE, Fraction(24)) as writer:
            writer.write(pictures(1)[0])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_a_png_folder_is_replaced_whole_but_never_a_folder_of_other_files(tmp_path):
    out = tmp_path / "frames"
    for count in (4, 2):
        with VideoWriter(out, SIZE, Fraction(24), audio_rate=None) as writer:
            for picture in pictures(count):
                writer.write(picture)
            writer.commit()
    assert sorted(path.name for path in out.iterdir()) == ["frame_000001.png", "frame_000002.png"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["frames"]
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "letter.txt").write_text("keep me")
    with pytest.raises(ValueError, match="holds other files"):
        VideoWriter(tmp_path / "documents", SIZE, Fraction(24))


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.mp4"):
        VideoWriter(tmp_path / "cut.avi", SIZE, Fraction(24))
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "cut.mp4", (321, 136), Fraction(24))
    with pytest.raises(ValueError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "cut.mp4", SIZE, Fraction(24))
    (tmp_path / "cut.mov").mkdir()
    with pytest.raises(ValueError, match="folder"):
        VideoWriter(tmp_path / "cut.mov", SIZE, Fraction(24))
    with VideoWriter(tmp_path / "cut.mp4", SIZE, Fraction(24)) as writer:
        with pytest.raises(ValueError, match="320 x 136"):
            writer.write(pictures(1, (160, 68))[0])
        with pytest.raises(ValueError, match="two channels"):
            writer.write(pictures(1)[0], np.zeros(100, np.float32))
        with pytest.raises(ValueError, match="no frames"):
            VideoWriter(tmp_path / "empty.mp4", SIZE, Fraction(24)).commit()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mov"]


def previous_outputs(folder):
    """Last week's outputs: two files and a PNG folder, with recognisable contents."""
    (folder / "cut.mp4").write_bytes(b"last week's cut")
    (folder / "shot.mov").write_bytes(b"last week's shot")
    (folder / "frames").mkdir()
    (folder / "frames" / "frame_000001.png").write_bytes(b"last week's frame")
    return snapshot(folder)


def snapshot(folder):
    """Every file under `folder` (hidden ones too) and its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def writers_for(folder, frames=3):
    made = []
    for name in ("shot.mov", "frames", "cut.mp4"):
        writer = VideoWriter(folder / name, SIZE, Fraction(24), audio_rate=None)
        for picture in pictures(frames):
            writer.write(picture)
        made.append(writer)
    return made


@pytest.mark.parametrize("failing", ["shot.mov", "frames", "cut.mp4"])
def test_commit_all_puts_every_old_output_back_when_one_move_fails(tmp_path, monkeypatch, failing):
    before = previous_outputs(tmp_path)
    real = encode._replace

    def replace(temp, target):
        if target.name == failing:
            raise OSError(28, "No space left on device")
        real(temp, target)

    monkeypatch.setattr(encode, "_replace", replace)
    with pytest.raises(OSError, match="No space left"):
        commit_all(writers_for(tmp_path))
    # Old outputs back in place, byte for byte; no new output, temporary or set-aside copy left.
    assert snapshot(tmp_path) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4", "frames", "shot.mov"]


def test_commit_all_renames_nothing_until_every_output_is_finished(tmp_path, monkeypatch):
    before = previous_outputs(tmp_path)
    real = VideoWriter.finish

    def finish(writer):
        if writer.path.name == "cut.mp4":  # the last one, as a render commits its animatic
            raise OSError(28, "No space left on device")
        real(writer)

    writers = writers_for(tmp_path)
    monkeypatch.setattr(VideoWriter, "finish", finish)
    with pytest.raises(OSError, match="No space left"):
        commit_all(writers)
    assert snapshot(tmp_path) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4", "frames", "shot.mov"]


def test_commit_all_replaces_every_output_and_leaves_nothing_else(tmp_path):
    previous_outputs(tmp_path)
    assert commit_all(writers_for(tmp_path, frames=2)) == [tmp_path / "shot.mov", tmp_path / "frames", tmp_path / "cut.mp4"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4", "frames", "shot.mov"]
    for name in ("cut.mp4", "shot.mov"):
        with av.open(str(tmp_path / name)) as container:
            assert container.streams.video[0].frames == 2
    assert sorted(path.name for path in (tmp_path / "frames").iterdir()) == ["frame_000001.png", "frame_000002.png"]
    assert Image.open(tmp_path / "frames" / "frame_000001.png").size == SIZE


def test_commit_all_refuses_two_writers_with_one_target(tmp_path):
    (tmp_path / "cut.mp4").write_bytes(b"last week's cut")
    first, second = VideoWriter(tmp_path / "cut.mp4", SIZE, Fraction(24)), VideoWriter(tmp_path / "cut.mp4", SIZE, Fraction(24))
    for writer in (first, second):
        writer.write(pictures(1)[0])
    with pytest.raises(ValueError, match="two outputs would be written to .*cut.mp4"):
        commit_all([first, second])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4"]
    assert (tmp_path / "cut.mp4").read_bytes() == b"last week's cut"
