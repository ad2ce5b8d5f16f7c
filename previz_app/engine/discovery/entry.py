"""What discovery knows about one model file or folder."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    sd1 = "sd1"
    sd2 = "sd2"
    sdxl = "sdxl"
    sdxl_refiner = "sdxl_refiner"
    sd3 = "sd3"
    flux = "flux"
    unknown = "unknown"


class ModelKind(StrEnum):
    checkpoint = "checkpoint"  # a whole pipeline in one file (UNet + VAE + text encoders)
    pipeline = "pipeline"  # a diffusers folder with model_index.json
    diffusion_model = "diffusion_model"  # a UNet or transformer alone
    controlnet = "controlnet"
    lora = "lora"
    vae = "vae"
    taesd = "taesd"
    pickle = "pickle"  # .ckpt/.pt/.bin: not read without the user's consent
    unknown = "unknown"


class ModelFileError(ValueError):
    """A model file is empty, truncated or not in the format its name claims."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model on disk. `control` names a ControlNet's conditioning (depth, pose,
    lineart, canny, ...) when known; `source` says where it was found (comfyui,
    a1111, hf_cache, diffusers, folder)."""

    path: str
    kind: ModelKind
    family: Family = Family.unknown
    control: str = ""
    source: str = "folder"
    size: int = 0
    mtime_ns: int = 0
    name: str = ""
    error: str = ""


def size_text(size: float) -> str:
    """A file size as people read it: "512 B", "1.9 GB"."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
