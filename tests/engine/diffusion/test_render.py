"""The diffusers engine on tiny random-weight models: every mode, end to end."""

import hashlib

import numpy as np
import torch
import pytest
from PIL import Image

from previz_app.engine.base import Cancelled, EngineError, RenderContext
from previz_app.engine.blocking.panel import render_panel
from previz_app.engine.diffusion import DiffusersEngine
from previz_app.engine.jobs import JobRunner, JobState
from previz_app.engine.request import Control, FrameRequest, Lora, Mode, Staging, encode_png

SIZE = 64


class Media(dict):
    """A tiny media store: PNG bytes by hash."""

    def add(self, image: Image.Image) -> str:
        data = encode_png(image, FrameRequest(8, 8))
        digest = hashlib.sha256(data).hexdigest()
        self[digest] = data
        return digest


@pytest.fixture(scope="module")
def engine():
    return DiffusersEngine(device="cpu")


@pytest.fixture(scope="module")
def panel():
    return render_panel(Staging(size="MS", characters=("ANNA",), location="KITCHEN", int_ext="INT"), SIZE, SIZE)


@pytest.fixture
def media(panel):
    store = Media()
    store.panel = store.add(panel.image)
    store.depth = store.add(panel.depth.convert("RGB"))
    return store


def frame(model, **changes) -> FrameRequest:
    fields = dict(width=SIZE, height=SIZE, engine="diffusers", model=str(model), prompt="a storyboard frame",
                  negative_prompt="blurry", seed=7, steps=4, guidance=5.0)
    fields.update(changes)
    return FrameRequest(**fields)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def render(engine, request, media=None, **callbacks):
    context = RenderContext(media=(media or {}).__getitem__, **callbacks)
    return engine.render(request, context).image


def test_txt2img_reports_every_step_previews_and_repeats_exactly(engine, tiny_models):
    progress, shown = [], []
    image = render(engine, frame(tiny_models.pipeline), on_progress=lambda s, t: progress.append((s, t)),
                   on_preview=shown.append)
    assert image.size == (SIZE, SIZE)
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert shown and all(isinstance(p, Image.Image) for p in shown)
    again = render(engine, frame(tiny_models.pipeline))
    assert np.array_equal(pixels(image), pixels(again))
    other_seed = render(engine, frame(tiny_models.pipeline, seed=8))
    assert np.abs(pixels(image) - pixels(other_seed)).mean() > 1


def test_frame_size_not_a_multiple_of_eight_comes_back_at_the_asked_size(engine, tiny_models):
    assert render(engine, frame(tiny_models.pipeline, width=70, height=60, steps=1)).size == (70, 60)


def test_img2img_starts_from_the_blocking_panel_and_runs_strength_times_steps(engine, tiny_models, media):
    progress = []
    request = frame(tiny_models.pipeline, mode=Mode.img2img, init_image=media.panel, strength=0.5)
    image = render(engine, request, media, on_progress=lambda s, t: progress.append((s, t)))
    assert progress == [(1, 2), (2, 2)]
    assert not np.array_equal(pixels(image), pixels(render(engine, frame(tiny_models.pipeline))))
    assert np.array_equal(pixels(image), pixels(render(engine, request, media)))


def test_inpaint_uses_init_and_mask(engine, tiny_models, media):
    mask = Image.new("L", (SIZE, SIZE), 0)
    mask.paste(255, (16, 16, 48, 48))
    media_mask = media.add(mask.convert("RGB"))
    request = frame(tiny_models.pipeline, mode=Mode.inpaint, init_image=media.panel, mask=media_mask, strength=1.0)
    image = render(engine, request, media)
    assert image.size == (SIZE, SIZE)
    assert np.array_equal(pixels(image), pixels(render(engine, request, media)))


def test_controlnet_follows_the_control_image(engine, tiny_models, media):
    controlled = frame(tiny_models.pipeline, mode=Mode.controlled,
                       controls=(Control("depth", media.depth, model=str(tiny_models.controlnet), strength=1.0),))
    with_depth = render(engine, controlled, media)
    flat = media.add(Image.new("RGB", (SIZE, SIZE), (128, 128, 128)))
    with_flat = render(engine, frame(tiny_models.pipeline, mode=Mode.controlled,
                                     controls=(Control("depth", flat, model=str(tiny_models.controlnet)),)), media)
    assert np.abs(pixels(with_depth) - pixels(with_flat)).mean() > 0.5
    assert np.array_equal(pixels(with_depth), pixels(render(engine, controlled, media)))


