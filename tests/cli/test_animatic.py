"""`previz animatic`: the film as a video, timelines and captions, from the terminal."""

import av
import opentimelineio as otio
import pytest

from previz_app.animatic.timeline import build_timeline
from previz_app.store import open_project, shots
from tests.animatic.heroes import give_heroes
from tests.cli.runner import run


def test_one_scene_with_its_timeline_and_captions(capsys, drafted, tmp_path):
    path = drafted.path
    timeline = build_timeline(drafted.db, scene_number="1")
    drafted.close()
    out = tmp_path / "scene1.mp4"
    code, stdout, _ = run(capsys, "animatic", path, "--out", out, "--scene", "1", "--size", "160x68",
                          "--otio", tmp_path / "scene1.otio", "--srt", tmp_path / "scene1.srt", "--captions")
    assert code == 0
    assert f"{timeline.total_frames} frames" in stdout
    assert f"wrote   {out}" in stdout and "shot media files" in stdout
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == timeline.total_frames
    cut = otio.adapters.read_from_file(str(tmp_path / "scene1.otio"))
    assert [clip.name for clip in cut.find_clips()] == [item.number for item in timeline.shots]
    assert "-->" in (tmp_path / "scene1.srt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scene", "9"], "no scene numbered '9'"),
        (["--size", "wide"], "expected WIDTHxHEIGHT"),
        (["--motion", "wild"], "'wild' is not one of"),
    ],
)
def test_animatic_explains_what_is_wrong(capsys, drafted, tmp_path, args, message):
    path = drafted.path
    drafted.close()
    code, _, err = run(capsys, "animatic", path, "--out", tmp_path / "film.mp4", *args)
    assert code != 0 and message in err
    assert not (tmp_path / "film.mp4").exists()


def test_a_missing_hero_frame_is_reported_with_the_shot(capsys, drafted, tmp_path):
    give_heroes(drafted)
    shot = shots.list_shots(drafted.db)[0]
    digest = drafted.db.execute("SELECT media_hash FROM takes WHERE id = ?", [shot.hero_take_id]).fetchone()[0]
    drafted.media.path(digest).unlink()
    path = drafted.path
    drafted.close()
    code, _, err = run(capsys, "animatic", path, "--out", tmp_path / "film.mp4", "--size", "160x68")
    assert code == 1 and f"shot {shot.number}" in err
    with open_project(path):
        pass  # the project still opens
    assert not list(tmp_path.glob("film*"))


def test_sound_goes_on_a_shot_or_under_everything(capsys, drafted, tmp_path):
    from tests.animatic.test_audio import write_tone

    shot = shots.list_shots(drafted.db)[0]
    path = drafted.path
    drafted.close()
    tone = write_tone(tmp_path / "door.wav", [440.0], seconds=1.0)
    assert run(capsys, "sound", path, tone, "--shot", shot.number, "--level", "-6")[1] == f"door.wav -> shot {shot.number}\n"
    assert run(capsys, "sound", path, tone, "--music")[0] == 0
    code, _, err = run(capsys, "sound", path, tone)
    assert code != 0 and "--shot" in err
    with open_project(path) as folder:
        edited = shots.get_shot(folder.db, shot.id)
        project = folder.db.execute("SELECT music_hash, music_level_db FROM project").fetchone()
    assert edited.audio_hash == project[0] and edited.audio_level_db == -6.0 and project[1] == -12.0


def test_the_start_timecode_is_a_project_setting(capsys, drafted, tmp_path):
    path = drafted.path
    drafted.close()
    code, out, _ = run(capsys, "set", path, "--start-timecode", "00:59:50:00")
    assert code == 0 and out == "start_timecode = 00:59:50:00\n"
    code, _, err = run(capsys, "set", path, "--start-timecode", "00:59:50:24")
    assert code == 1 and "out of range" in err
    code, _, err = run(capsys, "set", path)
    assert code != 0 and "at least one setting" in err
    assert run(capsys, "animatic", path, "--out", tmp_path / "a.mp4", "--scene", "2", "--size", "96x40", "--edl", tmp_path / "a.edl")[0] == 0
    first_event = next(line for line in (tmp_path / "a.edl").read_text().splitlines() if line.startswith("001"))
    assert first_event.split()[6] == "00:59:50:00"  # record in
    assert "starts at 00:59:50:00" in run(capsys, "info", path)[1]
