"""The speed levers: lever text, device defaults, and what each lever does to the tiny
SD1 model on the CPU (the CUDA-only levers are measured by benchmarks/bench_engine.py)."""

import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from diffusers import AutoencoderTiny, StableDiffusionPipeline

from previz_app.cli import cli
from previz_app.engine.base import EngineError, RenderContext
from previz_app.engine.diffusion import DiffusersEngine, compiling
from previz_app.engine.diffusion.acceleration import (
    LEVERS,
    Acceleration,
    accelerate,
    check_supported,
    default_for,
    precision_dtype,
)
from previz_app.engine.discovery.entry import Family
from previz_app.engine.engines import EngineOptions, make_engines
from previz_app.engine.request import FrameRequest, Lora

CPU = torch.device("cpu")
PROMPT, NEGATIVE, SEED, STEPS, GUIDANCE = "a storyboard frame", "blurry", 7, 4, 5.0


def frame(model, **changes) -> FrameRequest:
    return replace(FrameRequest(64, 64, engine="diffusers", model=str(model), prompt=PROMPT, negative_prompt=NEGATIVE,
                                seed=SEED, steps=STEPS, guidance=GUIDANCE), **changes)


def levers(text: str) -> Acceleration:
    return Acceleration.parse(text, default_for(CPU))


def psnr(a, b) -> float:
    """Peak signal-to-noise ratio of two 8-bit images, in dB (inf when identical)."""
    mse = np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def loaded(engine: DiffusersEngine, model):
    return engine._models[str(model)]


@pytest.fixture(scope="module")
def plain(tiny_models):
    """The plain fp32 diffusers pipeline's image for `frame(...)`: the reference."""
    pipe = StableDiffusionPipeline.from_pretrained(tiny_models.pipeline, local_files_only=True, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)

    def image(seed: int = SEED):
        return pipe(PROMPT, negative_prompt=NEGATIVE, num_inference_steps=STEPS, guidance_scale=GUIDANCE, width=64,
                    height=64, generator=torch.Generator("cpu").manual_seed(seed)).images[0]

    return image


# -- lever text ------------------------------------------------------------------------------


def test_lever_text_switches_levers_one_by_one():
    base = Acceleration()
    assert Acceleration.parse("", base) == base
    changed = Acceleration.parse(" compile = OFF, fuse_qkv=off,fp8 ,precision=bf16", base)
    assert (changed.compile, changed.fuse_qkv, changed.fp8, changed.precision) == ("off", False, True, "bf16")
    assert (changed.channels_last, changed.cuda_graphs, changed.compile_cache) == (True, True, True)  # untouched
    assert Acceleration.parse("draft=yes,batch_variations=0", base).draft is True


@pytest.mark.parametrize("acceleration", [
    Acceleration(), default_for(CPU), Acceleration(precision="fp16", compile="full", cuda_graphs=False, draft=True),
])
def test_lever_text_round_trips_whatever_the_base(acceleration):
    for base in (Acceleration(), default_for(CPU)):
        assert Acceleration.parse(acceleration.text(), base) == acceleration
    assert [item.split("=")[0] for item in acceleration.text().split(",")] == list(LEVERS)


@pytest.mark.parametrize(("text", "message"), [
    ("turbo=on", "unknown lever 'turbo'; expected one of: precision, channels_last, fuse_qkv, compile, cuda_graphs"),
    ("compile=fast", "compile=fast: expected one of off, regional, full"),
    ("precision=fp8", "precision=fp8: expected one of auto, bf16, fp16, fp32"),
    ("channels_last=maybe", "channels_last=maybe: expected on or off"),
    ("draft,draft=off", "lever 'draft' is given twice"),
])
def test_bad_lever_text_is_refused_naming_the_lever(text, message):
    with pytest.raises(ValueError, match=message):
        Acceleration.parse(text, Acceleration())