def test_controlled_mode_without_a_controlnet_model_is_refused(engine, tiny_models, media):
    request = frame(tiny_models.pipeline, mode=Mode.controlled, controls=(Control("depth", media.depth),))
    with pytest.raises(EngineError, match="ControlNet model"):
        render(engine, request, media)


def test_lora_changes_the_frame_and_leaves_it_when_dropped(engine, tiny_models):
    plain = render(engine, frame(tiny_models.pipeline))
    styled = render(engine, frame(tiny_models.pipeline, loras=(Lora(str(tiny_models.lora), 1.0),)))
    assert np.abs(pixels(plain) - pixels(styled)).mean() > 0.5
    assert np.array_equal(pixels(plain), pixels(render(engine, frame(tiny_models.pipeline))))


def test_cancel_stops_within_one_step(engine, tiny_models):
    context = RenderContext()
    steps = []

    def progress(step, total):
        steps.append(step)
        if step == 2:
            context.cancel_event.set()

    context.on_progress = progress
    with pytest.raises(Cancelled):
        engine.render(frame(tiny_models.pipeline, steps=10), context)
    assert steps == [1, 2]


def test_taesd_draws_the_previews_when_present(tiny_models):
    with_taesd = DiffusersEngine(device="cpu", previews={"sd1": str(tiny_models.taesd)})
    shown = []
    render(with_taesd, frame(tiny_models.pipeline, steps=1), on_preview=shown.append)
    # TAESD decodes the 8x8 latent to a 64x64 picture; the linear approximation
    # shows the latent itself, scaled up for the eye.
    assert [p.size for p in shown] == [(SIZE, SIZE)]


def test_named_scheduler_is_used_and_unknown_one_refused(engine, tiny_models):
    euler_a = render(engine, frame(tiny_models.pipeline, scheduler="euler_a"))
    assert not np.array_equal(pixels(euler_a), pixels(render(engine, frame(tiny_models.pipeline))))
    with pytest.raises(EngineError, match="unknown scheduler 'warp'"):
        render(engine, frame(tiny_models.pipeline, scheduler="warp"))


def test_job_runner_drives_the_engine_and_a_missing_model_fails_its_job_only(engine, tiny_models):
    runner = JobRunner({"diffusers": engine}, media=lambda digest: b"")
    try:
        done = runner.submit(frame(tiny_models.pipeline, steps=2))
        done.wait(60)
        assert done.state is JobState.finished and done.result.image.size == (SIZE, SIZE)
        assert (done.step, done.total) == (2, 2)
        broken = runner.submit(frame("/no/such/model"))
        broken.wait(60)
        assert broken.state is JobState.failed and "model not found" in broken.error
    finally:
        runner.shutdown()


def test_a_missing_or_broken_init_image_is_explained(engine, tiny_models, media):
    with pytest.raises(EngineError, match="missing from the project's media"):
        render(engine, frame(tiny_models.pipeline, mode=Mode.img2img, init_image="ab" * 32), media)
    media["cd" * 32] = b"not a picture"
    with pytest.raises(EngineError, match="unreadable image"):
        render(engine, frame(tiny_models.pipeline, mode=Mode.img2img, init_image="cd" * 32), media)


