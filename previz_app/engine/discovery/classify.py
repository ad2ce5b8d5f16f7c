"""Tell what a safetensors file holds from its tensor names and shapes alone.

Two naming schemes exist for the same networks: the original one (CompVis/SGM
`model.diffusion_model.input_blocks...`, BFL `double_blocks...`, kohya
`lora_unet_...`) that single-file checkpoints use, and the diffusers one
(`down_blocks...`, `transformer_blocks...`, PEFT `lora_A`) of diffusers folders and
their LoRAs. Both are recognised. The family comes from a shape wherever one settles
it: the UNet's cross-attention context width is 768 for SD1, 1024 for SD2, 2048 for
SDXL and 1280 for the SDXL refiner. Where shapes cannot settle it, the file name may
(a VAE or TAESD), and otherwise the family stays unknown rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from previz_app.engine.discovery.entry import Family, ModelKind
from previz_app.engine.discovery.header import Header

Shapes = dict[str, tuple[int, ...]]

FAMILY_BY_CONTEXT = {
    768: Family.sd1,
    1024: Family.sd2,
    2048: Family.sdxl,
    1280: Family.sdxl_refiner,
}
# In-width of SDXL's added (pooled text + size) embedding: base, refiner.
_FAMILY_BY_ADDED_EMBEDDING = {2816: Family.sdxl, 2560: Family.sdxl_refiner}

_LDM_PREFIX = "model.diffusion_model."
_TEXT_ENCODER_PREFIXES = ("cond_stage_model.", "conditioner.", "text_encoders.")
_KOHYA_PREFIXES = ("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_", "lora_transformer_")
_LORA_MARKERS = (
    ".lora_A.", ".lora_B.", ".lora_down.", ".lora_up.", ".lora.down.", ".lora.up.",
    "_lora.down.", "_lora.up.", ".lora_linear_layer.",
)
_LORA_DOWN_MARKERS = ("lora_down", "lora_A", "lora.down", "_lora.down", "lora_linear_layer.down")
# Later FLUX-shaped architectures (FLUX.2, Chroma, ...) that are not FLUX.1.
_NOT_FLUX1_MARKERS = ("stream_modulation", "distilled_guidance_layer")

# Conditioning named in a ControlNet's file name, checked token by token in order.
_CONTROL_PATTERNS = (
    ("inpaint", re.compile(r"^inpaint")),
    ("depth", re.compile(r"depth")),
    ("pose", re.compile(r"pose")),
    ("lineart", re.compile(r"^lineart")),
    ("canny", re.compile(r"^canny")),
    ("scribble", re.compile(r"^scribble")),
    ("softedge", re.compile(r"^(softedge|hed|pidi)")),
    ("normal", re.compile(r"^normal")),
    ("seg", re.compile(r"^seg")),
    ("tile", re.compile(r"^tile")),
    ("mlsd", re.compile(r"^mlsd")),
    ("ip2p", re.compile(r"^ip2p")),
    ("shuffle", re.compile(r"^shuffle")),
)
_TAESD_FAMILIES = (
    ("taesdxl", Family.sdxl),
    ("taesd3", Family.sd3),
    ("taef1", Family.flux),
    ("taesd", Family.sd1),
)
_ORIGINAL_TAESD_KEY = re.compile(r"^\d+\.((weight|bias)|conv\.\d+\.(weight|bias)|skip\.weight)$")


class Classification(NamedTuple):
    kind: ModelKind
    family: Family = Family.unknown
    control: str = ""


UNKNOWN = Classification(ModelKind.unknown)


def classify(header: Header, filename: str) -> Classification:
    """Say what kind of model `header` describes, for which family, and (for a
    ControlNet) which conditioning; `filename` (or a diffusers folder's name) is
    read only for what shapes cannot tell. Unrecognised layouts give
    ModelKind.unknown and Family.unknown. Never raises.
    """
    tensors = header.tensors
    keys = list(tensors)
    if not keys:
        return UNKNOWN
    for test in (_controlnet, _lora, _flux, _sd3, _unet):
        found = test(tensors, keys, filename)
        if found is not None:
            return found
    return _vae(tensors, keys, filename, header.metadata) or _taesd(keys, filename) or UNKNOWN


def control_from_name(name: str) -> str:
    """The ControlNet conditioning a file name announces ("depth", "pose", ...), or ""."""
    for token in re.split(r"[^a-z0-9]+", name.lower()):
        for control, pattern in _CONTROL_PATTERNS:
            if token and pattern.search(token):
                return control
    return ""


def context_dim(tensors: Shapes) -> int | None:
    """The width of the text context a UNet cross-attends to, from any attn2.to_k."""
    for key, shape in tensors.items():
        if key.endswith("attn2.to_k.weight") and len(shape) == 2:
            return shape[1]
    return None


def _unet_family(tensors: Shapes, keys: list[str]) -> Family:
    family = FAMILY_BY_CONTEXT.get(context_dim(tensors) or 0)
    if family is not None:
        return family
    for key, shape in tensors.items():
        if key.endswith(("label_emb.0.0.weight", "add_embedding.linear_1.weight")) and len(shape) == 2:
            return _FAMILY_BY_ADDED_EMBEDDING.get(shape[1], Family.unknown)
    return Family.unknown


def _controlnet(tensors: Shapes, keys: list[str], filename: str) -> Classification | None:
    control = control_from_name(filename)
    if any(k.startswith("controlnet_blocks.") for k in keys):  # FLUX and SD3 ControlNets
        if any(k.startswith(("controlnet_x_embedder.", "single_transformer_blocks.")) for k in keys):
            return Classification(ModelKind.controlnet, Family.flux, control)
        if any(k.startswith("pos_embed_input.") for k in keys):
            return Classification(ModelKind.controlnet, Family.sd3, control)
        return Classification(ModelKind.controlnet, Family.unknown, control)
    original = any(
        k.startswith(("control_model.", "input_hint_block.", "zero_convs.")) or k == "lora_controlnet"
        for k in keys
    )
    diffusers = any(k.startswith(("controlnet_cond_embedding.", "controlnet_down_blocks.")) for k in keys)
    if original or diffusers:
        return Classification(ModelKind.controlnet, _unet_family(tensors, keys), control)
    return None


def _lora(tensors: Shapes, keys: list[str], filename: str) -> Classification | None:
    if not any(k.startswith(_KOHYA_PREFIXES) or any(m in k for m in _LORA_MARKERS) for k in keys):
        return None
    return Classification(ModelKind.lora, _lora_family(tensors, keys))


def _lora_family(tensors: Shapes, keys: list[str]) -> Family:
    if any(m in k for k in keys for m in ("double_blocks", "single_blocks", "single_transformer_blocks")):
        return Family.flux
    if any("joint_blocks" in k for k in keys):
        return Family.sd3
    if any(k.startswith(("lora_te2_", "te2.")) or "text_encoder_2." in k for k in keys):
        return Family.sdxl
    for key, shape in tensors.items():
        if "attn2" in key and "to_k" in key and _is_down(key) and len(shape) >= 2:
            return FAMILY_BY_CONTEXT.get(shape[1], Family.unknown)
    # A LoRA of the SD1/SD2 text encoder alone: CLIP-L is 768 wide, OpenCLIP-H 1024.
    for key, shape in tensors.items():
        if key.startswith("lora_te_") and "k_proj" in key and _is_down(key) and len(shape) >= 2:
            return {768: Family.sd1, 1024: Family.sd2}.get(shape[1], Family.unknown)
    return Family.unknown


def _is_down(key: str) -> bool:
    return any(m in key for m in _LORA_DOWN_MARKERS)


def _flux(tensors: Shapes, keys: list[str], filename: str) -> Classification | None:
    stripped = _strip(keys, _LDM_PREFIX)
    original = any(k.startswith(("double_blocks.", "single_blocks.")) for k in stripped)
    diffusers = any(k.startswith("single_transformer_blocks.") for k in keys)
    if not (original or diffusers):
        return None
    flux1 = not any(m in k for k in keys for m in _NOT_FLUX1_MARKERS)
    return Classification(_whole_or_alone(keys), Family.flux if flux1 else Family.unknown)


def _sd3(tensors: Shapes, keys: list[str], filename: str) -> Classification | None:
    original = any(k.startswith("joint_blocks.") for k in _strip(keys, _LDM_PREFIX))
    diffusers = (
        "context_embedder.weight" in tensors
        and "pos_embed.proj.weight" in tensors
        and any(k.startswith("transformer_blocks.") and k.endswith("attn.add_q_proj.weight") for k in keys)
    )
    if original or diffusers:
        return Classification(_whole_or_alone(keys), Family.sd3)
    return None


def _unet(tensors: Shapes, keys: list[str], filename: str) -> Classification | None:
    # ComfyUI saves a UNet alone in the original naming with the prefix stripped.
    original = any(
        k.startswith((_LDM_PREFIX + "input_blocks.", "input_blocks.")) for k in keys
    ) and any(k.startswith((_LDM_PREFIX + "middle_block.", "middle_block.")) for k in keys)
    diffusers = (
        "conv_in.weight" in tensors
        and any(k.startswith("down_blocks.") for k in keys)
        and any(k.startswith("mid_block.") for k in keys)
    )
    if not (original or diffusers):
        return None
    family = _unet_family(tensors, keys)
    if family is Family.unknown:
        family = _family_from_text_encoders(keys)
    return Classification(_whole_or_alone(keys), family)


def _family_from_text_encoders(keys: list[str]) -> Family:
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        return Family.sdxl
    if any(k.startswith("conditioner.embedders.0.model.") for k in keys):
        return Family.sdxl_refiner
    if any(k.startswith("cond_stage_model.model.") for k in keys):
        return Family.sd2
    if any(k.startswith("cond_stage_model.transformer.") for k in keys):
        return Family.sd1
    return Family.unknown


def _whole_or_alone(keys: list[str]) -> ModelKind:
    """A checkpoint when text encoders travel with the diffusion model."""
    if any(k.startswith(_TEXT_ENCODER_PREFIXES) for k in keys):
        return ModelKind.checkpoint
    return ModelKind.diffusion_model


def _vae(tensors: Shapes, keys: list[str], filename: str, metadata: dict[str, str]) -> Classification | None:
    for prefix in ("first_stage_model.", "vae."):
        if all(k.startswith(prefix) for k in keys):
            keys = _strip(keys, prefix)
            tensors = {k[len(prefix):]: v for k, v in tensors.items()}
    original = any(k.startswith("encoder.down.") for k in keys) and any(
        k.startswith("decoder.up.") for k in keys
    )
    diffusers = any(k.startswith("encoder.down_blocks.") for k in keys) and any(
        k.startswith("decoder.up_blocks.") for k in keys
    )
    if not (original or diffusers):
        return None
    shape = tensors.get("decoder.conv_in.weight", ())
    latent_channels = shape[1] if len(shape) == 4 else None
    hints = " ".join([*metadata.keys(), *metadata.values()])
    return Classification(ModelKind.vae, vae_family(latent_channels, filename, hints))


def vae_family(latent_channels: int | None, name: str, hints: str = "") -> Family:
    """The family of a VAE with `latent_channels`, named `name`. SD1 and SD2 share
    one VAE, so Family.sd1 stands for both; SDXL's has the same shapes and is told
    apart only by "xl" in its name. SD3's and FLUX.1's also share their shapes: FLUX
    when the name or `hints` (header metadata) say "flux" or the file is BFL's "ae"."""
    name = name.lower()
    if latent_channels == 4:
        return Family.sdxl if "xl" in name else Family.sd1
    if latent_channels == 16:
        flux = "flux" in name or "flux" in hints.lower() or _stem(name) == "ae"
        return Family.flux if flux else Family.sd3
    return Family.unknown


def taesd_family(name: str) -> Family:
    """The family of a TAESD from its name: taesdxl, taesd3, taef1 or taesd."""
    name = name.lower()
    return next((family for token, family in _TAESD_FAMILIES if token in name), Family.unknown)


def _taesd(keys: list[str], filename: str) -> Classification | None:
    diffusers = all(k.startswith(("encoder.layers.", "decoder.layers.")) for k in keys)
    original = all(_ORIGINAL_TAESD_KEY.match(k) for k in keys) and any(".conv." in k for k in keys)
    if not (diffusers or original):
        return None
    return Classification(ModelKind.taesd, taesd_family(filename))


def _strip(keys: Iterable[str], prefix: str) -> list[str]:
    return [k.removeprefix(prefix) for k in keys]


def _stem(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(".", 1)[0]