def test_the_fast_path_is_the_default_on_cuda_and_the_cpu_keeps_its_path():
    assert default_for(torch.device("cuda")) == Acceleration()
    cpu = default_for(CPU)
    assert (cpu.channels_last, cpu.fuse_qkv, cpu.compile, cpu.cuda_graphs, cpu.compile_cache) == (False, False, "off", False, False)
    assert cpu.precision == "auto" and cpu.batch_variations and not cpu.draft and not cpu.fp8
    assert default_for(torch.device("mps")) == cpu


def test_precision_follows_the_device_and_the_family(monkeypatch):
    auto, cuda = Acceleration(), torch.device("cuda")
    assert precision_dtype(auto, CPU, Family.sd1) == torch.float32
    assert precision_dtype(levers("precision=bf16"), CPU, Family.sd1) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert precision_dtype(auto, cuda, Family.sdxl) == torch.bfloat16
    assert precision_dtype(auto, cuda, Family.flux) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert precision_dtype(auto, cuda, Family.sd1) == torch.float16  # pre-Ampere
    assert precision_dtype(auto, cuda, Family.sd3) == torch.float32  # flow models overflow in fp16
    assert precision_dtype(auto, torch.device("mps"), Family.sd1) == torch.float16
    with pytest.raises(EngineError, match="flux models overflow in fp16; use precision=bf16 or fp32"):
        precision_dtype(levers("precision=fp16"), CPU, Family.flux)


def test_fp8_is_refused_off_hopper_and_without_torchao(monkeypatch):
    with pytest.raises(EngineError, match="compute capability 9.0 or newer"):
        DiffusersEngine(device="cpu", acceleration=levers("fp8"))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (9, 0))
    with pytest.raises(EngineError, match="use precision=bf16 or auto with fp8"):
        check_supported(Acceleration(fp8=True, precision="fp16"), torch.device("cuda"))
    try:
        import torchao  # noqa: F401
    except ImportError:
        with pytest.raises(EngineError, match="fp8 needs torchao: pip install torchao"):
            check_supported(Acceleration(fp8=True), torch.device("cuda"))


def test_lever_text_reaches_the_engine_through_make_engines_and_the_cli(tmp_path):
    engine = make_engines(("diffusers",), EngineOptions(device="cpu", acceleration="fuse_qkv=on,draft"))["diffusers"]
    assert engine.acceleration == Acceleration.parse("fuse_qkv,draft", default_for(CPU))
    assert make_engines(("diffusers",), EngineOptions(device="cpu"))["diffusers"].acceleration == default_for(CPU)
    with pytest.raises(ValueError, match="unknown lever 'warp'"):
        make_engines(("diffusers",), EngineOptions(device="cpu", acceleration="warp=on"))
    run = CliRunner().invoke(cli, ["generate", str(tmp_path / "Film.previz"), "--engine", "diffusers",
                                   "--model", str(tmp_path), "--levers", "compile=off,warp=on"])
    assert run.exit_code == 2
    assert "--levers" in run.output and "unknown lever 'warp'" in run.output
    run = CliRunner().invoke(cli, ["generate", str(tmp_path / "Film.previz"), "--engine", "diffusers",
                                   "--model", str(tmp_path)], env={"PREVIZ_LEVERS": "compile=sometimes"})
    assert run.exit_code == 2 and "compile=sometimes: expected one of off, regional, full" in run.output


# -- the CPU path and the quality of the levers ------------------------------------------------


def test_the_default_cpu_path_is_the_plain_pipeline_untouched(tiny_models, plain):
    engine = DiffusersEngine(device="cpu")
    image = engine.render(frame(tiny_models.pipeline), RenderContext()).image
    assert np.array_equal(np.asarray(image), np.asarray(plain()))  # same pixels as plain diffusers
    pipe = loaded(engine, tiny_models.pipeline).pipe
    assert loaded(engine, tiny_models.pipeline).levers == ()
    for module in (pipe.unet, pipe.vae):
        assert all(p.dtype == torch.float32 for p in module.parameters())
        assert all(p.is_contiguous() for p in module.parameters())  # not channels_last
        assert not any(hasattr(m, "to_qkv") or hasattr(m, "to_kv") for m in module.modules())
        assert not any("Fused" in type(p).__name__ for p in module.attn_processors.values())
        assert not compiling.is_compiled(module) and not any("forward" in m.__dict__ for m in module.modules())


