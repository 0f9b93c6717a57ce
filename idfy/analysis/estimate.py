"""A parameter estimate from the stage plan alone, and the model builds it decides: on ``meta`` for
counting, refused when a real build (latency, cross-check) would be too large.

The estimate is rough (shortcuts and projections approximated) and is used only to choose where a model is
built; exact counts come from :mod:`idfy.analysis.measure`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from idfy.config import ModelConfig
from idfy.model import build_model

__all__ = ["META_BUILD_PARAMS", "REAL_BUILD_PARAMS", "build_meta", "check_real_build", "estimate_params"]

#: A model whose estimated parameter count exceeds this is built directly on ``meta`` (no CPU memory);
#: below it, a CPU build is faster (~15 ms for ``full``, against ~19 ms on ``meta``: no device context).
META_BUILD_PARAMS = 16_000_000
#: Latency and the cross-check need real weights; beyond this many (estimated) parameters they are refused.
REAL_BUILD_PARAMS = 250_000_000


def estimate_params(cfg: ModelConfig) -> int:
    """A rough parameter count from the stage plan alone (decides where the counting model is built)."""
    k2 = cfg.block.kernel**2
    total = 0
    if cfg.stem is not None:
        total += cfg.input.channels * cfg.stem.width * cfg.stem.kernel**2
    plan = cfg.plan()
    for st, sp in zip(cfg.stages, plan.stages):
        g = st.conv.eff_groups
        total += sum((b.in_chs + b.out_chs) * b.out_chs * k2 // g for b in sp.blocks)
        # shortcut, fusion / injection projections (rough)
        total += (sp.in_shape[0] + 2 * st.width) * st.width
    c, h, w = plan.head_in_shape
    feats = c * h * w if cfg.head.kind == "flatten" else c
    for width in (*cfg.head.widths, cfg.num_outputs):
        total += feats * width
        feats = width
    return total


#: In-place initialisers that only write values (no shape change).
_FILLS = frozenset({torch.Tensor.zero_, torch.Tensor.fill_, torch.Tensor.normal_, torch.Tensor.uniform_})


class _SkipInit(TorchFunctionMode):
    """Skips weight initialisation (``torch.nn.init.*`` and in-place fills) while a model that is counted,
    never run, is built: its values are never read (it goes to ``meta`` at once), and initialising costs
    more than building (on ``meta``, ~0.3 ms a call through Python reference kernels; on the CPU, time
    growing with the parameter count). Shapes, parameters and buffers are the same."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in _FILLS or getattr(func, "__module__", None) == "torch.nn.init":
            target = args[0] if args else kwargs.get("tensor")
            if isinstance(target, torch.Tensor):
                return target
        return func(*args, **kwargs)


def build_meta(cfg: ModelConfig) -> nn.Module:
    """The model on the ``meta`` device, in eval mode, for counting (weights uninitialised: never read).
    Up to :data:`META_BUILD_PARAMS` (estimated) it is built on the CPU (untouched, uninitialised memory)
    and moved; larger ones are built on ``meta`` directly (no memory at all)."""
    if estimate_params(cfg) <= META_BUILD_PARAMS:
        with _SkipInit():
            model = build_model(cfg)
        return model.eval().to("meta")
    with torch.device("meta"), _SkipInit():
        return build_model(cfg).eval()


def check_real_build(cfg: ModelConfig, what: str) -> None:
    """Refuse to allocate a model too large for a real ``what`` (latency, cross-check)."""
    n = estimate_params(cfg)
    if n > REAL_BUILD_PARAMS:
        raise ValueError(
            f"{what} needs the real model, about {n / 1e6:,.0f} M parameters ({n * 4 / 2**30:.1f} GiB): "
            f"too large here (limit {REAL_BUILD_PARAMS / 1e6:.0f} M); the counts do not need it"
        )
