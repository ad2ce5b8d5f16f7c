"""Tiny, randomly initialised Stable Diffusion 1.x models for offline tests.

Nothing is downloaded: every model is built from a config with seeded random
weights, so the same files come out on every run. The models are SD1-shaped
(same module layout, same key names, same LDM <-> diffusers conversion paths)
but small enough that a 4-step 64x64 txt2img runs in well under a second on a
CPU.

    models = build_tiny_models(tmp_path)
    pipe = StableDiffusionPipeline.from_pretrained(models.pipeline, local_files_only=True)
    pipe = StableDiffusionPipeline.from_single_file(
        str(models.checkpoint), config=str(models.pipeline), local_files_only=True
    )

`checkpoint` / `pickle_checkpoint` hold the same weights as `pipeline`, with
the original CompVis/LDM key names (model.diffusion_model.*,
first_stage_model.*, cond_stage_model.transformer.text_model.*), the format of
a single-file SD1.5 checkpoint as shared on model sites. Offline,
diffusers' `from_single_file` needs `config=<a diffusers pipeline folder>`;
without it, it looks the SD1 configs up on the Hub.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

SEED = 0
IMAGE_SIZE = 64  # pixels; the VAE downsamples by 8 -> 8x8 latents

UNET_CONFIG = dict(
    sample_size=IMAGE_SIZE // 8,
    in_channels=4,
    out_channels=4,
    # SD1 layout in miniature: attention in every block but the last (lowest
    # resolution) one, a cross-attention mid block, two resnets per down block.
    # layers_per_block=2 gives the same LDM numbering as SD1, so e.g.
    # input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight exists.
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(32, 64),
    layers_per_block=2,
    cross_attention_dim=32,
    attention_head_dim=4,
    norm_num_groups=32,
)

VAE_CONFIG = dict(
    sample_size=IMAGE_SIZE,
    in_channels=3,
    out_channels=3,
    # four blocks -> scale factor 8, as in SD1
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(32, 32, 64, 64),
    layers_per_block=1,
    latent_channels=4,
    norm_num_groups=32,
)

TAESD_CONFIG = dict(
    latent_channels=4,
    encoder_block_out_channels=(16, 16, 16, 16),
    decoder_block_out_channels=(16, 16, 16, 16),
    num_encoder_blocks=(1, 1, 1, 1),
    num_decoder_blocks=(1, 1, 1, 1),
)

SCHEDULER_CONFIG = dict(  # SD1 defaults
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    clip_sample=False,
    set_alpha_to_one=False,
    steps_offset=1,
    prediction_type="epsilon",
)

LORA_RANK = 4
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]

LDM_UNET_PREFIX = "model.diffusion_model."
LDM_VAE_PREFIX = "first_stage_model."
LDM_CLIP_PREFIX = "cond_stage_model.transformer."


@dataclass(frozen=True)
class TinyModels:
    pipeline: Path  # StableDiffusionPipeline folder (save_pretrained), no safety checker
    controlnet: Path  # ControlNetModel folder matching the UNet
    taesd: Path  # AutoencoderTiny folder, 4 latent channels
    lora: Path  # diffusers-format LoRA .safetensors for the UNet
    checkpoint: Path  # the pipeline as one LDM-keyed .safetensors file
    pickle_checkpoint: Path  # the same, torch.save({"state_dict": sd}) as .ckpt


# --------------------------------------------------------------------------
# tokenizer


def _bytes_to_unicode() -> list[str]:
    """GPT-2/CLIP byte -> printable unicode table, in byte order 0..255."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {}
    extra = 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


# a few merges so that the BPE step does something
_MERGES = [("s", "t"), ("o", "r"), ("st", "or"), ("a", "r"), ("r", "a"), ("m", "e</w>")]


