"""FrameRequest: validation, JSON round trip, and the PNG text other tools read."""

import io
import json

import pytest
from PIL import Image

from previz_app.engine.request import Control, FrameRequest, Lora, Mode, Staging, encode_png, read_png_request


def full_request() -> FrameRequest:
    return FrameRequest(
        width=768, height=320, engine="diffusers", model="models/dream.safetensors", model_hash="ab" * 32,
        prompt="wide shot, lighthouse, ÉLLA 灯台", negative_prompt="blurry", seed=42, steps=20, guidance=6.5,
        mode=Mode.controlled, controls=(Control("depth", "cd" * 32, "cn/depth", 0.8),),
        loras=(Lora("loras/ink.safetensors", 0.7),), scheduler="EulerDiscreteScheduler",
        staging=Staging(size="WS", characters=("ELLA", "TOM"), int_ext="EXT", time=0.5),
    )


def test_json_round_trip_keeps_every_field():
    request = full_request()
    again = FrameRequest.from_json(request.to_json())
    assert again == request
    assert isinstance(again.controls[0], Control) and again.controls[0].kind == "depth"
    assert again.staging.characters == ("ELLA", "TOM")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"width": 7}, "frame size"),
        ({"height": 9000}, "frame size"),
        ({"steps": 0}, "steps"),
        ({"strength": 1.5}, "strength"),
        ({"seed": -1}, "seed"),
        ({"mode": "img2img"}, "init image"),
        ({"mode": "inpaint", "init_image": "x"}, "mask"),
        ({"mode": "controlled"}, "control image"),
        ({"mode": "sketch"}, "sketch"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(changes, message):
    with pytest.raises(ValueError, match=message):
        FrameRequest(**{"width": 64, "height": 64, **changes})


def test_recipes_from_elsewhere_are_checked():
    with pytest.raises(ValueError, match="not valid JSON"):
        FrameRequest.from_json("{broken")
    with pytest.raises(ValueError, match="newer"):
        FrameRequest.from_json(json.dumps({"width": 64, "height": 64, "version": 99}))
    with pytest.raises(ValueError, match="unknown fields: colour"):
        FrameRequest.from_json(json.dumps({"width": 64, "height": 64, "colour": "red"}))
    with pytest.raises(ValueError, match="does not describe a frame"):
        FrameRequest.from_json(json.dumps({"prompt": "no size"}))


def test_variations_step_the_seed():
    request = FrameRequest(64, 64, seed=10)
    assert [request.variation(i).seed for i in range(3)] == [10, 11, 12]
    assert FrameRequest(64, 64, seed=2**63 - 1).variation(1).seed == 0


def test_png_carries_the_recipe_and_a1111_parameters():
    request = full_request()
    data = encode_png(Image.new("RGB", (32, 16), (200, 10, 10)), request)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (32, 16) and image.getpixel((0, 0)) == (200, 10, 10)
        parameters = image.text["parameters"]
        assert FrameRequest.from_json(image.text["previz"]) == request
    lines = parameters.split("\n")
    assert lines[0] == request.prompt
    assert lines[1] == "Negative prompt: blurry"
    settings = dict(item.split(": ", 1) for item in lines[2].split(", "))
    assert settings["Steps"] == "20" and settings["Seed"] == "42" and settings["Size"] == "768x320"
    assert settings["CFG scale"] == "6.5" and settings["Model hash"] == "abababab" + "ab"
    assert read_png_request(data) == request


def test_a_png_without_a_recipe_says_so():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    with pytest.raises(ValueError, match="no previz recipe"):
        read_png_request(buffer.getvalue())
    with pytest.raises(ValueError, match="not a readable PNG"):
        read_png_request(b"\x89PNG truncated")
