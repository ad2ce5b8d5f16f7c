"""export_animatic: the video, per-shot media, editorial timelines and captions together."""

import threading

import av
import opentimelineio as otio
import pytest

from previz_app.animatic.audio import import_audio
from previz_app.animatic.compose import MissingMediaError
from previz_app.animatic.export import AnimaticExport, export_animatic
from previz_app.animatic.timeline import build_timeline
from previz_app.engine.base import Cancelled
from previz_app.store import operations, shots
from tests.animatic.test_audio import write_tone
from tests.animatic.heroes import give_heroes

SIZE = (192, 80)


@pytest.fixture
def film(drafted):
    give_heroes(drafted)
    first, second = shots.list_shots(drafted.db)[:2]
    operations.perform(drafted.db, operations.EditShot(second.id, "transition_in", "dissolve"))
    operations.perform(drafted.db, operations.EditShot(first.id, "movement", "dolly_in"))
    operations.perform(drafted.db, operations.EditShot(first.id, "notes", "hold on the kettle"))
    return drafted


def test_everything_is_written_and_reads_back(film, tmp_path):
    out = tmp_path / "cut"
    out.mkdir()
    request = AnimaticExport(
        out=out / "film.mp4", size=SIZE, burn_info=True, otio=out / "film.otio", edl=out / "film.edl",
        fcpxml=out / "film.xml", srt=out / "film.srt", vtt=out / "film.vtt",
    )
    seen = []
    report = export_animatic(film.db, film.media, request, progress=lambda done, total: seen.append((done, total)))
    timeline = build_timeline(film.db)

    with av.open(str(out / "film.mp4")) as container:
        video = container.streams.video[0]
        assert sum(1 for _ in container.decode(video)) == timeline.total_frames == report.frames
        assert video.average_rate == 24 and (video.width, video.height) == SIZE
    assert seen[-1] == (timeline.total_frames, timeline.total_frames)

    cut = otio.adapters.read_from_file(str(out / "film.otio"))
    assert cut.name == "Film"  # the project's title
    clips = list(cut.find_clips())
    assert [clip.name for clip in clips] == [item.number for item in timeline.shots]
    assert [clip.source_range.duration.to_frames() for clip in clips] == [item.frames for item in timeline.shots]
    assert any(marker.name == "hold on the kettle" for marker in clips[0].markers)
    media_dir = out / "film_media"
    for item, clip, shot_media in zip(timeline.shots, clips, report.shot_media):
        assert shot_media.parent == media_dir
        with av.open(str(shot_media)) as shot_file:
            frames = sum(1 for _ in shot_file.decode(video=0))
        assert frames == item.head + item.frames + item.tail
        assert clip.source_range.start_time.to_frames() == item.head
    assert len(list(otio.adapters.read_from_file(str(out / "film.edl"), rate=24).find_clips())) >= len(clips)
    assert len(list(otio.adapters.read_from_file(str(out / "film.xml")).find_clips())) == len(clips)
    assert "ELLA: You came back." in (out / "film.srt").read_text(encoding="utf-8")
    assert (out / "film.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    assert set(report.written) == {out / f"film.{suffix}" for suffix in ("mp4", "otio", "edl", "xml", "srt", "vtt")}
    assert sorted(report.shot_media) == sorted(media_dir.iterdir())


def test_a_new_cut_leaves_no_stale_shot_files(film, tmp_path):
    request = AnimaticExport(out=tmp_path / "film.mp4", size=SIZE, otio=tmp_path / "film.otio")
    first = export_animatic(film.db, film.media, request)
    (tmp_path / "film_media" / "notes.txt").write_text("mine")
    operations.perform(film.db, operations.DeleteShots([shots.list_shots(film.db)[0].id]))
    second = export_animatic(film.db, film.media, request)
    assert len(second.shot_media) == len(first.shot_media) - 1
    assert sorted((tmp_path / "film_media").iterdir()) == sorted([*second.shot_media, tmp_path / "film_media" / "notes.txt"])


def test_cancel_mid_render_leaves_nothing(film, tmp_path):
    request = AnimaticExport(out=tmp_path / "film.mp4", size=SIZE, otio=tmp_path / "film.otio", srt=tmp_path / "film.srt")
    stop = threading.Event()

    def progress(done, total):
        if done > 0:
            stop.set()

    before = set(tmp_path.iterdir())
    with pytest.raises(Cancelled):
        export_animatic(film.db, film.media, request, progress, stop.is_set)
    assert set(tmp_path.iterdir()) == before


def test_a_missing_hero_file_names_the_shot_before_anything_is_written(film, tmp_path):
    victim = shots.list_shots(film.db)[1]
    digest = film.db.execute("SELECT media_hash FROM takes WHERE id = ?", [victim.hero_take_id]).fetchone()[0]
    film.media.path(digest).unlink()
    with pytest.raises(MissingMediaError, match=f"shot {victim.number}"):
        export_animatic(film.db, film.media, AnimaticExport(out=tmp_path / "film.mp4", size=SIZE))
    assert not any(tmp_path.glob("*film*"))


def test_a_timeline_that_cannot_be_written_fails_before_the_video_is_replaced(film, tmp_path, monkeypatch):
    from previz_app.animatic import export

    out = tmp_path / "out"
    out.mkdir()
    (out / "film.mp4").write_bytes(b"last week's cut")

    def refuse(timeline, media, path, name=None):
        raise PermissionError(f"cannot write {path.name}")

    monkeypatch.setattr(export, "write_edl", refuse)
    request = AnimaticExport(out=out / "film.mp4", size=SIZE, otio=out / "film.otio", edl=out / "film.edl")
    with pytest.raises(PermissionError):
        export_animatic(film.db, film.media, request)
    assert (out / "film.mp4").read_bytes() == b"last week's cut"
    assert sorted(path.name for path in out.iterdir()) == ["film.mp4"]


def test_a_timeline_that_cannot_be_moved_into_place_keeps_the_old_video(film, tmp_path, monkeypatch):
    from previz_app.animatic import encode

    out = tmp_path / "out"
    out.mkdir()
    (out / "film.mp4").write_bytes(b"last week's cut")
    (out / "film.edl").write_text("last week's EDL")
    rename = encode.os.replace

    def refuse_the_edl(source, target):
        if str(source).endswith(".partial") and str(target).endswith(".edl"):
            raise PermissionError("film.edl is open in another program")
        rename(source, target)

    monkeypatch.setattr(encode.os, "replace", refuse_the_edl)
    with pytest.raises(PermissionError):
        export_animatic(film.db, film.media, AnimaticExport(out=out / "film.mp4", size=SIZE, edl=out / "film.edl"))
    assert (out / "film.mp4").read_bytes() == b"last week's cut"
    assert (out / "film.edl").read_text() == "last week's EDL"
    assert sorted(path.name for path in out.iterdir()) == ["film.edl", "film.mp4"]


def test_bad_requests_are_refused_up_front(film, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        export_animatic(film.db, film.media, AnimaticExport(out=tmp_path / "nowhere" / "film.mp4"))
    (tmp_path / "taken.srt").mkdir()
    with pytest.raises(ValueError, match="it is a folder"):
        export_animatic(film.db, film.media, AnimaticExport(out=tmp_path / "film.mp4", srt=tmp_path / "taken.srt"))
    with pytest.raises(ValueError, match="unknown motion"):
        export_animatic(film.db, film.media, AnimaticExport(out=tmp_path / "film.mp4", motion="wild"))


def test_sound_runs_as_long_as_the_picture(film, tmp_path):
    wav = write_tone(tmp_path / "tone.wav", [440.0], seconds=1.0)
    digest = import_audio(film, wav)
    operations.perform(film.db, operations.EditShot(shots.list_shots(film.db)[0].id, "audio_hash", digest))
    report = export_animatic(film.db, film.media, AnimaticExport(out=tmp_path / "film.mp4", size=SIZE))
    with av.open(str(tmp_path / "film.mp4")) as container:
        audio = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio))
    assert audio.codec_context.name == "aac"
    assert abs(samples / 48000 - float(report.seconds)) < 0.05