def test_fp32_levers_match_the_plain_pipeline_and_bf16_stays_close(tiny_models, plain):
    """Thresholds: fp32 levers only reorder memory and fuse matmuls, so the decoded image
    may differ by float rounding alone: >= 60 dB (under 0.3 levels rms). bf16 keeps 8
    mantissa bits, ~0.4% per op, which after four steps and the VAE is a level or two
    rms: >= 35 dB (under 4.6 levels rms). Another seed's image scores under 25 dB, so
    a lever that broke the model could not pass."""
    reference = plain()
    assert psnr(plain(SEED + 1), reference) < 25
    fp32 = DiffusersEngine(device="cpu", acceleration=levers("channels_last,fuse_qkv"))
    assert psnr(fp32.render(frame(tiny_models.pipeline), RenderContext()).image, reference) >= 60
    unet = loaded(fp32, tiny_models.pipeline).pipe.unet
    assert loaded(fp32, tiny_models.pipeline).levers == ("fuse_qkv", "channels_last")
    assert unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last) and not unet.conv_in.weight.is_contiguous()
    assert all("Fused" in type(p).__name__ for p in unet.attn_processors.values())
    bf16 = DiffusersEngine(device="cpu", acceleration=levers("channels_last,fuse_qkv,precision=bf16"))
    assert psnr(bf16.render(frame(tiny_models.pipeline), RenderContext()).image, reference) >= 35
    assert loaded(bf16, tiny_models.pipeline).pipe.unet.dtype == torch.bfloat16


def test_fused_attention_steps_aside_for_loras_and_returns_after(tiny_models):
    lora = (Lora(str(tiny_models.lora), 1.0),)
    fused = DiffusersEngine(device="cpu", acceleration=levers("fuse_qkv"))
    plain_engine = DiffusersEngine(device="cpu")
    with_lora = fused.render(frame(tiny_models.pipeline, loras=lora), RenderContext()).image
    assert np.array_equal(np.asarray(with_lora), np.asarray(plain_engine.render(frame(tiny_models.pipeline, loras=lora),
                                                                                 RenderContext()).image))
    unet = loaded(fused, tiny_models.pipeline).pipe.unet
    assert not any("Fused" in type(p).__name__ for p in unet.attn_processors.values())
    without = fused.render(frame(tiny_models.pipeline), RenderContext()).image
    assert all("Fused" in type(p).__name__ for p in unet.attn_processors.values())
    assert psnr(without, plain_engine.render(frame(tiny_models.pipeline), RenderContext()).image) >= 60


