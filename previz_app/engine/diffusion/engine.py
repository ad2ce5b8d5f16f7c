"""DiffusersEngine: one request in, one frame out, on the device the user chose.

One worker thread calls `render` (the job runner's); loaded pipelines stay cached,
least recently used first out. Mode pipelines (img2img, inpaint, ControlNet) are
built with `from_pipe`, sharing the loaded weights; each render gets a fresh
scheduler so no state leaks between frames.
"""

from __future__ import annotations

import gc
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from PIL import Image

from ..base import Cancelled, EngineError, FrameResult, RenderContext
from ..discovery.entry import Family
from ..environment import EnvironmentRequest
from ..request import FrameRequest, Mode, decode_image
from . import panorama, previews
from .adapters import apply_loras
from .loading import (
    FAMILY_OF_PIPELINE, ModelSource, load_controlnet, load_pipeline, load_taesd, resolve_model,
)

logger = logging.getLogger(__name__)

# Scheduler names a recipe may carry, as A1111 users know them.
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
}
GPU_HEADROOM = 1.25  # weights times this must fit in free memory, else offload
FLOW_FAMILIES = (Family.sd3, Family.flux)
PREVIEW_INTERVAL_S = 0.25  # at most four previews a second; the first step always shows


def pick_device(requested: str | None) -> torch.device:
    """The device the user asked for, checked; the best available when they did not."""
    if not requested:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise EngineError(f"unknown device {requested!r}; expected cuda, mps or cpu") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EngineError("CUDA was asked for, but this torch build sees no CUDA GPU")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise EngineError("MPS was asked for, but this machine has no Apple GPU available to torch")
    if device.type not in ("cuda", "mps", "cpu"):
        raise EngineError(f"unsupported device {requested!r}; expected cuda, mps or cpu")
    return device


@dataclass
class _Loaded:
    pipe: object
    family: Family
    offloaded: bool = False
    adapters: dict[str, str] = field(default_factory=dict)  # LoRA path -> adapter name


