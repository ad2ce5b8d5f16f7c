"""`previz models scan` and `previz models list`: the user's models, offline."""

import json
import shutil

import pytest

from tests.cli.runner import run


@pytest.fixture
def comfyui(tmp_path, tiny_models):
    """A ComfyUI models folder holding the tiny models, plus one cut-off download."""
    models = tmp_path / "ComfyUI" / "models"
    for sub in ("checkpoints", "loras", "controlnet", "vae_approx", "diffusers"):
        (models / sub).mkdir(parents=True)
    shutil.copy(tiny_models.checkpoint, models / "checkpoints")
    shutil.copy(tiny_models.pickle_checkpoint, models / "checkpoints")
    shutil.copy(tiny_models.lora, models / "loras")
    shutil.copytree(tiny_models.controlnet, models / "controlnet" / "control_depth")
    shutil.copytree(tiny_models.taesd, models / "vae_approx" / "taesd")
    shutil.copytree(tiny_models.pipeline, models / "diffusers" / "tiny-diffusers")
    data = tiny_models.checkpoint.read_bytes()
    (models / "checkpoints" / "cut.safetensors").write_bytes(data[: len(data) // 3])
    return models


def test_list_before_any_scan_says_to_scan(capsys):
    code, _, err = run(capsys, "models", "list")
    assert code == 1 and "no scan yet" in err


def test_scan_classifies_and_list_remembers(capsys, comfyui):
    code, out, _ = run(capsys, "models", "scan", comfyui, "--json")
    assert code == 0
    found = {entry["name"]: entry for entry in json.loads(out)}
    assert (found["tiny-sd15"]["kind"], found["tiny-sd15"]["source"]) == ("checkpoint", "comfyui")
    assert found["tiny-sd15"]["family"] == "sd1"
    assert found["tiny-diffusers"]["kind"] == "pipeline"
    assert found["tiny"]["kind"] == "pickle"
    assert found["tiny-lora"]["kind"] == "lora"
    assert (found["control_depth"]["kind"], found["control_depth"]["control"]) == ("controlnet", "depth")
    assert found["taesd"]["kind"] == "taesd"
    assert "truncated" in found["cut"]["error"]

    code, out, _ = run(capsys, "models", "list", "--json")
    assert code == 0 and json.loads(out) == list(found.values())
    code, out, _ = run(capsys, "models", "list")
    assert "damaged" in out and "error:" in out and str(comfyui) in out


def test_scan_of_a_missing_folder_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "models", "scan", tmp_path / "nowhere")
    assert code == 1 and "does not exist" in err and "Traceback" not in err
