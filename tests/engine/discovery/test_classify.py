"""What a file is, from tensor names and shapes."""

import pytest

from previz_app.engine.discovery.classify import (
    Classification,
    classify,
    control_from_name,
)
from previz_app.engine.discovery.entry import Family, ModelKind
from previz_app.engine.discovery.header import Header

from . import keys
from .keys import LDM, with_prefix, without_prefix


def kind_of(shapes, filename="model.safetensors", metadata=None):
    return classify(Header(tensors=shapes, metadata=metadata or {}), filename)


@pytest.mark.parametrize(
    ("shapes", "family"),
    [
        (keys.SD1_CHECKPOINT, Family.sd1),
        (keys.SD2_CHECKPOINT, Family.sd2),
        (keys.SDXL_CHECKPOINT, Family.sdxl),
        (keys.SDXL_REFINER_CHECKPOINT, Family.sdxl_refiner),
        (keys.SD3_CHECKPOINT, Family.sd3),
    ],
    ids=["sd1", "sd2", "sdxl", "sdxl_refiner", "sd3"],
)
def test_single_file_checkpoints_are_told_apart_by_shape(shapes, family):
    assert kind_of(shapes) == (ModelKind.checkpoint, family, "")


def test_the_result_is_a_named_tuple():
    found = kind_of(keys.SD1_CHECKPOINT)
    assert isinstance(found, Classification)
    assert (found.kind, found.family, found.control) == (ModelKind.checkpoint, Family.sd1, "")


def test_the_context_width_outweighs_the_text_encoder_keys():
    # An SD2 UNet saved with SD1-style text encoder keys is still SD2: shapes decide.
    shapes = {**keys.SD2_CHECKPOINT, "cond_stage_model.transformer.text_model.x.weight": (4, 4)}
    assert kind_of(shapes).family is Family.sd2


@pytest.mark.parametrize(
    ("shapes", "family"),
    [
        (keys.SD1_CHECKPOINT, Family.sd1),
        (keys.SDXL_CHECKPOINT, Family.sdxl),
        (keys.SDXL_REFINER_CHECKPOINT, Family.sdxl_refiner),
    ],
    ids=["sd1", "sdxl", "sdxl_refiner"],
)
def test_a_unet_alone_is_a_diffusion_model_with_or_without_the_ldm_prefix(shapes, family):
    unet = with_prefix(LDM, without_prefix(LDM, shapes))
    assert kind_of(unet) == (ModelKind.diffusion_model, family, "")
    assert kind_of(without_prefix(LDM, shapes)) == (ModelKind.diffusion_model, family, "")


def test_sdxl_is_known_by_its_added_embedding_when_no_cross_attention_is_stored():
    unet = {k: v for k, v in keys.SDXL_CHECKPOINT.items() if "attn2" not in k and k.startswith(LDM)}
    unet[LDM + "middle_block.0.in_layers.0.weight"] = (1280,)
    assert kind_of(unet) == (ModelKind.diffusion_model, Family.sdxl, "")


def test_flux_in_bfl_naming_alone_with_prefix_and_as_a_whole_checkpoint():
    flux = keys.FLUX_TRANSFORMER
    assert kind_of(flux) == (ModelKind.diffusion_model, Family.flux, "")
    assert kind_of(with_prefix(LDM, flux)) == (ModelKind.diffusion_model, Family.flux, "")
    whole = {
        **with_prefix(LDM, flux),
        "text_encoders.clip_l.transformer.text_model.final_layer_norm.weight": (768,),
        "text_encoders.t5xxl.transformer.shared.weight": (4, 4096),
        "vae.decoder.conv_in.weight": (512, 16, 3, 3),
    }
    assert kind_of(whole) == (ModelKind.checkpoint, Family.flux, "")


@pytest.mark.parametrize("marker", ["single_stream_modulation.lin.weight", "distilled_guidance_layer.in_proj.bias"])
def test_later_flux_shaped_architectures_are_not_called_flux1(marker):
    assert kind_of({**keys.FLUX_TRANSFORMER, marker: (4,)}) == (ModelKind.diffusion_model, Family.unknown, "")


def test_sd3_transformer_alone_in_original_naming():
    alone = {k: v for k, v in keys.SD3_CHECKPOINT.items() if k.startswith(LDM)}
    assert kind_of(alone) == (ModelKind.diffusion_model, Family.sd3, "")


def test_controlnet_in_original_naming_takes_its_conditioning_from_the_name():
    found = kind_of(keys.CONTROLNET_SD1, "control_v11f1p_sd15_depth.safetensors")
    assert found == (ModelKind.controlnet, Family.sd1, "depth")
    assert kind_of(without_prefix("control_model.", keys.CONTROLNET_SD1), "cn.safetensors") == (
        ModelKind.controlnet,
        Family.sd1,
        "",
    )


def test_an_sdxl_controlnet_in_original_naming():
    shapes = {
        "control_model.input_hint_block.0.weight": (16, 3, 3, 3),
        "control_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight": (4, 2048),
        "control_model.label_emb.0.0.weight": (4, 2816),
    }
    assert kind_of(shapes, "thibaud_xl_openpose.safetensors") == (ModelKind.controlnet, Family.sdxl, "pose")


