"""What one pipeline call gets beyond the prompt: the mode's pipeline (made with
`from_pipe`, sharing the loaded weights), the mode's images, and the step callback that
reports progress, shows rationed previews and checks for cancel."""

from __future__ import annotations

import time

from PIL import Image

from ..base import EngineError, RenderContext
from ..discovery.entry import Family
from ..request import FrameRequest, Mode, decode_image
from . import previews

PREVIEW_INTERVAL_S = 0.25  # at most four previews a second; the first step always shows


def mode_pipeline(base, family: Family, mode: Mode, nets: list):
    """`base` (the loaded text-to-image pipeline) as the pipeline for `mode`; `nets` are
    the ControlNets of controlled mode."""
    import diffusers

    if mode is Mode.controlled:
        multi = {Family.sd3: "SD3MultiControlNetModel", Family.flux: "FluxMultiControlNetModel"}
        net = nets[0] if len(nets) == 1 else getattr(diffusers, multi.get(family, "MultiControlNetModel"))(nets)
        pipe = diffusers.AutoPipelineForText2Image.from_pipe(base, controlnet=net)
    elif mode is Mode.img2img:
        pipe = diffusers.AutoPipelineForImage2Image.from_pipe(base)
    elif mode is Mode.inpaint:
        pipe = diffusers.AutoPipelineForInpainting.from_pipe(base)
    else:
        pipe = diffusers.AutoPipelineForText2Image.from_pipe(base)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def mode_arguments(request: FrameRequest, context: RenderContext, size: tuple[int, int]) -> dict:
    """The mode's images (from the project's media, at `size`) and strengths."""
    def image(digest: str, mode: str = "RGB") -> Image.Image:
        try:
            picture = decode_image(context.media(digest), mode)
        except (KeyError, OSError) as exc:
            raise EngineError(f"image {digest[:12]} is missing from the project's media") from exc
        except ValueError as exc:
            raise EngineError(f"image {digest[:12]}: {exc}") from exc
        return picture.resize(size, Image.Resampling.LANCZOS) if picture.size != size else picture

    if request.mode is Mode.controlled:
        controls = [image(c.image) for c in request.controls]
        scales = [c.strength for c in request.controls]
        return {
            "image": controls[0] if len(controls) == 1 else controls,
            "controlnet_conditioning_scale": scales[0] if len(scales) == 1 else scales,
        }
    if request.mode is Mode.img2img:
        return {"image": image(request.init_image), "strength": request.strength}
    if request.mode is Mode.inpaint:
        return {"image": image(request.init_image), "mask_image": image(request.mask, "L"), "strength": request.strength}
    return {}


def step_callback(decoder, family: Family, steps: int, context: RenderContext):
    """A `callback_on_step_end`: progress every step, a preview (of the first image; by
    `decoder`, a TAESD, or the latent approximation) at most every PREVIEW_INTERVAL_S,
    then Cancelled if the job was cancelled."""
    last_preview: float | None = None

    def on_step_end(pipe, step: int, _timestep, tensors: dict) -> dict:
        nonlocal last_preview
        context.on_progress(step + 1, getattr(pipe, "num_timesteps", None) or steps)
        latents = tensors.get("latents")
        now = time.monotonic()
        due = last_preview is None or now - last_preview >= PREVIEW_INTERVAL_S
        if latents is not None and latents.ndim == 4 and due:
            # Reading latents back waits for the GPU, so previews are rationed.
            last_preview = now
            preview = previews.decode_tiny(latents, decoder) if decoder is not None else previews.approximate(latents, family)
            context.on_preview(preview)
        context.check_cancelled()
        return tensors

    return on_step_end
