"""Walking model folders: layouts, sources, damaged files, pickles, loops."""

import builtins
import json
import os
import shutil
from pathlib import Path

import pytest

from previz_app.engine.discovery import scan as scan_module
from previz_app.engine.discovery.entry import Family, ModelEntry, ModelKind
from previz_app.engine.discovery.scan import default_roots, scan

from . import keys
from .keys import write_model


def by_name(entries):
    return {entry.name: entry for entry in entries}


def summary(entry: ModelEntry):
    return (entry.kind, entry.family, entry.control, entry.source)


def write_pipeline(folder: Path, class_name="StableDiffusionXLPipeline", context=2048, text_encoder=True):
    """A diffusers pipeline folder: model_index.json and its components' configs."""
    index = {
        "_class_name": class_name,
        "_diffusers_version": "0.30.0",
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
        "text_encoder": ["transformers", "CLIPTextModel"] if text_encoder else [None, None],
        "safety_checker": [None, None],
    }
    for component in ("unet", "vae") + (("text_encoder",) if text_encoder else ()):
        (folder / component).mkdir(parents=True)
        (folder / component / "config.json").write_text("{}")
    (folder / "model_index.json").write_text(json.dumps(index))
    (folder / "unet" / "config.json").write_text(json.dumps({"cross_attention_dim": context}))
    write_model(folder / "unet" / "diffusion_pytorch_model.safetensors", {"conv_in.weight": (4, 4, 3, 3)})
    return folder


def test_a_comfyui_tree(tmp_path):
    models = tmp_path / "ComfyUI" / "models"
    write_model(models / "checkpoints" / "v1-5-pruned-emaonly.safetensors", keys.SD1_CHECKPOINT)
    write_model(models / "checkpoints" / "XL" / "juggernaut.safetensors", keys.SDXL_CHECKPOINT)
    write_model(models / "loras" / "style.safetensors", keys.KOHYA_LORA_SDXL)
    write_model(models / "controlnet" / "control_v11p_sd15_openpose.safetensors", keys.CONTROLNET_SD1)
    write_model(models / "vae" / "sdxl_vae.safetensors", keys.VAE_ORIGINAL)
    write_model(models / "vae_approx" / "taesdxl_decoder.safetensors", keys.TAESD_DECODER)
    write_model(models / "unet" / "flux1-dev.safetensors", {"double_blocks.0.img_attn.qkv.weight": (4, 4)})
    write_model(models / "clip" / "clip_l.safetensors", keys.TEXT_ENCODER)  # not a folder previz reads
    (models / "checkpoints" / "put_checkpoints_here").write_text("")

    for root in (tmp_path / "ComfyUI", models):
        found = by_name(scan([root]))
        assert {name: summary(e) for name, e in found.items()} == {
            "v1-5-pruned-emaonly": (ModelKind.checkpoint, Family.sd1, "", "comfyui"),
            "juggernaut": (ModelKind.checkpoint, Family.sdxl, "", "comfyui"),
            "style": (ModelKind.lora, Family.sdxl, "", "comfyui"),
            "control_v11p_sd15_openpose": (ModelKind.controlnet, Family.sd1, "pose", "comfyui"),
            "sdxl_vae": (ModelKind.vae, Family.sdxl, "", "comfyui"),
            "taesdxl_decoder": (ModelKind.taesd, Family.sdxl, "", "comfyui"),
            "flux1-dev": (ModelKind.diffusion_model, Family.flux, "", "comfyui"),
        }
    entry = found["juggernaut"]
    path = models / "checkpoints" / "XL" / "juggernaut.safetensors"
    assert entry.path == str(path)
    assert (entry.size, entry.mtime_ns) == (path.stat().st_size, path.stat().st_mtime_ns)
    assert entry.error == ""


def test_the_folder_a_file_is_in_is_only_a_hint(tmp_path):
    models = tmp_path / "models"
    write_model(models / "loras" / "actually_a_vae.safetensors", keys.VAE_ORIGINAL)
    assert summary(scan([models])[0]) == (ModelKind.vae, Family.sd1, "", "comfyui")


def test_an_a1111_tree(tmp_path):
    webui = tmp_path / "stable-diffusion-webui"
    models = webui / "models"
    write_model(models / "Stable-diffusion" / "v2-1_768-ema-pruned.safetensors", keys.SD2_CHECKPOINT)
    write_model(models / "Lora" / "detail.safetensors", keys.KOHYA_LORA_SD1)
    write_model(models / "VAE" / "vae-ft-mse-840000-ema-pruned.safetensors", keys.VAE_ORIGINAL)
    write_model(models / "VAE-approx" / "model.pt", {})
    (models / "ControlNet").mkdir()
    (models / "Stable-diffusion" / "v1-5-pruned.ckpt").write_bytes(b"PK\x03\x04 pickle")
    found = by_name(scan([webui]))
    assert {name: summary(e) for name, e in found.items()} == {
        "v2-1_768-ema-pruned": (ModelKind.checkpoint, Family.sd2, "", "a1111"),
        "v1-5-pruned": (ModelKind.pickle, Family.unknown, "", "a1111"),
        "detail": (ModelKind.lora, Family.sd1, "", "a1111"),
        "vae-ft-mse-840000-ema-pruned": (ModelKind.vae, Family.sd1, "", "a1111"),
        "model": (ModelKind.pickle, Family.unknown, "", "a1111"),
    }


