"""Wide and 360° environments from the diffusers engine (MultiDiffusion), and tiled
img2img upscaling, on tiny random-weight models.

Random weights make noise-like pictures, so continuity is judged the way it can be
on noise: neighbouring columns of a decoded picture are correlated (the VAE decodes
each latent cell into 8x8 pixels with overlapping receptive fields), unrelated columns
are not. A seam is continuous when its two columns correlate like neighbours do.
"""

import json
import shutil
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from previz_app.engine.base import Cancelled, EngineError, RenderContext
from previz_app.engine.blocking.panel import render_panel
from previz_app.engine.diffusion import DiffusersEngine, panorama
from previz_app.engine.diffusion.tiling import Grid, resample
from previz_app.engine.discovery.entry import Family
from previz_app.engine.environment import EnvironmentRequest
from previz_app.engine.request import Staging


@pytest.fixture(scope="module")
def engine():
    return DiffusersEngine(device="cpu")


def environment(model, **changes) -> EnvironmentRequest:
    fields = {"width": 192, "height": 64, "engine": "diffusers", "model": str(model), "prompt": "a snowy forest",
              "negative_prompt": "blurry", "seed": 7, "steps": 3, "guidance": 5.0, "window": 64}
    fields.update(changes)
    return EnvironmentRequest(**fields)


def flat(model, **changes) -> EnvironmentRequest:
    """A 180° environment: no wrap."""
    return environment(model, span_deg=180.0, wrap=False, **changes)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def column_correlations(image: Image.Image) -> tuple[np.ndarray, float]:
    """Each neighbouring column pair's correlation (pattern down the column, each
    column's own mean removed), and the seam's: last column against the first."""
    columns = pixels(image).transpose(1, 0, 2).reshape(image.width, -1)
    columns = columns - columns.mean(axis=1, keepdims=True)
    columns /= np.linalg.norm(columns, axis=1, keepdims=True)
    return (columns[:-1] * columns[1:]).sum(axis=1), float((columns[-1] * columns[0]).sum())


def column_steps(image: Image.Image) -> tuple[np.ndarray, float]:
    """Mean absolute difference of each neighbouring column pair, and of the seam's."""
    array = pixels(image)
    return np.abs(np.diff(array, axis=1)).mean(axis=(0, 2)), float(np.abs(array[:, -1] - array[:, 0]).mean())


# -- the window layout and the blend ----------------------------------------------------


def test_a_wrapped_resize_filters_the_seam_like_any_other_column():
    x = np.arange(60)
    looped = np.stack([127 + 120 * np.sin(2 * np.pi * x / 60)] * 3, axis=-1)[None].repeat(10, 0).astype(np.uint8)
    image = resample(Image.fromarray(looped), (157, 10), wrap=True)
    steps, seam = column_steps(image)
    assert seam <= steps.max()
    assert column_steps(resample(Image.fromarray(looped), (157, 10), wrap=False))[1] > steps.max()


# -- environments -----------------------------------------------------------------------


def test_environment_is_the_asked_size_reports_every_step_and_repeats_exactly(engine, tiny_models):
    progress, shown = [], []
    request = environment(tiny_models.pipeline, width=197)
    context = RenderContext(on_progress=lambda done, total: progress.append((done, total)), on_preview=shown.append)
    image = engine.environment(request, context)
    assert image.size == (197, 64) and image.mode == "RGB"
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert shown and all(isinstance(p, Image.Image) for p in shown)
    assert np.array_equal(pixels(image), pixels(engine.environment(request, RenderContext())))
    other = engine.environment(environment(tiny_models.pipeline, width=197, seed=8), RenderContext())
    assert np.abs(pixels(image) - pixels(other)).mean() > 5


def test_previews_come_from_the_tiny_decoder_when_there_is_one(tiny_models):
    shown = []
    engine = DiffusersEngine(device="cpu", previews={"sd1": str(tiny_models.taesd)})
    engine.environment(environment(tiny_models.pipeline, steps=1), RenderContext(on_preview=shown.append))
    assert [p.size for p in shown] == [(192, 64)]  # TAESD: 8 pixels a latent cell; the approximation is blown up


