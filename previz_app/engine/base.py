"""The one interface every engine speaks, and what a render reports while it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

from .request import FrameRequest


class Cancelled(Exception):
    """The job was cancelled; raised at the next step boundary."""


class EngineError(RuntimeError):
    """An engine could not make the frame; the message is meant for the user."""


def _ignore(*_args: object) -> None:
    return None


@dataclass
class RenderContext:
    """How a render talks back: progress, previews, cancellation, media lookup.

    `media(hash)` returns the bytes of an init image, mask or control map.
    Callbacks run on the worker thread; they must be quick and thread-safe.
    """

    media: Callable[[str], bytes] = field(default=lambda digest: _missing(digest))
    on_progress: Callable[[int, int], None] = _ignore
    on_preview: Callable[[Image.Image], None] = _ignore
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()


def _missing(digest: str) -> bytes:
    raise EngineError(f"image {digest[:12]} is not available to the engine")


@dataclass(frozen=True)
class FrameResult:
    """A finished frame; `controls` holds extra maps (depth, pose, lineart) by name."""

    image: Image.Image
    request: FrameRequest
    controls: dict[str, Image.Image] = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def render(self, request: FrameRequest, context: RenderContext) -> FrameResult:
        """Make the frame `request` describes. Raises Cancelled or EngineError."""
        ...
