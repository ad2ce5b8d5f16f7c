"""The engine's speed levers: which are on, and applying them to a loaded pipeline.

On CUDA the fast path is the default (bf16, channels_last, fused QKV, regional
compilation with its caches on disk, batched variations); on the CPU and MPS every lever
that changes how the modules run is off unless the user asks, so those paths stay as
they were. Each lever can be switched alone with lever text such as
"compile=off,fuse_qkv=off" (`Acceleration.parse`).

The levers act on modules, not on pipelines: mode pipelines made with `from_pipe` share
the loaded UNet/transformer and VAE, so accelerating them once, after loading, covers
every mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path

import torch

from ..base import EngineError
from ..discovery.entry import Family
from ..request import FrameRequest
from . import compiling

logger = logging.getLogger(__name__)

LEVERS = ("precision", "channels_last", "fuse_qkv", "compile", "cuda_graphs", "compile_cache",
          "batch_variations", "draft", "fp8")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
COMPILE_MODES = ("off", "regional", "full")
_ON = ("on", "true", "yes", "1")
_OFF = ("off", "false", "no", "0")
FLOW_FAMILIES = (Family.sd3, Family.flux)
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
SIZE_BUCKET = compiling.SIZE_BUCKET
MAX_BATCH = 4  # the most variations the job runner gathers into one render_batch call


@dataclass(frozen=True)
class Acceleration:
    """Which levers are on.

    precision: auto | bf16 | fp16 | fp32 (see `precision_dtype`). channels_last: the
    UNet/transformer and VAE (and ControlNets) in channels_last memory format. fuse_qkv:
    one matmul for q, k and v (set aside for frames with LoRAs). compile: off | regional
    (the repeated blocks) | full (the whole UNet/transformer); see compiling.py.
    cuda_graphs: with compile=full on CUDA, torch.compile's "reduce-overhead" mode.
    compile_cache: compiled kernels kept on disk between launches. batch_variations:
    `render_batch` makes its frames in one call. draft: the final image decoded by the
    family's TAESD (when one is configured) instead of the VAE; DeepCache-style reuse
    of deep features is not implemented yet. fp8: fp8 matmuls in the denoiser, with
    torchao, on Hopper GPUs only.
    """

    precision: str = "auto"
    channels_last: bool = True
    fuse_qkv: bool = True
    compile: str = "regional"
    cuda_graphs: bool = True
    compile_cache: bool = True
    batch_variations: bool = True
    draft: bool = False
    fp8: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision}: expected one of {', '.join(PRECISIONS)}")
        if self.compile not in COMPILE_MODES:
            raise ValueError(f"compile={self.compile}: expected one of {', '.join(COMPILE_MODES)}")
        for lever in fields(self):
            if lever.name not in ("precision", "compile") and not isinstance(getattr(self, lever.name), bool):
                raise ValueError(f"{lever.name} must be on or off, got {getattr(self, lever.name)!r}")

    @classmethod
    def parse(cls, text: str, base: Acceleration) -> Acceleration:
        """`base` with the levers `text` names changed: comma-separated `lever=value`
        (`on`/`off` for switches, a bare name meaning on). Raises ValueError naming the
        lever, and the valid levers or values, for anything else."""
        changes: dict[str, object] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            name, sep, value = (piece.strip() for piece in item.partition("="))
            if name not in LEVERS:
                raise ValueError(f"unknown lever {name!r}; expected one of: {', '.join(LEVERS)}")
            if name in changes:
                raise ValueError(f"lever {name!r} is given twice")
            changes[name] = _value(name, value.lower() if sep else "on")
        return replace(base, **changes)

    def text(self) -> str:
        """Lever text that `parse` turns back into this Acceleration, whatever the base."""
        return ",".join(f"{name}={_text(getattr(self, name))}" for name in LEVERS)


def _value(name: str, value: str) -> object:
    if name == "precision":
        if value not in PRECISIONS:
            raise ValueError(f"precision={value}: expected one of {', '.join(PRECISIONS)}")
        return value
    if name == "compile":
        if value not in COMPILE_MODES:
            raise ValueError(f"compile={value}: expected one of {', '.join(COMPILE_MODES)}")
        return value
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(f"{name}={value}: expected on or off")


def _text(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def default_for(device: torch.device) -> Acceleration:
    """The fast path on CUDA; elsewhere only the levers that leave the modules as they
    are (precision stays fp32 on the CPU), so the CPU path does not change."""
    if device.type == "cuda":
        return Acceleration()
    return Acceleration(channels_last=False, fuse_qkv=False, compile="off", cuda_graphs=False,
                        compile_cache=False, batch_variations=True)


def check_supported(acceleration: Acceleration, device: torch.device) -> None:
    """EngineError now for levers the user asked for that this machine cannot give."""
    if acceleration.precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise EngineError("precision=bf16 needs a GPU with bfloat16 support (Ampere or newer); use fp16 or auto")
    if not acceleration.fp8:
        return
    if device.type != "cuda" or torch.cuda.get_device_capability(device) < (9, 0):
        raise EngineError(f"fp8 needs an NVIDIA GPU of compute capability 9.0 or newer (Hopper); this is {device.type}")
    if acceleration.precision in ("fp16", "fp32"):
        raise EngineError("fp8 works from bf16 weights; use precision=bf16 or auto with fp8")
    try:
        import torchao  # noqa: F401
    except ImportError as exc:
        raise EngineError("fp8 needs torchao: pip install torchao") from exc


def precision_dtype(acceleration: Acceleration, device: torch.device, family: Family) -> torch.dtype:
    """The weights' dtype. auto: fp32 on the CPU; bf16 on CUDA with bf16 (fp16 without)
    for UNet models; bf16 or fp32 for the flow-matching transformers (SD3, FLUX), which
    overflow in fp16; fp16 for UNet models on MPS. Raises EngineError for fp16 with a
    flow-matching model."""
    if acceleration.precision != "auto":
        if acceleration.precision == "fp16" and family in FLOW_FAMILIES:
            raise EngineError(f"{family.value} models overflow in fp16; use precision=bf16 or fp32")
        return DTYPES[acceleration.precision]
    if device.type == "cpu":
        return torch.float32
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if family in FLOW_FAMILIES:
        return torch.bfloat16 if bf16 else torch.float32
    return torch.bfloat16 if bf16 else torch.float16


def batchable(a: FrameRequest, b: FrameRequest) -> bool:
    """Whether two requests can share one pipeline call: they differ only in seed."""
    return replace(a, seed=b.seed) == b


def bucketed(width: int, height: int) -> tuple[int, int]:
    """The size a compiled model renders `width` x `height` at; see compiling.bucketed."""
    return compiling.bucketed(width, height)


# -- applying the levers to a loaded pipeline --------------------------------------------


def denoiser(pipe) -> torch.nn.Module | None:
    """The module that runs every step: the UNet, or the transformer of SD3 and FLUX."""
    unet = getattr(pipe, "unet", None)
    return unet if unet is not None else getattr(pipe, "transformer", None)


def accelerate(pipe, family: Family, acceleration: Acceleration, device: torch.device,
               cache_dir: Path | None) -> tuple[str, ...]:
    """Apply the levers to a loaded pipeline's modules, once, after loading; returns the
    names of those applied. A lever that fails (compile unavailable, no C compiler, a
    model without fused projections) is logged and skipped, never fatal. `precision`
    is applied by loading in `precision_dtype`; `batch_variations` and `draft` act
    per render. `compile_cache` keeps Inductor's caches under `cache_dir`."""
    model, vae = denoiser(pipe), getattr(pipe, "vae", None)
    offloaded = bool(getattr(model, "_hf_hook", None))
    steps = []
    if acceleration.fuse_qkv:
        steps.append(("fuse_qkv", lambda: _fuse(model, vae)))
    if acceleration.fp8:
        steps.append(("fp8", lambda: _fp8(model)))
    if acceleration.channels_last:
        steps.append(("channels_last", lambda: _channels_last(model, vae)))
    compiled = acceleration.compile != "off" and model is not None
    if compiled and offloaded:
        logger.info("not compiling %s: it is offloaded to the CPU between steps", type(model).__name__)
        compiled = False
    if compiled and acceleration.compile_cache and cache_dir is not None:
        steps.append(("compile_cache", lambda: compiling.use_cache(
            cache_dir, compiling.mega_cache_path(cache_dir, model, acceleration.text(), device))))
    if compiled:
        mode = "reduce-overhead" if acceleration.cuda_graphs and acceleration.compile == "full" and device.type == "cuda" else None
        steps.append((f"compile={acceleration.compile}", lambda: compiling.compile_model(model, acceleration.compile, mode)))
    applied = []
    for name, apply in steps:
        try:
            apply()
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failing lever is skipped, as documented
            logger.warning("speed lever %s not applied to %s: %s", name, type(model).__name__, exc)
        else:
            applied.append(name)
    if applied:
        logger.info("levers applied to %s: %s", type(model).__name__, ", ".join(applied))
    return tuple(applied)


