"""`previz export plate --wall NAME`: a wall stored in the project instead of a JSON file."""

import json

import numpy as np
from PIL import Image

from .runner import run

SMALL = ("--radius", 3, "--arc", 180, "--height", 1.5, "--cabinet", "500x500", "--pitch", 25, "--capacity", 4000)


def test_a_stored_wall_makes_the_same_plate_as_its_file(capsys, tmp_path, folder):
    saved = tmp_path / "wall.json"
    assert run(capsys, "wall", *SMALL, "--name", "stage", "--project", folder.path, "--save", saved)[0] == 0
    pano = tmp_path / "pano.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (45, 90, 3), dtype=np.uint8)).save(pano)

    plates = {}
    for wall in ("stage", saved):
        out = tmp_path / f"plate-{'stored' if wall == 'stage' else 'file'}"
        code, _out, _err = run(capsys, "export", "plate", folder.path, "--wall", wall, "--source", pano,
                               "--format", "png16", "--out", out)
        assert code == 0
        sidecar = json.loads((out / "plate.json").read_text())
        plates[wall] = (sidecar, {tile["file"]: np.asarray(Image.open(out / tile["file"])) for tile in sidecar["tiles"]})
    (stored, stored_tiles), (from_file, file_tiles) = plates["stage"], plates[saved]
    assert stored["wall"] == "stage" and stored["canvas"] == from_file["canvas"] == {"width": 380, "height": 60}
    assert len(stored_tiles) > 1 and stored_tiles.keys() == file_tiles.keys()
    for name, pixels in stored_tiles.items():
        assert np.array_equal(pixels, file_tiles[name])


def test_a_wall_that_is_neither_stored_nor_a_file_is_named_with_the_stored_ones(capsys, tmp_path, folder):
    pano = tmp_path / "pano.png"
    Image.new("RGB", (90, 45), (90, 120, 160)).save(pano)
    for name in ("stage", "backing"):
        assert run(capsys, "wall", *SMALL, "--name", name, "--project", folder.path)[0] == 0
    code, _out, err = run(capsys, "export", "plate", folder.path, "--wall", "ring", "--source", pano)
    assert code == 1
    assert "no wall named 'ring' in this project and no file ring (stored walls: stage, backing)" in err
    assert not (folder.exports_dir / "plate").exists()


def test_an_existing_file_wins_over_a_stored_name(capsys, tmp_path, folder, monkeypatch):
    """A path that exists is read as before, whatever the project stores under that name."""
    assert run(capsys, "wall", *SMALL, "--name", "stage", "--project", folder.path)[0] == 0
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "wall", "--width", 2, "--height", 1, "--pitch", 25, "--capacity", 4000, "--save", "stage")[0] == 0
    pano = tmp_path / "pano.png"
    Image.new("RGB", (90, 45), (90, 120, 160)).save(pano)
    code, _out, _err = run(capsys, "export", "plate", folder.path, "--wall", "stage", "--source", pano, "--kind", "wide",
                           "--format", "tiff")
    assert code == 0
    sidecar = json.loads((folder.exports_dir / "plate" / "plate.json").read_text())
    assert sidecar["canvas"] == {"width": 80, "height": 40}  # the flat wall in ./stage, not the stored curve
