"""Where models come from: folders, single files, pickles, the hub; and what breaks."""

import numpy as np
import pytest
import torch

from previz_app.engine.base import EngineError, RenderContext
from previz_app.engine.diffusion import DiffusersEngine
from previz_app.engine.request import FrameRequest


def frame(model, **changes) -> FrameRequest:
    fields = dict(width=64, height=64, engine="diffusers", model=str(model), prompt="a storyboard frame", seed=3, steps=2)
    fields.update(changes)
    return FrameRequest(**fields)


def render(engine, request):
    return np.asarray(engine.render(request, RenderContext()).image)


def test_single_file_checkpoint_renders_what_its_folder_renders(tiny_models):
    engine = DiffusersEngine(device="cpu", configs={"sd1": str(tiny_models.pipeline)})
    assert np.array_equal(render(engine, frame(tiny_models.checkpoint)), render(engine, frame(tiny_models.pipeline)))


def test_single_file_without_configs_offline_says_what_it_needs(tiny_models):
    with pytest.raises(EngineError, match="configs and tokenizer"):
        render(DiffusersEngine(device="cpu"), frame(tiny_models.checkpoint))


def test_pickled_checkpoint_is_refused_without_consent(tiny_models):
    with pytest.raises(EngineError, match="pickled checkpoint.*allow pickled"):
        render(DiffusersEngine(device="cpu"), frame(tiny_models.pickle_checkpoint))


def test_pickled_checkpoint_loads_with_consent(tiny_models):
    engine = DiffusersEngine(device="cpu", allow_pickle=True, configs={"sd1": str(tiny_models.pipeline)})
    assert np.array_equal(render(engine, frame(tiny_models.pickle_checkpoint)), render(engine, frame(tiny_models.pipeline)))


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_consent_still_reads_weights_only_so_a_hostile_pickle_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.ckpt"
    torch.save({"state_dict": {"x": Exploit(marker)}}, hostile)
    with pytest.raises(EngineError, match="could not be read as plain weights"):
        render(DiffusersEngine(device="cpu", allow_pickle=True), frame(hostile))
    assert not marker.exists()


def pickled_vae_copy(pipeline, folder):
    """A copy of the pipeline folder whose VAE weights exist only as a pickle."""
    import shutil

    from safetensors.torch import load_file

    shutil.copytree(pipeline, folder)
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(weights), folder / "vae" / "diffusion_pytorch_model.bin")
    weights.unlink()
    return folder


def test_folder_with_only_pickled_weights_needs_consent(tiny_models, tmp_path):
    folder = pickled_vae_copy(tiny_models.pipeline, tmp_path / "pickled")
    with pytest.raises(EngineError, match="stores vae as pickled weights"):
        render(DiffusersEngine(device="cpu"), frame(folder))
    assert render(DiffusersEngine(device="cpu", allow_pickle=True), frame(folder)).shape == (64, 64, 3)


def test_truncated_checkpoint_is_a_clear_error(tiny_models, tmp_path):
    cut = tmp_path / "cut.safetensors"
    data = tiny_models.checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(EngineError, match="truncated"):
        render(DiffusersEngine(device="cpu"), frame(cut))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("/no/such/folder", "model not found"),
        ("someone/some-model", "not in the Hugging Face cache.*allow network"),
        ("", "needs a model"),
    ],
)
def test_missing_models_are_explained(model, message):
    with pytest.raises(EngineError, match=message):
        render(DiffusersEngine(device="cpu"), frame(model))


def test_a_folder_that_is_not_a_pipeline_is_explained(tiny_models):
    with pytest.raises(EngineError, match="not a diffusers pipeline"):
        render(DiffusersEngine(device="cpu"), frame(tiny_models.controlnet))


def test_least_recently_used_model_is_evicted(tiny_models):
    engine = DiffusersEngine(device="cpu", cache_size=1, configs={"sd1": str(tiny_models.pipeline)})
    render(engine, frame(tiny_models.pipeline))
    render(engine, frame(tiny_models.checkpoint))
    assert engine.loaded_models == [str(tiny_models.checkpoint)]


def test_out_of_memory_retries_once_with_offload_then_explains(tiny_models, monkeypatch):
    """The first attempt runs out of memory; the retry really runs with model CPU
    offload (accelerate hooks; on this CPU-only machine the "GPU" is the CPU too)."""
    engine = DiffusersEngine(device="cpu")
    reference = render(engine, frame(tiny_models.pipeline))
    engine.unload()
    attempts = []
    real = engine._generate

    def generate(loaded, request, context):
        attempts.append(loaded.offloaded)
        if len(attempts) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real(loaded, request, context)

    monkeypatch.setattr(engine, "_generate", generate)
    assert np.array_equal(render(engine, frame(tiny_models.pipeline)), reference)
    assert attempts == [False, True]

    monkeypatch.setattr(engine, "_generate", lambda *a: (_ for _ in ()).throw(torch.OutOfMemoryError("again")))
    with pytest.raises(EngineError, match="out of GPU memory at 64x64 even with offloading"):
        render(engine, frame(tiny_models.pipeline))


def test_an_inpainting_checkpoint_is_named_not_misloaded(tiny_models, tmp_path):
    from safetensors.torch import load_file, save_file

    state = load_file(tiny_models.checkpoint)
    key = "model.diffusion_model.input_blocks.0.0.weight"
    state[key] = torch.zeros(state[key].shape[0], 9, 3, 3)
    save_file(state, tmp_path / "inpainting.safetensors")
    with pytest.raises(EngineError, match="inpainting checkpoint"):
        render(DiffusersEngine(device="cpu"), frame(tmp_path / "inpainting.safetensors"))


def test_named_schedulers_are_refused_for_flow_matching_models():
    from diffusers import FlowMatchEulerDiscreteScheduler

    from previz_app.engine.diffusion.engine import _scheduler
    from previz_app.engine.discovery.entry import Family

    with pytest.raises(EngineError, match="flux models use their own flow-matching scheduler"):
        _scheduler(FlowMatchEulerDiscreteScheduler(), "euler", Family.flux)


def test_unavailable_device_is_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(EngineError, match="sees no CUDA GPU"):
        DiffusersEngine(device="cuda")
    with pytest.raises(EngineError, match="unknown device"):
        DiffusersEngine(device="warp-drive")


def test_a_single_file_borrowing_from_a_pickled_folder_needs_consent(tiny_models, tmp_path):
    config = pickled_vae_copy(tiny_models.pipeline, tmp_path / "config-pickled")
    engine = DiffusersEngine(device="cpu", configs={"sd1": str(config)})
    with pytest.raises(EngineError, match="borrows from config-pickled, whose vae are pickled weights"):
        render(engine, frame(tiny_models.checkpoint))


def test_an_sft_file_is_asked_to_be_renamed(tiny_models, tmp_path):
    renamed = tmp_path / "model.sft"
    renamed.write_bytes(tiny_models.checkpoint.read_bytes())
    with pytest.raises(EngineError, match="rename it to .safetensors"):
        render(DiffusersEngine(device="cpu"), frame(renamed))
