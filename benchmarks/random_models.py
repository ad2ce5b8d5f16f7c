"""Full-size Stable Diffusion architectures with random weights, for speed work.

Speed does not depend on the weights, so these time exactly like the real models.
The tokenizer is the tests' byte-level CLIP tokenizer (no download); the text
encoders keep CLIP's real vocabulary size.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.engine.diffusion.tiny_models import SCHEDULER_CONFIG, write_tokenizer  # noqa: E402

CLIP_VOCAB = 49408

# (UNet config, VAE block widths, text encoders as (hidden, layers, heads, projection or 0))
SHAPES = {
    "sd15": dict(
        unet=dict(
            sample_size=64, cross_attention_dim=768, attention_head_dim=8,
            block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        ),
        vae=(128, 256, 512, 512),
        text=((768, 12, 12, 0),),
        size=512,
    ),
    "sdxl": dict(
        unet=dict(
            sample_size=128, cross_attention_dim=2048, attention_head_dim=(5, 10, 20),
            block_out_channels=(320, 640, 1280), layers_per_block=2, transformer_layers_per_block=(1, 2, 10),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=2816,
        ),
        vae=(128, 256, 512, 512),
        text=((768, 12, 12, 0), (1280, 32, 20, 1280)),
        size=1024,
    ),
    # SD1.5's layout at an eighth of the width: the CPU comparison.
    "small": dict(
        unet=dict(
            sample_size=16, cross_attention_dim=96, attention_head_dim=8,
            block_out_channels=(40, 80, 160, 160), layers_per_block=2, norm_num_groups=8,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        ),
        vae=(16, 32, 64, 64),
        text=((96, 4, 4, 0),),
        size=128,
    ),
}


def build(shape: str, folder: Path, dtype: torch.dtype, device: str = "cpu") -> Path:
    """Save a random-weight pipeline of `shape` as a diffusers folder; returns it.
    `device` is where the weights are drawn: on a GPU, SDXL's take seconds, not a minute."""
    with torch.device(device):
        return _build(shape, folder, dtype)


def _build(shape: str, folder: Path, dtype: torch.dtype) -> Path:
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    spec = SHAPES[shape]
    torch.manual_seed(0)
    tokenizer, vocab = write_tokenizer(folder / "tokenizer", folder / "scratch")
    encoders = []
    for hidden, layers, heads, projection in spec["text"]:
        config = CLIPTextConfig(
            hidden_size=hidden, intermediate_size=hidden * 4, num_hidden_layers=layers, num_attention_heads=heads,
            vocab_size=CLIP_VOCAB, max_position_embeddings=77, projection_dim=projection or hidden,
            hidden_act="gelu" if projection else "quick_gelu",
            bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"],
        )
        encoders.append((CLIPTextModelWithProjection if projection else CLIPTextModel)(config).to(dtype))
    groups = spec["unet"].get("norm_num_groups", 32)
    vae = AutoencoderKL(
        block_out_channels=spec["vae"], latent_channels=4, layers_per_block=2, norm_num_groups=min(groups, spec["vae"][0]),
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        sample_size=spec["size"], scaling_factor=0.13025 if shape == "sdxl" else 0.18215,
    ).to(dtype)
    unet = UNet2DConditionModel(in_channels=4, out_channels=4, **spec["unet"]).to(dtype)
    scheduler = DDIMScheduler(**SCHEDULER_CONFIG)
    if len(encoders) == 2:
        pipe = StableDiffusionXLPipeline(
            vae=vae, text_encoder=encoders[0], text_encoder_2=encoders[1], tokenizer=tokenizer, tokenizer_2=tokenizer,
            unet=unet, scheduler=scheduler,
        )
    else:
        pipe = StableDiffusionPipeline(
            vae=vae, text_encoder=encoders[0], tokenizer=tokenizer, unet=unet, scheduler=scheduler,
            safety_checker=None, feature_extractor=None, requires_safety_checker=False,
        )
    pipe.to("cpu").save_pretrained(folder, safe_serialization=True)
    return folder
