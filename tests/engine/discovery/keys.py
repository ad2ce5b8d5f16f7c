"""Tensor names and shapes of real model files, cut down to the tensors that matter.

Names follow the files people download: CompVis/SGM single-file checkpoints, BFL's
FLUX, lllyasviel's ControlNets, kohya LoRAs. The checkpoint sets carry the keys
diffusers' own single-file detection looks for (CHECKPOINT_KEY_NAMES), and
test_real_layouts.py checks that diffusers reads them as the same models. Only the
dimensions classification reads are real sizes; the rest are shrunk so files stay tiny.
"""

import numpy as np
from safetensors.numpy import save_file

Shapes = dict[str, tuple[int, ...]]

LDM = "model.diffusion_model."

SD1_CHECKPOINT: Shapes = {
    LDM + "input_blocks.0.0.weight": (320, 4, 3, 3),
    LDM + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (4, 768),
    LDM + "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight": (4, 768),
    LDM + "middle_block.1.transformer_blocks.0.attn2.to_k.weight": (4, 768),
    LDM + "output_blocks.11.0.skip_connection.weight": (4, 4, 1, 1),
    "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight": (77, 4),
    "first_stage_model.encoder.down.0.block.0.conv1.weight": (4, 4, 3, 3),
    "first_stage_model.decoder.up.0.block.0.conv1.weight": (4, 4, 3, 3),
    "first_stage_model.decoder.conv_in.weight": (4, 4, 3, 3),
}

SD2_CHECKPOINT: Shapes = {
    LDM + "input_blocks.0.0.weight": (320, 4, 3, 3),
    LDM + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (4, 1024),
    LDM + "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight": (4, 1024),
    LDM + "middle_block.1.transformer_blocks.0.attn2.to_k.weight": (4, 1024),
    LDM + "output_blocks.11.0.skip_connection.weight": (4, 4, 1, 1),
    "cond_stage_model.model.token_embedding.weight": (4, 1024),
    "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight": (4, 1024),
    "first_stage_model.decoder.conv_in.weight": (4, 4, 3, 3),
}

SDXL_CHECKPOINT: Shapes = {
    LDM + "input_blocks.0.0.weight": (320, 4, 3, 3),
    LDM + "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight": (4, 2048),
    LDM + "middle_block.1.transformer_blocks.0.attn2.to_k.weight": (4, 2048),
    LDM + "label_emb.0.0.weight": (4, 2816),
    "conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight": (77, 4),
    "conditioner.embedders.1.model.positional_embedding": (77, 4),
    "conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias": (4,),
    "first_stage_model.decoder.conv_in.weight": (4, 4, 3, 3),
}

SDXL_REFINER_CHECKPOINT: Shapes = {
    LDM + "input_blocks.0.0.weight": (384, 4, 3, 3),
    LDM + "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight": (4, 1280),
    LDM + "middle_block.1.transformer_blocks.0.attn2.to_k.weight": (4, 1280),
    LDM + "label_emb.0.0.weight": (4, 2560),
    "conditioner.embedders.0.model.text_projection": (4, 4),
    "conditioner.embedders.0.model.transformer.resblocks.9.mlp.c_proj.bias": (4,),
    "first_stage_model.decoder.conv_in.weight": (4, 4, 3, 3),
}

SD3_CHECKPOINT: Shapes = {
    LDM + "joint_blocks.0.context_block.adaLN_modulation.1.bias": (9216,),
    LDM + "joint_blocks.0.x_block.attn.qkv.weight": (4, 1536),
    LDM + "pos_embed": (1, 36864, 1536),
    "text_encoders.clip_l.transformer.text_model.embeddings.position_embedding.weight": (77, 768),
    "text_encoders.clip_g.transformer.text_model.embeddings.position_embedding.weight": (77, 1280),
    "first_stage_model.decoder.conv_in.weight": (512, 16, 3, 3),
}

