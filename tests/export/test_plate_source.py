"""Plate sources made by an engine: sized for the wall, lit by the scene, seamless round a ring."""

import json
import threading

import numpy as np
import pytest
from PIL import Image

from previz_app.domain.wall import Cabinet, WallProfile, WallSection, wall_canvas
from previz_app.engine.base import Cancelled, EngineError, RenderContext
from previz_app.engine.engines import EngineOptions, make_engines
from previz_app.engine.request import Staging
from previz_app.export import plate_source
from previz_app.export.files import ExportError
from previz_app.export.plate import PlateExport, export_plate
from previz_app.export.plate_projection import wide_source_size
from previz_app.export.plate_source import (
    PlateGeneration,
    environment_prompt,
    environment_request,
    generate_source,
    generated_plate,
    scene_staging,
)
from previz_app.store import scenes

CABINET = Cabinet(500, 500, 25.0)  # 20 x 20 px a cabinet: small canvases
RING = WallProfile("ring", (WallSection("curved", CABINET, height_m=1.5, radius_m=3.0, arc_deg=360),),
                   output_capacity=4000)
ARC = WallProfile("arc", (WallSection("curved", CABINET, height_m=1.5, radius_m=3.0, arc_deg=120),),
                  output_capacity=4000)
NIGHT_FOREST = Staging(int_ext="EXT", location="SNOWY FOREST", time_of_day="NIGHT")


def test_the_request_covers_the_wall_at_its_density_and_wraps_only_a_ring():
    ring = environment_request(RING, PlateGeneration(staging=NIGHT_FOREST))
    assert (ring.width, ring.height) == wide_source_size(RING)
    assert ring.wrap and ring.span_deg == 360
    arc = environment_request(ARC, PlateGeneration())
    assert not arc.wrap and arc.span_deg == pytest.approx(wall_canvas(ARC).sections[0].arc_deg)
    assert ring.prompt == environment_prompt(NIGHT_FOREST)
    assert "snowy forest" in ring.prompt and "night light" in ring.prompt and "no people" in ring.prompt
    assert environment_prompt(Staging(int_ext="INT", location="KITCHEN")).startswith("interior of kitchen")


def test_a_diffusion_model_works_at_its_trained_scale_keeping_the_walls_proportions():
    big = WallProfile("big", (WallSection("curved", Cabinet(500, 500, 2.84), height_m=6, radius_m=11.4,
                                          arc_deg=270),))
    full = wide_source_size(big)
    request = environment_request(big, PlateGeneration(engine="diffusers", model="m"), trained_side=512)
    assert request.height == 512 and request.width % 8 == 0
    assert request.width / request.height == pytest.approx(full[0] / full[1], rel=0.01)


def test_the_blocking_engine_paints_a_ring_whose_plate_has_no_seam(tmp_path):
    engines = make_engines()
    report = generated_plate(engines, PlateGeneration(staging=NIGHT_FOREST, seed=3),
                             PlateExport(tmp_path / "plate", RING, format="png8"))
    sidecar = json.loads((tmp_path / "plate" / "plate.json").read_text())
    assert sidecar["source"] == "plate_source.png" and report.source == tmp_path / "plate" / "plate_source.png"
    with Image.open(report.source) as kept:
        assert kept.size == wide_source_size(RING)
        assert json.loads(kept.text["previz"]) == sidecar["source_recipe"]
    recipe = sidecar["source_recipe"]
    assert (recipe["engine"], recipe["seed"], recipe["staging"]["location"]) == ("blocking", 3, "SNOWY FOREST")
    assert recipe["prompt"] == environment_prompt(NIGHT_FOREST) and [recipe["width"], recipe["height"]] == list(kept.size)
    canvas = np.zeros((sidecar["canvas"]["height"], sidecar["canvas"]["width"], 3), np.float64)
    for tile in sidecar["tiles"]:
        canvas[tile["y"]:tile["y"] + tile["height"], tile["x"]:tile["x"] + tile["width"]] = \
            np.asarray(Image.open(tmp_path / "plate" / tile["file"]))
    steps = np.abs(np.diff(canvas, axis=1)).mean(axis=(0, 2))
    seam = np.abs(canvas[:, 0] - canvas[:, -1]).mean()
    assert canvas.std() > 20  # a picture, not a flat fill
    assert seam <= steps.max()
    # a night sky: the top rows are darker than the snow below the horizon
    assert canvas[:5].mean() < canvas[-5:].mean()


