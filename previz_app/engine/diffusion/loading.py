"""Finding and loading the models a user has: folders, single files, the HF cache.

Offline unless the user allows the network: every diffusers call gets
`local_files_only`. Only safetensors are read without asking: any other weights file
(.ckpt/.pt/.pth/.bin, whatever its name) is refused unless the user allows pickles, and
is then read with `torch.load(weights_only=True)` (ours and diffusers').
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ..base import EngineError
from ..discovery.classify import classify
from ..discovery.diffusers_folder import model_folder_entry, pipeline_entry
from ..discovery.entry import Family, ModelFileError, ModelKind
from ..discovery.header import Header, read_header
from ..discovery.scan import PICKLE_SUFFIXES, SAFETENSORS_SUFFIXES
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")

# The pipeline class for each family; single-file checkpoints need to be told.
PIPELINES = {
    Family.sd1: "StableDiffusionPipeline",
    Family.sd2: "StableDiffusionPipeline",
    Family.sdxl: "StableDiffusionXLPipeline",
    Family.sdxl_refiner: "StableDiffusionXLImg2ImgPipeline",
    Family.sd3: "StableDiffusion3Pipeline",
    Family.flux: "FluxPipeline",
}
FAMILY_OF_PIPELINE = {
    "StableDiffusionPipeline": Family.sd1,
    "StableDiffusionXLPipeline": Family.sdxl,
    "StableDiffusionXLImg2ImgPipeline": Family.sdxl_refiner,
    "StableDiffusion3Pipeline": Family.sd3,
    "FluxPipeline": Family.flux,
}


@dataclass(frozen=True)
class ModelSource:
    """Where a model lives. `kind`: folder (diffusers layout), single_file or hub."""

    kind: str
    location: str
    family: Family
    pickled: bool = False


def _pickled_folder(folder: Path) -> list[str]:
    """Components of a diffusers folder whose weights exist only in pickled form."""
    pickled = []
    for part in sorted(p for p in folder.iterdir() if p.is_dir()) + [folder]:
        names = [f.name for f in part.iterdir() if f.is_file()]
        if any(n.endswith(".safetensors") for n in names):
            continue
        if any(n.endswith(tuple(PICKLE_SUFFIXES)) for n in names):
            pickled.append(part.name)
    return pickled


def _folder_family(folder: Path) -> Family:
    """A pipeline folder's family from its JSON; an incomplete download is an error."""
    entry = pipeline_entry(folder, "folder", folder.name)
    if entry.error:
        raise EngineError(entry.error)
    return entry.family


def _checkpoint_family(header: Header, name: str) -> Family:
    """The family of a whole-model checkpoint, or a clear refusal."""
    kind, family, _control = classify(header, name)
    if kind is not ModelKind.checkpoint:
        raise EngineError(f"{name} is a {kind.value.replace('_', ' ')}, not a whole model; choose a checkpoint or a diffusers folder")
    if family not in PIPELINES:
        raise EngineError(f"{name}: previz cannot tell which model family this checkpoint is")
    conv_in = header.tensors.get("model.diffusion_model.input_blocks.0.0.weight", ())
    if len(conv_in) == 4 and conv_in[1] != 4:
        raise EngineError(f"{name} is an inpainting checkpoint ({conv_in[1]}-channel input); previz cannot load those yet")
    return family


def _file_family(path: Path) -> Family:
    try:
        header = read_header(path)
    except ModelFileError as exc:
        raise EngineError(str(exc)) from exc
    return _checkpoint_family(header, path.name)


def needs_consent(path: Path, allow_pickle: bool, what: str) -> None:
    """Refuse any weights file that is not safetensors unless pickles are allowed."""
    _named_for_diffusers(path)
    if path.suffix.lower() not in SAFETENSORS_SUFFIXES and not allow_pickle:
        raise EngineError(
            f"{path.name} is not a safetensors file; {what} stored any other way is a pickle, which can run "
            "code when loaded. Allow pickled models to load it (read with weights_only=True)"
        )


def _named_for_diffusers(path: Path) -> None:
    if path.suffix.lower() == ".sft":  # diffusers reads safetensors by the .safetensors name only
        raise EngineError(f"{path.name} is a safetensors file under the .sft name; rename it to .safetensors to use it")


