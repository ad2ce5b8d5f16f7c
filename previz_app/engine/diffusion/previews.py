"""Live previews while a frame denoises: TAESD when the user has one, else a linear
latent-to-RGB approximation (the factors ComfyUI and A1111 use)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..discovery.entry import Family

# (factors: latent channel -> RGB, bias) for 4-channel latents, per family.
_SD15 = (
    ((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350), (-0.2829, 0.1762, 0.2721), (-0.2120, -0.2616, -0.7177)),
    (0.0, 0.0, 0.0),
)
_SDXL = (
    ((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068), (0.1076, 0.1111, -0.0362), (-0.3165, -0.2492, -0.2188)),
    (0.1084, -0.0175, -0.0011),
)
LATENT_RGB = {Family.sd1: _SD15, Family.sd2: _SD15, Family.sdxl: _SDXL, Family.sdxl_refiner: _SDXL}

PREVIEW_SIDE = 512  # previews are for the eye, not for keeping


def _to_image(rgb: torch.Tensor) -> Image.Image:
    """(3, H, W) in [0, 1] to a PIL image."""
    array = (rgb.clamp(0, 1).permute(1, 2, 0).float().cpu().numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array)


def approximate(latents: torch.Tensor, family: Family) -> Image.Image:
    """A rough RGB picture of (1, C, h, w) latents without the VAE: microseconds.

    Families without known factors show their first three channels, normalised.
    """
    latent = latents[0].float()
    known = LATENT_RGB.get(family)
    if known is not None and latent.shape[0] == len(known[0]):
        factors = torch.tensor(known[0], device=latent.device)
        bias = torch.tensor(known[1], device=latent.device)
        rgb = torch.einsum("chw,cr->rhw", latent, factors) + bias[:, None, None]
        rgb = (rgb + 1) / 2
    else:
        rgb = latent[:3]
        low = rgb.amin(dim=(1, 2), keepdim=True)
        rgb = (rgb - low) / (rgb.amax(dim=(1, 2), keepdim=True) - low + 1e-6)
    image = _to_image(rgb)
    scale = max(1, PREVIEW_SIDE // max(image.size))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.BILINEAR)


@torch.no_grad()
def decode_tiny(latents: torch.Tensor, taesd) -> Image.Image:
    """A preview decoded by TAESD (an AutoencoderTiny), from the pipeline's latents as they are."""
    sample = latents[:1].to(device=taesd.device, dtype=taesd.dtype)
    decoded = taesd.decode(sample).sample[0]
    return _to_image((decoded + 1) / 2)
