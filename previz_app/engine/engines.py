"""Building the engines a session asks for; diffusers is imported only when asked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .base import Engine
from .blocking.panel import BlockingEngine

ENGINE_NAMES = ("blocking", "diffusers")


@dataclass(frozen=True)
class EngineOptions:
    """What the user allowed and chose. Offline and pickle-free unless they say so.
    `configs` and `previews` map a family to the diffusers folder single files borrow
    configs from and to a TAESD decoder (see ModelLibrary). `acceleration` is lever text
    ("compile=off,fuse_qkv=off") changing the diffusers engine's speed levers from the
    device's defaults (engine/diffusion/acceleration.py)."""

    device: str | None = None
    allow_network: bool = False
    allow_pickle: bool = False
    configs: Mapping[str, str] = field(default_factory=dict)
    previews: Mapping[str, str] = field(default_factory=dict)
    acceleration: str = ""


def make_engines(names: tuple[str, ...] = ("blocking",), options: EngineOptions = EngineOptions()) -> dict[str, Engine]:
    """Engines by name. The blocking engine is always there: it also draws the
    control maps and init frames that diffusion requests start from. Raises ValueError
    for an unknown engine or bad lever text."""
    unknown = sorted(set(names) - set(ENGINE_NAMES))
    if unknown:
        raise ValueError(f"unknown engine {', '.join(unknown)}; expected one of: {', '.join(ENGINE_NAMES)}")
    engines: dict[str, Engine] = {"blocking": BlockingEngine()}
    if "diffusers" in names:
        from .diffusion import DiffusersEngine
        from .diffusion.acceleration import Acceleration, default_for
        from .diffusion.engine import pick_device

        acceleration = None
        if options.acceleration.strip():
            acceleration = Acceleration.parse(options.acceleration, default_for(pick_device(options.device)))
        engines["diffusers"] = DiffusersEngine(
            device=options.device, allow_network=options.allow_network, allow_pickle=options.allow_pickle,
            configs=options.configs, previews=options.previews, acceleration=acceleration,
        )
    return engines
