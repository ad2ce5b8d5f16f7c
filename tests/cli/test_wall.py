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


STAGE = ("--radius", 11.4, "--arc", 270, "--height", 6, "--cabinet", "500x500", "--pitch", 2.84)


def test_walls_are_stored_listed_loaded_and_deleted_in_a_project(capsys, tmp_path, folder):
    code, out, _err = run(capsys, "wall", *STAGE, "--project", folder.path, "--name", " stage ")
    assert code == 0 and "18,832 × 2,112 px" in out and f"stored stage in {folder.path}" in out
    code, out, err = run(capsys, "wall", "--width", 10, "--height", 4, "--pitch", 2.6, "--project", folder.path,
                         "--name", "backing", "--json")
    assert code == 0 and json.loads(out)["canvas"]["width_px"] == 3840  # stdout stays pure JSON
    assert f"stored backing in {folder.path}" in err

    code, out, _err = run(capsys, "wall", "--project", folder.path, "--list")
    assert code == 0
    assert out.splitlines() == ["stage    18,832 × 2,112 px  76 outputs", "backing  3,840 × 1,536 px  12 outputs"]
    code, out, _err = run(capsys, "wall", "--project", folder.path, "--list", "--json")
    listed = json.loads(out)
    assert [(w["name"], w["width_px"], w["outputs"]) for w in listed] == [("stage", 18832, 76), ("backing", 3840, 12)]
    assert listed[0]["profile"]["sections"][0]["radius_m"] == 11.4

    code, out, _err = run(capsys, "wall", "--project", folder.path, "--load", "stage", "--json")
    figures = json.loads(out)
    assert code == 0 and figures["profile"]["name"] == "stage" and figures["canvas"]["outputs"] == 76
    code, out, _err = run(capsys, "wall", "--project", folder.path, "--load", "stage")
    assert code == 0 and out.startswith("stage: 18,832 × 2,112 px") and "stored" not in out  # shown, not re-stored

    saved = tmp_path / "stage.json"
    code, _out, _err = run(capsys, "wall", "--project", folder.path, "--load", "stage", "--save", saved)
    assert code == 0 and json.loads(saved.read_text())["sections"][0]["arc_deg"] == 270
    code, out, _err = run(capsys, "wall", "--load", saved)  # a file still loads without a project
    assert code == 0 and out.startswith("stage: 18,832")

    code, out, _err = run(capsys, "wall", "--project", folder.path, "--delete", "stage")
    assert code == 0 and f"deleted stage from {folder.path}" in out
    code, out, _err = run(capsys, "wall", "--project", folder.path, "--load", saved, "--name", "copy")
    assert code == 0 and f"stored copy in {folder.path}" in out  # a file imported under a new name
    code, out, _err = run(capsys, "wall", "--project", folder.path, "--list")
    assert [line.split()[0] for line in out.splitlines()] == ["backing", "copy"]


def test_stored_wall_mistakes_get_clear_errors(capsys, tmp_path, folder):
    code, out, _err = run(capsys, "wall", "--project", folder.path, "--list")
    assert code == 0 and out.strip() == f"no walls stored in {folder.path}"
    code, _out, err = run(capsys, "wall", "--load", "stage")
    assert code == 1 and "no file stage" in err and "--project" in err
    assert run(capsys, "wall", *STAGE, "--project", folder.path, "--name", "stage")[0] == 0
    code, _out, err = run(capsys, "wall", "--project", folder.path, "--load", "ring")
    assert code == 1 and "no wall named 'ring' in this project and no file ring (stored walls: stage)" in err
    code, _out, err = run(capsys, "wall", "--project", folder.path, "--delete", "ring")
    assert code == 1 and "no wall named 'ring'" in err
    code, _out, err = run(capsys, "wall", *STAGE, "--project", folder.path, "--name", "  ")
    assert code == 2 and "--name" in err
    code, _out, err = run(capsys, "wall", "--list")
    assert code == 2 and "need the --project" in err
    code, _out, err = run(capsys, "wall", "--project", folder.path, "--list", "--radius", 3)
    assert code == 2 and "take only --project" in err

    folder.db.execute("UPDATE walls SET profile = '{broken' WHERE name = 'stage'")
    folder.db.conn.commit()
    assert run(capsys, "wall", "--width", 10, "--height", 4, "--pitch", 2.6, "--project", folder.path,
               "--name", "backing")[0] == 0
    code, out, err = run(capsys, "wall", "--project", folder.path, "--list")
    assert code == 1 and out.splitlines() == ["backing  3,840 × 1,536 px  12 outputs"]
    assert "the wall 'stage' stored in this project cannot be read (not JSON" in err
    code, _out, err = run(capsys, "wall", "--project", folder.path, "--load", "stage")
    assert code == 1 and "the wall 'stage' stored in this project cannot be read" in err
    assert run(capsys, "wall", "--project", folder.path, "--delete", "stage")[0] == 0  # removable all the same
