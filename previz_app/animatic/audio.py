"""Sound for animatics: importing audio files and mixing the shots' clips over the
music bed, sample-exact at the project's rational frame rate.

The mix, at `SAMPLE_RATE` unless asked otherwise, is float32 stereo:
- each shot's clip starts at the shot's first frame and is cut at its last (a shorter
  clip leaves silence); the music bed starts at frame 0, plays once and is cut at the
  sequence's end; each is scaled by `10 ** (level_db / 20)`;
- a mono file plays at its own level in both channels (not swresample's -3 dB pan
  law), so a level means the same for mono and stereo files; more channels are
  downmixed to stereo by swresample;
- the sum goes through a soft clipper: untouched up to -1 dBFS, then bent smoothly
  (tanh) towards full scale, so it stays inside [-1, 1]. It has no memory, so the
  result does not depend on how the sequence is cut into chunks;
- frame `f` starts at sample `floor(f * rate / fps)`, so frame-by-frame chunks add up
  to the whole without drift.
Sources are decoded as they play: each keeps one decoder open and reads forward.
"""

from __future__ import annotations

import hashlib
import io
import struct
from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..store.folder import ProjectFolder
from ..store.media import MediaStore, add_media
from .timeline import Timeline

SAMPLE_RATE = 48000
_KNEE = 10 ** (-1 / 20)  # the soft clipper leaves everything below -1 dBFS alone

# Container format (PyAV's name, first of a comma-separated list) -> mime type.
_MIME = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "aiff": "audio/aiff",
    "mov": "audio/mp4",
    "aac": "audio/aac",
    "w64": "audio/wav",
    "caf": "audio/x-caf",
}


class AudioError(ValueError):
    """A sound file cannot be imported or played; the message names the file or shot."""


@dataclass(frozen=True)
class _Probe:
    format_name: str
    seconds: float


def import_audio(folder: ProjectFolder, path: str | Path) -> str:
    """Check that `path` is a sound file PyAV can decode, then store it in the project's
    media (recorded in the `media` table with its mime type and name). Returns its hash,
    ready for `EditShot(shot_id, "audio_hash", digest)` or `EditProject("music_hash", digest)`.

    The whole file is decoded once to check it. Raises AudioError (nothing is stored)
    when the file cannot be read, is not a sound file, has no audio stream, holds no
    sound or is cut short; MediaWriteError when the media folder cannot be written.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"{path.name}: cannot read the file ({exc.strerror or exc})") from None
    probe = _probe(data, path.name)
    mime = _MIME.get(probe.format_name.split(",")[0], f"audio/x-{probe.format_name.split(',')[0]}")
    target = folder.media.path(hashlib.sha256(data).hexdigest())
    existed = target.exists()
    try:
        with folder.transaction():
            return add_media(folder.db, folder.media, data, mime, path.name)
    except BaseException:
        if not existed:  # the row was rolled back; do not leave its file behind
            target.unlink(missing_ok=True)
        raise


def audio_seconds(data_or_path: bytes | str | Path) -> float:
    """How long a sound file plays, in seconds, counted by decoding it whole.

    Raises AudioError when it is not a sound file PyAV can decode.
    """
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        return _probe(bytes(data_or_path), "the sound").seconds
    path = Path(data_or_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"{path.name}: cannot read the file ({exc.strerror or exc})") from None
    return _probe(data, path.name).seconds


def _probe(data: bytes, name: str) -> _Probe:
    """Decode `data` whole (without keeping the samples) to prove it is usable sound."""
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise AudioError(f"{name}: not a sound file PyAV can read: it has no audio stream")
            stream = container.streams.audio[0]
            seconds = Fraction(0)
            for frame in container.decode(stream):
                seconds += Fraction(frame.samples, frame.sample_rate)
            declared = stream.duration * stream.time_base if stream.duration else None
            format_name = container.format.name
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(f"{name}: not a sound file PyAV can read: {_reason(exc)}") from None
    if seconds == 0:
        raise AudioError(f"{name}: not a sound file PyAV can read: it holds no sound")
    # Lossless formats state their length exactly; a shorter decode means a cut-off copy.
    # (A lossy file's stated length can be a bitrate estimate, so it is not checked.)
    if format_name == "wav":
        declared = _wav_declared_seconds(data)
    elif format_name != "flac":
        declared = None
    if declared is not None and seconds + Fraction(1, 100) < declared:
        raise AudioError(
            f"{name}: not a sound file PyAV can read: it is cut short "
            f"({float(seconds):.2f} s of the {float(declared):.2f} s it declares)"
        )
    return _Probe(format_name, float(seconds))


def _wav_declared_seconds(data: bytes) -> Fraction | None:
    """Seconds a RIFF WAV says it holds when its data chunk runs past the end of the
    file (ffmpeg silently plays what is there), else None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset, byte_rate = 12, 0
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if chunk == b"fmt " and offset + 16 <= len(data):
            byte_rate = struct.unpack_from("<I", data, offset + 16)[0]
        if chunk == b"data":
            # 0 and 0xFFFFFFFF mean "unknown" (a recorder that was still writing).
            if size in (0, 0xFFFFFFFF) or not byte_rate or offset + 8 + size <= len(data):
                return None
            return Fraction(size, byte_rate)
        offset += 8 + size + (size & 1)
    return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, IndexError):
        return "it has no audio stream"
    return str(exc) or type(exc).__name__