def resolve_model(model: str, *, allow_network: bool, allow_pickle: bool) -> ModelSource:
    """Where `model` (a folder, a file or a Hugging Face id) lives, checked for consent.

    Raises EngineError with a message for the user when the model is missing, broken,
    pickled without consent or needs the network without consent.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise EngineError(f"{path} is a folder but not a diffusers pipeline (no model_index.json)")
        pickled = _pickled_folder(path)
        if pickled and not allow_pickle:
            raise EngineError(
                f"{path.name} stores {', '.join(pickled)} as pickled weights, which can run code when loaded; "
                "allow pickled models to load them (read with weights_only=True)"
            )
        return ModelSource("folder", str(path), _folder_family(path), bool(pickled))
    if path.is_file():
        suffix = path.suffix.lower()
        _named_for_diffusers(path)
        if suffix in SAFETENSORS_SUFFIXES:
            return ModelSource("single_file", str(path), _file_family(path))
        if suffix not in PICKLE_SUFFIXES:
            raise EngineError(f"{path.name} is not a model file previz can read (.safetensors, or a diffusers folder)")
        if not allow_pickle:
            raise EngineError(
                f"{path.name} is a pickled checkpoint, which can run code when loaded; allow pickled "
                "models to load it (read with weights_only=True), or use a .safetensors file"
            )
        return ModelSource("single_file", str(path), _pickle_family(path), pickled=True)
    if HUB_ID.match(model) and not model.startswith((".", "/")):
        return _hub_source(model, allow_network)
    raise EngineError(f"model not found: {model}")


def _pickle_family(path: Path) -> Family:
    """A pickled checkpoint's family, read (with consent) the safe way."""
    try:
        state = torch.load(path, map_location="meta", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for bad pickles
        raise EngineError(f"{path.name} could not be read as plain weights: {exc}") from exc
    state = state.get("state_dict", state) if isinstance(state, dict) else {}
    header = Header(tensors={k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}, metadata={})
    return _checkpoint_family(header, path.name)


def _hub_source(repo_id: str, allow_network: bool) -> ModelSource:
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, "model_index.json")
    if isinstance(cached, str):
        return ModelSource("hub", repo_id, _folder_family(Path(cached).parent))
    if not allow_network:
        raise EngineError(
            f"{repo_id} is not in the Hugging Face cache on this machine; allow network access to download it"
        )
    from huggingface_hub import hf_hub_download

    try:  # the family decides the dtype, so read it before the weights come down
        index = json.loads(Path(hf_hub_download(repo_id, "model_index.json")).read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - network, HTTP and JSON errors alike
        raise EngineError(f"could not read {repo_id} from the Hugging Face Hub: {exc}") from exc
    return ModelSource("hub", repo_id, FAMILY_OF_PIPELINE.get(str(index.get("_class_name", "")), Family.unknown))


# The reference repos whose configs and tokenizers a family's single files borrow.
REFERENCE_REPOS = {
    Family.sd1: ("stable-diffusion-v1-5/stable-diffusion-v1-5", "runwayml/stable-diffusion-v1-5"),
    Family.sd2: ("stabilityai/stable-diffusion-2-1",),
    Family.sdxl: ("stabilityai/stable-diffusion-xl-base-1.0",),
    Family.sdxl_refiner: ("stabilityai/stable-diffusion-xl-refiner-1.0",),
    Family.sd3: ("stabilityai/stable-diffusion-3-medium-diffusers",),
    Family.flux: ("black-forest-labs/FLUX.1-dev", "black-forest-labs/FLUX.1-schnell"),
}


def single_file_config(family: Family, configured: str | None, *, allow_network: bool) -> str:
    """The diffusers folder (or, with network consent, hub id) a single-file checkpoint
    takes its configs and tokenizer from: the user's choice, else the family's
    reference repo from the Hugging Face cache. Never left to diffusers, which goes to
    the network on its own when the cache lacks it."""
    from huggingface_hub import try_to_load_from_cache

    for candidate in ([configured] if configured else []) + list(REFERENCE_REPOS.get(family, ())):
        if Path(candidate).expanduser().is_dir():
            return str(Path(candidate).expanduser())
        cached = try_to_load_from_cache(candidate, "model_index.json") if HUB_ID.match(candidate) else None
        if isinstance(cached, str):
            return str(Path(cached).parent)
    if allow_network:
        return configured or REFERENCE_REPOS[family][0]
    raise EngineError(
        f"a single-file {family.value} checkpoint needs its family's configs and tokenizer, and neither "
        f"{configured or ' nor '.join(REFERENCE_REPOS.get(family, ('a reference model',)))} is on this machine; "
        "add a diffusers folder of the same family, or allow network access once"
    )


def load_pipeline(
    source: ModelSource, *, dtype: torch.dtype, allow_network: bool, allow_pickle: bool = False, config: str | None = None
):
    """The text-to-image pipeline for `source`, on the CPU, in `dtype`.

    `config` is a diffusers folder (or hub id) whose configs and tokenizer a single-file
    checkpoint borrows (see `single_file_config`).
    """
    import diffusers

    local = not allow_network
    try:
        if source.kind == "single_file":
            cls = getattr(diffusers, PIPELINES[source.family])
            config = single_file_config(source.family, config, allow_network=allow_network)
            # Components the file lacks come from the config folder, by diffusers' own rules.
            pickled = _pickled_folder(Path(config)) if Path(config).is_dir() else []
            if pickled and not allow_pickle:
                raise EngineError(
                    f"{Path(source.location).name} borrows from {Path(config).name}, whose {', '.join(pickled)} "
                    "are pickled weights; allow pickled models to use it"
                )
            return cls.from_single_file(source.location, config=config, torch_dtype=dtype, local_files_only=local)
        # Safetensors wherever a component has them; pickles only where consented to.
        return diffusers.DiffusionPipeline.from_pretrained(
            source.location, torch_dtype=dtype, local_files_only=local, use_safetensors=None if source.pickled else True
        )
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - diffusers raises OSError, ValueError, KeyError, ...
        raise EngineError(f"could not load {Path(source.location).name}: {exc}") from exc


CONTROLNETS = {Family.sd3: "SD3ControlNetModel", Family.flux: "FluxControlNetModel"}  # else ControlNetModel


def load_controlnet(
    model: str, family: Family, *, dtype: torch.dtype, allow_network: bool, allow_pickle: bool, config: str | None = None
):
    """A ControlNet for a `family` base model, from a diffusers folder, a single file or a
    hub id. Single files borrow their config from `config` (a diffusers ControlNet folder
    of the family) or, offline, from the family's default repo in the HF cache."""
    import diffusers

    path = Path(model).expanduser()
    local = not allow_network
    if not path.exists() and not (HUB_ID.match(model) and allow_network):
        raise EngineError(f"ControlNet not found: {model}")
    own = weights_family(path)
    if own is not Family.unknown and family is not Family.unknown and own is not family:
        raise EngineError(f"ControlNet {path.name} is for {own.value}; this model is {family.value}")
    cls = getattr(diffusers, CONTROLNETS.get(family, "ControlNetModel"))
    if path.is_file() and family in CONTROLNETS:
        raise EngineError(f"{family.value} ControlNets load from a diffusers folder only; {path.name} is a single file")
    try:
        if path.is_file():
            needs_consent(path, allow_pickle, "a ControlNet")
            kwargs = {"config": config} if config else {}
            return cls.from_single_file(str(path), torch_dtype=dtype, local_files_only=local, **kwargs)
        return cls.from_pretrained(model, torch_dtype=dtype, local_files_only=local, use_safetensors=None if allow_pickle else True)
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - diffusers raises OSError, ValueError, KeyError, ...
        hint = ""
        if path.is_file() and not config and local:
            hint = "; a single-file ControlNet needs a diffusers ControlNet folder of its family for its config (previz models scan finds one), or network access once"
        raise EngineError(f"could not load ControlNet {path.name}: {exc}{hint}") from exc


def weights_family(path: Path) -> Family:
    """The base family a ControlNet or LoRA (file or diffusers folder) was made for,
    from its header or config; unknown when it cannot be told."""
    try:
        if path.is_dir():
            return model_folder_entry(path, "folder", path.name).family
        if path.suffix.lower() in SAFETENSORS_SUFFIXES:
            return classify(read_header(path), path.name).family
    except ModelFileError as exc:
        raise EngineError(str(exc)) from exc
    return Family.unknown


def load_taesd(path: str, *, dtype: torch.dtype, allow_pickle: bool = False):
    """A tiny preview decoder: a diffusers AutoencoderTiny folder, or an original
    4-channel `taesd_decoder.safetensors` (numbered layers, 0 being the input clamp)."""
    import diffusers
    from safetensors.torch import load_file

    location = Path(path)
    if location.is_dir():
        return diffusers.AutoencoderTiny.from_pretrained(
            location, torch_dtype=dtype, local_files_only=True, use_safetensors=None if allow_pickle else True
        )
    needs_consent(location, allow_pickle, "a preview decoder")
    state = load_file(location)
    if all(key.startswith("decoder.layers.") for key in state):  # already in diffusers' naming
        state = {f"{int(k.split('.')[2]) + 1}.{k.split('.', 3)[3]}": v for k, v in state.items()}
    first = state.get("1.weight")
    if first is None or first.ndim != 4 or first.shape[1] != 4:
        raise EngineError(f"{location.name} is not a 4-channel TAESD decoder")
    # diffusers has no module for the clamp, so its layer i is the original's i + 1.
    try:
        renamed = {f"decoder.layers.{int(key.partition('.')[0]) - 1}.{key.partition('.')[2]}": v for key, v in state.items()}
    except ValueError as exc:
        raise EngineError(f"{location.name} is not a TAESD decoder") from exc
    model = diffusers.AutoencoderTiny()
    loaded = model.load_state_dict(renamed, strict=False)
    missing = [key for key in loaded.missing_keys if key.startswith("decoder.")]
    if loaded.unexpected_keys or missing:
        raise EngineError(f"{location.name} is not a TAESD decoder")
    return model.to(dtype)


def family_of(pipe) -> Family:
    """A loaded pipeline's family, from its class (SD2 told from SD1 by its text width)."""
    family = FAMILY_OF_PIPELINE.get(type(pipe).__name__, Family.unknown)
    unet = getattr(pipe, "unet", None)
    if family is Family.sd1 and unet is not None and unet.config.cross_attention_dim == 1024:
        return Family.sd2
    return family