def test_draft_frames_are_decoded_by_taesd(tiny_models, plain):
    engine = DiffusersEngine(device="cpu", previews={"sd1": str(tiny_models.taesd)}, acceleration=levers("draft"))
    image = engine.render(frame(tiny_models.pipeline), RenderContext()).image
    pipe = StableDiffusionPipeline.from_pretrained(tiny_models.pipeline, local_files_only=True, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    with torch.inference_mode():
        latents = pipe(PROMPT, negative_prompt=NEGATIVE, num_inference_steps=STEPS, guidance_scale=GUIDANCE, width=64,
                       height=64, generator=torch.Generator("cpu").manual_seed(SEED), output_type="latent").images
        decoded = AutoencoderTiny.from_pretrained(tiny_models.taesd).decode(latents).sample[0]
    expected = ((decoded / 2 + 0.5).clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert image.size == (64, 64) and psnr(image, expected) >= 60
    assert psnr(image, plain()) < 25  # not the VAE's picture
    no_taesd = DiffusersEngine(device="cpu", acceleration=levers("draft"))  # no TAESD: the VAE, as always
    assert np.array_equal(np.asarray(no_taesd.render(frame(tiny_models.pipeline), RenderContext()).image), np.asarray(plain()))


# -- compiling: dynamic shapes, buckets, fallback, caches ------------------------------------------


def _graphs() -> int:
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


def test_regional_compilation_marks_shapes_dynamic_so_new_sizes_do_not_recompile(tiny_models):
    """Dynamo with its eager backend: the tracing and guards torch.compile uses, in seconds."""
    pipe = StableDiffusionPipeline.from_pretrained(tiny_models.pipeline, local_files_only=True, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)

    def run(side: int, images: int = 1) -> None:
        with torch.inference_mode():
            pipe(PROMPT, num_inference_steps=1, guidance_scale=GUIDANCE, width=side, height=side,
                 num_images_per_prompt=images, output_type="latent")

    torch._dynamo.reset()
    assert compiling.compile_model(pipe.unet, "regional", backend="eager") == 6  # the tiny UNet's transformer blocks
    run(64)
    graphs = _graphs()
    run(128)
    run(192, images=2)
    assert _graphs() == graphs  # one graph per block shape, reused for every size and batch
    for module in pipe.unet.modules():  # the control: the same compile without the marks
        if "_previz_compiled" in module.__dict__:
            module._previz_compiled.remove()
    torch._dynamo.reset()
    run(64)
    graphs = _graphs()
    run(128)
    assert _graphs() > graphs
    compiling.uncompile(pipe.unet)
    assert not compiling.is_compiled(pipe.unet) and not any("forward" in m.__dict__ for m in pipe.unet.modules())


def _compiled_engine(tiny_models, backend):
    """A CPU engine whose loaded UNet is compiled with `backend`, as the compile lever would."""
    engine = DiffusersEngine(device="cpu")
    engine.render(frame(tiny_models.pipeline, steps=1), RenderContext())
    model = loaded(engine, tiny_models.pipeline)
    compiling.compile_model(model.pipe.unet, "regional", backend=backend)
    model.levers += ("compile=regional",)
    return engine, model


def test_a_compiled_model_renders_in_size_buckets_and_saves_its_kernels_per_new_shape(tiny_models, monkeypatch, tmp_path):
    torch._dynamo.reset()
    engine, model = _compiled_engine(tiny_models, "eager")
    model.mega_cache = tmp_path / "mega.bin"
    sizes, saved = [], []
    call = engine._call
    monkeypatch.setattr(engine, "_call", lambda loaded, pipe, arguments, requests: (
        sizes.append((arguments["width"], arguments["height"])), call(loaded, pipe, arguments, requests))[1])
    monkeypatch.setattr(compiling, "save_mega_cache", saved.append)
    assert engine.render(frame(tiny_models.pipeline, width=70, height=60), RenderContext()).image.size == (70, 60)
    engine.render(frame(tiny_models.pipeline, width=64, height=64, seed=3), RenderContext())
    engine.render(frame(tiny_models.pipeline, width=100, height=120), RenderContext())
    assert sizes == [(64, 64), (64, 64), (128, 128)]
    assert saved == [tmp_path / "mega.bin"] * 2  # after the first frame of each new shape only
    compiling.uncompile(model.pipe.unet)
    model.levers = ()
    engine.render(frame(tiny_models.pipeline, width=70, height=60), RenderContext())
    assert sizes[-1] == (72, 64)  # uncompiled: the nearest multiple of 8, as before


def test_a_model_that_fails_to_compile_runs_uncompiled(tiny_models, plain, caplog):
    def refuse(graph, example_inputs):
        raise RuntimeError("no C compiler here")

    torch._dynamo.reset()
    engine, model = _compiled_engine(tiny_models, refuse)
    with caplog.at_level(logging.WARNING):
        image = engine.render(frame(tiny_models.pipeline), RenderContext()).image
    assert np.array_equal(np.asarray(image), np.asarray(plain()))
    assert "no C compiler here" in caplog.text and "running it uncompiled" in caplog.text
    assert not model.compiled and not compiling.is_compiled(model.pipe.unet)


def test_the_compile_cache_lever_points_inductor_under_the_cache_dir_and_loads_the_mega_cache(tiny_models, monkeypatch,
                                                                                            tmp_path):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "placeholder")
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR")  # restored after the test, whatever it was
    pipe = StableDiffusionPipeline.from_pretrained(tiny_models.pipeline, local_files_only=True, safety_checker=None,
                                                   requires_safety_checker=False)
    wanted = levers("compile=regional,compile_cache=on")
    mega = compiling.mega_cache_path(tmp_path, pipe.unet, wanted.text(), CPU)
    loads = []
    monkeypatch.setattr(torch.compiler, "load_cache_artifacts", loads.append)
    mega.write_bytes(b"kernels")
    assert accelerate(pipe, Family.sd1, wanted, CPU, tmp_path) == ("compile_cache", "compile=regional")
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "inductor") and loads == [b"kernels"]
    assert compiling.is_compiled(pipe.unet)
    compiling.uncompile(pipe.unet)
    # the key follows what decides the compiled graphs: levers and dtype
    assert compiling.mega_cache_path(tmp_path, pipe.unet, levers("compile=full").text(), CPU) != mega
    assert compiling.mega_cache_path(tmp_path, pipe.unet.to(torch.bfloat16), wanted.text(), CPU) != mega
    assert accelerate(pipe, Family.sd1, default_for(CPU), CPU, tmp_path) == ()


