"""Wide and 360° environments from a UNet diffusion model (MultiDiffusion), and
upscaling one by tiled img2img.

The whole latent is denoised at once: every step, each overlapping window of the
model's trained size predicts its noise (several windows per UNet call, classifier-
free guidance in the same batch), the predictions are blended with smooth weights
into one prediction for the whole latent, and the scheduler takes one step on it.
For 360° the windows run round the right edge, and the VAE decodes in tiles that do
too, so column 0 continues the last column. SD3 and FLUX are refused: their
transformers are not windowed here.
"""

from __future__ import annotations

import gc
import inspect
import time
from dataclasses import dataclass

import torch
from PIL import Image

from ..base import Cancelled, EngineError, RenderContext
from ..discovery.entry import Family
from ..environment import EnvironmentRequest
from ..frames import TRAINED_SIDE
from . import previews
from .tiling import Grid, blend, blend_image, resample, signed

UNET_FAMILIES = (Family.sd1, Family.sd2, Family.sdxl)
WINDOW_BATCH = 8  # windows per UNet call (twice that with guidance); halved when the GPU runs out
VAE_OVERLAP = 0.25  # of a VAE tile, whatever the request's window overlap
MIN_WINDOW = 64  # pixels
PREVIEW_INTERVAL_S = 0.25
TAESD_MAX_WIDTH = 256  # latent columns; wider previews use the linear approximation


@dataclass
class Model:
    """What the windowed loop uses of a loaded model: its pipeline (UNet, VAE, text
    encoders), a fresh scheduler for this picture, and the preview decoder if any."""

    pipe: object
    family: Family
    scheduler: object
    preview_decoder: object | None = None


def check_family(family: Family) -> None:
    """EngineError unless `family` can be windowed; `unknown` passes (known once loaded)."""
    if family is not Family.unknown and family not in UNET_FAMILIES:
        raise EngineError(
            f"wide environments need a UNet model (SD 1.x, 2.x or XL); this is a {family.value} model")


def generate(model: Model, request: EnvironmentRequest, context: RenderContext) -> Image.Image:
    """The environment `request` describes, exactly request.width x request.height.

    Reports progress per step, previews the latent, raises Cancelled between steps and
    window batches, EngineError for what the model cannot do.
    """
    run = _Run(model, request, context)

    def work() -> Image.Image:
        timesteps = run.timesteps()  # first: the initial noise's scale depends on the schedule
        return run.finish(run.denoise(run.noise() * model.scheduler.init_noise_sigma, timesteps))

    return run.guarded(work)


def upscale(model: Model, image: Image.Image, request: EnvironmentRequest, context: RenderContext,
            strength: float = 0.35) -> Image.Image:
    """`image` enlarged to request.width x request.height by tiled img2img: Lanczos-
    resized, encoded, noised to `strength` (0 < strength <= 1) and denoised for
    round(steps * strength) steps with the same windows as `generate`.

    Raises ValueError for a strength out of range; otherwise as `generate`.
    """
    if not 0 < strength <= 1:
        raise ValueError(f"upscale strength is more than 0 and at most 1, not {strength:g}")
    run = _Run(model, request, context)

    def work() -> Image.Image:
        latents = run.encode(resample(image.convert("RGB"), run.pixel_size, request.wrap))
        timesteps = run.timesteps(max(1, round(request.steps * strength)))
        noisy = model.scheduler.add_noise(latents, run.noise(), timesteps[:1])
        return run.finish(run.denoise(noisy, timesteps))

    return run.guarded(work)


