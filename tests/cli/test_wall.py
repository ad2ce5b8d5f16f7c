"""`previz wall`: the canvas of a wall from the command line, saved and loaded as JSON."""

import json

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
