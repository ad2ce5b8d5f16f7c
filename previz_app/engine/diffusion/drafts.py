"""Draft mode's final image: the family's TAESD decodes the latents instead of the VAE.

TAESD reads latents as the UNet leaves them (its scaling factor is 1), which is what a
pipeline returns with `output_type="latent"` for the 4-channel UNet families. The
flow-matching families pack or shift their latents, so they keep the VAE.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..discovery.entry import Family

DRAFT_FAMILIES = (Family.sd1, Family.sd2, Family.sdxl, Family.sdxl_refiner)


@torch.no_grad()
def decode_draft(latents: torch.Tensor, taesd) -> list[Image.Image]:
    """(B, 4, h, w) latents to B images through TAESD (an AutoencoderTiny)."""
    decoded = taesd.decode(latents.to(device=taesd.device, dtype=taesd.dtype)).sample
    # As diffusers' VaeImageProcessor.postprocess: [-1, 1] to [0, 1], then rounded to uint8.
    rgb = (decoded.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray((picture * 255).round().astype(np.uint8)) for picture in rgb]
