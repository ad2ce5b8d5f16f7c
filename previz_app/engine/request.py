"""FrameRequest: everything that decides a frame, and its life as JSON and PNG text.

The same request, on the same device and library versions, gives the same pixels.
It is stored as a take's recipe and written into the PNG it produced, next to an
AUTOMATIC1111-style `parameters` chunk that other tools already read.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum

from PIL import Image
from PIL.PngImagePlugin import PngInfo

RECIPE_VERSION = 1
PNG_RECIPE_KEY = "previz"
MAX_SIDE = 8192


class Mode(StrEnum):
    txt2img = "txt2img"
    img2img = "img2img"
    inpaint = "inpaint"
    controlled = "controlled"


class ControlKind(StrEnum):
    depth = "depth"
    pose = "pose"
    lineart = "lineart"


@dataclass(frozen=True, slots=True)
class Staging:
    """The shot as the blocking engine lays it out: camera, cast, set, light.

    `time` is the position along the shot's camera move, 0 (start) to 1 (end).
    """

    size: str = "MS"
    angle: str = "eye"
    lens_mm: float = 35.0
    movement: str = "static"
    direction: str = ""
    characters: tuple[str, ...] = ()
    int_ext: str = ""
    location: str = ""
    time_of_day: str = ""
    time: float = 0.0


@dataclass(frozen=True, slots=True)
class Control:
    """A conditioning image (by media hash) for a ControlNet of `kind`."""

    kind: ControlKind
    image: str
    model: str = ""
    strength: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ControlKind(self.kind))


@dataclass(frozen=True, slots=True)
class Lora:
    path: str
    weight: float = 1.0
    hash: str = ""


@dataclass(frozen=True, slots=True)
class FrameRequest:
    """One frame to make. Images (init, mask, controls) are media hashes."""

    width: int
    height: int
    engine: str = "blocking"
    model: str = ""
    model_hash: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 25
    guidance: float = 7.0
    mode: Mode = Mode.txt2img
    init_image: str = ""
    mask: str = ""
    strength: float = 0.75
    controls: tuple[Control, ...] = ()
    loras: tuple[Lora, ...] = ()
    scheduler: str = ""
    staging: Staging | None = None
    version: int = RECIPE_VERSION

    def __post_init__(self) -> None:
        for side in (self.width, self.height):
            if not isinstance(side, int) or not 8 <= side <= MAX_SIDE:
                raise ValueError(f"frame size must be 8 to {MAX_SIDE} pixels a side, got {self.width}x{self.height}")
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be between 0 and 1, got {self.strength}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be between 0 and 2**63-1, got {self.seed}")
        object.__setattr__(self, "mode", Mode(self.mode))
        if self.mode in (Mode.img2img, Mode.inpaint) and not self.init_image:
            raise ValueError(f"{self.mode} needs an init image")
        if self.mode is Mode.inpaint and not self.mask:
            raise ValueError("inpaint needs a mask")
        if self.mode is Mode.controlled and not self.controls:
            raise ValueError("controlled mode needs at least one control image")

    def variation(self, index: int) -> FrameRequest:
        """The `index`-th variation: the same request with seed + index."""
        return replace(self, seed=(self.seed + index) % 2**63)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FrameRequest:
        """Read a recipe. Raises ValueError for malformed or newer recipes."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"recipe is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("recipe must be a JSON object")
        if data.get("version", RECIPE_VERSION) > RECIPE_VERSION:
            raise ValueError(f"recipe version {data['version']} is newer than this previz understands")
        try:
            data["controls"] = tuple(Control(**c) for c in data.get("controls", ()))
            data["loras"] = tuple(Lora(**lo) for lo in data.get("loras", ()))
            if data.get("staging") is not None:
                staging = dict(data["staging"])
                staging["characters"] = tuple(staging.get("characters", ()))
                data["staging"] = Staging(**staging)
            return cls(**_known(cls, data))
        except TypeError as exc:
            raise ValueError(f"recipe does not describe a frame: {exc}") from exc

    def parameters_text(self) -> str:
        """The AUTOMATIC1111 `parameters` text: prompt, negative, then settings."""
        settings = {
            "Steps": self.steps,
            "Sampler": self.scheduler or "default",
            "CFG scale": f"{self.guidance:g}",
            "Seed": self.seed,
            "Size": f"{self.width}x{self.height}",
        }
        if self.model_hash:
            settings["Model hash"] = self.model_hash[:10]
        if self.model:
            settings["Model"] = self.model
        if self.mode in (Mode.img2img, Mode.inpaint):
            settings["Denoising strength"] = f"{self.strength:g}"
        settings["Engine"] = self.engine
        lines = [self.prompt]
        if self.negative_prompt:
            lines.append(f"Negative prompt: {self.negative_prompt}")
        lines.append(", ".join(f"{key}: {_a1111_value(value)}" for key, value in settings.items()))
        return "\n".join(lines)


def _known(cls: type, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"recipe has unknown fields: {', '.join(unknown)}")
    return data


def _a1111_value(value: object) -> str:
    text = str(value)
    # A1111 quotes values that would break its comma-separated list.
    return json.dumps(text) if any(ch in text for ch in ",:\n") else text


def encode_png(image: Image.Image, request: FrameRequest) -> bytes:
    """PNG bytes of `image` carrying the request as JSON and as A1111 parameters."""
    info = PngInfo()
    info.add_text(PNG_RECIPE_KEY, request.to_json())
    info.add_text("parameters", request.parameters_text())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, compress_level=4)
    return buffer.getvalue()


def read_png_request(data: bytes) -> FrameRequest:
    """The FrameRequest embedded in PNG bytes. Raises ValueError if there is none."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            text = image.text.get(PNG_RECIPE_KEY)  # type: ignore[attr-defined]
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"not a readable PNG: {exc}") from exc
    if text is None:
        raise ValueError("this PNG carries no previz recipe")
    return FrameRequest.from_json(text)


def decode_image(data: bytes, mode: str = "RGB") -> Image.Image:
    """Open image bytes fully (not lazily) in `mode`. Raises ValueError if unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert(mode)
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"unreadable image: {exc}") from exc


__all__ = [
    "Control", "ControlKind", "FrameRequest", "Lora", "Mode", "Staging",
    "decode_image", "encode_png", "read_png_request",
]
