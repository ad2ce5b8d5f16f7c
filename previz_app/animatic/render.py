"""Rendering the animatic: frames composed on worker threads and encoded, in order,
on another, so PIL's resampling and x264 (both release the GIL) keep every core
busy. Each worker has its own composer and takes every n-th frame; bounded queues
keep memory flat however long the film. The calling thread only watches: it
reports progress and asks whether to cancel as frames are finished.

Sound: with `audio` given, the video gets a sound track: the mix when it has
sound, otherwise silence, so every export from a project has the same tracks.
Without `audio` there is no sound track. Per-shot media (for editors) are the
shots' clean frames with their handles and never carry sound.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from ..engine.base import Cancelled
from ..store.media import MediaStore
from .audio import AudioMix
from .compose import ComposeOptions, FrameComposer
from .encode import VideoWriter, commit_all
from .picture import Picture, ShotFrames
from .timeline import ShotMedia, Timeline

QUEUE_FRAMES = 4  # composed frames waiting per worker (about 3 MB each at 1080p)
PROGRESS_INTERVAL = 0.1  # seconds between progress reports
WAIT = 0.1  # seconds a blocked thread waits before it looks for a stop
MAX_COMPOSERS = 4
# H.264 review copies at HD and up resample colour at half resolution (see
# `PlanarStill.view`): it keeps 1080p moves at 4x real time on two cores.
DRAFT_CHROMA_WIDTH = 1280


@dataclass
class RenderReport:
    """What a render wrote: the output, its length, and the per-shot media."""

    out: Path
    frames: int
    seconds: Fraction
    shot_media: list[ShotMedia] = field(default_factory=list)


def render_animatic(
    timeline: Timeline,
    media: MediaStore,
    out: Path,
    options: ComposeOptions,
    *,
    audio: AudioMix | None = None,
    shot_media_dir: Path | None = None,
    sources: dict[int, ShotFrames] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    files: Sequence[tuple[Path, Path]] = (),
) -> RenderReport:
    """Render `timeline` into `out` (.mp4, .mov or a folder of PNGs, see
    `encode.VideoWriter`); with `shot_media_dir`, also each shot's clean frames with
    handles there, as `plan_shot_media` names them.

    `options.draft_chroma` None means: draft colour for an .mp4 at least
    `DRAFT_CHROMA_WIDTH` wide, full colour otherwise. `progress(done, total)` and
    `cancelled()` are called on the calling thread as frames are finished (progress
    at most about ten times a second, and once at the end). Nothing is moved into
    place until every frame is done, and then all outputs go in together or none
    (`encode.commit_all`). `sources` replace some shots' frames (see FrameComposer);
    workers may draw different shots' sources at the same time, never one source
    from two threads at once. `files` are finished files (temporary path, target) that
    go into place with the video, all or none. Raises Cancelled when cancelled, ValueError
    (MissingMediaError, audio.AudioError) for bad input or media; in every case no
    partial file is left behind and existing outputs stay as they were.
    """
    total = timeline.total_frames
    if total <= 0:
        raise ValueError("nothing to render: the timeline is empty")
    if shot_media_dir is not None and not Path(shot_media_dir).is_dir():
        raise ValueError(f"cannot write shot media into {shot_media_dir}: the folder does not exist")
    plan = plan_shot_media(timeline, Path(shot_media_dir), Path(out)) if shot_media_dir is not None else None
    if options.draft_chroma is None:
        options = replace(options, draft_chroma=Path(out).suffix.lower() == ".mp4" and options.size[0] >= DRAFT_CHROMA_WIDTH)
    cores = _cores()
    # A composer needs about as much CPU per frame as x264 at its fastest: two on
    # two cores, half the cores on bigger machines (x264 gets the rest).
    workers = 1 if cores == 1 else min(MAX_COMPOSERS, max(2, cores // 2))
    given = _one_at_a_time(sources)
    composers = [FrameComposer(timeline, media, options, given) for _ in range(workers)]
    sound = audio if audio is not None and audio.has_sound else None
    # ProRes is several times slower than composing: it gets every core.
    threads = cores if Path(out).suffix.lower() == ".mov" else max(1, cores - workers)
    writer = VideoWriter(out, options.size, timeline.fps, audio.sample_rate if audio is not None else None, threads=threads)
    job = _Job(timeline, options, writer, sound, plan, workers)
    threads = [
        threading.Thread(target=job.compose, args=(index, composer), name=f"animatic-compose-{index}", daemon=True)
        for index, composer in enumerate(composers)
    ]
    threads.append(threading.Thread(target=job.encode, name="animatic-encode", daemon=True))
    try:
        for thread in threads:
            thread.start()
        job.watch(progress, cancelled)
        for thread in threads:
            thread.join()
        shot_media = job.commit(files)
    except BaseException:
        job.stop()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join()
        job.abort()
        raise
    if progress is not None:
        progress(total, total)
    return RenderReport(Path(out), total, timeline.seconds(total), shot_media)


class _Job:
    """What the threads of one render share: the queues, the writers, how far the
    encoder is, and the first failure (which stops everyone)."""

    def __init__(self, timeline: Timeline, options: ComposeOptions, writer: VideoWriter, sound: AudioMix | None, plan: list[ShotMedia] | None, workers: int) -> None:
        self.timeline, self.options, self.writer, self.sound = timeline, options, writer, sound
        self.plan = plan  # the shots' media, None when none are written
        self.total = timeline.total_frames
        self.queues: list[queue.Queue] = [queue.Queue(QUEUE_FRAMES) for _ in range(workers)]
        self.done = 0
        self.changed = threading.Condition()
        self.failure: BaseException | None = None
        self.stopping = threading.Event()
        self.shots: dict[int, VideoWriter] = {}  # per-shot writers still receiving frames
        self.finished: list[VideoWriter] = []  # per-shot writers done, in film order

    def compose(self, worker: int, composer: FrameComposer) -> None:
        """Compose every `workers`-th frame from `worker` on."""
        step = len(self.queues)
        try:
            for frame in range(worker, self.total, step):
                if self.stopping.is_set():
                    return
                picture = composer.picture(frame)
                clean = [(index, composer.raw(index, local)) for index, local in composer.clean_frames(frame)] if self.plan else []
                if not self._put(self.queues[worker], (picture, clean)):
                    return
        except BaseException as exc:  # handed to the watching thread
            self._fail(exc)

    def encode(self) -> None:
        """Write the frames in order, with their sound and the per-shot media."""
        step = len(self.queues)
        try:
            for frame in range(self.total):
                item = self._get(self.queues[frame % step])
                if item is None:
                    return
                picture, clean = item
                self.writer.write(picture, self.sound.samples(frame, frame + 1) if self.sound is not None else None)
                for index, shot_picture in clean:
                    self._write_shot(index, shot_picture)
                with self.changed:
                    self.done += 1
                    self.changed.notify_all()
        except BaseException as exc:
            self._fail(exc)

    def watch(self, progress: Callable[[int, int], None] | None, cancelled: Callable[[], bool] | None) -> None:
        """On the calling thread: wait for the encoder to finish, asking about cancel
        as frames come out. Raises the first failure, or Cancelled."""
        seen, reported = -1, 0.0
        while True:
            with self.changed:
                self.changed.wait_for(lambda: self.done != seen or self.failure is not None, timeout=WAIT)
                seen, failure = self.done, self.failure
            if failure is not None:
                raise failure
            if seen == self.total:
                return
            if cancelled is not None and cancelled():
                raise Cancelled()
            now = time.monotonic()
            if progress is not None and now - reported >= PROGRESS_INTERVAL:
                progress(seen, self.total)
                reported = now

    def _put(self, lane: queue.Queue, item: object) -> bool:
        while not self.stopping.is_set():
            try:
                lane.put(item, timeout=WAIT)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, lane: queue.Queue) -> object | None:
        while not self.stopping.is_set():
            try:
                return lane.get(timeout=WAIT)
            except queue.Empty:
                continue
        return None

    def _fail(self, exc: BaseException) -> None:
        with self.changed:
            if self.failure is None:
                self.failure = exc
            self.stopping.set()
            self.changed.notify_all()

    def _write_shot(self, index: int, picture: Picture) -> None:
        planned = self.plan[index]
        writer = self.shots.get(index)
        if writer is None:
            writer = self.shots[index] = VideoWriter(planned.path, self.options.size, self.timeline.fps, None, threads=1)
        writer.write(picture)
        if writer.frames == planned.head + planned.frames + planned.tail:
            writer.finish()  # closed now (an open encoder holds memory), moved into place at the end
            del self.shots[index]
            self.finished.append(writer)

    def commit(self, files: Sequence[tuple[Path, Path]] = ()) -> list[ShotMedia]:
        """Move every output into place, with the finished `files` (temporary path,
        target), all or none (see `encode.commit_all`)."""
        done = {writer.path for writer in self.finished}
        for index, planned in enumerate(self.plan or []):
            if planned.path not in done:
                raise ValueError(f"shot {self.timeline.shots[index].number} did not get all its frames")
        commit_all([*self.finished, self.writer], files)
        return list(self.plan or [])

    def stop(self) -> None:
        self.stopping.set()

    def abort(self) -> None:
        """Remove every temporary output of this render (committed ones are no
        longer its to remove). Call once the threads have ended."""
        for writer in [self.writer, *self.shots.values(), *self.finished]:
            writer.abort()


class _OneAtATime:
    """A given source shared by the workers: it is drawn by one thread at a time,
    since a source keeps caches (a shot's last frame, its decoded keys)."""

    def __init__(self, source: ShotFrames) -> None:
        self._source, self._lock = source, threading.Lock()

    def picture(self, index: int) -> Picture:
        with self._lock:
            return self._source.picture(index)


def _one_at_a_time(sources: dict[int, ShotFrames] | None) -> dict[int, ShotFrames]:
    # A lock for each shot: workers drawing different shots (a dissolve, the
    # frames around a cut) do not wait for each other.
    return {index: _OneAtATime(source) for index, source in (sources or {}).items()}


def plan_shot_media(timeline: Timeline, media_dir: Path, out: Path) -> list[ShotMedia]:
    """The per-shot media files `render_animatic(timeline, ..., out, shot_media_dir=
    media_dir)` writes, in film order: `media_dir / "0001_<shot number>.mp4"`, the
    four-digit position in the film first (shot numbers repeat across scenes, and
    the position sorts in an editor's bin) and the number made file-safe; `.mov`
    (ProRes) beside a .mov `out`, `.mp4` otherwise. Each gives the shot's handles
    (`head`, `tail`) and `frames`. Touches no file. Raises ValueError when two
    names would clash (in a case-insensitive file system too) or one is `out`.
    """
    media_dir, out = Path(media_dir), Path(out)
    suffix = ".mov" if out.suffix.lower() == ".mov" else ".mp4"
    width = max(4, len(str(len(timeline.shots))))
    planned, seen = [], {os.path.normcase(os.path.abspath(out)).casefold(): "the animatic"}
    for index, item in enumerate(timeline.shots):
        path = media_dir / f"{index + 1:0{width}d}_{_file_name(item.number)}{suffix}"
        key = os.path.normcase(os.path.abspath(path)).casefold()
        if key in seen:
            raise ValueError(f"shot {item.number}'s media file {path.name} would overwrite {seen[key]}; choose another output name")
        seen[key] = f"shot {item.number}'s media file"
        planned.append(ShotMedia(item.shot.id, path, item.head, item.frames, item.tail))
    return planned


def _file_name(number: str) -> str:
    """A shot number as a file name: letters, digits, dot, dash and underscore."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in str(number)) or "shot"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1