FLUX_TRANSFORMER: Shapes = {  # BFL's flux1-dev.safetensors
    "double_blocks.0.img_attn.norm.key_norm.scale": (128,),
    "double_blocks.0.img_attn.qkv.weight": (4, 3072),
    "single_blocks.0.linear1.weight": (4, 3072),
    "img_in.weight": (3072, 64),
    "guidance_in.in_layer.bias": (3072,),
    "time_in.in_layer.weight": (3072, 256),
}

CONTROLNET_SD1: Shapes = {  # lllyasviel's control_v11*_sd15_*.pth layout
    "control_model.time_embed.0.weight": (4, 320),
    "control_model.input_hint_block.0.weight": (16, 3, 3, 3),
    "control_model.input_blocks.0.0.weight": (320, 4, 3, 3),
    "control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (4, 768),
    "control_model.zero_convs.0.0.weight": (4, 4, 1, 1),
    "control_model.middle_block_out.0.weight": (4, 4, 1, 1),
}

KOHYA_LORA_SD1: Shapes = {
    "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight": (4, 768),
    "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight": (320, 4),
    "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha": (),
    "lora_te_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight": (4, 768),
    "lora_te_text_model_encoder_layers_0_self_attn_k_proj.lora_up.weight": (768, 4),
}

KOHYA_LORA_SDXL: Shapes = {  # SGM block names, two text encoders
    "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight": (4, 2048),
    "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight": (640, 4),
    "lora_te1_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight": (4, 768),
    "lora_te2_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight": (4, 1280),
}

KOHYA_LORA_FLUX: Shapes = {
    "lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight": (4, 3072),
    "lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight": (9216, 4),
    "lora_unet_single_blocks_0_linear1.lora_down.weight": (4, 3072),
    "lora_te1_text_model_encoder_layers_0_self_attn_k_proj.lora_down.weight": (4, 768),
}

VAE_ORIGINAL: Shapes = {  # vae-ft-mse-840000-ema-pruned.safetensors
    "encoder.conv_in.weight": (4, 3, 3, 3),
    "encoder.down.0.block.0.conv1.weight": (4, 4, 3, 3),
    "decoder.conv_in.weight": (4, 4, 3, 3),
    "decoder.up.0.block.0.conv1.weight": (4, 4, 3, 3),
    "quant_conv.weight": (8, 8, 1, 1),
    "post_quant_conv.weight": (4, 4, 1, 1),
}

VAE16_ORIGINAL: Shapes = {  # FLUX.1 ae.safetensors / SD3 VAE: 16 latent channels
    "encoder.conv_in.weight": (4, 3, 3, 3),
    "encoder.down.0.block.0.conv1.weight": (4, 4, 3, 3),
    "decoder.conv_in.weight": (4, 16, 3, 3),
    "decoder.up.0.block.0.conv1.weight": (4, 4, 3, 3),
}

TAESD_DECODER: Shapes = {  # madebyollin/taesd taesd_decoder.safetensors (nn.Sequential)
    "1.weight": (64, 4, 3, 3),
    "1.bias": (64,),
    "3.conv.0.weight": (64, 64, 3, 3),
    "3.conv.0.bias": (64,),
    "3.conv.2.weight": (64, 64, 3, 3),
    "3.conv.4.weight": (64, 64, 3, 3),
    "7.weight": (64, 64, 3, 3),
}

TEXT_ENCODER: Shapes = {  # a CLIP-L text encoder alone: not a model previz lists
    "text_model.embeddings.position_embedding.weight": (77, 768),
    "text_model.encoder.layers.0.self_attn.k_proj.weight": (4, 768),
}


def with_prefix(prefix: str, shapes: Shapes) -> Shapes:
    return {prefix + key: shape for key, shape in shapes.items()}


def without_prefix(prefix: str, shapes: Shapes) -> Shapes:
    return {key.removeprefix(prefix): shape for key, shape in shapes.items() if key.startswith(prefix)}


def write_model(path, shapes: Shapes, metadata: dict[str, str] | None = None):
    """Write a safetensors file with zero tensors of `shapes` at `path`; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: np.zeros(shape, np.float16) for key, shape in shapes.items()}, str(path), metadata)
    return path