def test_mega_cache_files_are_written_whole_and_bad_ones_cost_only_a_compile(tmp_path, caplog):
    path = tmp_path / "cache" / "mega.bin"
    assert not compiling.save_mega_cache(path, save=lambda: None) and not path.exists()  # nothing compiled yet
    assert compiling.save_mega_cache(path, save=lambda: (b"artifacts", object()))
    assert path.read_bytes() == b"artifacts" and [p.name for p in path.parent.iterdir()] == ["mega.bin"]
    seen = []
    assert compiling.load_mega_cache(path, load=lambda data: seen.append(data) or "info") and seen == [b"artifacts"]
    assert not compiling.load_mega_cache(tmp_path / "missing.bin", load=seen.append)

    def stale(data):
        raise RuntimeError("saved by another torch")

    with caplog.at_level(logging.WARNING):
        assert not compiling.load_mega_cache(path, load=stale)
    assert "saved by another torch" in caplog.text


def test_compiled_kernels_live_in_the_previz_cache_folder():
    home = Path("/home/ann")
    assert compiling.default_cache_dir(home, {}) == home / ".cache" / "previz" / "torch-compile"
    assert compiling.default_cache_dir(home, {"XDG_CACHE_HOME": "/var/cache/ann"}) == Path("/var/cache/ann/previz/torch-compile")
    assert compiling.default_cache_dir(home, {"PREVIZ_HOME": "/srv/previz"}) == Path("/srv/previz/torch-compile")
    assert compiling.bucketed(70, 60) == (64, 64) and compiling.bucketed(1000, 563) == (1024, 576)
    assert compiling.bucketed(8, 8) == (64, 64)