def write_tokenizer(folder: Path, scratch: Path):
    """Write a byte-level CLIP BPE vocab, load it with CLIPTokenizer, save it."""
    from transformers import CLIPTokenizer

    chars = _bytes_to_unicode()
    vocab: dict[str, int] = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    for a, b in _MERGES:
        vocab[a + b] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)

    scratch.mkdir(parents=True, exist_ok=True)
    vocab_file = scratch / "vocab.json"
    merges_file = scratch / "merges.txt"
    vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merges_file.write_text(
        "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in _MERGES), encoding="utf-8"
    )
    # transformers 5 names these parameters vocab/merges; pass them positionally
    tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
    tokenizer.save_pretrained(folder)
    # real SD1 tokenizer folders carry vocab.json + merges.txt; keep them too
    shutil.copy(vocab_file, folder / "vocab.json")
    shutil.copy(merges_file, folder / "merges.txt")
    return tokenizer, vocab


# --------------------------------------------------------------------------
# diffusers -> original (CompVis / LDM) key names
#
# The inverse of diffusers.loaders.single_file_utils.convert_ldm_unet_checkpoint,
# convert_ldm_vae_checkpoint and convert_ldm_clip_checkpoint, generalised from
# scripts/convert_diffusers_to_original_stable_diffusion.py (which hard-codes
# SD1's four blocks) to any block count / layers_per_block.

_UNET_RESNET_RENAMES = [  # (diffusers, ldm)
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("time_emb_proj", "emb_layers.1"),
    ("conv_shortcut", "skip_connection"),
]


def _rename(key: str, prefixes: list[tuple[str, str, list[tuple[str, str]]]]) -> str | None:
    for hf_prefix, ldm_prefix, inner in prefixes:
        if key.startswith(hf_prefix):
            rest = key[len(hf_prefix) :]
            for old, new in inner:
                if rest.startswith(old + "."):
                    rest = new + rest[len(old) :]
                    break
            return ldm_prefix + rest
    return None