@dataclass(eq=False)
class _Source:
    """One file on the mix: plays from `start` (sample) and is cut at `end`."""

    label: str  # "shot 3B" or "music bed"
    path: Path
    start: int
    end: int
    gain: float
    decoder: _Decoder | None = field(default=None, repr=False)

    def read(self, offset: int, count: int, rate: int) -> np.ndarray:
        """`count` samples from `offset` samples into the file (fewer where it ends)."""
        if self.decoder is None or offset < self.decoder.position:
            self.close()  # a jump backwards starts the file again
            self.decoder = _Decoder(self.path, rate, self.label)
        self.decoder.skip(offset - self.decoder.position)
        return self.decoder.read(count)

    def close(self) -> None:
        if self.decoder is not None:
            self.decoder.close()
            self.decoder = None


class _Decoder:
    """Reads a file forward as float32 stereo at `rate`, keeping only what is pending."""

    def __init__(self, path: Path, rate: int, label: str) -> None:
        self.label = label
        try:
            self.container = av.open(str(path))
            stream = self.container.streams.audio[0]
            self.mono = stream.codec_context.channels == 1
            self.frames = self.container.decode(stream)
        except (av.FFmpegError, OSError, IndexError) as exc:
            raise AudioError(f"{label}: its sound file {path.name[:12]}… cannot be played: {_reason(exc)}") from None
        self.resampler = av.AudioResampler(format="fltp", layout="mono" if self.mono else "stereo", rate=rate)
        self.pending: list[np.ndarray] = []
        self.pending_count = 0
        self.position = 0  # samples handed out or skipped so far
        self.finished = False

    def skip(self, count: int) -> None:
        while count > 0:
            taken = self.read(min(count, 1 << 16)).shape[1]
            if taken == 0:
                self.position += count  # past the end of the file: silence
                return
            count -= taken

    def read(self, count: int) -> np.ndarray:
        while self.pending_count < count and not self.finished:
            self._decode_more()
        data = np.concatenate(self.pending, axis=1) if self.pending else np.zeros((2, 0), np.float32)
        taken, rest = data[:, :count], data[:, count:]
        self.pending, self.pending_count = ([rest] if rest.shape[1] else []), rest.shape[1]
        self.position += taken.shape[1]
        return taken

    def _decode_more(self) -> None:
        try:
            frame = next(self.frames, None)
            produced = self.resampler.resample(frame)
        except (av.FFmpegError, ValueError) as exc:
            raise AudioError(f"{self.label}: its sound file stopped playing: {_reason(exc)}") from None
        if frame is None:
            self.finished = True
        for out in produced:
            samples = out.to_ndarray().astype(np.float32, copy=False)
            if self.mono:
                samples = np.repeat(samples[:1], 2, axis=0)
            self.pending.append(samples)
            self.pending_count += samples.shape[1]

    def close(self) -> None:
        self.container.close()


