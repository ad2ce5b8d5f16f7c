"""`previz generate`: frames for shots from the terminal."""

import hashlib

import pytest

from previz_app.engine.discovery.library import ModelLibrary
from previz_app.engine.request import FrameRequest, Lora, read_png_request
from previz_app.store import open_project, shots, takes
from tests.cli.runner import run


def test_generate_every_shot_then_one_shot_with_variations(capsys, drafted):
    path = drafted.path
    drafted.close()
    code, out, _ = run(capsys, "generate", path)
    assert code == 0
    with open_project(path) as folder:
        listed = shots.list_shots(folder.db)
        assert out.strip() == f"{len(listed)} frames kept as takes"
        assert all(len(takes.list_takes(folder.db, shot.id)) == 1 for shot in listed)
        target = listed[1]
    code, out, _ = run(capsys, "generate", path, "--scene", "1", "--shot", target.number, "--variations", "2", "--seed", "9")
    assert (code, out.strip()) == (0, "2 frames kept as takes")
    with open_project(path) as folder:
        recipes = [FrameRequest.from_json(t.recipe) for t in takes.list_takes(folder.db, target.id)]
    assert len(recipes) == 3 and recipes[2].seed == recipes[1].seed + 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shot", "99"], "no shot numbered '99'"),
        (["--scene", "7"], "no scene numbered '7'"),
        (["--mode", "img2img"], "needs --engine diffusers"),
        (["--engine", "diffusers"], "needs --model"),
        (["--engine", "diffusers", "--model", "m", "--mode", "controlled"], "ControlNet model"),
        (["--engine", "diffusers", "--model", "m", "--mode", "controlled", "--control", "edges=x"], "KIND=PATH"),
    ],
)
def test_generate_explains_what_is_wrong(capsys, drafted, args, message):
    path = drafted.path
    drafted.close()
    code, _, err = run(capsys, "generate", path, *args)
    assert code != 0 and message in err
    assert "Traceback" not in err


def first_shot(path):
    with open_project(path) as folder:
        return shots.list_shots(folder.db)[0]


@pytest.mark.parametrize("mode_args", [["--lora", "LORA=0.7"], ["--mode", "img2img"], ["--mode", "controlled"]])
def test_generate_with_a_diffusers_model_in_each_mode(capsys, drafted, tiny_models, mode_args):
    path = drafted.path
    drafted.close()
    shot = first_shot(path)
    if mode_args[1:] == ["controlled"]:
        mode_args = mode_args + ["--control", f"depth={tiny_models.controlnet}"]
    mode_args = [arg.replace("LORA", str(tiny_models.lora)) for arg in mode_args]
    code, out, err = run(capsys, "generate", path, "--scene", "1", "--shot", shot.number, "--engine", "diffusers",
                         "--model", tiny_models.pipeline, "--steps", "2", *mode_args)
    assert (code, out.strip()) == (0, "1 frame kept as takes"), err
    with open_project(path) as folder:
        kept = takes.list_takes(folder.db, shot.id)
        recipe = FrameRequest.from_json(kept[-1].recipe)
        image = folder.media.read(kept[-1].media_hash)
    assert recipe.engine == "diffusers" and recipe.model == str(tiny_models.pipeline)
    assert recipe.mode.value == (mode_args[1] if mode_args[0] == "--mode" else "txt2img")
    assert recipe.model_hash == ModelLibrary.for_user().model_hash(str(tiny_models.pipeline)) and len(recipe.model_hash) == 64
    if mode_args[0] == "--lora":
        assert recipe.loras == (Lora(str(tiny_models.lora), 0.7, hashlib.sha256(tiny_models.lora.read_bytes()).hexdigest()),)
    assert FrameRequest.from_json(read_png_request(image).to_json()) == recipe


def test_generate_refuses_a_pickled_model_without_consent(capsys, drafted, tiny_models):
    path = drafted.path
    drafted.close()
    code, _, err = run(capsys, "generate", path, "--shot", first_shot(path).number, "--scene", "1",
                       "--engine", "diffusers", "--model", tiny_models.pickle_checkpoint)
    assert code == 1 and "pickled checkpoint" in err and "Traceback" not in err


def test_a_missing_model_is_caught_before_any_take_is_made(capsys, drafted):
    path = drafted.path
    drafted.close()
    code, _, err = run(capsys, "generate", path, "--engine", "diffusers", "--model", "/no/such/model", "--mode", "img2img")
    assert code == 1 and "model not found" in err
    with open_project(path) as folder:
        assert all(not takes.list_takes(folder.db, shot.id) for shot in shots.list_shots(folder.db))
