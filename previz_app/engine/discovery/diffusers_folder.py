"""Read diffusers folders: a pipeline (model_index.json) or one model (config.json).

Such a folder says what it is in JSON, so nothing here opens a weight file; the
scanner checks the weights' headers separately.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from previz_app.engine.discovery.classify import (
    FAMILY_BY_CONTEXT,
    Classification,
    control_from_name,
    taesd_family,
    vae_family,
)
from previz_app.engine.discovery.entry import Family, ModelEntry, ModelKind

MODEL_WEIGHTS_GLOB = "diffusion_pytorch_model*.safetensors"

_CONFIG_CLASSES = {
    "UNet2DConditionModel": ModelKind.diffusion_model,
    "SD3Transformer2DModel": ModelKind.diffusion_model,
    "FluxTransformer2DModel": ModelKind.diffusion_model,
    "ControlNetModel": ModelKind.controlnet,
    "ControlNetUnionModel": ModelKind.controlnet,
    "SD3ControlNetModel": ModelKind.controlnet,
    "FluxControlNetModel": ModelKind.controlnet,
    "AutoencoderKL": ModelKind.vae,
    "AutoencoderTiny": ModelKind.taesd,
}


def is_pipeline(folder: Path) -> bool:
    return (folder / "model_index.json").is_file()


def is_model_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob(MODEL_WEIGHTS_GLOB))


def pipeline_entry(folder: Path, source: str, name: str) -> ModelEntry:
    """One entry for the pipeline in `folder`, its family from model_index.json (and
    unet/config.json for SD1 against SD2); `error` names components whose folders are
    missing, as after an interrupted download."""
    marker = folder / "model_index.json"
    index = read_json(marker)
    if index is None:
        entry = folder_entry(folder, marker, ModelKind.pipeline, Family.unknown, source, name)
        return replace(entry, error=f"{name}: model_index.json is not valid JSON")
    entry = folder_entry(folder, marker, ModelKind.pipeline, _pipeline_family(folder, index), source, name)
    missing = [
        component
        for component, spec in index.items()
        if not component.startswith("_")
        and isinstance(spec, list)
        and spec
        and spec[0] is not None
        and not (folder / component).is_dir()
    ]
    if missing:
        entry = replace(entry, error=f"{name} is incomplete: missing {', '.join(missing)}")
    return entry


def model_folder_entry(folder: Path, source: str, name: str) -> ModelEntry:
    """One entry for the single diffusers model in `folder`, classified from the
    `_class_name` of its config.json; `name` hints the family where the config cannot
    (a VAE or TAESD) and a ControlNet's conditioning."""
    marker = folder / "config.json"
    config = read_json(marker)
    kind, family, control = classify_config(config or {}, name)
    entry = folder_entry(folder, marker, kind, family, source, name)
    error = "" if config is not None else f"{name}: config.json is not valid JSON"
    return replace(entry, control=control, error=error)


def classify_config(config: dict, name: str) -> Classification:
    """Classify a diffusers model from its config.json contents."""
    class_name = str(config.get("_class_name", ""))
    kind = _CONFIG_CLASSES.get(class_name, ModelKind.unknown)
    if kind is ModelKind.unknown:
        family = Family.unknown
    elif class_name.startswith("Flux"):
        family = Family.flux
    elif class_name.startswith("SD3"):
        family = Family.sd3
    elif kind is ModelKind.vae:
        family = vae_family(config.get("latent_channels"), name)
    elif kind is ModelKind.taesd:
        family = taesd_family(name)
    else:
        family = _family_by_context(config.get("cross_attention_dim"))
    control = control_from_name(name) if kind is ModelKind.controlnet else ""
    return Classification(kind, family, control)


def _pipeline_family(folder: Path, index: dict) -> Family:
    class_name = str(index.get("_class_name", ""))
    if class_name.startswith("StableDiffusionXL"):
        # The refiner is the SDXL pipeline without the CLIP-L text encoder.
        text_encoder = index.get("text_encoder")
        has_clip_l = isinstance(text_encoder, list) and bool(text_encoder) and text_encoder[0] is not None
        return Family.sdxl if has_clip_l else Family.sdxl_refiner
    if class_name.startswith("StableDiffusion3"):
        return Family.sd3
    if re.match(r"Flux(?!\d)", class_name):  # FLUX.1; FLUX.2 is another architecture
        return Family.flux
    if class_name.startswith("StableDiffusion"):
        unet = read_json(folder / "unet" / "config.json") or {}
        family = _family_by_context(unet.get("cross_attention_dim", 768))
        return family if family in (Family.sd1, Family.sd2) else Family.unknown
    return Family.unknown


def _family_by_context(width: object) -> Family:
    return FAMILY_BY_CONTEXT.get(width, Family.unknown) if isinstance(width, int) else Family.unknown


def folder_entry(
    folder: Path, marker: Path, kind: ModelKind, family: Family, source: str, name: str
) -> ModelEntry:
    """An entry for `folder`: its size is the sum of its files', its mtime `marker`'s."""
    size = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                size += path.stat().st_size
        except OSError:
            continue
    return ModelEntry(
        path=str(folder), kind=kind, family=family, source=source,
        size=size, mtime_ns=mtime_ns(marker), name=name,
    )


def read_json(path: Path) -> dict | None:
    """The JSON object in `path`; None when unreadable, invalid or not an object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
