"""timm reference models for :func:`idfy.analysis.compare`, counted exactly like idfy designs.

Each baseline is built untrained (``pretrained=False``, no download) with the compared design's number of
outputs and input channels, on the ``meta`` device, and traced once at batch 1 with
:func:`idfy.analysis.tracing.trace_model` (same MAC / FLOP conventions). Results are cached per
(model, outputs, channels, size).
"""

from __future__ import annotations

import functools

import timm
import torch

from idfy.analysis.memory import model_memory
from idfy.analysis.tracing import trace_model

__all__ = ["BASELINES", "baseline_row", "baseline_rows"]

#: timm model names used as references.
BASELINES = ("resnet18", "mobilenetv3_small_100", "ghostnet_100")


@functools.lru_cache(maxsize=64)
def baseline_row(
    name: str, num_classes: int, in_chans: int, size: tuple[int, int], batch_size: int = 32
) -> dict:
    """Params, MACs, FLOPs (batch 1) and training memory (at ``batch_size``, same estimate as
    ``Report.memory``) of timm model ``name`` for inputs (in_chans, *size).

    Returns a comparison row (``kind == "baseline"``); treat it as read-only (it is cached).
    """
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_chans).eval()
    trace = trace_model(model, torch.empty(1, in_chans, *size, device="meta"))
    params = sum(p.numel() for p in model.parameters())
    memory = model_memory(model, trace.modules[""].act_bytes, batch_size)
    return {
        "name": name,
        "kind": "baseline",
        "fingerprint": None,
        "input_shape": [in_chans, *size],
        "output_shape": list(trace.output_shape),
        "params": params,
        "macs": trace.macs,
        "flops": trace.flops,
        "stage_out_shapes": [],
        "memory": memory,
        "memory_total": memory["total"],
    }


def baseline_rows(
    *, num_classes: int, in_chans: int, size: tuple[int, int], batch_size: int = 32
) -> list[dict]:
    """One fresh row (a copy of the cached one) per model in :data:`BASELINES`."""
    return [
        dict(baseline_row(n, num_classes, in_chans, (int(size[0]), int(size[1])), batch_size))
        for n in BASELINES
    ]
