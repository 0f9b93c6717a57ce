"""The optional, slower parts of an analysis: torchinfo's per-layer table, the counter cross-check
(``FlopCounterMode`` and fvcore's ``FlopCountAnalysis``) and measured latency. Each builds its own model.
"""

from __future__ import annotations

import warnings

import torch
import torchinfo
from torch.utils.flop_counter import FlopCounterMode

from idfy.analysis.estimate import build_meta, check_real_build
from idfy.analysis.latency import measure_latency
from idfy.analysis.tracing import ModuleStat
from idfy.config import ModelConfig
from idfy.model import build_model

__all__ = ["cross_check", "latency", "torchinfo_layers"]


def _called_macs(modules: dict[str, ModuleStat], name: str | None) -> int | None:
    """MACs of module ``name`` if it ran as a whole (a ``ModuleList`` never does: ``None``)."""
    stat = modules.get(name) if name is not None else None
    return stat.macs if stat is not None and stat.calls else None


def torchinfo_layers(cfg: ModelConfig, depth: int, modules: dict[str, ModuleStat]) -> list[dict]:
    """torchinfo's per-layer rows down to ``depth``. ``macs``: this module's MACs in idfy's convention
    (children included, from ``modules``); ``torchinfo_macs``: torchinfo's own mult-adds, which it reports
    per leaf (containers show only what their children do not cover)."""
    model = build_meta(cfg)
    names = {id(m): n for n, m in model.named_modules()}
    x = torch.rand(1, cfg.input.channels, *cfg.input.size, device="meta")
    stats = torchinfo.summary(
        model, input_data=[x], depth=depth, verbose=0, device="meta", col_names=("output_size", "num_params")
    )
    rows = []
    for info in stats.summary_list:
        if info.depth > depth:
            continue
        rows.append(
            {
                "name": names.get(info.layer_id, info.var_name),
                "class": info.class_name,
                "depth": info.depth,
                "in_shape": list(info.input_size[1:]) if info.input_size else None,
                "out_shape": list(info.output_size[1:]) if info.output_size else None,
                "params": int(info.num_params),
                "trainable_params": int(info.trainable_params),
                "macs": _called_macs(modules, names.get(info.layer_id)),
                "torchinfo_macs": int(info.macs),
            }
        )
    return rows


#: fvcore op handles that count the same thing as flop_counter's formulas.
_MATMUL_OPS = ("conv", "linear", "matmul", "bmm", "einsum", "addmm", "mm", "baddbmm")


def cross_check(cfg: ModelConfig, fast_macs: int, fast_uncounted: list[str]) -> dict:
    """Count the same model with ``FlopCounterMode`` and fvcore's ``FlopCountAnalysis`` (CPU, batch 1)."""
    check_real_build(cfg, "the cross-check")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fvcore's import uses the deprecated torch.jit.script
        from fvcore.nn import FlopCountAnalysis  # here: slow import, warns; only the cross-check needs it

    model = build_model(cfg).eval()
    x = torch.rand(1, cfg.input.channels, *cfg.input.size)
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        model(x)
    fc_macs = fc.get_total_flops() // 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, (x,))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        fv_macs = int(analysis.total())
        by_op = {str(k): int(v) for k, v in analysis.by_operator().items()}
        skipped = sorted(str(k) for k in analysis.unsupported_ops())
    same = sum(v for k, v in by_op.items() if k in _MATMUL_OPS)
    return {
        "flop_counter_macs": fc_macs,
        "fast_path_macs": fast_macs,
        "fvcore_macs": fv_macs,
        "rel_diff": abs(fv_macs - fc_macs) / max(fv_macs, fc_macs, 1),
        "fvcore_macs_same_ops": same,
        "rel_diff_same_ops": abs(same - fc_macs) / max(same, fc_macs, 1),
        "fvcore_by_operator": by_op,
        "fvcore_skipped_ops": skipped,
        "fvcore_extra_ops": sorted(k for k in by_op if k not in _MATMUL_OPS),
        "flop_counter_skipped_ops": list(fast_uncounted),
        "note": "flop_counter counts conv / mm / addmm / bmm (2 per MAC, reported here / 2); fvcore also counts "
        "batch_norm (2 per element with affine, in eval), adaptive_avg_pool2d, layer_norm / group_norm and "
        "bilinear / nearest upsampling, so fvcore_macs is a little larger; fvcore_macs_same_ops keeps only "
        "conv, linear and matmul.",
    }


def latency(cfg: ModelConfig, dev: torch.device, batch_size: int) -> dict:
    check_real_build(cfg, "latency")
    h, w = cfg.input.size
    batch_n = min(8, batch_size) if min(h, w) >= 128 else batch_size
    model = build_model(cfg).eval().to(dev)
    return measure_latency(model, (cfg.input.channels, h, w), dev, batch_n=batch_n, budget_s=1.2)
