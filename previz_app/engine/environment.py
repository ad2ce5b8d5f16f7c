"""Environments: wide and 360° backgrounds for LED-wall plates, made by an engine.

An environment is a cylindrical picture (the `wide` plate source): x linear in
longitude across `span_deg`, y linear in tan(latitude) with square pixels, its middle
row at eye level. With `wrap` it spans 360° and its left and right edges meet.
The blocking engine paints one from the scene's location and time of day; the
diffusers engine denoises it in overlapping windows blended every step
(MultiDiffusion), wrapping round for 360°, and can upscale a picture the same way
(tiled img2img).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .request import Staging

MAX_ENVIRONMENT_SIDE = 32768


@dataclass(frozen=True, slots=True)
class EnvironmentRequest:
    """One environment to make, `width` x `height` pixels spanning `span_deg` across.

    `staging` carries the scene's int_ext, location and time_of_day (the rest of
    it is ignored). `window` is the diffusion window in pixels (0: the model's
    trained side); `overlap` the share of a window its neighbour covers.
    """

    width: int
    height: int
    span_deg: float = 360.0
    wrap: bool = True
    engine: str = "blocking"
    model: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 25
    guidance: float = 7.0
    scheduler: str = ""
    staging: Staging | None = None
    window: int = 0
    overlap: float = 0.25

    def __post_init__(self) -> None:
        for side in (self.width, self.height):
            if not isinstance(side, int) or not 8 <= side <= MAX_ENVIRONMENT_SIDE:
                raise ValueError(
                    f"an environment is 8 to {MAX_ENVIRONMENT_SIDE} pixels a side, got {self.width}x{self.height}")
        if not 0 < self.span_deg <= 360:
            raise ValueError(f"an environment spans more than 0° and at most 360°, not {self.span_deg:g}°")
        if self.wrap and self.span_deg != 360:
            raise ValueError(f"only a 360° environment wraps round; this one spans {self.span_deg:g}°")
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if not 0 <= self.overlap < 1:
            raise ValueError(f"windows overlap by a share from 0 up to (not including) 1, not {self.overlap:g}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be between 0 and 2**63-1, got {self.seed}")

    def resized(self, width: int, height: int) -> EnvironmentRequest:
        return replace(self, width=width, height=height)


__all__ = ["MAX_ENVIRONMENT_SIDE", "EnvironmentRequest"]
