"""DiffusersEngine: one request in, one frame out, on the device the user chose.

One worker thread calls `render` (the job runner's); loaded pipelines stay cached,
least recently used first out. Mode pipelines (img2img, inpaint, ControlNet) are
built with `from_pipe`, sharing the loaded weights; each render gets a fresh
scheduler so no state leaks between frames. Speed levers (acceleration.py) are applied
to a model's modules once, after it loads; `render_batch` renders variations of one
request in one call.
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from ..base import Cancelled, EngineError, FrameResult, RenderContext
from ..discovery.entry import Family
from ..environment import EnvironmentRequest
from ..request import FrameRequest, Mode
from . import compiling, modes, panorama
from .acceleration import Acceleration, accelerate, accelerate_module, check_supported, default_for, denoiser
from .acceleration import batchable, precision_dtype, set_qkv_fusion
from .adapters import apply_loras
from .batching import check_batch, generators
from .drafts import DRAFT_FAMILIES, decode_draft
from .loading import ModelSource, family_of, load_controlnet, load_pipeline, load_taesd, resolve_model
from .schedulers import SCHEDULERS, fresh_scheduler as _scheduler  # noqa: F401 - their old home

logger = logging.getLogger(__name__)

GPU_HEADROOM = 1.25  # weights times this must fit in free memory, else offload


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
    levers: tuple[str, ...] = ()  # the speed levers applied (acceleration.accelerate)
    mega_cache: Path | None = None  # where its compiled kernels are saved
    shapes: set = field(default_factory=set)  # (size, batch) rendered compiled; a new one saves kernels

    @property
    def compiled(self) -> bool:
        return any(lever.startswith("compile=") for lever in self.levers)


class DiffusersEngine:
    """Frames from the user's diffusion models; see `render`."""

    name = "diffusers"
    batchable = staticmethod(batchable)  # for the job runner: may two requests share render_batch?

    def __init__(
        self,
        device: str | None = None,
        allow_network: bool = False,
        allow_pickle: bool = False,
        *,
        configs: Mapping[str, str] | None = None,
        previews: Mapping[str, str] | None = None,
        cache_size: int = 2,
        acceleration: Acceleration | None = None,
        compile_cache_dir: Path | None = None,
    ) -> None:
        """`configs`: family -> diffusers folder whose configs single-file checkpoints
        of that family borrow. `previews`: family -> TAESD decoder for live previews
        (and draft frames). `acceleration`: the speed levers, default_for(device) when
        None; raises EngineError for one this machine cannot give. `compile_cache_dir`:
        where compiled kernels are kept (compiling.default_cache_dir when None)."""
        self.device = pick_device(device)
        self.acceleration = acceleration or default_for(self.device)
        check_supported(self.acceleration, self.device)
        self.compile_cache_dir = compile_cache_dir
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
        """The weights' dtype, as the precision lever says (acceleration.precision_dtype):
        by default fp32 on the CPU, bf16 on a GPU with bf16 (fp16 without), and never fp16
        for the flow-matching transformers (SD3, FLUX), which overflow in it."""
        return precision_dtype(self.acceleration, self.device, family)

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
        family = source.family if source.family is not Family.unknown else family_of(pipe)
        pipe.set_progress_bar_config(disable=True)
        loaded = _Loaded(pipe, family)
        if self.device.type == "cuda" and not self._fits(pipe):
            self._offload(loaded)
            return self._accelerate(loaded)
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
        return self._accelerate(loaded)

    def _accelerate(self, loaded: _Loaded) -> _Loaded:
        cache_dir = None
        if self.acceleration.compile != "off" and self.acceleration.compile_cache:
            cache_dir = self.compile_cache_dir or compiling.default_cache_dir(Path.home(), os.environ)
        loaded.levers = accelerate(loaded.pipe, loaded.family, self.acceleration, self.device, cache_dir)
        if "compile_cache" in loaded.levers and loaded.compiled:
            model = denoiser(loaded.pipe)
            loaded.mega_cache = compiling.mega_cache_path(cache_dir, model, self.acceleration.text(), self.device)
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
        self._uncompile(loaded)  # compiled graphs and offload hooks do not mix
        loaded.pipe.enable_model_cpu_offload(device=self.device)
        loaded.offloaded = True

    def _uncompile(self, loaded: _Loaded) -> None:
        compiling.uncompile(denoiser(loaded.pipe))
        loaded.levers = tuple(lever for lever in loaded.levers if not lever.startswith("compile"))
        loaded.mega_cache = None

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
            if not loaded.offloaded:
                net = net.to(self.device)
                accelerate_module(net, self.acceleration)
            self._controlnets[key] = net
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
        return FrameResult(image=self._render([request], context)[0], request=request)

    def render_batch(self, requests: Sequence[FrameRequest], context: RenderContext) -> list[FrameResult]:
        """Frames for requests that differ only in seed (variations), in one pipeline call
        when the batch_variations lever is on: each image is the one `render` makes for
        its seed, within float rounding. Progress, previews (of the first image) and
        cancel work as in `render`, for the whole batch. Raises ValueError for requests
        that differ in more than seed, Cancelled and EngineError as `render`."""
        check_batch(requests)
        if not self.acceleration.batch_variations:
            return [self.render(request, context) for request in requests]
        return [FrameResult(image=image, request=r) for image, r in zip(self._render(requests, context), requests)]

    def _render(self, requests: Sequence[FrameRequest], context: RenderContext) -> list[Image.Image]:
        request = requests[0]
        if request.mode is Mode.controlled and any(not c.model for c in request.controls):
            raise EngineError("controlled mode needs a ControlNet model for every control image")
        loaded = self._model(request.model)
        context.check_cancelled()
        try:
            return self._generate(loaded, requests, context)
        except torch.OutOfMemoryError as exc:
            one_by_one = len(requests) > 1  # a batch too big is no reason to offload single frames
            if loaded.offloaded and not one_by_one:
                raise EngineError(
                    f"out of GPU memory at {request.width}x{request.height} even with offloading; "
                    "try a smaller frame or close other GPU programs"
                ) from exc
        # Retried outside the handler: the traceback held the failed attempt's tensors.
        if one_by_one:
            self._release()
            return [image for single in requests for image in self._render([single], context)]
        for key in [k for k, v in self._models.items() if v is not loaded]:
            del self._models[key]
        self._release()
        self._offload(loaded)
        return self._generate(loaded, requests, context)

    def _generate(self, loaded: _Loaded, requests: Sequence[FrameRequest], context: RenderContext) -> list[Image.Image]:
        request = requests[0]
        if "fp8" in loaded.levers and request.loras:
            raise EngineError("LoRAs cannot be applied to a model running in fp8; turn the fp8 lever off")
        if "fp8" not in loaded.levers:  # quantized weights are never split and joined again
            set_qkv_fusion(denoiser(loaded.pipe), not request.loras)  # LoRAs live in the layers fusion bypasses
        apply_loras(loaded.pipe, loaded.adapters, loaded.family, request.loras, allow_pickle=self.allow_pickle)
        pipe = self._mode_pipeline(loaded, request)
        multiple = 16 if loaded.family in (Family.sd3, Family.flux) else 8
        size = (_round_to(request.width, multiple), _round_to(request.height, multiple))
        if loaded.compiled:
            size = compiling.bucketed(*size)  # few shapes, few compiled graphs
        draft = self._draft_decoder(loaded.family)
        arguments = dict(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt or None,
            num_inference_steps=request.steps,
            guidance_scale=request.guidance,
            num_images_per_prompt=len(requests),
            generator=generators(requests),
            width=size[0],
            height=size[1],
            callback_on_step_end=modes.step_callback(self._preview_decoder(loaded.family), loaded.family, request.steps, context),
            callback_on_step_end_tensor_inputs=["latents"],
            output_type="latent" if draft is not None else "pil",
        )
        accepted = inspect.signature(pipe.__call__).parameters
        for name, value in modes.mode_arguments(request, context, size).items():
            if name == "image" and "control_image" in accepted and request.mode is Mode.controlled:
                name = "control_image"  # SD3 and FLUX ControlNet pipelines
            if name not in accepted:
                raise EngineError(f"{request.mode.value} is not available for {loaded.family.value} models ({type(pipe).__name__})")
            arguments[name] = value
        result = self._call(loaded, pipe, {k: v for k, v in arguments.items() if k in accepted}, requests)
        images = decode_draft(result.images, draft) if draft is not None else list(result.images)
        if loaded.mega_cache is not None and (size, len(requests)) not in loaded.shapes:
            loaded.shapes.add((size, len(requests)))  # a new shape compiled: keep its kernels
            compiling.save_mega_cache(loaded.mega_cache)
        wanted = (request.width, request.height)
        return [image if image.size == wanted else image.resize(wanted, Image.Resampling.LANCZOS) for image in images]

    def _call(self, loaded: _Loaded, pipe, arguments: dict, requests: Sequence[FrameRequest]):
        """The pipeline call. A compiled model that fails to compile (no C compiler, an
        unsupported op) goes back to eager, and the frame is made again from fresh
        generators (the failed attempt drew its noise from the first ones)."""
        try:
            with torch.inference_mode():
                return pipe(**arguments)
        except (Cancelled, EngineError, torch.OutOfMemoryError):
            raise
        except Exception as exc:  # Dynamo's own errors (a recompile limit hit) are not RuntimeErrors
            if not (loaded.compiled and compiling.is_compile_failure(exc)):
                if isinstance(exc, RuntimeError | ValueError | TypeError):
                    raise EngineError(f"generation failed: {exc}") from exc
                raise
            logger.warning("compiling %s failed, running it uncompiled: %s", type(denoiser(pipe)).__name__, exc)
        self._uncompile(loaded)  # outside the handler, so the failed attempt can be freed
        return self._call(loaded, pipe, {**arguments, "generator": generators(requests)}, requests)

    def _draft_decoder(self, family: Family):
        """The TAESD that decodes draft frames, or None for the VAE (draft off, no TAESD
        configured, or a family TAESD cannot read as the pipeline leaves its latents)."""
        if not self.acceleration.draft or family not in DRAFT_FAMILIES:
            return None
        return self._preview_decoder(family)

    def _mode_pipeline(self, loaded: _Loaded, request: FrameRequest):
        nets = [self._controlnet(c.model, loaded) for c in request.controls] if request.mode is Mode.controlled else []
        pipe = modes.mode_pipeline(loaded.pipe, loaded.family, request.mode, nets)
        pipe.scheduler = _scheduler(loaded.pipe.scheduler, request.scheduler, loaded.family)
        if loaded.offloaded and pipe is not loaded.pipe:
            pipe.enable_model_cpu_offload(device=self.device)
        return pipe

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
        set_qkv_fusion(denoiser(loaded.pipe), True)
        scheduler = _scheduler(loaded.pipe.scheduler, request.scheduler, loaded.family)
        return panorama.Model(loaded.pipe, loaded.family, scheduler, self._preview_decoder(loaded.family))


def _round_to(side: int, multiple: int) -> int:
    return max(multiple, round(side / multiple) * multiple)