@pytest.mark.skipif(os.environ.get("PREVIZ_SLOW_TESTS") != "1", reason="Inductor on the CPU takes about a minute; PREVIZ_SLOW_TESTS=1")
def test_inductor_compiles_the_tiny_model_and_a_second_process_starts_from_the_cache(tiny_models, plain, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "placeholder")
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR")
    engine = DiffusersEngine(device="cpu", acceleration=levers("compile=regional,compile_cache=on"),
                             compile_cache_dir=tmp_path)
    start = time.perf_counter()
    image = engine.render(frame(tiny_models.pipeline), RenderContext()).image
    first = time.perf_counter() - start
    model = loaded(engine, tiny_models.pipeline)
    assert Path(os.environ["TORCHINDUCTOR_CACHE_DIR"]).is_relative_to(tmp_path)
    assert model.levers == ("compile_cache", "compile=regional") and compiling.is_compiled(model.pipe.unet)
    assert psnr(image, plain()) >= 60
    assert model.mega_cache.is_file()
    script = (
        "import sys, time, torch; from pathlib import Path; from previz_app.engine.base import RenderContext; "
        "from previz_app.engine.diffusion import DiffusersEngine; from previz_app.engine.request import FrameRequest; "
        "from previz_app.engine.diffusion.acceleration import Acceleration, default_for; "
        "levers = Acceleration.parse('compile=regional,compile_cache=on', default_for(torch.device('cpu'))); "
        "e = DiffusersEngine(device='cpu', acceleration=levers, compile_cache_dir=Path(sys.argv[1])); "
        "r = FrameRequest(64, 64, engine='diffusers', model=sys.argv[2], prompt='a storyboard frame', "
        "negative_prompt='blurry', seed=7, steps=4, guidance=5.0); t = time.perf_counter(); e.render(r, RenderContext()); "
        "from torch._dynamo.utils import counters; "
        "print(dict(counters['inductor']).get('fxgraph_cache_hit', 0), dict(counters['inductor']).get('fxgraph_cache_miss', 0), "
        "time.perf_counter() - t)"
    )
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "elsewhere")}  # only the mega-cache can help
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(tiny_models.pipeline)], env=env,
                          capture_output=True, text=True, check=True)
    hits, misses, second = done.stdout.strip().splitlines()[-1].split()
    print(f"first compiled frame {first:.1f} s; a second process with only the mega-cache {float(second):.1f} s")
    assert int(hits) >= 1 and int(misses) == 0  # every graph came from the saved artifacts


def test_a_recompile_limit_hit_also_falls_back_to_eager(tiny_models, plain, caplog, monkeypatch):
    """Dynamo's FailOnRecompileLimitHit is not a RuntimeError; it must not escape raw."""
    torch._dynamo.reset()
    engine, model = _compiled_engine(tiny_models, "eager")
    assert torch._dynamo.config.recompile_limit >= compiling.RECOMPILE_LIMIT
    forward = model.pipe.unet.forward
    hit = []

    def limit_once(*args, **kwargs):
        if not hit:
            hit.append(1)
            raise torch._dynamo.exc.FailOnRecompileLimitHit("recompile_limit reached with fullgraph=True")
        return forward(*args, **kwargs)

    monkeypatch.setattr(model.pipe.unet, "forward", limit_once)
    with caplog.at_level(logging.WARNING):
        image = engine.render(frame(tiny_models.pipeline), RenderContext()).image
    assert np.array_equal(np.asarray(image), np.asarray(plain()))
    assert "running it uncompiled" in caplog.text and not model.compiled


def test_a_batch_out_of_memory_renders_its_frames_one_by_one_without_offloading(tiny_models, monkeypatch):
    engine = DiffusersEngine(device="cpu")
    one = frame(tiny_models.pipeline)
    alone = [engine.render(one.variation(i), RenderContext()).image for i in range(2)]
    generate, calls = engine._generate, []

    def short_of_memory(loaded, requests, context):
        calls.append(len(requests))
        if len(requests) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return generate(loaded, requests, context)

    monkeypatch.setattr(engine, "_generate", short_of_memory)
    monkeypatch.setattr(engine, "_offload", lambda loaded: pytest.fail("a batch too big must not offload the model"))
    results = engine.render_batch([one.variation(i) for i in range(2)], RenderContext())
    assert calls == [2, 1, 1]
    assert all(np.array_equal(np.asarray(r.image), np.asarray(a)) for r, a in zip(results, alone, strict=True))
