"""render_panel: a storyboard panel and its control maps from a shot's staging."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..base import EngineError, FrameResult, RenderContext
from ..environment import EnvironmentRequest
from ..request import FrameRequest, Staging
from .figures import draw_figure, draw_label, draw_pose, place_figure
from .layout import Layout, block_shot
from .scenery import draw_props, paint, shade_surfaces, surface_edges, trace_surfaces

INK = 38
FIGURE_TONE = 150

# Per-channel light by time of day: (red, green, blue) multipliers.
LIGHT: dict[str, tuple[float, float, float]] = {
    "DAY": (1.0, 1.0, 0.98),
    "AFTERNOON": (1.0, 0.98, 0.93),
    "MORNING": (0.98, 0.98, 1.0),
    "NIGHT": (0.42, 0.47, 0.62),
    "DUSK": (0.82, 0.66, 0.58),
    "EVENING": (0.75, 0.62, 0.58),
    "SUNSET": (0.95, 0.72, 0.52),
    "DAWN": (0.8, 0.76, 0.86),
    "SUNRISE": (0.95, 0.8, 0.7),
}


@dataclass(frozen=True)
class BlockingRender:
    """A panel and, for the same camera, depth (near is white), an OpenPose
    skeleton image and line art (white on black). `depth_m` is metres (inf: sky)."""

    image: Image.Image
    depth: Image.Image
    pose: Image.Image
    lineart: Image.Image
    depth_m: np.ndarray
    layout: Layout


def render_panel(staging: Staging, width: int, height: int, seed: int = 0) -> BlockingRender:
    """Draw `staging` as a width x height storyboard panel; `seed` varies composition."""
    layout = block_shot(staging, width / height, seed)
    camera = layout.camera
    depth_m, kind = trace_surfaces(layout, camera, width, height)
    tone = shade_surfaces(depth_m, kind)
    edges = surface_edges(kind)
    tone[edges] = INK
    grey = np.clip(tone, 0, 255).astype(np.uint8)
    panel = Image.fromarray(grey, "L").convert("RGB")
    lineart = Image.fromarray((edges * 255).astype(np.uint8), "L")
    depth_image = Image.fromarray(depth_m, "F")
    pose = Image.new("RGB", (width, height))

    draw_panel, draw_lines, draw_depth = ImageDraw.Draw(panel), ImageDraw.Draw(lineart), ImageDraw.Draw(depth_image)
    draw_pose_map = ImageDraw.Draw(pose)
    line_width = max(1, round(width / 640))
    placed = [p for p in (place_figure(f, camera, width, height) for f in layout.figures) if p is not None]
    layers: list[tuple[float, object]] = [(parts[0], parts) for parts in draw_props(layout, camera, width, height)]
    layers += [(p.depth, p) for p in placed]
    for _distance, item in sorted(layers, key=lambda layer: -layer[0]):
        if isinstance(item, tuple):
            paint(item, draw_panel, draw_lines, draw_depth, INK, line_width)
        else:
            draw_figure(item, draw_panel, draw_lines, draw_depth, FIGURE_TONE, INK)
            draw_pose(item, draw_pose_map, max(2, round(width / 320)))
    font = ImageFont.load_default(size=max(10, height // 28))
    for figure in placed:
        draw_label(figure, draw_panel, font, INK)

    depth_m = np.asarray(depth_image, dtype=np.float32)
    panel = _light(panel, layout.time_of_day)
    return BlockingRender(panel, _depth_map(depth_m), pose, lineart, depth_m, layout)


def _light(panel: Image.Image, time_of_day: str) -> Image.Image:
    tint = LIGHT.get(time_of_day, LIGHT["DAY"])
    bands = [band.point([min(255, round(i * gain)) for i in range(256)]) for band, gain in zip(panel.split(), tint)]
    return Image.merge("RGB", bands)


def _depth_map(depth_m: np.ndarray) -> Image.Image:
    """Inverse depth scaled to the nearest visible point, as depth ControlNets expect."""
    inverse = np.reciprocal(depth_m)  # the sky, at infinity, becomes 0
    peak = float(inverse.max()) or 1.0
    return Image.fromarray(np.clip(inverse * (255.0 / peak), 0, 255).astype(np.uint8), "L")


class BlockingEngine:
    """The built-in engine: no weights, CPU, milliseconds per panel."""

    name = "blocking"

    def render(self, request: FrameRequest, context: RenderContext) -> FrameResult:
        context.check_cancelled()
        context.on_progress(0, 1)
        drawn = render_panel(request.staging or Staging(), request.width, request.height, request.seed)
        context.on_progress(1, 1)
        return FrameResult(drawn.image, request, {"depth": drawn.depth, "pose": drawn.pose, "lineart": drawn.lineart})

    def environment(self, request: EnvironmentRequest, context: RenderContext) -> Image.Image:
        """A storyboard-style environment round the viewer from the request's staging."""
        from .environment import render_environment  # it reads LIGHT and INK from this module

        return render_environment(request, context)

    def upscale(self, image: Image.Image, request: EnvironmentRequest, context: RenderContext,
                strength: float = 0.35) -> Image.Image:
        """The blocking engine cannot add detail to a picture; it paints at full size instead."""
        raise EngineError("upscaling an environment needs a diffusion model (--engine diffusers --model …); "
                          "the blocking engine paints environments at the wall's own resolution")