def test_an_original_taesd_decoder_file_draws_the_same_previews_as_its_folder(tiny_models, tmp_path):
    """A full-size TAESD (random weights; it is small by design) saved both ways: as a
    diffusers folder and as the TAESD project's decoder file, numbered layers with the
    input clamp at 0, so that diffusers' layer i is the file's i + 1."""
    from diffusers import AutoencoderTiny
    from safetensors.torch import save_file

    torch.manual_seed(0)
    taesd = AutoencoderTiny()
    taesd.save_pretrained(tmp_path / "taesd")
    prefix = "decoder.layers."
    save_file({f"{int(k[len(prefix):].split('.')[0]) + 1}.{k[len(prefix):].partition('.')[2]}": v.contiguous()
               for k, v in taesd.state_dict().items() if k.startswith(prefix)}, tmp_path / "taesd_decoder.safetensors")
    shown = {}
    for name in ("taesd", "taesd_decoder.safetensors"):
        engine = DiffusersEngine(device="cpu", previews={"sd1": str(tmp_path / name)})
        shown[name] = []
        render(engine, frame(tiny_models.pipeline, steps=1), on_preview=shown[name].append)
    assert [p.size for p in shown["taesd_decoder.safetensors"]] == [(SIZE, SIZE)]
    assert np.array_equal(pixels(shown["taesd_decoder.safetensors"][0]), pixels(shown["taesd"][0]))


def test_a_broken_preview_decoder_costs_only_the_preview_detail(tiny_models, tmp_path):
    broken = tmp_path / "taesd_decoder.safetensors"
    broken.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    engine = DiffusersEngine(device="cpu", previews={"sd1": str(broken)})
    shown = []
    image = render(engine, frame(tiny_models.pipeline, steps=1), on_preview=shown.append)
    assert image.size == (SIZE, SIZE)
    assert [p.size for p in shown] == [(SIZE * 8, SIZE * 8)]  # the latent approximation


def test_lora_weight_scales_its_effect(engine, tiny_models):
    plain = pixels(render(engine, frame(tiny_models.pipeline)))
    half, full = (pixels(render(engine, frame(tiny_models.pipeline, loras=(Lora(str(tiny_models.lora), w),))))
                  for w in (0.5, 1.0))
    assert 0 < np.abs(half - plain).mean() < np.abs(full - plain).mean()


def test_a_lora_that_fits_nothing_fails_cleanly_and_leaves_later_frames_alone(engine, tiny_models, tmp_path):
    from safetensors.torch import save_file

    plain = pixels(render(engine, frame(tiny_models.pipeline)))
    stray = tmp_path / "stray.safetensors"
    save_file({"unet.nothing.here.lora.down.weight": torch.ones(4, 8), "unet.nothing.here.lora.up.weight": torch.ones(8, 4)}, stray)
    with pytest.raises(EngineError, match="could not load LoRA stray.safetensors"):
        render(engine, frame(tiny_models.pipeline, loras=(Lora(str(stray)),)))
    assert np.array_equal(pixels(render(engine, frame(tiny_models.pipeline))), plain)


def test_a_lora_for_another_family_or_not_in_safetensors_is_refused(engine, tiny_models, tmp_path):
    from safetensors.torch import save_file

    sdxl = tmp_path / "xl-style.safetensors"
    save_file({"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": torch.zeros(4, 1280),
               "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight": torch.zeros(5120, 4)}, sdxl)
    with pytest.raises(EngineError, match="is for sdxl; this model is sd1"):
        render(engine, frame(tiny_models.pipeline, loras=(Lora(str(sdxl)),)))
    renamed = tmp_path / "style.lora"
    renamed.write_bytes(tiny_models.lora.read_bytes())
    with pytest.raises(EngineError, match="not a safetensors file.*pickle"):
        render(engine, frame(tiny_models.pipeline, loras=(Lora(str(renamed)),)))


def test_a_lora_that_breaks_half_way_is_removed_again(tiny_models, monkeypatch):
    """diffusers added the layers, then failed: the half-made adapter must go."""
    engine = DiffusersEngine(device="cpu")
    plain = pixels(render(engine, frame(tiny_models.pipeline)))
    pipe = engine._models[str(tiny_models.pipeline)].pipe
    real = pipe.load_lora_weights

    def load_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk went away")

    monkeypatch.setattr(pipe, "load_lora_weights", load_then_fail)
    with pytest.raises(EngineError, match="could not load LoRA tiny-lora.safetensors: disk went away"):
        render(engine, frame(tiny_models.pipeline, loras=(Lora(str(tiny_models.lora)),)))
    assert not any(pipe.get_list_adapters().values())
    assert np.array_equal(pixels(render(engine, frame(tiny_models.pipeline))), plain)
