"""What the windows are built from. `app.py` makes the real ones; tests make their own
(a temporary settings file, scripted engines), so nothing here is global."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from PySide6.QtCore import QSettings, QThreadPool

from ..engine.base import Engine
from ..engine.discovery.library import ModelLibrary
from ..engine.engines import ENGINE_NAMES, EngineOptions, make_engines


@dataclass(frozen=True)
class EngineSettings:
    """The user's engine choices, kept in QSettings under `engine/`. Offline and
    pickle-free unless they say otherwise."""

    engine: str = "blocking"
    model: str = ""
    device: str = ""  # "" = the best available
    steps: int = 25
    guidance: float = 7.0
    strength: float = 0.6
    variations: int = 4
    allow_network: bool = False
    allow_pickle: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINE_NAMES:
            raise ValueError(f"unknown engine {self.engine!r}; expected one of: {', '.join(ENGINE_NAMES)}")

    @classmethod
    def load(cls, settings: QSettings) -> EngineSettings:
        """Read the saved choices; a value that does not parse falls back to its default."""
        values = {}
        for f in fields(cls):
            raw = settings.value(f"engine/{f.name}")
            if raw is None:
                continue
            try:
                values[f.name] = _parse(type(getattr(cls(), f.name)), raw)
            except (TypeError, ValueError):
                continue
        try:
            return cls(**values)
        except ValueError:
            return replace(cls(), **{k: v for k, v in values.items() if k != "engine"})

    def save(self, settings: QSettings) -> None:
        for name, value in asdict(self).items():
            settings.setValue(f"engine/{name}", value)
        settings.sync()

    def engine_options(self, library: ModelLibrary) -> EngineOptions:
        return EngineOptions(
            self.device or None, self.allow_network, self.allow_pickle,
            configs=library.configs(), previews=library.previews(),
        )


def _parse(kind: type, raw: object) -> object:
    if kind is bool:
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
    return kind(raw)


EngineFactory = Callable[[EngineSettings], Mapping[str, Engine]]


def real_engines(library: Callable[[], ModelLibrary]) -> EngineFactory:
    """Engines as the settings ask: blocking always, diffusers when chosen."""

    def build(choice: EngineSettings) -> Mapping[str, Engine]:
        return make_engines((choice.engine,), choice.engine_options(library()))

    return build


@dataclass
class Services:
    settings: QSettings
    thumbnail_dir: Path
    engines: EngineFactory
    library: Callable[[], ModelLibrary]
    pool: QThreadPool

    def engine_settings(self) -> EngineSettings:
        return EngineSettings.load(self.settings)

    def save_engine_settings(self, choice: EngineSettings) -> None:
        choice.save(self.settings)
