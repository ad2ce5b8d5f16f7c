"""Variations in one pipeline call: which requests may share it, and their generators.

Requests that differ only in seed run as one call with `num_images_per_prompt` and one
CPU generator per image, seeded as `render` seeds its single generator. diffusers draws
each image's initial noise (and any per-step noise) from its own generator, so image i
is the image `render` makes alone for seed i, up to float rounding in batched kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import torch

from ..request import FrameRequest


def check_batch(requests: Sequence[FrameRequest]) -> None:
    """ValueError unless `requests` is non-empty and its requests differ only in seed."""
    if not requests:
        raise ValueError("a batch needs at least one request")
    first = requests[0]
    for index, other in enumerate(requests[1:], start=2):
        differing = [f.name for f in fields(FrameRequest) if f.name != "seed" and getattr(first, f.name) != getattr(other, f.name)]
        if differing:
            raise ValueError(
                f"requests in one batch may differ only in seed; request {index} differs in {', '.join(differing)}"
            )


def generators(requests: Sequence[FrameRequest]) -> torch.Generator | list[torch.Generator]:
    """One seeded CPU generator per request; a single one for a single request, as
    `render` has always passed it, so lone frames keep their pixels."""
    made = [torch.Generator("cpu").manual_seed(request.seed) for request in requests]
    return made[0] if len(made) == 1 else made