class _Run:
    """One picture's denoising: the conditioning, the window grid and the loop."""

    def __init__(self, model: Model, request: EnvironmentRequest, context: RenderContext) -> None:
        if model.family not in UNET_FAMILIES:
            check_family(model.family)
            raise EngineError("wide environments need a UNet model (SD 1.x, 2.x or XL); "
                              "this model's family could not be told")
        if request.window and request.window < MIN_WINDOW:
            raise ValueError(f"a diffusion window is at least {MIN_WINDOW} pixels, not {request.window}")
        context.check_cancelled()
        self.model, self.request, self.context = model, request, context
        self.pipe = model.pipe
        self.device = self.pipe._execution_device
        self.dtype = self.pipe.unet.dtype
        self.scale = self.pipe.vae_scale_factor
        height, width = (max(1, round(side / self.scale)) for side in (request.height, request.width))
        window = (request.window or TRAINED_SIDE[model.family.value]) // self.scale
        self.grid = Grid.cover(height, width, window, request.overlap, request.wrap)
        self.tiles = Grid.cover(height, width, window, VAE_OVERLAP, request.wrap)
        self.pixel_size = (width * self.scale, height * self.scale)
        self.generator = torch.Generator("cpu").manual_seed(request.seed)
        self.batch = WINDOW_BATCH
        self.embeds: torch.Tensor | None = None
        self.added: dict | None = None
        self.last_preview: float | None = None

    def guarded(self, work):
        """`work()` under inference mode, its failures said for the user."""
        try:
            with torch.inference_mode():
                return work()
        except (Cancelled, EngineError):
            raise
        except torch.OutOfMemoryError as exc:
            raise EngineError(f"out of GPU memory making a {self.request.width}x{self.request.height} "
                              "environment; try a smaller window or close other GPU programs") from exc
        except (RuntimeError, ValueError, TypeError) as exc:
            raise EngineError(f"environment generation failed: {exc}") from exc

    # -- the loop -------------------------------------------------------------------

    def noise(self) -> torch.Tensor:
        """Seeded noise for the whole latent, the same on every device."""
        shape = (1, self.pipe.unet.config.in_channels, self.grid.height, self.grid.width)
        return torch.randn(shape, generator=self.generator, dtype=torch.float32).to(self.device)

    def timesteps(self, steps: int | None = None) -> torch.Tensor:
        """The schedule for request.steps, or its last `steps` (img2img), begun there."""
        scheduler = self.model.scheduler
        scheduler.set_timesteps(self.request.steps, device=self.device)
        if steps is None:
            return scheduler.timesteps
        begin = (self.request.steps - steps) * scheduler.order
        if hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(begin)
        return scheduler.timesteps[begin:]

    def denoise(self, latents: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """`latents` (float32) taken through `timesteps`, one scheduler step each."""
        scheduler = self.model.scheduler
        self.embeds, self.added = self._condition()
        accepted = inspect.signature(scheduler.step).parameters
        extra = {"generator": self.generator} if "generator" in accepted else {}
        for index, timestep in enumerate(timesteps):
            scaled = scheduler.scale_model_input(latents, timestep)
            noise = self._predict(scaled, timestep)
            latents = scheduler.step(noise, timestep, latents, **extra, return_dict=False)[0]
            self.context.on_progress(index + 1, len(timesteps))
            self._preview(latents)
            self.context.check_cancelled()
        return latents

    def _predict(self, latents: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        """The blended noise prediction for the whole latent; on running out of GPU
        memory the step is tried again with half as many windows per call."""
        while True:
            try:
                return blend(latents, self.grid, self.grid, lambda w: self._unet(w, timestep),
                             channels=latents.shape[1], batch=self.batch, device=self.device,
                             check=self.context.check_cancelled)
            except torch.OutOfMemoryError:
                if self.batch == 1:
                    raise
            self.batch //= 2  # outside the handler, so the failed call's tensors can go
            _release(self.device)

    def _unet(self, windows: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        """Guided noise predictions for a batch of windows (n, C, rows, cols)."""
        count, guided = len(windows), len(self.embeds) == 2
        sample = torch.cat([windows] * len(self.embeds)).to(self.dtype)
        added = None if self.added is None else {k: v.repeat_interleave(count, 0) for k, v in self.added.items()}
        noise = self.pipe.unet(sample, timestep, encoder_hidden_states=self.embeds.repeat_interleave(count, 0),
                               added_cond_kwargs=added, return_dict=False)[0]
        if not guided:
            return noise
        unconditional, conditional = noise.float().chunk(2)
        return unconditional + self.request.guidance * (conditional - unconditional)

    def _condition(self) -> tuple[torch.Tensor, dict | None]:
        """Prompt embeddings ([negative, positive] with guidance) and, for SDXL, the
        pooled embeddings and size conditioning: each window is a whole picture."""
        guided = self.request.guidance > 1
        arguments = {"prompt": self.request.prompt, "device": self.device, "num_images_per_prompt": 1,
                     "do_classifier_free_guidance": guided, "negative_prompt": self.request.negative_prompt or None}
        if self.model.family is not Family.sdxl:
            positive, negative = self.pipe.encode_prompt(**arguments)
            return torch.cat([negative, positive] if guided else [positive]).to(self.dtype), None
        positive, negative, pooled, negative_pooled = self.pipe.encode_prompt(**arguments)
        encoder_2 = getattr(self.pipe, "text_encoder_2", None)
        projection = encoder_2.config.projection_dim if encoder_2 is not None else int(pooled.shape[-1])
        side = (self.grid.rows * self.scale, self.grid.cols * self.scale)
        time_ids = self.pipe._get_add_time_ids(side, (0, 0), side, dtype=self.dtype,
                                               text_encoder_projection_dim=projection).to(self.device)
        embeds = [negative, positive] if guided else [positive]
        pooled_all = torch.cat([negative_pooled, pooled] if guided else [pooled]).to(self.dtype)
        return torch.cat(embeds).to(self.dtype), {"text_embeds": pooled_all, "time_ids": time_ids.repeat(len(embeds), 1)}

    def _preview(self, latents: torch.Tensor) -> None:
        now = time.monotonic()
        if self.last_preview is not None and now - self.last_preview < PREVIEW_INTERVAL_S:
            return
        self.last_preview = now  # reading latents back waits for the GPU, so previews are rationed
        decoder = self.model.preview_decoder
        if decoder is not None and latents.shape[-1] <= TAESD_MAX_WIDTH:
            self.context.on_preview(previews.decode_tiny(latents, decoder))
        else:
            self.context.on_preview(previews.approximate(latents, self.model.family))

    # -- the VAE, tile by tile ---------------------------------------------------------

    def encode(self, picture: Image.Image) -> torch.Tensor:
        """The latent (float32, on the device) of a picture of `pixel_size`; tiles are cut
        from the picture and converted to float one at a time."""
        vae = self.pipe.vae
        shift = getattr(vae.config, "shift_factor", None) or 0.0

        def work(tiles: torch.Tensor) -> torch.Tensor:
            mean = vae.encode(signed(tiles).to(self.device, vae.dtype)).latent_dist.mode()
            return (mean.float() - shift) * vae.config.scaling_factor

        with _full_precision(vae):
            return blend(picture, self.tiles.scaled(self.scale), self.tiles, work,
                         channels=vae.config.latent_channels, batch=1, device=self.device,
                         check=self.context.check_cancelled)

    def finish(self, latents: torch.Tensor) -> Image.Image:
        """The picture decoded tile by tile (round the seam for 360°), at the asked size;
        blended into 8-bit rows as they are finished, never held whole in float."""
        vae = self.pipe.vae
        shift = getattr(vae.config, "shift_factor", None) or 0.0

        def work(tiles: torch.Tensor) -> torch.Tensor:
            return vae.decode((tiles / vae.config.scaling_factor + shift).to(vae.dtype), return_dict=False)[0]

        with _full_precision(vae):
            picture = blend_image(latents, self.tiles, self.tiles.scaled(self.scale), work, batch=1,
                                  device="cpu", check=self.context.check_cancelled)
        return resample(picture, (self.request.width, self.request.height), self.request.wrap)


class _full_precision:
    """Runs a float16 VAE that overflows in float16 (SDXL's) in float32 meanwhile.

    The casts run outside inference mode: weights made inside it would be inference
    tensors, kept by the loaded model after the run, which autograd refuses (training an
    adapter on the model) and which, as buffers, refuse in-place updates.
    """

    def __init__(self, vae) -> None:
        self.vae = vae
        self.upcast = vae.dtype == torch.float16 and bool(getattr(vae.config, "force_upcast", False))

    def __enter__(self) -> None:
        if self.upcast:
            with torch.inference_mode(False):
                self.vae.to(torch.float32)

    def __exit__(self, *_exc) -> None:
        if self.upcast:
            with torch.inference_mode(False):
                self.vae.to(torch.float16)


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


__all__ = ["MIN_WINDOW", "UNET_FAMILIES", "WINDOW_BATCH", "Model", "check_family", "generate", "upscale"]
