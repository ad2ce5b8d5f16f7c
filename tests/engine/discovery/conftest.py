"""Tiny real diffusers models, saved once per test run, for their real key names."""

import warnings
from pathlib import Path

import pytest


def _save(model, folder: Path) -> Path:
    model.save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="session")
def diffusers_folders(tmp_path_factory) -> dict[str, Path]:
    """Folder name to a saved tiny diffusers model (config.json + weights). Folder
    names carry what only a name can tell (taesdxl, sdxl-vae, canny)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        AutoencoderTiny,
        ControlNetModel,
        FluxControlNetModel,
        FluxTransformer2DModel,
        SD3Transformer2DModel,
        UNet2DConditionModel,
    )
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("diffusers")
    unet_blocks = {
        "block_out_channels": (8, 16),
        "layers_per_block": 1,
        "norm_num_groups": 4,
        "attention_head_dim": 2,
        "sample_size": 8,
        "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
        "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
    }
    sdxl_extra = {"addition_embed_type": "text_time", "addition_time_embed_dim": 8}
    transformer = {
        "patch_size": 1, "in_channels": 4, "num_layers": 1, "attention_head_dim": 4,
        "num_attention_heads": 2, "joint_attention_dim": 8, "pooled_projection_dim": 8,
    }
    flux = {**transformer, "num_single_layers": 1, "axes_dims_rope": (2, 1, 1)}
    vae = {
        "block_out_channels": (8, 16),
        "down_block_types": ("DownEncoderBlock2D",) * 2,
        "up_block_types": ("UpDecoderBlock2D",) * 2,
        "norm_num_groups": 4,
        "layers_per_block": 1,
    }
    sd1_unet = UNet2DConditionModel(**unet_blocks, cross_attention_dim=768)
    folders = {
        "unet-sd1": _save(sd1_unet, root / "unet-sd1"),
        "unet-sdxl": _save(
            UNet2DConditionModel(**unet_blocks, **sdxl_extra, cross_attention_dim=2048,
                                 projection_class_embeddings_input_dim=2816),
            root / "unet-sdxl",
        ),
        "unet-refiner": _save(
            UNet2DConditionModel(**unet_blocks, **sdxl_extra, cross_attention_dim=1280,
                                 projection_class_embeddings_input_dim=2560),
            root / "unet-refiner",
        ),
        "control_v11p_sd15_canny": _save(
            ControlNetModel(**{k: v for k, v in unet_blocks.items() if k not in ("up_block_types", "sample_size")},
                            cross_attention_dim=768, conditioning_embedding_out_channels=(4, 8)),
            root / "control_v11p_sd15_canny",
        ),
        "vae": _save(AutoencoderKL(**vae, latent_channels=4), root / "vae"),
        "sdxl-vae": _save(AutoencoderKL(**vae, latent_channels=4), root / "sdxl-vae"),
        "sd3-vae": _save(AutoencoderKL(**vae, latent_channels=16), root / "sd3-vae"),
        "taesdxl": _save(
            AutoencoderTiny(encoder_block_out_channels=(8, 8), decoder_block_out_channels=(8, 8),
                            num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1)),
            root / "taesdxl",
        ),
        "sd3-transformer": _save(
            SD3Transformer2DModel(**{**transformer, "patch_size": 2}, sample_size=8,
                                  caption_projection_dim=8, out_channels=4),
            root / "sd3-transformer",
        ),
        "flux-transformer": _save(FluxTransformer2DModel(**flux), root / "flux-transformer"),
    }
    with warnings.catch_warnings():  # FluxControlNetModel uses a deprecated FluxPosEmbed
        warnings.simplefilter("ignore", FutureWarning)
        folders["flux-controlnet-depth"] = _save(FluxControlNetModel(**flux), root / "flux-controlnet-depth")
    # A LoRA as diffusers' training scripts save it: PEFT state dict, "unet." prefix.
    sd1_unet.add_adapter(LoraConfig(r=2, lora_alpha=2, target_modules=["to_k", "to_q", "to_v", "to_out.0"]))
    lora = {f"unet.{key}": value for key, value in get_peft_model_state_dict(sd1_unet).items()}
    (root / "lora").mkdir()
    save_file(lora, str(root / "lora" / "pytorch_lora_weights.safetensors"))
    folders["lora"] = root / "lora"
    return folders
