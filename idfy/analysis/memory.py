"""idfy's one memory model: what training a design needs (fp32 weights, gradients, AdamW's two moments,
activations) and the guard that refuses a design above a cap *before* any real module is built.

:func:`training_memory` is the formula; every number of memory goes through it:

* :class:`~idfy.analysis.report.Report` ``.memory`` (activations traced on the ``meta`` device: the bytes of
  every leaf module's output, :mod:`idfy.analysis.tracing`) and the timm baselines of ``compare``;
* :func:`estimate_memory`, for callers about to build a real model (latency, training, prediction) without
  a report: parameters counted exactly by a ``meta``-device build, activations estimated from the stage plan
  (:func:`idfy.plan.model_plan`) plus what a dense sub-stream kind keeps beyond its layers' outputs
  (``DenseKind.act_floats``, e.g. a non-local attention matrix and its gradient).

The guard (:func:`check_report`, :func:`check_numbers`, :func:`check_memory`) compares the total at a batch
size with one cap: the smaller of 4 GiB and a quarter of the machine's RAM, or ``IDFY_APP_MEMORY_CAP_MB``.
Framework workspace and allocator overhead are not counted. Source: seed items S10–S12 (the explorer shows
what a design costs and refuses what would hurt the server).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from idfy.config import ConfigError, ModelConfig
from idfy.model import build_model
from idfy.substreams import dense_kind

__all__ = [
    "MemoryEstimate",
    "check_memory",
    "check_numbers",
    "check_report",
    "estimate_memory",
    "memory_cap_bytes",
    "model_memory",
    "training_memory",
]

_GIB = 2**30
_FP32 = 4
#: fp32 tensors kept per block and image (conv outputs, norms, activations, the sum) — a rough upper bound.
_TENSORS_PER_BLOCK = 8


def training_memory(
    params: int, trainable: int, buffer_bytes: int, act_bytes_per_image: int, batch_size: int
) -> dict[str, int]:
    """Bytes to train a model in fp32 with AdamW at ``batch_size``: an upper bound for the engine's default
    Muon + AdamW, which keeps one momentum buffer (not two moments) for the hidden weights.

    Returns:
        ``weights`` (parameters + buffers), ``grads`` (trainable parameters), ``optimizer`` (two moments per
        trainable parameter), ``activations`` (``act_bytes_per_image × batch_size``) and ``total``.
    """
    grads = trainable * _FP32
    memory = {
        "weights": params * _FP32 + buffer_bytes,
        "grads": grads,
        "optimizer": 2 * grads,
        "activations": act_bytes_per_image * batch_size,
    }
    memory["total"] = sum(memory.values())
    return memory


def model_memory(model: nn.Module, act_bytes_per_image: int, batch_size: int) -> dict[str, int]:
    """:func:`training_memory` of a built model (on any device, ``meta`` included)."""
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    return training_memory(params, trainable, buffers, act_bytes_per_image, batch_size)


@dataclass(frozen=True)
class MemoryEstimate:
    """A design's memory before it is built: exact ``params`` (all trainable), ``weight_bytes`` (fp32) and
    the plan's ``activation_bytes_per_image``."""

    params: int
    weight_bytes: int
    activation_bytes_per_image: int

    def train_bytes(self, batch_size: int = 1) -> int:
        """:func:`training_memory`'s total at ``batch_size`` (bytes)."""
        return training_memory(self.params, self.params, 0, self.activation_bytes_per_image, batch_size)[
            "total"
        ]


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


def _plan_activation_floats(cfg: ModelConfig) -> int:
    """fp32 values kept per image for backward, from the stage plan (a rough upper bound)."""
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
    return floats


@functools.lru_cache(maxsize=256)
def estimate_memory(cfg: ModelConfig) -> MemoryEstimate:
    """Exact parameter count (``meta``-device build, no storage) and the plan's activation estimate for one
    image (a dense sub-stream kind adds what it keeps beyond its layers' outputs). Cached per config."""
    with torch.device("meta"):
        params = sum(p.numel() for p in build_model(cfg).parameters())
    return MemoryEstimate(
        params=params,
        weight_bytes=_FP32 * params,
        activation_bytes_per_image=_FP32 * _plan_activation_floats(cfg),
    )


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
    """:func:`check_report` from the numbers alone (``memory`` as in ``Report.memory`` at ``report_batch``).

    Raises:
        ConfigError: the total at ``batch_size`` is over :func:`memory_cap_bytes`.
    """
    per_image = memory["activations"] // max(1, report_batch)
    need = memory["weights"] + memory["grads"] + memory["optimizer"] + batch_size * per_image
    _refuse(need, memory_cap_bytes(), params, per_image, batch_size)


def check_memory(cfg: ModelConfig, batch_size: int = 1) -> MemoryEstimate:
    """:func:`estimate_memory`, refused above the cap.

    Raises:
        ConfigError: training ``cfg`` at ``batch_size`` would need more than :func:`memory_cap_bytes`.
    """
    est = estimate_memory(cfg)
    _refuse(
        est.train_bytes(batch_size),
        memory_cap_bytes(),
        est.params,
        est.activation_bytes_per_image,
        batch_size,
    )
    return est
