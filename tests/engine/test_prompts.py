"""Prompt building: camera language from the shot, light from the time of day."""

from previz_app.domain.model import Character, Location, Project, Scene, Shot
from previz_app.domain.vocabulary import STYLE_PRESETS, Angle, IntExt, ShotSize, TimeOfDay
from previz_app.engine.prompts import build_prompt

PROJECT = Project(title="Film", style_preset="cinematic")
SCENE = Scene(number="3", heading="EXT. LIGHTHOUSE - NIGHT", int_ext=IntExt.exterior, location="LIGHTHOUSE", time_of_day=TimeOfDay.night)


def test_shot_becomes_camera_language_and_the_style_leads():
    shot = Shot(size=ShotSize.cu, angle=Angle.low, lens_mm=85, characters=("ELLA",), action="Ella looks up at the lamp.")
    prompt, negative = build_prompt(PROJECT, SCENE, shot, [Character("ELLA", "a keeper in her sixties, oilskin coat")])
    assert prompt.startswith(STYLE_PRESETS["cinematic"])
    for words in ("close-up", "low angle", "85mm portrait lens", "Ella (a keeper in her sixties, oilskin coat)", "Ella looks up at the lamp", "exterior lighthouse", "night, moonlight"):
        assert words in prompt
    assert "watermark" in negative


def test_each_field_changes_the_prompt_and_the_same_shot_gives_the_same_prompt():
    base = Shot(size=ShotSize.ws, angle=Angle.eye, lens_mm=24)
    prompts = {
        build_prompt(PROJECT, SCENE, shot)[0]
        for shot in (base, Shot(size=ShotSize.ecu), Shot(angle=Angle.bird, size=ShotSize.ws, lens_mm=24), Shot(size=ShotSize.ws, lens_mm=200))
    }
    assert len(prompts) == 4
    assert build_prompt(PROJECT, SCENE, base) == build_prompt(PROJECT, SCENE, base)
    day = build_prompt(PROJECT, Scene(number="1", heading="", time_of_day=TimeOfDay.day), base)[0]
    assert "daylight" in day and "moonlight" not in day


def test_override_and_negative_come_from_the_shot():
    shot = Shot(prompt_override="a red door in fog", negative_prompt="people")
    prompt, negative = build_prompt(PROJECT, SCENE, shot, location=Location("LIGHTHOUSE", "granite tower"))
    assert prompt == f"{STYLE_PRESETS['cinematic']}, a red door in fog"
    assert negative.startswith("people, ")


def test_location_description_and_long_action_are_kept_short():
    shot = Shot(action="word " * 200)
    prompt, _ = build_prompt(PROJECT, SCENE, shot, location=Location("LIGHTHOUSE", "granite tower on a cliff"))
    assert "exterior lighthouse (granite tower on a cliff)" in prompt
    assert len(prompt) < 500
