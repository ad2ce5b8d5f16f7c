"""torch.compile for the denoiser: regional or whole, shapes in buckets, caches on disk.

Regional compilation compiles each repeated block (the UNet's transformer blocks, the
transformers' joint/single blocks) rather than the whole model: blocks of one shape
share one compiled graph, so the first compile takes seconds, not minutes.

Shapes. A compiled graph is specialised to the shapes it saw; a new frame size would
recompile. So a compiled model renders at the requested size rounded to multiples of
`SIZE_BUCKET` (the engine resizes the image to the asked size afterwards), and every
compiled module marks its main input's batch and spatial (or sequence) dimensions, and
the batch dimension of its other tensor inputs, as dynamic (`torch._dynamo.
maybe_mark_dynamic`) before each call. The marks are set in a forward pre-hook that
runs eagerly, outside the compiled code (the compiled function is the module's
`forward`, not its `__call__`), which is where Dynamo reads them: a mark set inside
compiled code is ignored, and a mark on the pipeline's latents would not survive the
eager ops between them and the UNet's input. The first graph is therefore already
symbolic in height, width and batch: a new bucket, or a batch of variations, reuses it
instead of recompiling from scratch ("maybe": a dimension the model needs constant
stays specialised, without an error). Buckets still matter: CUDA graphs are recorded
once per concrete shape, and few distinct shapes keep that set small.

Caches. Inductor's FX graph and AOT autograd caches live under the previz cache
folder (TORCHINDUCTOR_CACHE_DIR, unless the user set it), and the "mega-cache"
(`torch.compiler.save_cache_artifacts`, everything the process compiled, in one file)
is saved after a compiled frame of a new shape and loaded before the model first runs,
so a second launch finds its kernels on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

SIZE_BUCKET = 64
# Models whose diffusers class does not declare `_repeated_blocks`.
REPEATED_BLOCKS = {"SD3Transformer2DModel": ("JointTransformerBlock",)}


def bucketed(width: int, height: int) -> tuple[int, int]:
    """`width` x `height` rounded to the nearest multiples of SIZE_BUCKET (at least one)."""
    return tuple(max(SIZE_BUCKET, round(side / SIZE_BUCKET) * SIZE_BUCKET) for side in (width, height))


def default_cache_dir(home: Path, environ: Mapping[str, str]) -> Path:
    """Where compiled kernels are kept: PREVIZ_HOME/torch-compile when PREVIZ_HOME is set,
    else $XDG_CACHE_HOME/previz/torch-compile, else ~/.cache/previz/torch-compile."""
    if environ.get("PREVIZ_HOME"):
        return Path(environ["PREVIZ_HOME"]).expanduser() / "torch-compile"
    cache = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else home / ".cache"
    return cache / "previz" / "torch-compile"


# -- compiling -----------------------------------------------------------------------------


RECOMPILE_LIMIT = 64  # graphs per compiled block class


def compile_model(model: torch.nn.Module, scope: str, mode: str | None = None, backend: str | Callable = "inductor") -> int:
    """Compile `model` in place: `scope` "regional" (its repeated blocks; the whole model
    when it has none) or "full". `mode` is torch.compile's ("reduce-overhead" for CUDA
    graphs); `backend` is torch.compile's too. Compilation itself happens at the first
    call. Returns how many modules were compiled."""
    names = tuple(getattr(model, "_repeated_blocks", None) or REPEATED_BLOCKS.get(type(model).__name__, ()))
    targets = [m for m in model.modules() if type(m).__name__ in names] if scope == "regional" else []
    if scope == "regional" and not targets:
        logger.info("%s has no repeated blocks to compile; compiling it whole", type(model).__name__)
    # Every block of one class shares one code object, so its widths, the LoRA
    # (unfused) and guidance-free variants and a second model all count against one
    # recompile limit; torch's 8 is hit by an ordinary session.
    import torch._dynamo.config

    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
    options: dict = {"fullgraph": True, "backend": backend}
    if mode:
        options["mode"] = mode
    for module in targets or [model]:
        module.forward = torch.compile(module.forward, **options)
        module._previz_compiled = module.register_forward_pre_hook(_mark_dynamic, with_kwargs=True)
    return len(targets or [model])


def is_compiled(model: torch.nn.Module | None) -> bool:
    return model is not None and any("_previz_compiled" in m.__dict__ for m in model.modules())


def uncompile(model: torch.nn.Module | None) -> None:
    """Back to eager: for an offloaded model, or when compiling failed at the first frame."""
    for module in model.modules() if model is not None else ():
        handle = module.__dict__.pop("_previz_compiled", None)
        if handle is not None:
            handle.remove()
            module.__dict__.pop("forward", None)


def is_compile_failure(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) came from Dynamo or Inductor, not from the model."""
    import torch._dynamo.exc

    seen = exc
    while seen is not None:
        if isinstance(seen, torch._dynamo.exc.TorchDynamoException | torch._dynamo.exc.FailOnRecompileLimitHit):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _mark_dynamic(_module, args: tuple, kwargs: dict) -> None:
    """Mark the main input's batch and spatial/sequence dims and every other tensor's
    first dim (batch; sequence for rotary tables) as dynamic; see the module docstring."""
    main = args[0] if args else kwargs.get("hidden_states", kwargs.get("sample"))
    if isinstance(main, torch.Tensor) and main.ndim in (3, 4):
        torch._dynamo.maybe_mark_dynamic(main, [0, 1] if main.ndim == 3 else [0, 2, 3])
    for value in (*args[1:], *(v for k, v in kwargs.items() if v is not main)):
        _mark_batch(value)


