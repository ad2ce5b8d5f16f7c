"""`previz motion`: AI motion keys from the terminal, on the tiny random-weight model."""

import json

import pytest

import previz_app.cli.motion as motion_command  # registers `motion` on the command group
from previz_app.animatic.timeline import build_timeline
from previz_app.engine.base import RenderContext
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.discovery.library import ModelLibrary
from previz_app.engine.frames import frame_request, shot_context, store_take
from previz_app.engine.request import read_png_request
from previz_app.store import open_project, operations, shots
from previz_app.store.motion import latest_motion
from tests.cli.runner import run


@pytest.fixture
def project(drafted):
    """Two scenes of drafted shots; the first is a one-second push-in with a hero frame."""
    shot = shots.list_shots(drafted.db)[0]
    for field, value in (("movement", "dolly_in"), ("duration", 1.0)):
        operations.perform(drafted.db, operations.EditShot(shot.id, field, value))
    request = frame_request(shot_context(drafted, shot.id), size=(320, 134))
    store_take(drafted, shot.id, BlockingEngine().render(request, RenderContext()))
    path = drafted.path
    drafted.close()
    return path, shot


def test_motion_draws_keys_for_the_shots_with_a_hero_and_reports_progress(capsys, project, tiny_models):
    path, shot = project
    code, out, err = run(capsys, "motion", path, "--scene", "1", "--model", tiny_models.pipeline,
                         "--keys-per-second", "2", "--steps", "2", "--strength", "0.5")
    assert code == 0, err
    assert out.splitlines() == [f"shot {shot.number}: 3 keys", "AI motion recorded for 1 shot"]
    assert [line for line in err.splitlines() if line.startswith(f"shot {shot.number}: key")] == [
        f"shot {shot.number}: key {n} of 3" for n in (1, 2, 3)
    ]
    with open_project(path) as folder:
        others = [s for s in shots.list_shots(folder.db) if s.scene_id == shot.scene_id and s.id != shot.id]
        assert others and all(f"skipped shot {s.number}: no hero frame" in err for s in others)
        item = next(i for i in build_timeline(folder.db).shots if i.shot.id == shot.id)
        motion = latest_motion(folder.db, shot.id, item.hero.id)
        assert folder.db["shot_motion"].count == 1
        assert [time for time, _digest in motion.keyframes] == [0.0, 0.5, 1.0]
        recipe = json.loads(motion.recipe)
        requests = [read_png_request(folder.media.read(digest)) for _time, digest in motion.keyframes]
    assert recipe["model_hash"] == ModelLibrary.for_user().model_hash(str(tiny_models.pipeline)) and len(recipe["model_hash"]) == 64
    assert {r.seed for r in requests} == {recipe["seed"]} and {r.strength for r in requests} == {0.5}
    assert all(r.model == str(tiny_models.pipeline) and r.steps == 2 for r in requests)


def test_ctrl_c_records_nothing_for_the_shot_in_progress(capsys, project, tiny_models, monkeypatch):
    path, shot = project
    real = motion_command.run_motion

    def interrupted_after_one_key(folder, runner, item, planned, progress=None, **kw):
        def press_ctrl_c(done, total):
            progress(done, total)
            if done == 1:
                raise KeyboardInterrupt

        return real(folder, runner, item, planned, press_ctrl_c, **kw)

    monkeypatch.setattr(motion_command, "run_motion", interrupted_after_one_key)
    code, out, err = run(capsys, "motion", path, "--shot", shot.number, "--scene", "1", "--model", tiny_models.pipeline,
                         "--keys-per-second", "2", "--steps", "2", "--strength", "0.5")
    assert code == 130 and "cancelled: the shot in progress recorded nothing" in err
    assert out.strip() == "AI motion recorded for 0 shots"
    with open_project(path) as folder:
        assert folder.db["shot_motion"].count == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shot", "99", "--scene", "1"], "no shot numbered '99' in scene 1"),
        (["--scene", "7"], "no scene numbered '7'"),
        (["--scene", "2"], "no shot has a hero frame"),
        (["--strength", "0"], "--strength"),
        (["--keys-per-second", "0"], "--keys-per-second"),
    ],
)
def test_motion_explains_what_is_wrong(capsys, project, tiny_models, args, message):
    path, _shot = project
    code, _, err = run(capsys, "motion", path, "--model", tiny_models.pipeline, *args)
    assert code != 0 and message in err and "Traceback" not in err


def test_a_missing_model_is_caught_before_anything_is_stored(capsys, project):
    path, _shot = project
    with open_project(path) as folder:
        media_before = folder.db["media"].count
    code, _, err = run(capsys, "motion", path, "--model", "/no/such/model")
    assert code == 1 and "model not found" in err
    with open_project(path) as folder:
        assert (folder.db["media"].count, folder.db["shot_motion"].count) == (media_before, 0)


def test_motion_needs_a_model_and_documents_itself(capsys, project):
    path, _shot = project
    code, _, err = run(capsys, "motion", path)
    assert code == 2 and "--model" in err
    code, out, _ = run(capsys, "motion", "--help")
    assert code == 0 and "Ctrl-C cancels" in out and "--keys-per-second" in out