def unet_to_ldm(state_dict: dict[str, torch.Tensor], config) -> dict[str, torch.Tensor]:
    """Diffusers UNet2DConditionModel state dict -> LDM keys (without prefix)."""
    n_blocks = len(config["block_out_channels"])
    per = config["layers_per_block"]
    res = _UNET_RESNET_RENAMES
    prefixes: list[tuple[str, str, list]] = [
        ("time_embedding.linear_1.", "time_embed.0.", []),
        ("time_embedding.linear_2.", "time_embed.2.", []),
        ("conv_in.", "input_blocks.0.0.", []),
        ("conv_norm_out.", "out.0.", []),
        ("conv_out.", "out.2.", []),
        ("mid_block.attentions.0.", "middle_block.1.", []),
        ("mid_block.resnets.0.", "middle_block.0.", res),
        ("mid_block.resnets.1.", "middle_block.2.", res),
    ]
    for i in range(n_blocks):
        for j in range(per):
            ldm = (per + 1) * i + j + 1
            prefixes.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{ldm}.0.", res))
            prefixes.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{ldm}.1.", []))
        if i < n_blocks - 1:
            prefixes.append(
                (f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{(per + 1) * (i + 1)}.0.op.", [])
            )
        for j in range(per + 1):
            ldm = (per + 1) * i + j
            prefixes.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{ldm}.0.", res))
            prefixes.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{ldm}.1.", []))
        if i < n_blocks - 1:
            has_attention = config["up_block_types"][i].startswith("CrossAttn")
            slot = 2 if has_attention else 1
            prefixes.append((f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{(per + 1) * i + per}.{slot}.", []))

    out = {}
    for key, value in state_dict.items():
        new = _rename(key, prefixes)
        if new is None:
            raise KeyError(f"no LDM name for UNet key {key!r}")
        out[new] = value
    return out


_VAE_RESNET_RENAMES = [("conv_shortcut", "nin_shortcut")]
_VAE_ATTENTION_RENAMES = [
    ("group_norm", "norm"),
    ("to_q", "q"),
    ("to_k", "k"),
    ("to_v", "v"),
    ("to_out.0", "proj_out"),
]


def vae_to_ldm(state_dict: dict[str, torch.Tensor], config) -> dict[str, torch.Tensor]:
    """Diffusers AutoencoderKL state dict -> LDM keys (without prefix).

    The LDM attention uses 1x1 convs: q/k/v/proj_out weights become [C, C, 1, 1].
    """
    n_blocks = len(config["block_out_channels"])
    per = config["layers_per_block"]
    res, attn = _VAE_RESNET_RENAMES, _VAE_ATTENTION_RENAMES
    prefixes: list[tuple[str, str, list]] = [
        ("encoder.conv_norm_out.", "encoder.norm_out.", []),
        ("decoder.conv_norm_out.", "decoder.norm_out.", []),
        ("encoder.conv_in.", "encoder.conv_in.", []),
        ("encoder.conv_out.", "encoder.conv_out.", []),
        ("decoder.conv_in.", "decoder.conv_in.", []),
        ("decoder.conv_out.", "decoder.conv_out.", []),
        ("quant_conv.", "quant_conv.", []),
        ("post_quant_conv.", "post_quant_conv.", []),
    ]
    for part in ("encoder", "decoder"):
        prefixes.append((f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1.", attn))
        for j in range(2):
            prefixes.append((f"{part}.mid_block.resnets.{j}.", f"{part}.mid.block_{j + 1}.", res))
    for i in range(n_blocks):
        for j in range(per):
            prefixes.append((f"encoder.down_blocks.{i}.resnets.{j}.", f"encoder.down.{i}.block.{j}.", res))
        for j in range(per + 1):
            prefixes.append(
                (f"decoder.up_blocks.{i}.resnets.{j}.", f"decoder.up.{n_blocks - 1 - i}.block.{j}.", res)
            )
        if i < n_blocks - 1:
            prefixes.append((f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample.", []))
            prefixes.append(
                (f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{n_blocks - 1 - i}.upsample.", [])
            )

    out = {}
    for key, value in state_dict.items():
        new = _rename(key, prefixes)
        if new is None:
            raise KeyError(f"no LDM name for VAE key {key!r}")
        if ".mid.attn_1." in new and new.endswith(("q.weight", "k.weight", "v.weight", "proj_out.weight")):
            value = value.reshape(*value.shape, 1, 1)
        out[new] = value
    return out


def clip_to_ldm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers CLIPTextModel state dict -> keys under `transformer.` (without prefix).

    transformers >= 5.6 flattened CLIPTextModel (no `text_model.` level); the
    original checkpoints always have it.
    """
    out = {}
    for key, value in state_dict.items():
        key = key.removeprefix("text_model.")
        out["text_model." + key] = value
    return out


def pipeline_to_ldm(unet, vae, text_encoder) -> dict[str, torch.Tensor]:
    """One SD1-style single-file state dict for the three models (fresh, contiguous tensors)."""
    sd: dict[str, torch.Tensor] = {}
    for key, value in unet_to_ldm(unet.state_dict(), unet.config).items():
        sd[LDM_UNET_PREFIX + key] = value
    for key, value in vae_to_ldm(vae.state_dict(), vae.config).items():
        sd[LDM_VAE_PREFIX + key] = value
    for key, value in clip_to_ldm(text_encoder.state_dict()).items():
        sd[LDM_CLIP_PREFIX + key] = value
    # real SD1 checkpoints carry this (non-persistent in transformers) buffer;
    # loaders must ignore it
    positions = text_encoder.config.max_position_embeddings
    sd[LDM_CLIP_PREFIX + "text_model.embeddings.position_ids"] = torch.arange(positions).unsqueeze(0)
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


# --------------------------------------------------------------------------
# builders


def _seeded(offset: int) -> None:
    torch.manual_seed(SEED + offset)


def _build_lora(unet_config, path: Path) -> None:
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    _seeded(10)
    unet = UNet2DConditionModel.from_config(unet_config)  # shapes only; base weights unused
    unet.add_adapter(
        LoraConfig(r=LORA_RANK, lora_alpha=LORA_RANK, init_lora_weights="gaussian", target_modules=LORA_TARGETS)
    )
    generator = torch.Generator().manual_seed(SEED + 11)
    with torch.no_grad():
        for name, param in unet.named_parameters():
            if "lora_B" in name:  # zero by default, which would make the LoRA a no-op
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(
        path.parent, unet_lora_layers=layers, weight_name=path.name, safe_serialization=True
    )


def _make_controlnet_live(controlnet, generator: torch.Generator) -> None:
    """Give a fresh ControlNet a visible response to its control image.

    from_unet zero-initialises the output convs (controlnet_down_blocks,
    controlnet_mid_block, controlnet_cond_embedding.conv_out), so a fresh
    ControlNet adds exactly nothing; and the default init of the eight-conv
    conditioning embedding shrinks its activations ~50x, washing out the
    control image. Re-initialise the embedding variance-preserving (gain 1.7
    for SiLU, zero bias) and fill the zero convs with small noise: a 4-step
    render then differs by several 8-bit levels between two control images.
    """
    embedding = controlnet.controlnet_cond_embedding
    for conv in [embedding.conv_in, *embedding.blocks, embedding.conv_out]:
        fan_in = conv.weight[0].numel()
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * 1.7 / fan_in**0.5)
        conv.bias.zero_()
    for conv in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * 0.1)
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * 0.1)


def build_tiny_models(root: Path) -> TinyModels:
    """Build every tiny model under `root` (created if missing) and return their paths.

    Deterministic (seeded); the caller's global torch RNG state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        return _build(Path(root))


def _build(root: Path) -> TinyModels:
    import safetensors.torch
    from diffusers import (
        AutoencoderKL,
        AutoencoderTiny,
        ControlNetModel,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    root.mkdir(parents=True, exist_ok=True)
    paths = TinyModels(
        pipeline=root / "tiny-sd15",
        controlnet=root / "tiny-controlnet",
        taesd=root / "tiny-taesd",
        lora=root / "loras" / "tiny-lora.safetensors",
        checkpoint=root / "checkpoints" / "tiny-sd15.safetensors",
        pickle_checkpoint=root / "checkpoints" / "tiny.ckpt",
    )

    with torch.no_grad():
        _seeded(1)
        unet = UNet2DConditionModel(**UNET_CONFIG)
        _seeded(2)
        vae = AutoencoderKL(**VAE_CONFIG)

        tokenizer_dir = paths.pipeline / "tokenizer"
        tokenizer_dir.mkdir(parents=True, exist_ok=True)
        tokenizer, vocab = write_tokenizer(tokenizer_dir, root / "scratch-tokenizer")
        _seeded(3)
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                hidden_size=32,
                intermediate_size=37,
                num_hidden_layers=2,
                num_attention_heads=4,
                vocab_size=len(vocab),
                max_position_embeddings=77,
                projection_dim=32,
                hidden_act="quick_gelu",
                bos_token_id=vocab["<|startoftext|>"],
                eos_token_id=vocab["<|endoftext|>"],
                pad_token_id=vocab["<|endoftext|>"],
            )
        )
        scheduler = DDIMScheduler(**SCHEDULER_CONFIG)

        pipe = StableDiffusionPipeline(
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            unet=unet,
            scheduler=scheduler,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        pipe.save_pretrained(paths.pipeline, safe_serialization=True)

        _seeded(4)
        controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 16, 32, 32))
        _make_controlnet_live(controlnet, torch.Generator().manual_seed(SEED + 5))
        controlnet.save_pretrained(paths.controlnet, safe_serialization=True)

        _seeded(6)
        AutoencoderTiny(**TAESD_CONFIG).save_pretrained(paths.taesd, safe_serialization=True)

        sd = pipeline_to_ldm(unet, vae, text_encoder)
        paths.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        safetensors.torch.save_file(sd, str(paths.checkpoint), metadata={"format": "pt"})
        torch.save({"state_dict": sd}, paths.pickle_checkpoint)

    paths.lora.parent.mkdir(parents=True, exist_ok=True)
    _build_lora(unet.config, paths.lora)
    shutil.rmtree(root / "scratch-tokenizer", ignore_errors=True)
    return paths
