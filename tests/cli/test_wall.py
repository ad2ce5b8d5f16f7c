"""`previz wall`: the canvas of a wall from the command line, saved and loaded as JSON."""

import json

import numpy as np
from PIL import Image

from .runner import run


def test_a_curved_wall_prints_its_canvas_and_saves_its_profile(capsys, tmp_path):
    saved = tmp_path / "stage.json"
    code, out, _err = run(capsys, "wall", "--radius", 11.4, "--arc", 270, "--height", 6, "--cabinet", "500x500",
                          "--pitch", 2.84, "--save", saved)
    assert code == 0
    assert "18,832 × 2,112 px" in out and "107 × 12 cabinets" in out and "70.0 px/°" in out
    assert "processor outputs: 76" in out
    code, out, _err = run(capsys, "wall", "--load", saved, "--json")
    figures = json.loads(out)
    assert code == 0 and figures["canvas"]["width_px"] == 18832 and figures["canvas"]["outputs"] == 76
    assert figures["profile"]["sections"][0]["radius_m"] == 11.4


def test_a_flat_wall_as_json(capsys):
    code, out, _err = run(capsys, "wall", "--width", 10, "--height", 4, "--pitch", 2.6, "--distance", 6, "--json")
    canvas = json.loads(out)["canvas"]
    assert code == 0 and (canvas["width_px"], canvas["height_px"]) == (3840, 1536)
    assert round(canvas["pixels_per_degree"], 1) == 40.3


def test_bad_walls_get_clear_errors(capsys, tmp_path):
    code, _out, err = run(capsys, "wall", "--radius", 0, "--arc", 270, "--height", 6, "--pitch", 2.84)
    assert code == 1 and "radius above zero" in err
    code, _out, err = run(capsys, "wall", "--radius", 11.4, "--arc", 400, "--height", 6, "--pitch", 2.84)
    assert code == 1 and "at most 360°" in err
    code, _out, err = run(capsys, "wall", "--width", 4, "--height", 3, "--pitch", 600)
    assert code == 1 and "larger than its 500×500 mm cabinet" in err
    code, _out, err = run(capsys, "wall", "--radius", 11.4, "--width", 4, "--height", 3, "--pitch", 2.84)
    assert code == 2 and "or --width for a flat one" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    code, _out, err = run(capsys, "wall", "--load", broken)
    assert code == 1 and "is not JSON" in err


def test_a_plate_from_the_command_line(capsys, tmp_path, folder):
    saved = tmp_path / "wall.json"
    assert run(capsys, "wall", "--radius", 3, "--arc", 180, "--height", 1.5, "--cabinet", "500x500", "--pitch", 25,
               "--capacity", 4000, "--save", saved)[0] == 0
    pano = tmp_path / "pano.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (45, 90, 3), dtype=np.uint8)).save(pano)
    code, out, err = run(capsys, "export", "plate", folder.path, "--wall", saved, "--source", pano, "--format", "tiff")
    assert code == 0 and "warning: the source has" in err  # 90 px across 360° is far below the wall's density
    sidecar = json.loads((folder.exports_dir / "plate" / "plate.json").read_text())
    assert len(sidecar["tiles"]) == len(list((folder.exports_dir / "plate").glob("plate_*.tif"))) > 1
    assert "tiles" in out