def accelerate_module(module: torch.nn.Module, acceleration: Acceleration) -> None:
    """Levers for a module loaded beside the pipeline (a ControlNet): channels_last only,
    as it runs once a step next to a compiled UNet."""
    if acceleration.channels_last:
        module.to(memory_format=torch.channels_last)


def _fuse(model, vae) -> None:
    fused = False
    if model is not None and hasattr(model, "fuse_qkv_projections"):
        model.fuse_qkv_projections()
        model._previz_qkv_fused = True
        fused = True
    if vae is not None and hasattr(vae, "fuse_qkv_projections"):
        vae.fuse_qkv_projections()
        fused = True
    if not fused:
        raise ValueError("this model has no fused attention projections")


def set_qkv_fusion(model: torch.nn.Module | None, fused: bool) -> None:
    """Fuse or unfuse the attention projections of a UNet/transformer the fuse_qkv lever
    fused (any other model is left alone). LoRAs are injected into the separate q/k/v
    layers, which fused attention bypasses, so the engine unfuses for frames with LoRAs
    and fuses again (from the unchanged base weights) for frames without."""
    state = getattr(model, "_previz_qkv_fused", None)
    if state is None or state is fused:
        return
    if fused:
        model.fuse_qkv_projections()
    else:
        model.unfuse_qkv_projections()
    model._previz_qkv_fused = fused


def _channels_last(*modules) -> None:
    for module in modules:
        if module is not None:
            module.to(memory_format=torch.channels_last)


def _fp8(model) -> None:
    """fp8 matmuls (dynamic per-row scales) for the denoiser's linear layers, by torchao."""
    from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow, quantize_

    quantize_(model, Float8DynamicActivationFloat8WeightConfig(granularity=PerRow()))