class DiffusersEngine:
    """Frames from the user's diffusion models; see `render`."""

    name = "diffusers"

    def __init__(
        self,
        device: str | None = None,
        allow_network: bool = False,
        allow_pickle: bool = False,
        *,
        configs: Mapping[str, str] | None = None,
        previews: Mapping[str, str] | None = None,
        cache_size: int = 2,
    ) -> None:
        """`configs`: family -> diffusers folder whose configs single-file checkpoints
        of that family borrow. `previews`: family -> TAESD decoder for live previews."""
        self.device = pick_device(device)
        self.allow_network = allow_network
        self.allow_pickle = allow_pickle
        self.configs = dict(configs or {})
        self.preview_decoders = dict(previews or {})
        self.cache_size = max(1, cache_size)
        self._models: OrderedDict[str, _Loaded] = OrderedDict()
        self._controlnets: OrderedDict[str, object] = OrderedDict()
        self._taesd: dict[str, object] = {}
        self._sources: dict[str, ModelSource] = {}  # checked, not yet loaded

    def dtype_for(self, family: Family) -> torch.dtype:
        """fp32 on the CPU; fp16 for UNet models on a GPU; bf16 for the flow-matching
        transformers (SD3, FLUX), which overflow in fp16, or fp32 where bf16 is missing."""
        if self.device.type == "cpu":
            return torch.float32
        if family in FLOW_FAMILIES:
            bf16 = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
            return torch.bfloat16 if bf16 else torch.float32
        return torch.float16

    def check(self, model: str) -> Family:
        """`model`'s family, or EngineError now if it cannot be loaded (missing, damaged,
        refused), before any work is planned around it. Reads headers and JSON only."""
        if not model:
            raise EngineError("the diffusers engine needs a model: a folder, a .safetensors file or a Hugging Face id")
        if model in self._models:
            return self._models[model].family
        if model not in self._sources:  # resolved once: a pickle's family costs a full read
            self._sources[model] = resolve_model(model, allow_network=self.allow_network, allow_pickle=self.allow_pickle)
        return self._sources[model].family

    # -- loading, cached ------------------------------------------------------------

    def _model(self, model: str) -> _Loaded:
        self.check(model)
        if model in self._models:
            self._models.move_to_end(model)
            return self._models[model]
        while len(self._models) >= self.cache_size:
            self._evict()
        loaded = self._load(self._sources.pop(model))
        self._models[model] = loaded
        return loaded

    def _load(self, source: ModelSource) -> _Loaded:
        pipe = load_pipeline(
            source, dtype=self.dtype_for(source.family), allow_network=self.allow_network,
            allow_pickle=self.allow_pickle, config=self.configs.get(source.family.value),
        )
        family = source.family if source.family is not Family.unknown else _family_of(pipe)
        pipe.set_progress_bar_config(disable=True)
        loaded = _Loaded(pipe, family)
        if self.device.type == "cuda" and not self._fits(pipe):
            self._offload(loaded)
            return loaded
        try:
            pipe.to(self.device)
        except torch.OutOfMemoryError:
            out_of_memory = True
        else:
            out_of_memory = False
        if out_of_memory:  # outside the handler, so the failed copy can be freed
            pipe.to("cpu")
            self._release()
            self._offload(loaded)
        return loaded

    def _fits(self, pipe) -> bool:
        """Whether the pipeline's weights fit in free GPU memory, evicting others first."""
        needed = sum(
            p.numel() * p.element_size() for m in pipe.components.values()
            if isinstance(m, torch.nn.Module) for p in m.parameters()
        )
        while True:
            free, _total = torch.cuda.mem_get_info(self.device)
            if needed * GPU_HEADROOM <= free or not self._models:
                return needed * GPU_HEADROOM <= free
            self._evict()

    def _offload(self, loaded: _Loaded) -> None:
        loaded.pipe.enable_model_cpu_offload(device=self.device)
        loaded.offloaded = True

    def _evict(self) -> None:
        if self._models:
            self._models.popitem(last=False)
        self._release()

    def _release(self) -> None:
        """Drop the ControlNets and give freed memory back to the device."""
        self._controlnets.clear()
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _controlnet(self, model: str, loaded: _Loaded):
        key = f"{loaded.family.value}:{model}"
        if key not in self._controlnets:
            net = load_controlnet(
                model, loaded.family, dtype=self.dtype_for(loaded.family), allow_network=self.allow_network,
                allow_pickle=self.allow_pickle, config=self.configs.get(f"controlnet-{loaded.family.value}"),
            )
            # An offloaded model's ControlNet is moved on and off the GPU with it.
            self._controlnets[key] = net if loaded.offloaded else net.to(self.device)
            while len(self._controlnets) > 4:
                self._controlnets.popitem(last=False)
        self._controlnets.move_to_end(key)
        return self._controlnets[key]

    def _preview_decoder(self, family: Family):
        """The family's TAESD, or None for the linear approximation. A decoder that will
        not load costs the previews their detail, never the frame."""
        path = self.preview_decoders.get(family.value)
        if not path:
            return None
        if path not in self._taesd:
            try:
                decoder = load_taesd(path, dtype=self.dtype_for(family), allow_pickle=self.allow_pickle)
                self._taesd[path] = decoder.to(self.device)
            except torch.OutOfMemoryError:
                raise
            except (EngineError, OSError, ValueError, RuntimeError) as exc:
                logger.warning("preview decoder %s not usable, using the latent approximation: %s", path, exc)
                self._taesd[path] = None
        return self._taesd[path]

    @property
    def loaded_models(self) -> list[str]:
        """Models held in memory, least recently used first."""
        return list(self._models)

    def unload(self) -> None:
        """Drop every loaded model and ControlNet, giving their memory back."""
        while self._models:
            self._evict()
        self._taesd.clear()

    # -- rendering ------------------------------------------------------------------

    def render(self, request: FrameRequest, context: RenderContext) -> FrameResult:
        """Make the frame; raises Cancelled between steps, EngineError for the user."""
        if request.mode is Mode.controlled and any(not c.model for c in request.controls):
            raise EngineError("controlled mode needs a ControlNet model for every control image")
        loaded = self._model(request.model)
        context.check_cancelled()
        try:
            return FrameResult(image=self._generate(loaded, request, context), request=request)
        except torch.OutOfMemoryError as exc:
            if loaded.offloaded:
                raise EngineError(
                    f"out of GPU memory at {request.width}x{request.height} even with offloading; "
                    "try a smaller frame or close other GPU programs"
                ) from exc
        # Retried outside the handler: the traceback held the failed attempt's tensors.
        for key in [k for k, v in self._models.items() if v is not loaded]:
            del self._models[key]
        self._release()
        self._offload(loaded)
        return FrameResult(image=self._generate(loaded, request, context), request=request)

    def _generate(self, loaded: _Loaded, request: FrameRequest, context: RenderContext) -> Image.Image:
        apply_loras(loaded.pipe, loaded.adapters, loaded.family, request.loras, allow_pickle=self.allow_pickle)
        pipe = self._mode_pipeline(loaded, request)
        multiple = 16 if loaded.family in (Family.sd3, Family.flux) else 8
        size = (_round_to(request.width, multiple), _round_to(request.height, multiple))
        arguments = dict(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt or None,
            num_inference_steps=request.steps,
            guidance_scale=request.guidance,
            generator=torch.Generator("cpu").manual_seed(request.seed),
            width=size[0],
            height=size[1],
            callback_on_step_end=self._step_callback(loaded.family, request.steps, context),
            callback_on_step_end_tensor_inputs=["latents"],
            output_type="pil",
        )
        accepted = inspect.signature(pipe.__call__).parameters
        for name, value in self._mode_arguments(request, context, size).items():
            if name == "image" and "control_image" in accepted and request.mode is Mode.controlled:
                name = "control_image"  # SD3 and FLUX ControlNet pipelines
            if name not in accepted:
                raise EngineError(f"{request.mode.value} is not available for {loaded.family.value} models ({type(pipe).__name__})")
            arguments[name] = value
        try:
            with torch.inference_mode():
                result = pipe(**{k: v for k, v in arguments.items() if k in accepted})
        except (Cancelled, EngineError, torch.OutOfMemoryError):
            raise
        except (RuntimeError, ValueError, TypeError) as exc:
            raise EngineError(f"generation failed: {exc}") from exc
        image = result.images[0]
        if image.size != (request.width, request.height):
            image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        return image

    def _mode_pipeline(self, loaded: _Loaded, request: FrameRequest):
        import diffusers

        base = loaded.pipe
        if request.mode is Mode.controlled:
            nets = [self._controlnet(c.model, loaded) for c in request.controls]
            multi = {Family.sd3: "SD3MultiControlNetModel", Family.flux: "FluxMultiControlNetModel"}
            net = nets[0] if len(nets) == 1 else getattr(diffusers, multi.get(loaded.family, "MultiControlNetModel"))(nets)
            pipe = diffusers.AutoPipelineForText2Image.from_pipe(base, controlnet=net)
        elif request.mode is Mode.img2img:
            pipe = diffusers.AutoPipelineForImage2Image.from_pipe(base)
        elif request.mode is Mode.inpaint:
            pipe = diffusers.AutoPipelineForInpainting.from_pipe(base)
        else:
            pipe = diffusers.AutoPipelineForText2Image.from_pipe(base)
        pipe.scheduler = _scheduler(base.scheduler, request.scheduler, loaded.family)
        pipe.set_progress_bar_config(disable=True)
        if loaded.offloaded and pipe is not base:
            pipe.enable_model_cpu_offload(device=self.device)
        return pipe

    def _mode_arguments(self, request: FrameRequest, context: RenderContext, size: tuple[int, int]) -> dict:
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

    def _step_callback(self, family: Family, steps: int, context: RenderContext):
        decoder = self._preview_decoder(family)
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

    # -- environments: wide and 360° pictures in overlapping windows (panorama.py) ---

    def environment(self, request: EnvironmentRequest, context: RenderContext) -> Image.Image:
        """A wide or 360° environment; raises Cancelled, or EngineError (SD3/FLUX)."""
        return panorama.generate(self._windowed(request), request, context)

    def upscale(self, image: Image.Image, request: EnvironmentRequest, context: RenderContext,
                strength: float = 0.35) -> Image.Image:
        """`image` enlarged to the request's size by tiled img2img at `strength`."""
        return panorama.upscale(self._windowed(request), image, request, context, strength)

    def _windowed(self, request: EnvironmentRequest) -> panorama.Model:
        panorama.check_family(self.check(request.model))  # before loading a model it cannot use
        loaded = self._model(request.model)
        apply_loras(loaded.pipe, loaded.adapters, loaded.family, (), allow_pickle=self.allow_pickle)  # none left on
        scheduler = _scheduler(loaded.pipe.scheduler, request.scheduler, loaded.family)
        return panorama.Model(loaded.pipe, loaded.family, scheduler, self._preview_decoder(loaded.family))


def _scheduler(current, name: str, family: Family):
    """A fresh scheduler for one render: the model's own, or the one the recipe names."""
    if not name:
        return type(current).from_config(current.config)
    if family in FLOW_FAMILIES:
        raise EngineError(f"{family.value} models use their own flow-matching scheduler; leave the scheduler unset")
    if name not in SCHEDULERS:
        raise EngineError(f"unknown scheduler {name!r}; expected one of: {', '.join(SCHEDULERS)}")
    import diffusers

    class_name, extra = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(current.config, **extra)


def _family_of(pipe) -> Family:
    family = FAMILY_OF_PIPELINE.get(type(pipe).__name__, Family.unknown)
    unet = getattr(pipe, "unet", None)
    if family is Family.sd1 and unet is not None and unet.config.cross_attention_dim == 1024:
        return Family.sd2
    return family


def _round_to(side: int, multiple: int) -> int:
    return max(multiple, round(side / multiple) * multiple)