def test_a_picture_one_window_wide_is_a_plain_denoise_of_the_same_noise(engine, tiny_models):
    """With one window the blend must give back that window's prediction exactly, so the
    result is what diffusers' own txt2img pipeline makes from the same seed."""
    from diffusers import StableDiffusionPipeline

    request = flat(tiny_models.pipeline, width=64, height=64, steps=4)
    ours = engine.environment(request, RenderContext())
    pipe = StableDiffusionPipeline.from_pretrained(tiny_models.pipeline, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    plain = pipe(request.prompt, negative_prompt=request.negative_prompt, num_inference_steps=4, guidance_scale=5.0,
                 width=64, height=64, generator=torch.Generator("cpu").manual_seed(request.seed)).images[0]
    assert np.abs(pixels(ours) - pixels(plain)).max() <= 1


def test_360_environment_left_edge_continues_the_right_edge(engine, tiny_models):
    wrapped = engine.environment(environment(tiny_models.pipeline, width=197), RenderContext())
    inside, seam = column_correlations(wrapped)
    assert seam >= inside.min()
    steps, seam_step = column_steps(wrapped)
    assert seam_step <= steps.max()
    # The control: the same picture not wrapped has unrelated edges (correlation near 0).
    open_inside, open_seam = column_correlations(engine.environment(flat(tiny_models.pipeline, width=197),
                                                                    RenderContext()))
    assert open_seam < open_inside.min() - 0.1


@pytest.mark.parametrize("wrap", [False, True])
def test_360_windows_denoise_the_right_edge_with_the_left(engine, tiny_models, monkeypatch, wrap):
    """Change only the last latent column of the starting noise: after one step the first
    column changes when (and only when) the windows wrap round."""
    finished, original_noise, original_finish = [], panorama._Run.noise, panorama._Run.finish
    nudge = {"on": False}

    def noise(run):
        latents = original_noise(run)
        if nudge["on"]:
            latents[..., -1] += 1.0
        return latents

    def finish(run, latents):
        finished.append(latents.clone())
        return original_finish(run, latents)

    monkeypatch.setattr(panorama._Run, "noise", noise)
    monkeypatch.setattr(panorama._Run, "finish", finish)
    request = environment(tiny_models.pipeline, steps=1) if wrap else flat(tiny_models.pipeline, steps=1)
    engine.environment(request, RenderContext())
    nudge["on"] = True
    engine.environment(request, RenderContext())
    before, after = finished
    assert not torch.equal(before[..., -1], after[..., -1])
    assert (not torch.equal(before[..., 0], after[..., 0])) is wrap


def test_cancel_after_a_step_stops_the_environment(engine, tiny_models):
    cancel, progress = threading.Event(), []

    def on_progress(done, total):
        progress.append(done)
        cancel.set()

    with pytest.raises(Cancelled):
        engine.environment(environment(tiny_models.pipeline), RenderContext(on_progress=on_progress,
                                                                           cancel_event=cancel))
    assert progress == [1]


class SetAfter(threading.Event):
    """An event that reads as set from its `calls`-th look on."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls, self.looks = calls, 0

    def is_set(self) -> bool:
        self.looks += 1
        return self.looks >= self.calls


def test_cancel_is_checked_between_window_batches_inside_a_step(engine, tiny_models, monkeypatch):
    monkeypatch.setattr(panorama, "WINDOW_BATCH", 1)  # four windows: four UNet calls a step
    progress, event = [], SetAfter(3)  # one look before starting, one per window batch
    with pytest.raises(Cancelled):
        engine.environment(environment(tiny_models.pipeline),
                           RenderContext(on_progress=lambda d, t: progress.append(d), cancel_event=event))
    assert progress == [] and event.looks == 3


def test_flow_models_are_refused_before_loading(engine, monkeypatch):
    for family in (Family.sd3, Family.flux):
        monkeypatch.setattr(engine, "check", lambda model, family=family: family)
        request = environment("/no/such/model.safetensors")
        with pytest.raises(EngineError, match=r"need a UNet model \(SD 1.x, 2.x or XL\).*" + family.value):
            engine.environment(request, RenderContext())
        with pytest.raises(EngineError, match="UNet model"):
            engine.upscale(Image.new("RGB", (96, 32)), request, RenderContext())


def test_bad_window_and_strength_are_refused(engine, tiny_models):
    with pytest.raises(ValueError, match="at least 64 pixels"):
        engine.environment(environment(tiny_models.pipeline, window=32), RenderContext())
    with pytest.raises(ValueError, match="strength"):
        engine.upscale(Image.new("RGB", (96, 32)), environment(tiny_models.pipeline), RenderContext(), strength=0)


# -- upscaling --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def panel():
    return render_panel(Staging(size="WS", location="SNOWY FOREST", int_ext="EXT", time_of_day="DAY"), 96, 32).image


@pytest.fixture(scope="module")
def calibrated(tiny_models, tmp_path_factory):
    """The tiny pipeline with its VAE's scaling factor set as a trained VAE's is: to
    1 / the spread of its latents, so they have unit spread like the noise. (The random
    encoder's latents are ~25x smaller than a real one's, which would let the smallest
    noise level drown the picture.)"""
    from diffusers import AutoencoderKL

    folder = tmp_path_factory.mktemp("calibrated") / "tiny-sd15"
    shutil.copytree(tiny_models.pipeline, folder)
    vae = AutoencoderKL.from_pretrained(folder / "vae")
    sample = torch.rand(1, 3, 64, 192, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        spread = vae.encode(sample).latent_dist.mode().std().item()
    config = json.loads((folder / "vae" / "config.json").read_text())
    config["scaling_factor"] = 1 / spread
    (folder / "vae" / "config.json").write_text(json.dumps(config))
    return folder


def test_upscale_is_the_target_size_and_runs_strength_times_steps(engine, tiny_models, panel):
    progress = []
    request = environment(tiny_models.pipeline, width=197, steps=4)
    image = engine.upscale(panel, request, RenderContext(on_progress=lambda d, t: progress.append((d, t))), 0.5)
    assert image.size == (197, 64)
    assert progress == [(1, 2), (2, 2)]
    assert np.array_equal(pixels(image), pixels(engine.upscale(panel, request, RenderContext(), 0.5)))


def test_upscale_at_low_strength_keeps_the_picture(engine, calibrated, panel):
    """Against the picture Lanczos-resized and put through the same VAE by diffusers
    (the random VAE does not reproduce pictures, so that round trip is what img2img
    can keep): at strength 0.35 (one step of four, nearly no noise) the result
    correlates > 0.9 with it; at strength 1 (pure noise) it does not (< 0.5)."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(calibrated / "vae")
    resized = panel.resize((192, 64), Image.Resampling.LANCZOS)
    with torch.no_grad():
        source = torch.from_numpy(pixels(resized).astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
        decoded = vae.decode(vae.encode(source).latent_dist.mode()).sample[0]
    round_trip = ((decoded.permute(1, 2, 0).numpy() / 2 + 0.5).clip(0, 1) * 255).round()
    request = flat(calibrated, steps=4, window=192)  # one window and one VAE tile: the round trip's own
    kept = engine.upscale(panel, request, RenderContext(), strength=0.35)
    assert correlation(pixels(kept), round_trip) > 0.9
    assert correlation(pixels(engine.upscale(panel, request, RenderContext(), strength=1.0)), round_trip) < 0.5


def test_360_upscale_keeps_the_seam_continuous(engine, tiny_models, panel):
    image = engine.upscale(panel, environment(tiny_models.pipeline, width=197, steps=4), RenderContext(), 0.5)
    inside, seam = column_correlations(image)
    assert seam >= inside.min()


# -- SDXL -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_sdxl(tmp_path_factory):
    """A tiny random SDXL pipeline (two text encoders, size conditioning), as a folder."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from tests.engine.diffusion.tiny_models import SCHEDULER_CONFIG, VAE_CONFIG, write_tokenizer

    root = tmp_path_factory.mktemp("tiny-sdxl")
    tokenizer, vocab = write_tokenizer(root / "tokenizer", root / "scratch")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        text = CLIPTextConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                              vocab_size=len(vocab), max_position_embeddings=77, projection_dim=32,
                              bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                              pad_token_id=vocab["<|endoftext|>"])
        unet = UNet2DConditionModel(
            sample_size=8, block_out_channels=(32, 64), layers_per_block=1, norm_num_groups=32,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
            addition_time_embed_dim=8, transformer_layers_per_block=(1, 1),
            projection_class_embeddings_input_dim=6 * 8 + 32, cross_attention_dim=64)
        pipe = StableDiffusionXLPipeline(
            vae=AutoencoderKL(**VAE_CONFIG), text_encoder=CLIPTextModel(text), text_encoder_2=CLIPTextModelWithProjection(text),
            tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet, scheduler=EulerDiscreteScheduler(**{
                k: v for k, v in SCHEDULER_CONFIG.items() if k not in ("clip_sample", "set_alpha_to_one")}))
    pipe.save_pretrained(root / "pipeline", safe_serialization=True)
    return root / "pipeline"


def test_sdxl_environment_wraps_and_repeats(engine, tiny_sdxl):
    progress = []
    request = environment(tiny_sdxl, width=197)
    image = engine.environment(request, RenderContext(on_progress=lambda d, t: progress.append(d)))
    assert engine.check(str(tiny_sdxl)) is Family.sdxl
    assert image.size == (197, 64) and progress == [1, 2, 3]
    assert np.array_equal(pixels(image), pixels(engine.environment(request, RenderContext())))
    inside, seam = column_correlations(image)
    assert seam >= inside.min()
    upscaled = engine.upscale(image.resize((96, 32)), request, RenderContext(), strength=0.7)
    assert upscaled.size == (197, 64)


# -- the VAE ----------------------------------------------------------------------------


def windowed(folder, vae_dtype=torch.float32) -> panorama.Model:
    """A freshly loaded pipeline as the engine hands it to panorama, its VAE in `vae_dtype`."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    pipe.vae.to(vae_dtype)
    return panorama.Model(pipe, Family.sd1, type(pipe.scheduler).from_config(pipe.scheduler.config))


def test_a_float16_vae_run_in_float32_comes_back_as_it_was(tiny_models, panel):
    """SDXL's VAE overflows in float16 and is run in float32 meanwhile (force_upcast); the
    casts must not leave inference tensors in the loaded model, which autograd refuses
    ("cannot be saved for backward": training an adapter on it). float16 works on the
    CPU here: the VAE only ever runs in float32."""
    model = windowed(tiny_models.pipeline, torch.float16)
    model.pipe.vae.register_to_config(force_upcast=True)
    image = panorama.generate(model, environment(tiny_models.pipeline, steps=1), RenderContext())
    upscaled = panorama.upscale(model, panel, environment(tiny_models.pipeline, steps=2), RenderContext(), 0.5)
    assert image.size == upscaled.size == (192, 64)
    parameters = list(model.pipe.vae.parameters())
    assert all(p.dtype == torch.float16 for p in parameters)
    assert not any(p.is_inference() for p in parameters)
    lora = torch.ones_like(parameters[0], requires_grad=True)
    (parameters[0] * lora).sum().backward()  # the weight is saved for backward, as in training
    assert torch.equal(lora.grad, parameters[0])


def test_cancel_is_checked_between_vae_tiles(tiny_models, panel, monkeypatch):
    """Decoding and encoding a wall-sized picture takes hundreds of tiles: a cancel
    asked for during one tile stops before the next."""
    model, cancel, calls = windowed(tiny_models.pipeline), threading.Event(), []

    def cancelling(method):
        def call(*args, **kwargs):
            calls.append(method.__name__)
            cancel.set()
            return method(*args, **kwargs)
        return call

    for name in ("encode", "decode"):
        monkeypatch.setattr(model.pipe.vae, name, cancelling(getattr(model.pipe.vae, name)))
    request = environment(tiny_models.pipeline, steps=1)
    assert len(Grid.cover(8, 24, 8, panorama.VAE_OVERLAP, True).places) > 1  # the request's VAE tiles
    with pytest.raises(Cancelled):
        panorama.generate(model, request, RenderContext(cancel_event=cancel))
    cancel.clear()
    with pytest.raises(Cancelled):
        panorama.upscale(model, panel, request, RenderContext(cancel_event=cancel))
    assert calls == ["decode", "encode"]