def make_blob(repo: Path, name: str, content: bytes) -> Path:
    blob = repo / "blobs" / name
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(content)
    return blob


def link_snapshot(repo: Path, revision: str, files: dict[str, bytes]) -> Path:
    """A hub-cache snapshot: files are symlinks into blobs/, as huggingface_hub makes them."""
    snapshot = repo / "snapshots" / revision
    for index, (relative, content) in enumerate(files.items()):
        target = snapshot / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(make_blob(repo, f"{revision}-{index}", content))
    return snapshot


def test_a_hugging_face_cache(tmp_path):
    hub = tmp_path / "hub"
    staging = write_pipeline(tmp_path / "staging" / "pipe")
    files = {str(p.relative_to(staging)): p.read_bytes() for p in staging.rglob("*") if p.is_file()}
    repo = hub / "models--stabilityai--stable-diffusion-xl-base-1.0"
    old = link_snapshot(repo, "0" * 40, {"model_index.json": b"{}"})
    current = link_snapshot(repo, "a" * 40, files)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    os.utime(old, ns=(current.stat().st_mtime_ns + 10**9,) * 2)  # newer, but not refs/main

    vae = write_model(tmp_path / "staging" / "vae.safetensors", keys.VAE_ORIGINAL)
    config = json.dumps({"_class_name": "AutoencoderKL", "latent_channels": 4}).encode()
    link_snapshot(
        hub / "models--madebyollin--sdxl-vae-fp16-fix",
        "b" * 40,
        {"config.json": config, "diffusion_pytorch_model.safetensors": vae.read_bytes()},
    )
    lora = write_model(tmp_path / "staging" / "lora.safetensors", keys.KOHYA_LORA_SD1)
    link_snapshot(
        hub / "models--someone--detail-lora", "c" * 40, {"pytorch_lora_weights.safetensors": lora.read_bytes()}
    )
    (hub / ".locks" / "models--someone--detail-lora").mkdir(parents=True)

    found = by_name(scan([hub]))
    assert scan([tmp_path]) == scan([hub])  # HF_HOME, holding hub/, is read as the hub
    assert {name: summary(e) for name, e in found.items()} == {
        "madebyollin/sdxl-vae-fp16-fix": (ModelKind.vae, Family.sdxl, "", "hf_cache"),
        "someone/detail-lora/pytorch_lora_weights": (ModelKind.lora, Family.sd1, "", "hf_cache"),
        "stabilityai/stable-diffusion-xl-base-1.0": (ModelKind.pipeline, Family.sdxl, "", "hf_cache"),
    }
    pipeline = found["stabilityai/stable-diffusion-xl-base-1.0"]
    assert pipeline.path == str(current)
    assert pipeline.size == sum(len(content) for content in files.values())
    assert pipeline.error == ""


def test_the_newest_snapshot_is_used_without_refs(tmp_path):
    repo = tmp_path / "hub" / "models--org--name"
    old = write_pipeline(repo / "snapshots" / "old", "StableDiffusionPipeline", context=768)
    new = write_pipeline(repo / "snapshots" / "new", "StableDiffusionPipeline", context=1024)
    os.utime(old, ns=(1, 1))
    (entry,) = scan([tmp_path / "hub"])
    assert (entry.path, entry.family, entry.name) == (str(new), Family.sd2, "org/name")


@pytest.mark.parametrize(
    ("class_name", "context", "text_encoder", "family"),
    [
        ("StableDiffusionPipeline", 768, True, Family.sd1),
        ("StableDiffusionPipeline", 1024, True, Family.sd2),
        ("StableDiffusionXLPipeline", 2048, True, Family.sdxl),
        ("StableDiffusionXLImg2ImgPipeline", 1280, False, Family.sdxl_refiner),
        ("StableDiffusion3Pipeline", 0, True, Family.sd3),
        ("FluxPipeline", 0, True, Family.flux),
        ("Flux2Pipeline", 0, True, Family.unknown),
        ("PixArtAlphaPipeline", 0, True, Family.unknown),
    ],
)
def test_diffusers_pipeline_folders(tmp_path, class_name, context, text_encoder, family):
    write_pipeline(tmp_path / "models" / "my-pipeline", class_name, context, text_encoder)
    (entry,) = scan([tmp_path / "models"])
    assert (entry.kind, entry.family, entry.source) == (ModelKind.pipeline, family, "diffusers")
    assert entry.name == "my-pipeline"


def test_a_pipeline_is_not_descended_into(tmp_path):
    pipeline = write_pipeline(tmp_path / "pipe")
    write_model(pipeline / "vae" / "diffusion_pytorch_model.safetensors", keys.VAE_ORIGINAL)
    (pipeline / "text_encoder" / "pytorch_model.bin").write_bytes(b"pickle")
    entries = scan([tmp_path])
    assert [e.kind for e in entries] == [ModelKind.pipeline]


