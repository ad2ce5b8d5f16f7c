"""DiffusersEngine: one request in, one frame out, on the device the user chose.

One worker thread calls `render` (the job runner's); loaded pipelines stay cached,
least recently used first out. Mode pipelines (img2img, inpaint, ControlNet) are
built with `from_pipe`, sharing the loaded weights; each render gets a fresh
scheduler so no state leaks between frames.
"""

from __future__ import annotations

import gc
import inspect
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ..base import Cancelled, EngineError, FrameResult, RenderContext
from ..discovery.entry import Family
from ..request import FrameRequest, Lora, Mode, decode_image
from . import previews
from .loading import FAMILY_OF_PIPELINE, PICKLE_SUFFIXES, ModelSource, load_controlnet, load_pipeline, load_taesd, resolve_model

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

    def dtype_for(self, family: Family) -> torch.dtype:
        if self.device.type == "cpu":
            return torch.float32
        if family in (Family.sd3, Family.flux) and self.device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16

    # -- loading, cached ------------------------------------------------------------

    def _model(self, model: str) -> _Loaded:
        if not model:
            raise EngineError("the diffusers engine needs a model: a folder, a .safetensors file or a Hugging Face id")
        if model in self._models:
            self._models.move_to_end(model)
            return self._models[model]
        source = resolve_model(model, allow_network=self.allow_network, allow_pickle=self.allow_pickle)
        while len(self._models) >= self.cache_size:
            self._evict()
        loaded = self._load(source)
        self._models[model] = loaded
        return loaded

    def _load(self, source: ModelSource) -> _Loaded:
        pipe = load_pipeline(
            source, dtype=self.dtype_for(source.family), allow_network=self.allow_network,
            config=self.configs.get(source.family.value),
        )
        family = source.family if source.family is not Family.unknown else _family_of(pipe)
        pipe.set_progress_bar_config(disable=True)
        loaded = _Loaded(pipe, family)
        if self.device.type == "cuda" and not self._fits(pipe):
            self._offload(loaded)
        else:
            pipe.to(self.device)
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
        self._controlnets.clear()
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _controlnet(self, model: str, dtype: torch.dtype):
        if model not in self._controlnets:
            net = load_controlnet(model, dtype=dtype, allow_network=self.allow_network, allow_pickle=self.allow_pickle)
            self._controlnets[model] = net.to(self.device)
            while len(self._controlnets) > 4:
                self._controlnets.popitem(last=False)
        self._controlnets.move_to_end(model)
        return self._controlnets[model]

    def _preview_decoder(self, family: Family):
        path = self.preview_decoders.get(family.value)
        if not path:
            return None
        if path not in self._taesd:
            self._taesd[path] = load_taesd(path, dtype=self.dtype_for(family)).to(self.device)
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
            image = self._generate(loaded, request, context)
        except torch.OutOfMemoryError as exc:
            if loaded.offloaded:
                raise EngineError(
                    f"out of GPU memory at {request.width}x{request.height} even with offloading; "
                    "try a smaller frame or close other GPU programs"
                ) from exc
            self._evict_others(loaded)
            self._offload(loaded)
            image = self._generate(loaded, request, context)
        return FrameResult(image=image, request=request)

    def _evict_others(self, keep: _Loaded) -> None:
        for key in [k for k, v in self._models.items() if v is not keep]:
            del self._models[key]
        self._controlnets.clear()
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _generate(self, loaded: _Loaded, request: FrameRequest, context: RenderContext) -> Image.Image:
        self._apply_loras(loaded, request.loras)
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
        arguments.update(self._mode_arguments(request, context, size))
        accepted = inspect.signature(pipe.__call__).parameters
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
            dtype = base.unet.dtype if hasattr(base, "unet") else self.dtype_for(loaded.family)
            nets = [self._controlnet(c.model, dtype) for c in request.controls]
            net = nets[0] if len(nets) == 1 else diffusers.MultiControlNetModel(nets)
            pipe = diffusers.AutoPipelineForText2Image.from_pipe(base, controlnet=net)
        elif request.mode is Mode.img2img:
            pipe = diffusers.AutoPipelineForImage2Image.from_pipe(base)
        elif request.mode is Mode.inpaint:
            pipe = diffusers.AutoPipelineForInpainting.from_pipe(base)
        else:
            pipe = diffusers.AutoPipelineForText2Image.from_pipe(base)
        pipe.scheduler = _scheduler(base.scheduler, request.scheduler)
        pipe.set_progress_bar_config(disable=True)
        if loaded.offloaded and pipe is not base:
            pipe.enable_model_cpu_offload(device=self.device)
        return pipe

    def _mode_arguments(self, request: FrameRequest, context: RenderContext, size: tuple[int, int]) -> dict:
        def image(digest: str, mode: str = "RGB") -> Image.Image:
            try:
                picture = decode_image(context.media(digest), mode)
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
        last_preview = [-PREVIEW_INTERVAL_S]

        def on_step_end(pipe, step: int, _timestep, tensors: dict) -> dict:
            context.on_progress(step + 1, getattr(pipe, "num_timesteps", None) or steps)
            latents = tensors.get("latents")
            now = time.monotonic()
            if latents is not None and latents.ndim == 4 and now - last_preview[0] >= PREVIEW_INTERVAL_S:
                # Reading latents back waits for the GPU, so previews are rationed.
                last_preview[0] = now
                preview = previews.decode_tiny(latents, decoder) if decoder is not None else previews.approximate(latents, family)
                context.on_preview(preview)
            context.check_cancelled()
            return tensors

        return on_step_end

    def _apply_loras(self, loaded: _Loaded, loras: tuple[Lora, ...]) -> None:
        pipe = loaded.pipe
        names = []
        for lora in loras:
            path = Path(lora.path).expanduser()
            key = str(path.resolve())
            if key not in loaded.adapters:
                if not path.is_file():
                    raise EngineError(f"LoRA not found: {lora.path}")
                if path.suffix.lower() in PICKLE_SUFFIXES and not self.allow_pickle:
                    raise EngineError(f"{path.name} is a pickled LoRA; allow pickled models to load it")
                name = f"lora_{len(loaded.adapters)}"
                try:
                    pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=name, local_files_only=True)
                except (OSError, ValueError, KeyError, RuntimeError) as exc:
                    raise EngineError(f"could not load LoRA {path.name}: {exc}") from exc
                loaded.adapters[key] = name
            names.append(loaded.adapters[key])
        if names:
            pipe.enable_lora()
            pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])
        elif loaded.adapters:
            pipe.disable_lora()


def _scheduler(current, name: str):
    """A fresh scheduler for one render: the model's own, or the one the recipe names."""
    if not name:
        return type(current).from_config(current.config)
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
