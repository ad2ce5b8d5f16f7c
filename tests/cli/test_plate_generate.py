"""`previz export plate --generate`: a plate from an environment the engine makes for the scene."""

import json
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from .runner import run

RING = ("--radius", 3, "--arc", 360, "--height", 1.5, "--cabinet", "500x500", "--pitch", 25, "--capacity", 4000)


def test_generate_writes_the_tiles_and_keeps_the_environment(capsys, tmp_path, drafted):
    assert run(capsys, "wall", *RING, "--name", "ring", "--project", drafted.path)[0] == 0
    out = tmp_path / "plate"
    code, stdout, stderr = run(capsys, "export", "plate", drafted.path, "--wall", "ring", "--generate",
                               "--scene", "2", "--format", "png8", "--out", out)
    assert code == 0, stderr
    assert "scene   2 EXT. LIGHTHOUSE - DAY" in stderr and "warning" not in stderr
    sidecar = json.loads((out / "plate.json").read_text())
    assert f"in {len(sidecar['tiles'])} tiles" in stdout and len(sidecar["tiles"]) > 1
    assert sidecar["source"] == "plate_source.png"
    with Image.open(out / "plate_source.png") as source:
        sky = np.asarray(source.convert("RGB"))[:3].reshape(-1, 3).mean(axis=0)
    assert sky[2] > sky[0]  # a day sky: blue over red
    for tile in sidecar["tiles"]:
        with Image.open(out / tile["file"]) as picture:
            assert picture.size == (tile["width"], tile["height"]) and picture.mode == "RGB"


def test_generate_and_source_are_one_or_the_other(capsys, tmp_path, drafted):
    assert run(capsys, "wall", *RING, "--name", "ring", "--project", drafted.path)[0] == 0
    pano = tmp_path / "pano.png"
    Image.new("RGB", (64, 32), (80, 90, 100)).save(pano)
    code, _out, err = run(capsys, "export", "plate", drafted.path, "--wall", "ring", "--generate", "--source", pano)
    assert code == 2 and "give either --source IMG or --generate" in err
    code, _out, err = run(capsys, "export", "plate", drafted.path, "--wall", "ring")
    assert code == 2 and "give either --source IMG or --generate" in err
    code, _out, err = run(capsys, "export", "plate", drafted.path, "--wall", "ring", "--generate", "--upscale")
    assert code == 2 and "--upscale needs --engine diffusers" in err
    code, _out, err = run(capsys, "export", "plate", drafted.path, "--wall", "ring", "--generate", "--scene", "9")
    assert code == 1 and "no scene numbered '9'" in err
    assert not (drafted.exports_dir / "plate").exists()


def test_generate_needs_a_scene_to_light(capsys, folder):
    assert run(capsys, "wall", *RING, "--name", "ring", "--project", folder.path)[0] == 0
    code, _out, err = run(capsys, "export", "plate", folder.path, "--wall", "ring", "--generate")
    assert code == 2 and "no scenes" in err


def test_generated_movies_play_at_the_rate_asked(capsys, tmp_path, drafted):
    assert run(capsys, "wall", *RING, "--name", "ring", "--project", drafted.path)[0] == 0
    out = tmp_path / "plate"
    code, _stdout, stderr = run(capsys, "export", "plate", drafted.path, "--wall", "ring", "--generate",
                                "--format", "prores", "--seconds", 0.5, "--fps", "29.97", "--out", out)
    assert code == 0, stderr
    sidecar = json.loads((out / "plate.json").read_text())
    assert sidecar["movie"]["rate"] == "30000/1001" and sidecar["movie"]["frames"] == 15
    with av.open(str(out / sidecar["tiles"][0]["file"])) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == Fraction(30000, 1001) and stream.frames == 15
    code, _stdout, stderr = run(capsys, "export", "plate", drafted.path, "--wall", "ring", "--generate",
                                "--format", "prores", "--fps", "12.3", "--out", tmp_path / "other")
    assert code == 2 and "NTSC rate" in stderr and not (tmp_path / "other").exists()