@pytest.mark.parametrize(
    ("shapes", "family"),
    [
        (keys.KOHYA_LORA_SD1, Family.sd1),
        (keys.KOHYA_LORA_SDXL, Family.sdxl),
        (keys.KOHYA_LORA_FLUX, Family.flux),
        # SDXL told by the context width alone, with no text encoder trained:
        ({k: v for k, v in keys.KOHYA_LORA_SDXL.items() if k.startswith("lora_unet_")}, Family.sdxl),
        # SDXL told by the second text encoder alone:
        ({k: v for k, v in keys.KOHYA_LORA_SDXL.items() if k.startswith("lora_te")}, Family.sdxl),
        # An SD1 / SD2 LoRA of the text encoder alone:
        ({"lora_te_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight": (4, 768)}, Family.sd1),
        ({"lora_te_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight": (4, 1024)}, Family.sd2),
        (
            {"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight": (4, 1024)},
            Family.sd2,
        ),
    ],
    ids=["sd1", "sdxl", "flux", "sdxl-unet", "sdxl-te", "sd1-te", "sd2-te", "sd2-unet"],
)
def test_kohya_loras(shapes, family):
    assert kind_of(shapes, "style.safetensors") == (ModelKind.lora, family, "")


@pytest.mark.parametrize(
    ("key", "shape", "family"),
    [
        ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight", (4, 768), Family.sd1),
        ("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight", (4, 2048), Family.sdxl),
        (
            "text_encoder_2.text_model.encoder.layers.0.self_attn.k_proj.lora_linear_layer.down.weight",
            (4, 1280),
            Family.sdxl,
        ),
        ("transformer.single_transformer_blocks.0.attn.to_k.lora_A.weight", (4, 3072), Family.flux),
        ("transformer.transformer_blocks.0.attn.to_k.lora_A.weight", (4, 3072), Family.unknown),
    ],
    ids=["peft-sd1", "diffusers-sdxl", "te2", "flux", "unknown"],
)
def test_diffusers_and_peft_loras(key, shape, family):
    up = key.replace("lora_A", "lora_B").replace("down", "up")
    assert kind_of({key: shape, up: (shape[1], shape[0])}) == (ModelKind.lora, family, "")


@pytest.mark.parametrize(
    ("shapes", "filename", "metadata", "family"),
    [
        (keys.VAE_ORIGINAL, "vae-ft-mse-840000-ema-pruned.safetensors", {}, Family.sd1),
        (keys.VAE_ORIGINAL, "sdxl_vae.safetensors", {}, Family.sdxl),
        (with_prefix("first_stage_model.", keys.VAE_ORIGINAL), "extracted.safetensors", {}, Family.sd1),
        (keys.VAE16_ORIGINAL, "sd3_vae.safetensors", {}, Family.sd3),
        (keys.VAE16_ORIGINAL, "ae.safetensors", {}, Family.flux),
        (keys.VAE16_ORIGINAL, "vae16.safetensors", {"modelspec.architecture": "Flux.1-AE"}, Family.flux),
    ],
    ids=["sd1", "xl-by-name", "prefixed", "sd3", "flux-ae", "flux-metadata"],
)
def test_vaes(shapes, filename, metadata, family):
    assert kind_of(shapes, filename, metadata) == (ModelKind.vae, family, "")


@pytest.mark.parametrize(
    ("filename", "family"),
    [
        ("taesd_decoder.safetensors", Family.sd1),
        ("taesdxl_decoder.safetensors", Family.sdxl),
        ("taesd3_decoder.safetensors", Family.sd3),
        ("taef1_decoder.safetensors", Family.flux),
        ("tiny_decoder.safetensors", Family.unknown),
    ],
)
def test_original_taesd_files_take_their_family_from_the_name(filename, family):
    assert kind_of(keys.TAESD_DECODER, filename) == (ModelKind.taesd, family, "")


@pytest.mark.parametrize(
    "shapes",
    [
        {},
        keys.TEXT_ENCODER,
        {"weight": (4, 4)},
        {"0.weight": (4, 4), "1.bias": (4,)},  # numbered, but no TAESD block
        {"emb_params": (4, 768)},  # a textual inversion embedding
    ],
    ids=["empty", "text-encoder", "single", "numbered", "embedding"],
)
def test_anything_else_is_unknown_never_guessed(shapes):
    assert kind_of(shapes, "sd15_model.safetensors") == (ModelKind.unknown, Family.unknown, "")


@pytest.mark.parametrize(
    ("name", "control"),
    [
        ("control_v11f1p_sd15_depth.safetensors", "depth"),
        ("control_v11p_sd15_openpose.pth", "pose"),
        ("thibaud_xl_openpose_256lora", "pose"),
        ("control_v11p_sd15s2_lineart_anime", "lineart"),
        ("controlnet-canny-sdxl-1.0", "canny"),
        ("control_v11p_sd15_scribble", "scribble"),
        ("control_v11p_sd15_softedge", "softedge"),
        ("control_sd15_hed", "softedge"),
        ("control_v11p_sd15_normalbae", "normal"),
        ("control_v11p_sd15_seg", "seg"),
        ("control_v11f1e_sd15_tile", "tile"),
        ("control_v11p_sd15_mlsd", "mlsd"),
        ("control_v11p_sd15_inpaint", "inpaint"),
        ("control_v11e_sd15_ip2p", "ip2p"),
        ("control_v11e_sd15_shuffle", "shuffle"),
        ("diffusers/controlnet-zoe-depth-sdxl-1.0", "depth"),
        ("controlnet-union-sdxl-1.0", ""),
        ("my_controlnet", ""),
    ],
)
def test_control_from_name(name, control):
    assert control_from_name(name) == control
