"""LoRAs on a loaded pipeline: each file loaded once as a named adapter, then switched.

Adapters live in the shared UNet/transformer, so every mode pipeline made from the
model with `from_pipe` sees the same set.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..base import EngineError
from ..discovery.entry import Family
from ..request import Lora
from .loading import needs_consent, weights_family


def apply_loras(pipe, adapters: dict[str, str], family: Family, loras: tuple[Lora, ...], *, allow_pickle: bool) -> None:
    """Switch `pipe` to exactly `loras` at their weights. `adapters` maps each LoRA
    file already loaded into `pipe` to its adapter name, and is updated."""
    names = [_adapter(pipe, adapters, family, lora, allow_pickle) for lora in loras]
    try:
        if names:
            pipe.enable_lora()
            pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])
        elif adapters:
            pipe.disable_lora()
    except torch.OutOfMemoryError:
        raise
    except (ValueError, KeyError, RuntimeError) as exc:
        pipe.disable_lora()
        raise EngineError(f"could not apply LoRA: {exc}") from exc


def _loaded_in(pipe, name: str) -> bool:
    return any(name in names for names in pipe.get_list_adapters().values())


def _adapter(pipe, adapters: dict[str, str], family: Family, lora: Lora, allow_pickle: bool) -> str:
    path = Path(lora.path).expanduser()
    key = str(path.resolve())
    if key in adapters:
        return adapters[key]
    if not path.is_file():
        raise EngineError(f"LoRA not found: {lora.path}")
    needs_consent(path, allow_pickle, "a LoRA")
    own = weights_family(path)
    if own is not Family.unknown and family is not Family.unknown and own is not family:
        raise EngineError(f"LoRA {path.name} is for {own.value}; this model is {family.value}")
    name = f"lora_{len(adapters)}"
    try:
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=name, local_files_only=True)
        if not _loaded_in(pipe, name):
            raise ValueError("none of its layers match this model")
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        # A half-loaded adapter must not stay switched on for later frames.
        if _loaded_in(pipe, name):
            pipe.delete_adapters(name)
        if isinstance(exc, torch.OutOfMemoryError):
            raise
        raise EngineError(f"could not load LoRA {path.name}: {exc}") from exc
    adapters[key] = name
    return name