def _mark_batch(value: object) -> None:
    if isinstance(value, torch.Tensor):
        if value.ndim >= 1:
            torch._dynamo.maybe_mark_dynamic(value, 0)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _mark_batch(item)
    elif isinstance(value, dict):
        for item in value.values():
            _mark_batch(item)


# -- caches on disk --------------------------------------------------------------------------


def mega_cache_path(cache_dir: Path, model: torch.nn.Module, levers: str, device: torch.device) -> Path:
    """The mega-cache file for this architecture, dtype, levers, GPU and library versions.
    Weights do not enter compiled graphs, so checkpoints of one architecture share it."""
    import diffusers

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    parameter = next(model.parameters(), None)
    key = json.dumps([
        torch.__version__, diffusers.__version__, gpu, type(model).__name__, dict(model.config),
        str(parameter.dtype if parameter is not None else None), levers,
    ], sort_keys=True, default=str)
    return cache_dir / f"mega-{hashlib.sha256(key.encode()).hexdigest()[:20]}.bin"


def use_cache(cache_dir: Path, mega_path: Path, load: Callable[[bytes], object] | None = None) -> bool:
    """Point Inductor's on-disk caches at `cache_dir` (unless TORCHINDUCTOR_CACHE_DIR is
    already set: the user's choice, or an earlier compile in this process), make sure
    the FX graph and AOT autograd caches are on unless the user forced them off, and
    load the mega-cache. Returns whether a mega-cache was loaded."""
    import torch._functorch.config
    import torch._inductor.config

    cache_dir.mkdir(parents=True, exist_ok=True)
    chosen = os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir / "inductor"))
    if Path(chosen) != cache_dir / "inductor":
        logger.info("Inductor's cache stays at %s (TORCHINDUCTOR_CACHE_DIR)", chosen)
    if "TORCHINDUCTOR_FX_GRAPH_CACHE" not in os.environ:
        torch._inductor.config.fx_graph_cache = True
    if "TORCHINDUCTOR_AUTOGRAD_CACHE" not in os.environ:
        torch._functorch.config.enable_autograd_cache = True
    return load_mega_cache(mega_path, load)


def load_mega_cache(path: Path, load: Callable[[bytes], object] | None = None) -> bool:
    """Hot-load compiled artifacts saved by an earlier run; False when there are none or
    they do not load (another torch version, a damaged file): then the model compiles."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        logger.warning("compile cache %s not readable: %s", path, exc)
        return False
    try:
        info = (load or torch.compiler.load_cache_artifacts)(data)
    except Exception as exc:  # noqa: BLE001 - a stale cache costs a compile, never the frame
        logger.warning("compile cache %s not loaded: %s", path, exc)
        return False
    logger.info("compile cache loaded from %s", path)
    return info is not None


def save_mega_cache(path: Path, save: Callable[[], tuple[bytes, object] | None] | None = None) -> bool:
    """Write what this process compiled so far to `path` (atomically); False when there
    was nothing to save or the write failed (logged: the next launch compiles again)."""
    try:
        artifacts = (save or torch.compiler.save_cache_artifacts)()
        if not artifacts:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(artifacts[0])
        os.replace(partial, path)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning("compile cache not saved to %s: %s", path, exc)
        return False
    return True
