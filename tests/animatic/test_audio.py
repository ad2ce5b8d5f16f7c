"""Audio import and the animatic's mix, checked by content: levels, silences, cuts,
frequencies and sample-exact chunking."""

import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from previz_app.animatic.audio import AudioError, AudioMix, audio_seconds, import_audio
from previz_app.animatic.timeline import build_timeline
from previz_app.store import operations, settings, shots

RATE = 48000


def write_tone(path: Path, freqs, amplitude=0.5, seconds=2.0, rate=RATE, codec="pcm_s16le") -> Path:
    """A sine per channel (one frequency: mono), encoded by PyAV."""
    t = np.arange(round(seconds * rate)) / rate
    data = np.stack([amplitude * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)
    layout = "mono" if len(freqs) == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
        frame.rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


def db_level(samples: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def tone_db(amplitude: float, level_db: float = 0.0) -> float:
    return 20 * np.log10(amplitude / np.sqrt(2)) + level_db


def peak_hz(samples: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def has_tone(samples: np.ndarray, hz: float, rate: int = RATE) -> bool:
    """True when `hz` stands out of the spectrum (within 40 dB of its strongest peak)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    band = spectrum[int((hz - 20) * len(samples) / rate) : int((hz + 20) * len(samples) / rate) + 1]
    return band.max() > spectrum.max() / 100


def media_state(folder):
    files = sorted(p.relative_to(folder.media.root) for p in folder.media.root.rglob("*") if p.is_file())
    return files, folder.db["media"].count


def set_durations(folder, seconds):
    listed = shots.list_shots(folder.db)
    for shot, duration in zip(listed, seconds, strict=True):
        operations.perform(folder.db, operations.EditShot(shot.id, "duration", duration))
    return listed


def set_sound(folder, shot, path, level_db=0.0):
    digest = import_audio(folder, path)
    operations.perform(folder.db, operations.EditShot(shot.id, "audio_hash", digest))
    operations.perform(folder.db, operations.EditShot(shot.id, "audio_level_db", level_db))
    return digest


def set_music(folder, path, level_db=-12.0):
    digest = import_audio(folder, path)
    operations.perform(folder.db, operations.EditProject("music_hash", digest))
    operations.perform(folder.db, operations.EditProject("music_level_db", level_db))
    return digest


@pytest.mark.parametrize(
    ("name", "codec", "rate", "mime"),
    [("line.wav", "pcm_s16le", 48000, "audio/wav"), ("line.flac", "flac", 44100, "audio/flac"), ("line.mp3", "libmp3lame", 44100, "audio/mpeg")],
)
def test_import_stores_the_file_with_its_mime_type(folder, tmp_path, name, codec, rate, mime):
    path = write_tone(tmp_path / name, [440, 660], seconds=1.5, rate=rate, codec=codec)
    digest = import_audio(folder, path)
    assert folder.media.read(digest) == path.read_bytes()
    row = folder.db["media"].get(digest)
    assert (row["mime"], row["original_name"], row["size"]) == (mime, name, path.stat().st_size)
    assert audio_seconds(path) == pytest.approx(1.5, abs=0.03)
    assert audio_seconds(path.read_bytes()) == audio_seconds(folder.media.path(digest))
    assert import_audio(folder, path) == digest and folder.db["media"].count == 1


def _broken_files(tmp_path: Path) -> dict[str, Path]:
    wav = write_tone(tmp_path / "source.wav", [440], seconds=1.0).read_bytes()
    flac = write_tone(tmp_path / "source.flac", [440], seconds=1.0, codec="flac").read_bytes()
    png = tmp_path / "picture.png"
    Image.new("RGB", (16, 16), "red").save(png)
    made = {
        "noise.wav": np.random.default_rng(1).bytes(4000),
        "header-only.wav": wav[:44],
        "cut-off.wav": wav[: len(wav) // 2],
        "cut-off.flac": flac[: len(flac) // 2],
        "empty.mp3": b"",
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made} | {"picture.png": png}


@pytest.mark.parametrize("name", ["noise.wav", "header-only.wav", "cut-off.wav", "cut-off.flac", "empty.mp3", "picture.png"])
def test_a_broken_file_is_refused_and_nothing_is_stored(folder, tmp_path, name):
    path = _broken_files(tmp_path)[name]
    before = media_state(folder)
    with pytest.raises(AudioError, match=rf"^{name}: not a sound file PyAV can read: \w"):
        import_audio(folder, path)
    assert media_state(folder) == before
    with pytest.raises(AudioError, match=name):
        audio_seconds(path)


def test_a_missing_file_is_refused_with_its_name(folder, tmp_path):
    with pytest.raises(AudioError, match="nowhere.wav: cannot read the file"):
        import_audio(folder, tmp_path / "nowhere.wav")
    assert media_state(folder) == ([], 0)


def test_a_shot_clip_plays_at_its_level_and_stops_at_the_cut(drafted, tmp_path):
    listed = set_durations(drafted, [1.0, 1.0, 1.0, 1.0])
    set_sound(drafted, listed[1], write_tone(tmp_path / "long.wav", [440], amplitude=0.5, seconds=3.0), level_db=-6)
    mix = AudioMix(build_timeline(drafted.db), drafted.media)
    assert mix.has_sound
    audio = mix.samples(0, 96)
    assert audio.dtype == np.float32 and audio.shape == (2, 4 * RATE)
    assert not audio[:, :RATE].any(), "silence before the shot"
    assert not audio[:, 2 * RATE :].any(), "the clip runs on in its file but is cut with its shot"
    shot = audio[:, RATE : 2 * RATE]
    assert np.array_equal(shot[0], shot[1]), "a mono file plays in both channels"
    assert db_level(shot[0]) == pytest.approx(tone_db(0.5, -6), abs=0.05)
    assert np.abs(shot[:, -20:]).max() > 0.05, "it plays up to the last sample of the shot"
    assert peak_hz(shot[0]) == pytest.approx(440, abs=2)


def test_the_music_bed_plays_once_under_the_shots(drafted, tmp_path):
    listed = set_durations(drafted, [1.0, 1.0, 1.0, 1.0])
    set_sound(drafted, listed[0], write_tone(tmp_path / "shot.wav", [440], amplitude=0.5, seconds=0.5))
    set_music(drafted, write_tone(tmp_path / "bed.flac", [1000, 1500], amplitude=0.5, seconds=2.5, codec="flac"), -12)
    audio = AudioMix(build_timeline(drafted.db), drafted.media).samples(0, 96)
    left, right = audio[:, : RATE // 2]
    assert has_tone(left, 440) and has_tone(left, 1000) and not has_tone(left, 1500)
    assert has_tone(right, 440) and has_tone(right, 1500) and not has_tone(right, 1000)
    music_only = audio[:, RATE : int(2.5 * RATE)]
    assert db_level(music_only[0]) == pytest.approx(tone_db(0.5, -12), abs=0.05)
    assert peak_hz(music_only[0]) == pytest.approx(1000, abs=2) and peak_hz(music_only[1]) == pytest.approx(1500, abs=2)
    assert np.abs(audio[:, int(2.5 * RATE) - 20 : int(2.5 * RATE)]).max() > 0.01
    assert not audio[:, int(2.5 * RATE) :].any(), "the bed plays once, then silence"


def test_an_mp3_at_44100_is_resampled_to_the_mix_rate(drafted, tmp_path):
    listed = set_durations(drafted, [1.0, 2.0, 1.0, 1.0])
    set_sound(drafted, listed[1], write_tone(tmp_path / "line.mp3", [1000], amplitude=0.4, seconds=2.5, rate=44100, codec="libmp3lame"), 3)
    audio = AudioMix(build_timeline(drafted.db), drafted.media).samples(0, 120)
    middle = audio[0, int(1.5 * RATE) : int(2.5 * RATE)]
    assert peak_hz(middle) == pytest.approx(1000, abs=2)
    assert db_level(middle) == pytest.approx(tone_db(0.4, 3), abs=0.5)
    assert not audio[:, : RATE].any() and not audio[:, 3 * RATE :].any()


def test_a_loud_sum_is_held_inside_full_scale(drafted, tmp_path):
    listed = set_durations(drafted, [1.0, 1.0, 1.0, 1.0])
    set_sound(drafted, listed[0], write_tone(tmp_path / "a.wav", [200], amplitude=0.9, seconds=1.0), level_db=6)
    set_music(drafted, write_tone(tmp_path / "b.wav", [300], amplitude=0.9, seconds=1.0), level_db=6)
    audio = AudioMix(build_timeline(drafted.db), drafted.media).samples(0, 24)
    assert np.abs(audio).max() <= 1.0
    assert np.abs(audio).max() > 0.95, "loud passages are bent towards full scale, not scaled down"


@pytest.mark.parametrize(
    ("fps", "rate", "lengths"),
    [(29.97, Fraction(30000, 1001), {1601, 1602}), (23.976, Fraction(24000, 1001), {2002})],
)
def test_chunks_are_sample_exact_and_add_up_to_the_whole(drafted, tmp_path, fps, rate, lengths):
    settings.update_project(drafted.db, fps=fps)
    listed = set_durations(drafted, [1.37, 0.9, 2.11, 0.5])
    set_sound(drafted, listed[1], write_tone(tmp_path / "a.flac", [440], seconds=3.0, rate=44100, codec="flac"))
    set_sound(drafted, listed[2], write_tone(tmp_path / "b.wav", [880, 660], seconds=3.0))
    set_music(drafted, write_tone(tmp_path / "bed.mp3", [220], seconds=6.0, rate=44100, codec="libmp3lame"))
    timeline = build_timeline(drafted.db)
    assert timeline.fps == rate
    streamed = AudioMix(timeline, drafted.media)
    chunks = [streamed.samples(frame, frame + 1) for frame in range(timeline.total_frames)]
    for frame, chunk in enumerate(chunks):
        assert chunk.shape == (2, (frame + 1) * RATE * rate.denominator // rate.numerator - frame * RATE * rate.denominator // rate.numerator)
    assert {chunk.shape[1] for chunk in chunks} == lengths  # 48000 x 1001 / 30000 = 1601.6
    assert sum(chunk.shape[1] for chunk in chunks) == timeline.total_frames * RATE * rate.denominator // rate.numerator
    whole = AudioMix(timeline, drafted.media).samples(0, timeline.total_frames)
    assert np.array_equal(np.concatenate(chunks, axis=1), whole)
    shot = timeline.shots[2]
    cut = shot.end * RATE * rate.denominator // rate.numerator
    assert has_tone(whole[1, cut - 4800 : cut], 660) and not has_tone(whole[1, cut : cut + 4800], 660)


def test_a_jump_backwards_gives_the_same_sound(drafted, tmp_path):
    listed = set_durations(drafted, [1.0, 1.0, 1.0, 1.0])
    set_sound(drafted, listed[1], write_tone(tmp_path / "a.wav", [440, 550], seconds=1.0))
    set_music(drafted, write_tone(tmp_path / "bed.flac", [110], seconds=4.0, codec="flac"))
    timeline = build_timeline(drafted.db)
    fresh = AudioMix(timeline, drafted.media).samples(30, 60)
    mix = AudioMix(timeline, drafted.media)
    mix.samples(0, 96)
    assert np.array_equal(mix.samples(30, 60), fresh)
    assert np.array_equal(mix.samples(90, 96), AudioMix(timeline, drafted.media).samples(90, 96))


def test_a_long_music_bed_is_streamed_not_decoded_whole(drafted, tmp_path):
    set_durations(drafted, [60.0, 1.0, 1.0, 1.0])
    set_music(drafted, write_tone(tmp_path / "bed.wav", [100], seconds=60.0, rate=8000), 0)
    mix = AudioMix(build_timeline(drafted.db), drafted.media)
    tracemalloc.start()
    try:
        for frame in range(0, 240):
            mix.samples(frame, frame + 1)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Decoded whole, the minute would be 60 s x 48000 x 2 channels x 4 bytes = 23 MB.
    assert peak < 2_000_000


def test_silence_when_nothing_has_sound(drafted):
    mix = AudioMix(build_timeline(drafted.db), drafted.media)
    assert not mix.has_sound
    audio = mix.samples(10, 34)
    assert audio.shape == (2, RATE) and not audio.any()
    with pytest.raises(ValueError, match="need 0 <= start <= end"):
        mix.samples(5, 4)


def test_missing_sound_files_are_reported_before_mixing(drafted, tmp_path):
    listed = shots.list_shots(drafted.db)
    digest = set_sound(drafted, listed[2], write_tone(tmp_path / "a.wav", [440], seconds=1.0))
    drafted.media.path(digest).unlink()
    with pytest.raises(AudioError, match=rf"^shot {listed[2].number}: its sound file {digest[:12]}… is missing from the project's media"):
        AudioMix(build_timeline(drafted.db), drafted.media)
    operations.perform(drafted.db, operations.EditShot(listed[2].id, "audio_hash", None))
    operations.perform(drafted.db, operations.EditProject("music_hash", digest))
    with pytest.raises(AudioError, match="^music bed: its sound file .* is missing"):
        AudioMix(build_timeline(drafted.db), drafted.media)