def test_a_pipeline_with_a_missing_component_or_truncated_weights(tmp_path):
    incomplete = write_pipeline(tmp_path / "incomplete")
    shutil.rmtree(incomplete / "vae")
    truncated = write_pipeline(tmp_path / "truncated")
    weights = truncated / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    found = by_name(scan([tmp_path]))
    assert found["incomplete"].error == "incomplete is incomplete: missing vae"
    assert found["truncated"].error.startswith("diffusion_pytorch_model.safetensors is truncated")


def test_damaged_files_become_entries_with_an_error(tmp_path):
    good = write_model(tmp_path / "good.safetensors", keys.SD1_CHECKPOINT)
    (tmp_path / "cut.safetensors").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "prompts.safetensors").write_text("a castle at dawn, volumetric light\n" * 10)
    found = by_name(scan([tmp_path]))
    assert summary(found["good"]) == (ModelKind.checkpoint, Family.sd1, "", "folder")
    for name in ("cut", "empty", "prompts"):
        assert (found[name].kind, found[name].family) == (ModelKind.unknown, Family.unknown)
    assert found["cut"].error.startswith("cut.safetensors is truncated: tensors need")
    assert found["empty"].error.startswith("empty.safetensors is empty")
    assert found["prompts"].error.startswith("prompts.safetensors is not a safetensors file")


def test_pickles_are_listed_and_never_opened(tmp_path, monkeypatch):
    for name in ("model.ckpt", "lora.pt", "upscaler.pth", "pytorch_model.bin"):
        (tmp_path / name).write_bytes(b"\x80\x02 a pickle that would run code")
    (tmp_path / "readme.txt").write_text("not a model")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        assert Path(file).suffix not in {".ckpt", ".pt", ".pth", ".bin"}, f"opened {file}"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(scan_module, "read_header", lambda path: pytest.fail(f"read {path}"))
    entries = scan([tmp_path])
    assert sorted((e.name, e.kind, e.family) for e in entries) == [
        ("lora", ModelKind.pickle, Family.unknown),
        ("model", ModelKind.pickle, Family.unknown),
        ("pytorch_model", ModelKind.pickle, Family.unknown),
        ("upscaler", ModelKind.pickle, Family.unknown),
    ]


def test_symlink_loops_end_and_each_file_is_listed_once(tmp_path):
    inner = tmp_path / "models" / "a" / "b"
    write_model(inner / "lora.safetensors", keys.KOHYA_LORA_SD1)
    (inner / "loop").symlink_to(tmp_path / "models")
    (inner / "self").symlink_to(inner)
    (tmp_path / "models" / "again.safetensors").symlink_to(inner / "lora.safetensors")
    (tmp_path / "models" / "dangling.safetensors").symlink_to(tmp_path / "gone")
    entries = scan([tmp_path / "models", tmp_path / "models" / "a"])
    assert [e.kind for e in entries] == [ModelKind.lora]


def test_unreadable_folders_and_missing_roots_are_skipped(tmp_path, monkeypatch):
    write_model(tmp_path / "open" / "lora.safetensors", keys.KOHYA_LORA_SD1)
    write_model(tmp_path / "locked" / "secret.safetensors", keys.KOHYA_LORA_SD1)
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    entries = scan([tmp_path / "missing", tmp_path])
    assert [e.name for e in entries] == ["lora"]


def test_hidden_folders_are_skipped_and_a_file_can_be_a_root(tmp_path):
    write_model(tmp_path / ".trash" / "old.safetensors", keys.KOHYA_LORA_SD1)
    model = write_model(tmp_path / "one.safetensors", keys.VAE_ORIGINAL)
    assert [e.name for e in scan([tmp_path])] == ["one"]
    assert [e.kind for e in scan([model])] == [ModelKind.vae]


def test_default_roots(tmp_path):
    home = tmp_path / "home"
    (home / ".cache" / "huggingface" / "hub").mkdir(parents=True)
    (home / "ComfyUI" / "models").mkdir(parents=True)
    assert default_roots(home, {}) == [home / ".cache" / "huggingface" / "hub", home / "ComfyUI" / "models"]

    (tmp_path / "hf" / "hub").mkdir(parents=True)
    (tmp_path / "comfy").mkdir()
    (home / "stable-diffusion-webui" / "models").mkdir(parents=True)
    environ = {"HF_HOME": str(tmp_path / "hf"), "COMFYUI_PATH": str(tmp_path / "comfy")}
    assert default_roots(home, environ) == [
        tmp_path / "hf" / "hub",
        tmp_path / "comfy",
        home / "ComfyUI" / "models",
        home / "stable-diffusion-webui" / "models",
    ]
    assert default_roots(home, {"HF_HUB_CACHE": "~/.cache/huggingface/hub", "HF_HOME": "/nowhere"})[0] == (
        home / ".cache" / "huggingface" / "hub"
    )
    assert default_roots(tmp_path / "nobody", {}) == []