def test_the_scene_decides_the_light(drafted):
    kitchen, lighthouse = scenes.list_scenes(drafted.db)[:2]
    night = scene_staging(drafted.db, kitchen.id)
    day = scene_staging(drafted.db, lighthouse.id)
    assert (night.int_ext, night.location, night.time_of_day) == ("INT", "KITCHEN", "NIGHT")
    assert (day.int_ext, day.location, day.time_of_day) == ("EXT", "LIGHTHOUSE", "DAY")
    engines = make_engines()
    dark = generate_source(engines, ARC, PlateGeneration(staging=night), RenderContext())
    light = generate_source(engines, ARC, PlateGeneration(staging=day), RenderContext())
    assert dark.shape == light.shape == (*wide_source_size(ARC)[::-1], 3)
    assert dark.mean() < light.mean() - 20


def test_cancelling_during_generation_writes_nothing(tmp_path):
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        generated_plate(make_engines(), PlateGeneration(), PlateExport(tmp_path / "plate", RING),
                        cancelled=cancelled)
    assert not (tmp_path / "plate").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_folder_the_plate_cannot_replace_is_refused_before_generating(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "boards.pdf").write_bytes(b"%PDF")
    engines = make_engines()
    painted = []
    engines["blocking"].environment = lambda *args: painted.append(args)
    with pytest.raises(ExportError, match="it holds other files"):
        generated_plate(engines, PlateGeneration(), PlateExport(tmp_path / "exports", RING))
    assert painted == [] and (tmp_path / "exports" / "boards.pdf").read_bytes() == b"%PDF"


def test_a_plate_without_a_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="a plate needs a source"):
        export_plate(PlateExport(tmp_path / "plate", RING))
    assert list(tmp_path.iterdir()) == []


def test_upscaling_needs_a_diffusion_model_and_an_unknown_engine_is_named():
    with pytest.raises(EngineError, match="upscaling needs a diffusion model"):
        generate_source(make_engines(), RING, PlateGeneration(upscale=True), RenderContext())
    with pytest.raises(EngineError, match="the diffusers engine is not available"):
        generate_source(make_engines(), RING, PlateGeneration(engine="diffusers", model="m"), RenderContext())


def test_a_diffusion_model_makes_the_environment_and_upscales_it_to_the_wall(tiny_models, monkeypatch):
    monkeypatch.setitem(plate_source.TRAINED_SIDE, "unknown", 16)  # the tiny model (family unknown to its headers) "was trained" at 16 px
    engines = make_engines(("diffusers",), EngineOptions(device="cpu"))
    wall = WallProfile("strip", (WallSection("curved", Cabinet(500, 500, 25.0), height_m=1.0, radius_m=1.5,
                                             arc_deg=360),), output_capacity=4000)
    generation = PlateGeneration(engine="diffusers", model=str(tiny_models.pipeline), steps=2, upscale=True)
    request = environment_request(wall, generation, trained_side=16)
    made = []
    engine = engines["diffusers"]
    monkeypatch.setattr(engine, "environment", lambda *args, made=made, made_by=engine.environment: made.append(
        made_by(*args)) or made[-1])
    steps = []
    context = RenderContext(on_progress=lambda done, total: steps.append((done, total)), cancel_event=threading.Event())
    pixels = generate_source(engines, wall, generation, context)
    assert request.height == 16 < wide_source_size(wall)[1]
    assert pixels.shape == (*wide_source_size(wall)[::-1], 3) and pixels.dtype == np.uint8
    assert made[0].size == (request.width, request.height)  # generated small, then upscaled
    assert steps == [(1, 2), (2, 2), (1, 1)]  # the upscale: round(2 * 0.35) = 1 step
