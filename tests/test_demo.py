"""`previz demo`: the main job on a fresh machine, with no model at all."""

import csv
import json

import av
import numpy as np
import OpenEXR
import opentimelineio as otio
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from previz_app.animatic.timeline import build_timeline
from previz_app.demo import SAMPLE_SCRIPT, run_demo
from previz_app.engine.request import FrameRequest
from previz_app.script.importer import read_script
from previz_app.store import open_project, scenes, shots
from previz_app.store.deck import read_deck
from previz_app.store.walls import wall_names


def test_the_bundled_screenplay_is_what_the_readme_promises():
    doc = read_script(SAMPLE_SCRIPT)
    assert doc.title
    assert 6 <= len(doc.scenes) <= 10
    kinds = {s.int_ext.value for s in doc.scenes}
    assert {"INT", "EXT"} <= kinds
    times = {s.time_of_day.value for s in doc.scenes}
    assert {"DAY", "NIGHT"} <= times
    assert any(s.int_ext.value == "" for s in doc.scenes), "needs a forced scene heading"
    assert any(s.characters for s in doc.scenes) and any(not s.characters for s in doc.scenes)


def test_demo_runs_twice_and_reports_each_step(tmp_path):
    lines = []
    first = run_demo(tmp_path, lines.append)
    assert [line.split()[0] for line in lines] == ["project", "script", "shots", "frames", "animatic", "boards", "deck", "plate", "done"]
    assert all(path.exists() for path in first.written)
    with open_project(tmp_path / "the_last_lighthouse.previz") as folder:
        listed = scenes.list_scenes(folder.db)
        drafted = shots.list_shots(folder.db)
        title = folder.db.execute("SELECT title FROM project").fetchone()[0]
    assert title == read_script(SAMPLE_SCRIPT).title
    assert len(listed) == len(read_script(SAMPLE_SCRIPT).scenes)
    assert len(drafted) >= len(listed)

    frames = sorted((tmp_path / "frames").glob("*.png"))
    assert len(frames) == len(drafted)
    for shot in drafted[:: max(1, len(drafted) // 8)]:
        with Image.open(tmp_path / "frames" / f"shot-{shot.number}.png") as image:
            assert image.size == (1280, 536)  # the project's 2.39
            request = FrameRequest.from_json(image.text["previz"])
        assert request.engine == "blocking" and request.staging.size == shot.size.value

    with open_project(tmp_path / "the_last_lighthouse.previz") as folder:
        timeline = build_timeline(folder.db)
    with av.open(str(tmp_path / "animatic.mp4")) as container:
        video = container.streams.video[0]
        assert (video.width, video.height) == (1280, 536)
        assert sum(1 for _ in container.decode(video)) == timeline.total_frames
    cut = otio.adapters.read_from_file(str(tmp_path / "animatic.otio"))
    assert [clip.name for clip in cut.find_clips()] == [shot.number for shot in drafted]
    assert "-->" in (tmp_path / "animatic.srt").read_text(encoding="utf-8")

    boards = PdfReader(tmp_path / "boards.pdf")
    lines_printed = {line.strip() for page in boards.pages for line in page.extract_text().splitlines()}
    assert {shot.number for shot in drafted} <= lines_printed  # each number is a caption's first text
    with open(tmp_path / "shotlist.csv", encoding="utf-8-sig", newline="") as handle:
        assert [row["Shot"] for row in csv.DictReader(handle)] == [shot.number for shot in drafted]
    deck_pdf = PdfReader(tmp_path / "deck.pdf")
    deck = Presentation(str(tmp_path / "deck.pptx"))
    assert len(deck.slides) == len(deck_pdf.pages) >= 12
    with open_project(tmp_path / "the_last_lighthouse.previz") as folder:
        stored = read_deck(folder.db)
    assert stored.logline and stored.key_art_take_id is not None and len(stored.mood_take_ids) == 8
    slide_text = [" ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame) for slide in deck.slides]
    assert stored.logline in slide_text[0] and stored.logline in slide_text[1]  # title page, then its own
    assert "seed" in deck.slides[0].notes_slide.notes_text_frame.text  # the key art's recipe

    sidecar = json.loads((tmp_path / "plate" / "plate.json").read_text())
    assert sidecar["wall"] == "Stage A" and sidecar["colour_space"] == "ACEScg" and len(sidecar["tiles"]) > 1
    first = sidecar["tiles"][0]
    with OpenEXR.File(str(tmp_path / "plate" / first["file"])) as exr:
        assert exr.header()["colorSpace"] == "ACEScg"
        pixels = exr.channels()["RGB"].pixels
    assert pixels.dtype == np.float16 and pixels.shape == (first["height"], first["width"], 3)
    assert np.isfinite(pixels).all() and 0 < pixels.mean() < 1  # a night plate, in scene-linear light
    with open_project(tmp_path / "the_last_lighthouse.previz") as folder:
        assert wall_names(folder.db) == ["Stage A"]

    lines.clear()
    run_demo(tmp_path, lines.append)  # a second run re-imports and changes nothing
    assert "reopened" in lines[0] and f"{len(listed)} unchanged" in lines[1]
    assert f"0 drawn, {len(drafted)} already there" in lines[3]
    assert lines[4].startswith("animatic  unchanged")
    with open_project(tmp_path / "the_last_lighthouse.previz") as folder:
        assert len(shots.list_shots(folder.db)) == len(drafted)
        assert folder.db["takes"].count == len(drafted)
