"""The model library: remembered folders, the last scan, what the engine borrows."""

import json
import shutil

import pytest

from previz_app.engine.discovery.library import ModelLibrary, library_dir


def test_library_dir_follows_the_environment(tmp_path):
    assert library_dir(tmp_path, {"PREVIZ_HOME": "/x/p"}).as_posix() == "/x/p"
    assert library_dir(tmp_path, {"XDG_DATA_HOME": "/data"}).as_posix() == "/data/previz"
    assert library_dir(tmp_path, {}) == tmp_path / ".local" / "share" / "previz"


def test_scan_remembers_folders_and_offers_configs_and_previews(tmp_path, tiny_models):
    sd1 = tmp_path / "models" / "sd1-diffusers"
    shutil.copytree(tiny_models.pipeline, sd1)
    unet_config = sd1 / "unet" / "config.json"
    config = json.loads(unet_config.read_text())
    config["cross_attention_dim"] = 768  # what a real SD1 folder says
    unet_config.write_text(json.dumps(config))
    shutil.copytree(tiny_models.taesd, tmp_path / "models" / "taesd")
    control = tmp_path / "models" / "control_sd15_depth"
    shutil.copytree(tiny_models.controlnet, control)
    control_config = control / "config.json"
    config = json.loads(control_config.read_text())
    config["cross_attention_dim"] = 768
    control_config.write_text(json.dumps(config))
    library = ModelLibrary(tmp_path / "lib", tmp_path / "home", {})

    assert library.listed() is None
    library.scan([tmp_path / "models"])
    assert library.added_folders() == [tmp_path / "models"]
    again = ModelLibrary(tmp_path / "lib", tmp_path / "home", {})
    assert [e.name for e in again.listed()] == [e.name for e in library.scan()]
    assert again.configs() == {"sd1": str(sd1), "controlnet-sd1": str(control)}
    assert again.previews() == {"sd1": str(tmp_path / "models" / "taesd")}
    again.forget(tmp_path / "models")
    assert library.added_folders() == [] and library.scan() == []


def test_a_damaged_list_reads_as_no_scan(tmp_path):
    library = ModelLibrary(tmp_path, tmp_path, {})
    (tmp_path / "models.json").write_text("{not json")
    assert library.listed() is None


@pytest.mark.parametrize("broken", ["[1, 2", "{}"])
def test_a_damaged_folder_list_is_ignored(tmp_path, broken):
    (tmp_path / "folders.json").write_text(broken)
    assert ModelLibrary(tmp_path, tmp_path, {}).added_folders() == []


def test_model_hash_is_read_once_and_follows_changes(tmp_path, tiny_models, monkeypatch):
    import hashlib

    from previz_app.engine.discovery import library as library_module

    library = ModelLibrary(tmp_path / "lib", tmp_path, {})
    model = tmp_path / "model.safetensors"
    shutil.copy(tiny_models.checkpoint, model)
    reads = []
    real = library_module.file_hash
    monkeypatch.setattr(library_module, "file_hash", lambda p: reads.append(p) or real(p))

    announced = []
    first = library.model_hash(str(model), announced.append)
    assert first == hashlib.sha256(model.read_bytes()).hexdigest() and announced == ["model.safetensors"]
    assert library.model_hash(str(model), announced.append) == first and len(reads) == 1 and len(announced) == 1
    model.write_bytes(model.read_bytes() + b" ")
    assert library.model_hash(str(model)) != first and len(reads) == 2

    folder_hash = library.model_hash(str(tiny_models.pipeline))
    assert len(folder_hash) == 64 and library.model_hash(str(tiny_models.pipeline)) == folder_hash
    assert library.model_hash("someone/some-model") == ""
