"""Writing an animatic: H.264 MP4, ProRes MOV or a folder of PNGs, with its sound.

Every output is written beside its target under a hidden temporary name
(`.name.partial-XXXX.mp4`) and renamed into place on `commit`, so a cancelled or
failed render leaves nothing behind and an existing file is replaced only by a
finished one. `commit_all` does that for several outputs at once: all of them or
none. Time is exact: the video stream counts frames at the rational frame
rate (pts = frame index) and the audio counts samples; frame `f` owns the samples
from `floor(f * rate / fps)`, so sound never drifts from picture.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import wave
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .files import publish
from .picture import Picture, even_size

# x264's fastest preset at a constant quantizer: CRF makes x264 build a half-size
# copy of every frame for its rate control, a quarter of its time at this preset.
# QP 18 matched CRF 20's quality (PSNR) and size on textured test footage.
X264_OPTIONS = {"preset": "ultrafast", "qp": "18"}
PRORES_OPTIONS = {"profile": "hq", "vendor": "apl0"}  # 422 HQ, tagged as Apple's encoder
AAC_BITRATE = 192_000
AAC_FRAME = 1024  # samples per AAC frame
BT709 = 1  # ffmpeg's code for BT.709 primaries, transfer and matrix
LIMITED_RANGE = 1
PNG_NAME = "frame_{:06d}.png"
WAV_NAME = "audio.wav"


class VideoWriter:
    """Frames (and sound) into one output, committed atomically.

    `path`'s suffix picks the kind: `.mp4` is H.264 yuv420p (QP 18, BT.709 tags,
    `+faststart`) with AAC; `.mov` is ProRes 422 HQ (yuv422p10le) with 16-bit PCM;
    no suffix makes a folder of `frame_000001.png`... with `audio.wav`. `audio_rate`
    None writes no sound track; otherwise the track is always there and a frame
    written without sound gets its share of silence. `threads` caps the encoder's
    threads (default: all cores but one, which composes the frames).

    Raises ValueError for an unknown suffix, a missing folder, an odd or empty size,
    a target of the wrong kind (a folder where a file goes) or a folder target that
    holds files other than a previous PNG sequence.
    """

    def __init__(self, path: Path | str, size: tuple[int, int], fps: Fraction, audio_rate: int | None = 48000, *, threads: int | None = None) -> None:
        self.path = Path(path)
        self.size = even_size(size)
        if tuple(int(side) for side in size) != self.size:
            raise ValueError(f"a video frame needs even sides, not {size[0]} x {size[1]}")
        self.fps = Fraction(fps)
        if self.fps <= 0:
            raise ValueError(f"frame rate must be positive, not {fps}")
        if audio_rate is not None and (not isinstance(audio_rate, int) or audio_rate <= 0):
            raise ValueError(f"audio rate must be a positive whole number of Hz, not {audio_rate!r}")
        self.audio_rate = audio_rate
        self.kind = _kind(self.path)
        _check_target(self.path, self.kind)
        self.frames = 0
        self._samples = 0  # audio samples written so far
        self._pending = np.zeros((2, 0), np.float32)  # audio waiting for a whole AAC frame
        self._last: tuple[Picture, av.VideoFrame] | None = None
        self._done = self._finished = False
        parent, stem = self.path.parent, self.path.name
        if self.kind == "png":
            self._temp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{stem}.partial-"))
            self._container, self._wave = None, None
        else:
            handle, name = tempfile.mkstemp(dir=parent, prefix=f".{self.path.stem}.partial-", suffix=self.path.suffix)
            os.close(handle)
            self._temp = Path(name)
        try:
            if self.kind == "png":
                self._wave = self._open_wave() if audio_rate else None
            else:
                self._open_container(threads)
        except BaseException:
            _remove(self._temp)
            raise

    def _open_container(self, threads: int | None) -> None:
        mp4 = self.kind == "mp4"
        options = {"movflags": "+faststart"} if mp4 else {}
        self._container = av.open(str(self._temp), "w", format=self.kind, options=options)
        video = self._container.add_stream("libx264" if mp4 else "prores_ks", rate=self.fps, options=dict(X264_OPTIONS if mp4 else PRORES_OPTIONS))
        video.width, video.height = self.size
        video.pix_fmt = "yuv420p" if mp4 else "yuv422p10le"
        context = video.codec_context
        context.time_base = 1 / self.fps
        context.color_primaries = context.color_trc = context.colorspace = BT709
        context.color_range = LIMITED_RANGE
        context.thread_count = threads if threads is not None else max(1, _cores() - 1)
        if not mp4 and (threads is None or threads > 1):
            # prores_ks is several times slower than composing (170 ms a 1080p frame
            # here): every core it is given, a frame each.
            context.thread_type = "FRAME"
            context.thread_count = threads or _cores()
        self._video, self._audio = video, None
        if self.audio_rate:
            self._audio = self._container.add_stream("aac" if mp4 else "pcm_s16le", rate=self.audio_rate, layout="stereo")
            if mp4:
                self._audio.codec_context.bit_rate = AAC_BITRATE

    def _open_wave(self) -> wave.Wave_write:
        sound = wave.open(str(self._temp / WAV_NAME), "wb")
        sound.setnchannels(2)
        sound.setsampwidth(2)
        sound.setframerate(self.audio_rate)
        return sound

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self._done:
            self.abort()

    def write(self, picture: Picture, audio: np.ndarray | None = None) -> None:
        """Append one frame and the sound that plays during it: float32 (2, n) in
        -1..1, or None for silence (the frame's exact share of samples). Sound given
        without a sound track is ignored. Raises ValueError for a picture of the
        wrong size or sound that is not two channels."""
        if self._done or self._finished:
            raise ValueError(f"{self.path.name} is already finished")
        if picture.size != self.size:
            raise ValueError(f"frame is {picture.size[0]} x {picture.size[1]}, the video {self.size[0]} x {self.size[1]}")
        if audio is not None:
            audio = np.asarray(audio, np.float32)
            if audio.ndim != 2 or audio.shape[0] != 2:
                raise ValueError(f"sound must be two channels of samples, shape (2, n), not {audio.shape}")
        if self.kind == "png":
            _rgb(_frame_of(picture)).save(self._temp / PNG_NAME.format(self.frames + 1), compress_level=1)
        else:
            self._encode(picture)
        self.frames += 1
        if self.audio_rate:
            if audio is None:
                audio = np.zeros((2, self._sample_at(self.frames) - self._sample_at(self.frames - 1)), np.float32)
            self._write_audio(audio)

    def _encode(self, picture: Picture) -> None:
        if self._last is not None and self._last[0] is picture:
            frame = self._last[1]  # a held frame: the encoder copied it, so reuse it
        else:
            frame = _frame_of(picture)
            if self.kind == "mov":
                frame = frame.reformat(format="yuv422p10le")
            self._last = (picture, frame)
        frame.pts = self.frames
        self._container.mux(self._video.encode(frame))

    def _write_audio(self, audio: np.ndarray) -> None:
        if self.kind == "png":
            self._wave.writeframes(_pcm16(audio).tobytes())
            self._samples += audio.shape[1]
            return
        self._pending = np.concatenate([self._pending, audio], axis=1) if self._pending.size else audio
        self._flush_audio(final=False)

    def _flush_audio(self, final: bool) -> None:
        chunk = AAC_FRAME
        while self._pending.shape[1] >= chunk or (final and self._pending.shape[1]):
            part, self._pending = self._pending[:, :chunk], self._pending[:, chunk:]
            if self.kind == "mp4":
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format="fltp", layout="stereo")
            else:
                frame = av.AudioFrame.from_ndarray(_pcm16(part).reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate = self.audio_rate
            frame.pts = self._samples
            self._samples += part.shape[1]
            self._container.mux(self._audio.encode(frame))

    def _sample_at(self, frame: int) -> int:
        return int(frame * self.audio_rate / self.fps)

    def finish(self) -> None:
        """End the streams and close the output, still under its temporary name
        (an open encoder holds memory; a finished one does not). Sound shorter
        than the picture is padded with silence. Raises ValueError when nothing
        was written; the output is removed then."""
        if self._done:
            raise ValueError(f"{self.path.name} is already finished")
        if self._finished:
            return
        if self.frames == 0:
            self.abort()
            raise ValueError(f"no frames were written to {self.path.name}")
        try:
            if self.audio_rate:
                missing = self._sample_at(self.frames) - self._samples - (self._pending.shape[1] if self.kind != "png" else 0)
                if missing > 0:
                    self._write_audio(np.zeros((2, missing), np.float32))
            if self.kind == "png":
                if self._wave is not None:
                    self._wave.close()
            else:
                self._container.mux(self._video.encode())
                if self._audio is not None:
                    self._flush_audio(final=True)
                    self._container.mux(self._audio.encode())
                self._container.close()
        except BaseException:
            self.abort()
            raise
        self._finished = True
        # A closed container still holds its encoders (x264 keeps its lookahead) until
        # the streams are freed; a film's worth of finished shot files would add up.
        self._container = self._video = self._audio = None
        self._last = None

    def commit(self) -> Path:
        """Finish the output and move it into place, replacing what was there;
        return its path. Raises what `commit_all` raises."""
        return commit_all([self])[0]

    def abort(self) -> None:
        """Stop and remove the temporary output; what was at the target stays."""
        if self._done:
            return
        self._done = True
        self._last = None
        try:
            if self._finished:
                pass
            elif self.kind == "png":
                if self._wave is not None:
                    self._wave.close()
            else:
                self._container.close()
        except (av.FFmpegError, OSError, ValueError):
            pass  # it is being thrown away
        finally:
            _remove(self._temp)


def commit_all(writers: Sequence[VideoWriter], files: Sequence[tuple[Path, Path]] = ()) -> list[Path]:
    """Finish every writer, then move all their outputs into place, and the finished
    `files` (temporary path, target) with them: either every target gets its new
    output or every target stays as it was.

    Nothing is renamed until every output is finished (an MP4's faststart rewrite
    happens then). A target that exists is first moved aside into a hidden
    `.name.old-XXXX` folder beside it; when a later step fails it is put back, and
    it is deleted only once every output is in place. Returns the targets. Raises
    ValueError for two writers with one target, and what `finish` or the file
    system raise; every writer is aborted then.
    """
    writers = list(writers)
    try:
        seen: set[str] = set()
        for writer in writers:
            key = os.path.normcase(os.path.abspath(writer.path))
            if key in seen:
                raise ValueError(f"two outputs would be written to {writer.path}")
            seen.add(key)
        for writer in writers:
            writer.finish()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    moved: list[tuple[Path, Path | None, bool]] = []  # (target, old output aside, new one placed)
    try:
        for writer in writers:
            aside = _move_aside(writer.path)
            moved.append((writer.path, aside, False))
            publish(writer._temp)
            _replace(writer._temp, writer.path)
            moved[-1] = (writer.path, aside, True)
        for temporary, target in files:
            aside = _move_aside(target)
            moved.append((target, aside, False))
            publish(temporary)
            os.replace(temporary, target)
            moved[-1] = (target, aside, True)
    except BaseException:
        for target, aside, placed in reversed(moved):
            _put_back(target, aside, placed)
        for writer in writers:
            writer.abort()
        raise
    for writer in writers:
        writer._done = True
    for _target, aside, _placed in moved:
        if aside is not None:
            shutil.rmtree(aside.parent, ignore_errors=True)
    return [writer.path for writer in writers] + [target for _temporary, target in files]


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".mp4", ".mov"):
        return suffix[1:]
    if suffix:
        raise ValueError(f"cannot write {path.name}: use .mp4 (H.264), .mov (ProRes) or a name without a suffix (a folder of PNGs)")
    return "png"


def _check_target(path: Path, kind: str) -> None:
    if not path.parent.is_dir():
        raise ValueError(f"cannot write {path}: the folder {path.parent} does not exist")
    if kind != "png":
        if path.is_dir():
            raise ValueError(f"cannot write {path}: a folder of that name is in the way")
        return
    if path.exists() and not path.is_dir():
        raise ValueError(f"cannot write frames into {path}: a file of that name is in the way")
    if path.is_dir():
        # A folder is replaced whole, so only one that holds an earlier sequence.
        strangers = [child.name for child in path.iterdir() if not _ours(child.name)]
        if strangers:
            raise ValueError(f"cannot write frames into {path}: it holds other files ({strangers[0]}); choose a new folder name")


def _ours(name: str) -> bool:
    return name == WAV_NAME or (name.startswith("frame_") and name.endswith(".png"))


def _replace(temp: Path, target: Path) -> None:
    """Rename a finished output onto its (moved aside, so free) target."""
    os.replace(temp, target)


def _move_aside(target: Path) -> Path | None:
    """Move an existing target into a new hidden folder beside it (a rename: it
    costs no space) and return where it went; None when there is no target."""
    if not target.exists() and not target.is_symlink():
        return None
    holder = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
    aside = holder / target.name
    try:
        os.replace(target, aside)
    except BaseException:
        holder.rmdir()
        raise
    return aside


def _put_back(target: Path, aside: Path | None, placed: bool) -> None:
    """Undo one move into place: the new output goes and the old one returns.
    A failure here is swallowed (another is already on its way up); an old output
    that cannot be put back stays in its hidden folder rather than being lost."""
    try:
        if aside is None:
            if placed:
                _remove(target)  # it replaced nothing
            return
        if placed and target.is_dir() and not target.is_symlink():
            os.replace(target, aside.parent / ".new")  # a folder cannot be renamed over another
        os.replace(aside, target)
    except OSError:
        return
    shutil.rmtree(aside.parent, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _frame_of(picture: Picture) -> av.VideoFrame:
    """The picture copied into a new yuv420p frame; its rows may be padded."""
    width, height = picture.size
    frame = av.VideoFrame(width, height, "yuv420p")
    frame.color_range = LIMITED_RANGE
    frame.colorspace = BT709
    for plane, pixels in zip(frame.planes, picture.planes()):
        rows, cols = pixels.shape
        np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:rows, :cols] = pixels
    return frame


def _rgb(frame: av.VideoFrame):
    """The frame as a PIL RGB image, decoded as BT.709 limited range."""
    rgb = frame.reformat(format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709", src_color_range="MPEG", dst_color_range="JPEG")
    return rgb.to_image()


def _pcm16(audio: np.ndarray) -> np.ndarray:
    """Interleaved 16-bit samples: (n, 2) int16."""
    return np.rint(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).T.copy()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1