class AudioMix:
    """The sequence's sound: every shot's clip and the music bed, mixed (see the module
    docstring for the rules).

    Checks at construction that every file is in `media` and holds an audio stream;
    raises AudioError naming the shot ("shot 3B: ...") or "music bed" otherwise, and
    ValueError for a sample rate that is not a positive whole number. Keeps files open
    while they play (`close()` ends that early); not thread-safe: one mix per thread.
    """

    def __init__(self, timeline: Timeline, media: MediaStore, sample_rate: int = SAMPLE_RATE) -> None:
        if not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"sample rate must be a positive whole number of Hz, not {sample_rate!r}")
        self.timeline, self.sample_rate = timeline, sample_rate
        self._step = Fraction(sample_rate) / timeline.fps  # samples per frame, exactly
        self._shots: list[_Source] = []
        for item in timeline.shots:
            if item.shot.audio_hash:
                path = _checked(media, item.shot.audio_hash, f"shot {item.number}")
                gain = 10 ** (item.shot.audio_level_db / 20)
                self._shots.append(_Source(f"shot {item.number}", path, self.sample_at(item.start), self.sample_at(item.end), gain))
        project = timeline.project
        self._music: _Source | None = None
        if project.music_hash:
            path = _checked(media, project.music_hash, "music bed")
            self._music = _Source("music bed", path, 0, self.sample_at(timeline.total_frames), 10 ** (project.music_level_db / 20))
        self._starts = [source.start for source in self._shots]

    @property
    def has_sound(self) -> bool:
        """True when any shot or the music bed has a sound file."""
        return bool(self._shots) or self._music is not None

    def sample_at(self, frame: int) -> int:
        """The first sample of `frame`: floor(frame * rate / fps)."""
        return int(frame * self._step)  # int() floors a non-negative Fraction

    def samples(self, start_frame: int, end_frame: int) -> np.ndarray:
        """The mix from `start_frame` up to (not including) `end_frame`: float32 (2, n) with
        n = sample_at(end_frame) - sample_at(start_frame); silence past the sequence's end.

        Reading forward in order streams; a jump backwards restarts the files involved.
        Raises ValueError for a negative or reversed range, AudioError when a file
        fails to decode.
        """
        if start_frame < 0 or end_frame < start_frame:
            raise ValueError(f"cannot mix frames {start_frame}..{end_frame}: need 0 <= start <= end")
        first, last = self.sample_at(start_frame), self.sample_at(end_frame)
        mix = np.zeros((2, last - first), np.float32)
        playing = self._playing(first, last)
        for source in playing:
            lo, hi = max(first, source.start), min(last, source.end)
            chunk = source.read(lo - source.start, hi - lo, self.sample_rate)
            mix[:, lo - first : lo - first + chunk.shape[1]] += np.float32(source.gain) * chunk
        for source in self._open_sources():
            if source not in playing or source.end <= last:
                source.close()  # finished, or left behind by a jump
        return _soft_clip(mix)

    def close(self) -> None:
        """Close every open file (also done as each source finishes)."""
        for source in self._open_sources():
            source.close()

    def _playing(self, first: int, last: int) -> list[_Source]:
        # Shots do not overlap and are in order, so those under [first, last) are a run.
        index = bisect_left(self._starts, last)
        found = []
        while index > 0 and self._shots[index - 1].end > first:
            index -= 1
            if self._shots[index].start < self._shots[index].end:
                found.append(self._shots[index])
        if self._music is not None and self._music.start < last and first < self._music.end:
            found.append(self._music)
        return found

    def _open_sources(self) -> list[_Source]:
        every = self._shots + ([self._music] if self._music is not None else [])
        return [source for source in every if source.decoder is not None]


def _checked(media: MediaStore, digest: str, label: str) -> Path:
    """The file of `digest`, after checking it is there and has an audio stream."""
    path = media.path(digest)
    if not path.is_file():
        raise AudioError(f"{label}: its sound file {digest[:12]}… is missing from the project's media")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{label}: its sound file {digest[:12]}… has no audio stream")
    except (av.FFmpegError, OSError) as exc:
        raise AudioError(f"{label}: its sound file {digest[:12]}… cannot be played: {_reason(exc)}") from None
    return path


def _soft_clip(mix: np.ndarray) -> np.ndarray:
    loud = np.abs(mix) > _KNEE
    if loud.any():
        over = np.abs(mix[loud]) - _KNEE
        mix[loud] = np.sign(mix[loud]) * (_KNEE + (1 - _KNEE) * np.tanh(over / (1 - _KNEE)))
    return mix
