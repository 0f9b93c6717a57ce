"""Resource guard: refuse a design whose memory would hurt the server *before* any real module is built.

Two ways to check, both against one cap (the smaller of 4 GiB and a quarter of the machine's RAM, or
``IDFY_APP_MEMORY_CAP_MB`` when set):

* :func:`check_report` uses an :func:`idfy.analysis.analyze` report. Analysis itself runs on PyTorch's
  ``meta`` device (large models are even *built* there), so it is safe for any valid config and the Design tab
  checks its report before showing it or timing the model.
* :func:`check_memory` needs no report: parameters are counted exactly by building the model on the ``meta``
  device (no storage is allocated) and activations are estimated from the stage plan (:func:`idfy.plan.model_plan`);
  for callers that are about to build a real model (latency, training).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from idfy.config import ConfigError, ModelConfig
from idfy.substreams import dense_kind

__all__ = [
    "MemoryEstimate",
    "check_memory",
    "check_numbers",
    "check_report",
    "estimate_memory",
    "memory_cap_bytes",
]

_GIB = 2**30
#: fp32 tensors kept per block and image (conv outputs, norms, activations, the sum) — a rough upper bound.
_TENSORS_PER_BLOCK = 8


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a design needs on the server: ``train`` = weights, gradients, two Adam moments + activations."""

    params: int
    weight_bytes: int
    activation_bytes_per_image: int

    def train_bytes(self, batch_size: int = 1) -> int:
        return 4 * self.weight_bytes + batch_size * self.activation_bytes_per_image


def memory_cap_bytes() -> int:
    """The largest estimated memory a design may need (bytes)."""
    env = os.environ.get("IDFY_APP_MEMORY_CAP_MB")
    if env:
        return int(float(env) * 2**20)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 16 * _GIB
    return min(4 * _GIB, ram // 4)


@functools.lru_cache(maxsize=256)
def estimate_memory(cfg: ModelConfig) -> MemoryEstimate:
    """Exact parameter count (meta-device build) and an activation estimate for one image (a dense sub-stream
    kind adds what it keeps beyond its layers' outputs, e.g. a non-local attention matrix)."""
    import torch

    from idfy.model import build_model

    with torch.device("meta"):
        params = sum(p.numel() for p in build_model(cfg).parameters())
    plan = cfg.plan()
    c, h, w = plan.input_shape
    floats = 3 * c * h * w  # the image, its scaled copy and the resized copies for injection
    if plan.stem_shape is not None:
        sc, sh, sw = plan.stem_shape
        floats += 4 * sc * sh * sw
    for st, sp in zip(cfg.stages, plan.stages):
        sc, sh, sw = sp.out_shape
        per_map = max(sc, st.width) * sh * sw
        floats += per_map * (_TENSORS_PER_BLOCK * st.depth + (6 if st.has_substreams else 2))
        if st.dense.kind != "none" and (extra := dense_kind(st.dense.kind).act_floats) is not None:
            floats += extra((st.width, sh, sw), st.dense.reduction, st.dense_width())
    return MemoryEstimate(params=params, weight_bytes=4 * params, activation_bytes_per_image=4 * floats)


def _refuse(need: int, cap: int, params: int, act_per_image: int, batch_size: int) -> None:
    if need > cap:
        raise ConfigError(
            f"this design needs about {need / _GIB:.1f} GiB ({params / 1e6:,.1f} M parameters, "
            f"{act_per_image / _GIB:.2f} GiB of activations per image at batch {batch_size}); "
            f"the explorer refuses designs above {cap / _GIB:.1f} GiB. Use narrower or fewer blocks, "
            "a smaller input.size or more stride-2 stages."
        )


def check_report(report: Any, batch_size: int = 1) -> None:
    """Raise :class:`ConfigError` when training the analysed design at ``batch_size`` would need more than the
    cap: weights, gradients and optimizer state from ``report.memory`` plus its activations per image."""
    check_numbers(report.memory, report.batch_size, report.params_total, batch_size)


def check_numbers(memory: dict[str, int], report_batch: int, params: int, batch_size: int = 1) -> None:
    """:func:`check_report` from the numbers alone (``memory`` as in ``Report.memory`` at ``report_batch``)."""
    per_image = memory["activations"] // max(1, report_batch)
    need = memory["weights"] + memory["grads"] + memory["optimizer"] + batch_size * per_image
    _refuse(need, memory_cap_bytes(), params, per_image, batch_size)


def check_memory(cfg: ModelConfig, batch_size: int = 1) -> MemoryEstimate:
    """Raise :class:`ConfigError` when training ``cfg`` at ``batch_size`` would need more than the cap."""
    est = estimate_memory(cfg)
    _refuse(
        est.train_bytes(batch_size),
        memory_cap_bytes(),
        est.params,
        est.activation_bytes_per_image,
        batch_size,
    )
    return est
