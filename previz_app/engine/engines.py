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
    configs from and to a TAESD decoder (see ModelLibrary)."""

    device: str | None = None
    allow_network: bool = False
    allow_pickle: bool = False
    configs: Mapping[str, str] = field(default_factory=dict)
    previews: Mapping[str, str] = field(default_factory=dict)


def make_engines(names: tuple[str, ...] = ("blocking",), options: EngineOptions = EngineOptions()) -> dict[str, Engine]:
    """Engines by name. The blocking engine is always there: it also draws the
    control maps and init frames that diffusion requests start from."""
    unknown = sorted(set(names) - set(ENGINE_NAMES))
    if unknown:
        raise ValueError(f"unknown engine {', '.join(unknown)}; expected one of: {', '.join(ENGINE_NAMES)}")
    engines: dict[str, Engine] = {"blocking": BlockingEngine()}
    if "diffusers" in names:
        from .diffusion import DiffusersEngine

        engines["diffusers"] = DiffusersEngine(
            device=options.device, allow_network=options.allow_network, allow_pickle=options.allow_pickle,
            configs=options.configs, previews=options.previews,
        )
    return engines
