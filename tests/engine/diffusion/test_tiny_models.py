"""Sanity checks of the tiny offline SD1 models that the diffusion-engine tests run on."""

import json
import shutil

import numpy as np
import pytest
import safetensors.torch
import torch
from PIL import Image

from .tiny_models import IMAGE_SIZE, build_tiny_models

PROMPT = "a storyboard frame"


def _quiet(pipe):
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _load_folder(tiny_models):
    from diffusers import StableDiffusionPipeline

    return _quiet(StableDiffusionPipeline.from_pretrained(tiny_models.pipeline, local_files_only=True))


def _generate(pipe, steps=2, **kwargs):
    return pipe(
        PROMPT,
        num_inference_steps=steps,
        height=IMAGE_SIZE,
        width=IMAGE_SIZE,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
        **kwargs,
    ).images


def _assert_same_weights(expected, actual, name):
    a, b = expected.state_dict(), actual.state_dict()
    assert a.keys() == b.keys(), f"{name}: key sets differ: {sorted(set(a) ^ set(b))[:10]}"
    for key in a:
        assert b[key].device.type != "meta", f"{name}.{key} was never loaded"
        assert torch.equal(a[key], b[key]), f"{name}.{key} differs"


def test_tokenizer_is_byte_level_clip(tiny_models):
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tiny_models.pipeline / "tokenizer", local_files_only=True)
    config = json.loads((tiny_models.pipeline / "text_encoder" / "config.json").read_text())
    ids = tokenizer(PROMPT).input_ids
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert len(ids) > 3 and max(ids) < config["vocab_size"] == len(tokenizer)
    # any byte sequence tokenizes without unknowns
    odd = tokenizer("Ünïcødé ✓ 42!").input_ids
    assert max(odd) < config["vocab_size"]
    padded = tokenizer(PROMPT, padding="max_length", max_length=tokenizer.model_max_length).input_ids
    assert tokenizer.model_max_length == 77 and len(padded) == 77


def test_txt2img_from_folder(tiny_models):
    images = _generate(_load_folder(tiny_models))
    assert images.shape == (1, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert np.isfinite(images).all()


@pytest.mark.parametrize("which", ["checkpoint", "pickle_checkpoint"])
def test_single_file_matches_folder(tiny_models, which):
    from diffusers import StableDiffusionPipeline

    folder = _load_folder(tiny_models)
    single = StableDiffusionPipeline.from_single_file(
        str(getattr(tiny_models, which)), config=str(tiny_models.pipeline), local_files_only=True
    )
    for name in ("unet", "vae", "text_encoder"):
        _assert_same_weights(getattr(folder, name), getattr(single, name), name)
    assert single.safety_checker is None


def test_single_file_weights_come_from_the_file(tiny_models, tmp_path):
    """With a config folder that holds no weights, every model must come from the checkpoint.

    (from_single_file silently falls back to <config>/<component> weights for a
    component it does not find in the file.)
    """
    from diffusers import StableDiffusionPipeline

    configs = tmp_path / "configs-only"
    shutil.copytree(
        tiny_models.pipeline, configs, ignore=shutil.ignore_patterns("*.safetensors", "*.bin")
    )
    folder = _load_folder(tiny_models)
    single = _quiet(
        StableDiffusionPipeline.from_single_file(
            str(tiny_models.checkpoint), config=str(configs), local_files_only=True
        )
    )
    for name in ("unet", "vae", "text_encoder"):
        _assert_same_weights(getattr(folder, name), getattr(single, name), name)
    np.testing.assert_array_equal(_generate(single), _generate(folder))


def test_checkpoint_has_ldm_keys(tiny_models):
    from diffusers.loaders.single_file_utils import infer_diffusers_model_type

    sd = safetensors.torch.load_file(str(tiny_models.checkpoint))
    prefixes = ("model.diffusion_model.", "first_stage_model.", "cond_stage_model.transformer.text_model.")
    assert all(key.startswith(prefixes) for key in sd)
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in sd)
    # the keys diffusers uses to recognise an SD1 checkpoint / its CLIP text encoder
    assert "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight" in sd
    assert "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight" in sd
    assert sd["first_stage_model.encoder.mid.attn_1.q.weight"].ndim == 4  # 1x1 conv, as in LDM
    assert infer_diffusers_model_type(sd) == "v1"


def test_pickle_checkpoint_loads_weights_only(tiny_models):
    loaded = torch.load(tiny_models.pickle_checkpoint, weights_only=True)
    assert set(loaded) == {"state_dict"}
    sd = loaded["state_dict"]
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    reference = safetensors.torch.load_file(str(tiny_models.checkpoint))
    assert sd.keys() == reference.keys()
    assert all(torch.equal(sd[k], reference[k]) for k in sd)


def test_lora_changes_the_unet(tiny_models):
    pipe = _load_folder(tiny_models)
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    context = torch.randn(1, 77, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = pipe.unet(latents, 10, context).sample
        pipe.load_lora_weights(str(tiny_models.lora))
        after = pipe.unet(latents, 10, context).sample
        pipe.unload_lora_weights()
        unloaded = pipe.unet(latents, 10, context).sample
    assert (after - before).abs().max() > 1e-2
    torch.testing.assert_close(unloaded, before)


def test_controlnet_pipeline(tiny_models):
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    controlnet = ControlNetModel.from_pretrained(tiny_models.controlnet, local_files_only=True)
    pipe = _quiet(StableDiffusionControlNetPipeline.from_pipe(_load_folder(tiny_models), controlnet=controlnet))
    ramp = np.tile(np.linspace(0, 255, IMAGE_SIZE, dtype=np.uint8)[None, :, None], (IMAGE_SIZE, 1, 3))
    flat = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), (128, 128, 128))
    with_ramp = _generate(pipe, image=Image.fromarray(ramp))
    assert with_ramp.shape == (1, IMAGE_SIZE, IMAGE_SIZE, 3)
    # the control image visibly matters (> 1 level of 255 on average)
    assert np.abs(with_ramp - _generate(pipe, image=flat)).mean() * 255 > 1


def test_taesd_decodes_sd_latents(tiny_models):
    from diffusers import AutoencoderKL, AutoencoderTiny

    taesd = AutoencoderTiny.from_pretrained(tiny_models.taesd, local_files_only=True)
    vae = AutoencoderKL.from_pretrained(tiny_models.pipeline / "vae", local_files_only=True)
    assert taesd.config.latent_channels == vae.config.latent_channels == 4
    with torch.no_grad():
        image = taesd.decode(torch.randn(1, 4, 8, 8)).sample
    assert image.shape == (1, 3, IMAGE_SIZE, IMAGE_SIZE)


def test_build_is_deterministic(tiny_models, tmp_path):
    again = build_tiny_models(tmp_path)
    for name in ("checkpoint", "lora"):
        first = safetensors.torch.load_file(str(getattr(tiny_models, name)))
        second = safetensors.torch.load_file(str(getattr(again, name)))
        assert first.keys() == second.keys()
        assert all(torch.equal(first[k], second[k]) for k in first), name
