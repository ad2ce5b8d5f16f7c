"""Classification against real key names: tiny diffusers models saved by diffusers
itself, and diffusers' own single-file detection run on the original-layout key sets."""

from types import SimpleNamespace

import pytest

from previz_app.engine.discovery.classify import classify
from previz_app.engine.discovery.entry import Family, ModelKind
from previz_app.engine.discovery.header import read_header
from previz_app.engine.discovery.scan import scan

from . import keys
from .keys import LDM, with_prefix

# Importing diffusers takes most of this module's time.
pytestmark = pytest.mark.slow

EXPECTED = {  # folder: (kind, family, control)
    "unet-sd1": (ModelKind.diffusion_model, Family.sd1, ""),
    "unet-sdxl": (ModelKind.diffusion_model, Family.sdxl, ""),
    "unet-refiner": (ModelKind.diffusion_model, Family.sdxl_refiner, ""),
    "control_v11p_sd15_canny": (ModelKind.controlnet, Family.sd1, "canny"),
    "vae": (ModelKind.vae, Family.sd1, ""),
    "sdxl-vae": (ModelKind.vae, Family.sdxl, ""),
    "sd3-vae": (ModelKind.vae, Family.sd3, ""),
    "taesdxl": (ModelKind.taesd, Family.sdxl, ""),
    "sd3-transformer": (ModelKind.diffusion_model, Family.sd3, ""),
    "flux-transformer": (ModelKind.diffusion_model, Family.flux, ""),
    "flux-controlnet-depth": (ModelKind.controlnet, Family.flux, "depth"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_header_of_a_saved_diffusers_model(diffusers_folders, name):
    header = read_header(diffusers_folders[name] / "diffusion_pytorch_model.safetensors")
    assert classify(header, name) == EXPECTED[name]


def test_diffusers_model_folders_are_one_entry_each_classified_from_their_config(diffusers_folders):
    root = next(iter(diffusers_folders.values())).parent
    found = {entry.name: entry for entry in scan([root])}
    for name, expected in EXPECTED.items():
        entry = found[name]
        assert (entry.kind, entry.family, entry.control) == expected, name
        assert (entry.source, entry.path, entry.error) == ("diffusers", str(diffusers_folders[name]), "")
        assert entry.size > 0
    assert (found["pytorch_lora_weights"].kind, found["pytorch_lora_weights"].family) == (ModelKind.lora, Family.sd1)
    assert len(found) == len(EXPECTED) + 1


def test_a_peft_lora_saved_like_diffusers_training_scripts(diffusers_folders):
    header = read_header(diffusers_folders["lora"] / "pytorch_lora_weights.safetensors")
    assert any(".lora_A." in key for key in header.tensors)
    assert classify(header, "pytorch_lora_weights.safetensors") == (ModelKind.lora, Family.sd1, "")


@pytest.mark.parametrize(
    ("shapes", "diffusers_type", "family"),
    [
        (keys.SD1_CHECKPOINT, "v1", Family.sd1),
        (keys.SD2_CHECKPOINT, "v2", Family.sd2),
        (keys.SDXL_CHECKPOINT, "xl_base", Family.sdxl),
        (keys.SDXL_REFINER_CHECKPOINT, "xl_refiner", Family.sdxl_refiner),
        (keys.SD3_CHECKPOINT, "sd3", Family.sd3),
        (with_prefix(LDM, keys.FLUX_TRANSFORMER), "flux-dev", Family.flux),
        (keys.CONTROLNET_SD1, "controlnet", Family.sd1),
    ],
    ids=["sd1", "sd2", "sdxl", "refiner", "sd3", "flux", "controlnet"],
)
def test_diffusers_reads_the_original_layouts_as_the_same_models(shapes, diffusers_type, family):
    from diffusers.loaders.single_file_utils import infer_diffusers_model_type

    checkpoint = {key: SimpleNamespace(shape=shape) for key, shape in shapes.items()}
    assert infer_diffusers_model_type(checkpoint) == diffusers_type
    assert classify_shapes(shapes).family is family


def classify_shapes(shapes):
    from previz_app.engine.discovery.header import Header

    return classify(Header(tensors=shapes), "model.safetensors")
