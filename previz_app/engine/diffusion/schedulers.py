"""Schedulers a recipe may name, and a fresh one for every render."""

from __future__ import annotations

from ..base import EngineError
from ..discovery.entry import Family

# Scheduler names a recipe may carry, as A1111 users know them.
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
}
FLOW_FAMILIES = (Family.sd3, Family.flux)


def fresh_scheduler(current, name: str, family: Family):
    """A fresh scheduler for one render: the model's own, or the one the recipe names, so
    no state leaks between frames. Raises EngineError for a name it does not know."""
    if not name:
        return type(current).from_config(current.config)
    if family in FLOW_FAMILIES:
        raise EngineError(f"{family.value} models use their own flow-matching scheduler; leave the scheduler unset")
    if name not in SCHEDULERS:
        raise EngineError(f"unknown scheduler {name!r}; expected one of: {', '.join(SCHEDULERS)}")
    import diffusers

    class_name, extra = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(current.config, **extra)
