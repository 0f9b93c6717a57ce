"""What a design costs: parameters, MACs / FLOPs, per-stage shapes, receptive field, memory, latency.

>>> from idfy import load_preset
>>> from idfy.analysis import analyze
>>> r = analyze(load_preset("seed_model2"))
>>> [row.out_shape for row in r.stages][:3]
[(8, 112, 112), (16, 56, 56), (24, 28, 28)]

How the numbers are made (fast path, ~30–60 ms for ``full`` at 224×224 on 2 CPU cores):

1. The model is built without weight initialisation (on the CPU, or directly on the ``meta`` device when it
   would be large) and moved to ``meta``: no weights, no arithmetic, no kernel warm-up for new shapes.
2. One forward pass at batch 1 runs under :class:`idfy.analysis.tracing.MacCounter`, which applies
   ``torch.utils.flop_counter``'s formulas (identical totals to ``FlopCounterMode``), with forward hooks on
   every module for shapes, per-module MACs and the bytes of each leaf module's output. Ops and stages
   traced before in this process are replayed from their records (:func:`_stage_keys`), not run again.
3. Receptive fields come from the config (:mod:`idfy.analysis.receptive_field`).

Conventions (also in ``Report.conventions``): **MACs** count one fused multiply-add as 1 (fvcore's "flop");
**FLOPs** = 2 × MACs (``torch.utils.flop_counter``). Only convolutions, linear layers and matrix products are
counted; normalisation, activations, pooling, interpolation, softmax and additions count zero.

Optional, slower parts: ``latency=True`` (timed runs on the chosen device, ≤ ~1.5 s), ``layer_depth`` (a torchinfo
per-layer table), ``cross_check=True`` (``FlopCounterMode`` and fvcore's ``FlopCountAnalysis`` on the same model).
:func:`idfy.analysis.compare` puts several designs side by side with timm reference models.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict

import torch
from torch import nn

from idfy.analysis import extras
from idfy.analysis.estimate import build_meta
from idfy.analysis.memory import model_memory
from idfy.analysis.receptive_field import receptive_fields
from idfy.analysis.report import PATHS, Report, StageRow, path_of
from idfy.analysis.tracing import ModuleStat, Trace, trace_model
from idfy.config import ConfigError, ModelConfig
from idfy.device import device_name, resolve_device
from idfy.model import build_model

__all__ = ["analyze", "clear_cache", "count", "with_size"]

_CACHE_SIZE = 128
_cache: OrderedDict[tuple, Report] = OrderedDict()
_cache_lock = threading.Lock()


def with_size(cfg: ModelConfig, input_size: tuple[int, int] | list[int] | int | None) -> ModelConfig:
    """``cfg`` at another input size (validated: an absurd size raises ``ConfigError``)."""
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"expected a ModelConfig, got {type(cfg).__name__}; see idfy.load_preset")
    if input_size is None:
        return cfg
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        size = (input_size, input_size)
    elif (
        isinstance(input_size, (tuple, list))
        and len(input_size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) for s in input_size)
    ):
        size = (int(input_size[0]), int(input_size[1]))
    else:
        raise ConfigError(f"input size {input_size!r}: give one integer or two (height, width)")
    if size == tuple(cfg.input.size):
        return cfg
    return cfg.set("input.size", list(size))


def _stage_keys(cfg: ModelConfig) -> dict[str, tuple]:
    """Per stage, a key that determines its module and forward completely: its config, its plan (input
    shape, downsampling, blocks) and every field of the design outside ``stages`` (name and description
    aside). Two designs that differ only in stage 3 share stages 1–2's traces (:func:`trace_model`)."""
    shared = tuple(
        getattr(cfg, f.name)
        for f in dataclasses.fields(cfg)
        if f.name not in ("stages", "name", "description")
    )
    plan = cfg.plan()
    return {f"stages.{i}": (shared, st, sp) for i, (st, sp) in enumerate(zip(cfg.stages, plan.stages))}


def _build_and_trace(cfg: ModelConfig, device: str) -> tuple[nn.Module, Trace, float]:
    """Build ``cfg``'s model on ``device`` and trace it at batch 1; returns (model, trace, build seconds).
    On ``meta``, stages traced before (same key, :func:`_stage_keys`) are replayed, not run."""
    c, h, w = cfg.input.channels, *cfg.input.size
    t0 = time.perf_counter()
    model = build_meta(cfg) if device == "meta" else build_model(cfg).eval().to(device)
    t_build = time.perf_counter() - t0
    x = torch.rand(1, c, h, w, device=device)
    parts = _stage_keys(cfg) if device == "meta" else None
    try:
        return model, trace_model(model, x, parts), t_build
    except RuntimeError as e:  # a size / option combination the layers cannot run
        raise ConfigError(f"the model cannot run on a {c}×{h}×{w} input: {str(e).splitlines()[0]}") from None


def count(cfg: ModelConfig, *, device: str = "meta") -> Trace:
    """Trace ``cfg``'s model once at batch 1 (MACs per module, shapes, activation bytes).

    Args:
        device: ``meta`` (default: shape-only, fast, no memory) or ``cpu`` (real arithmetic; used by the
            tests to show both give the same numbers).
    """
    return _build_and_trace(cfg, device)[1]


def _top_parts(cfg: ModelConfig) -> list[str]:
    """Names of the top-level parts in forward order: stem, stages.i, head_inject, head."""
    names = ["stem"] if cfg.stem is not None else []
    names += [f"stages.{i}" for i in range(len(cfg.stages))]
    names += ["head_inject"] if cfg.inject.head else []
    return [*names, "head"]


def _params(cfg: ModelConfig, model_params: list[tuple[str, int, bool]]) -> tuple[int, int, dict, dict]:
    by_stage = dict.fromkeys(_top_parts(cfg), 0)
    by_path = dict.fromkeys(PATHS, 0)
    total = trainable = 0
    for name, n, grad in model_params:
        total += n
        trainable += n if grad else 0
        parts = name.split(".")
        top = ".".join(parts[:2]) if parts[0] == "stages" else parts[0]
        by_stage[top] = by_stage.get(top, 0) + n
        by_path[path_of(name)] += n
    return total, trainable, by_stage, by_path


def _macs_by_path(modules: dict[str, ModuleStat], total: int) -> dict[str, int]:
    """Inclusive MACs of the outermost module of each non-main path; main gets the rest."""
    by_path = dict.fromkeys(PATHS, 0)
    for name, stat in modules.items():
        if not name:
            continue
        path = path_of(name)
        parent = name.rsplit(".", 1)[0] if "." in name else ""
        if path != "main" and (not parent or path_of(parent) != path):
            by_path[path] += stat.macs
    by_path["main"] = total - sum(v for k, v in by_path.items() if k != "main")
    return by_path


def _inject_shape(cfg: ModelConfig, modules: dict[str, ModuleStat], name: str) -> tuple[int, ...] | None:
    inj = modules.get(name if name == "head_inject" else f"{name}.inject")
    if inj is None or inj.in_shape is None:
        return None
    return (cfg.input.channels, *inj.in_shape[1:])


def _stage_rows(cfg: ModelConfig, trace: Trace) -> list[StageRow]:
    fields = receptive_fields(cfg)
    rows = []
    for name in _top_parts(cfg):
        stat = trace.modules[name]
        f = fields[name]
        rows.append(
            StageRow(
                name=name,
                in_shape=stat.in_shape or (),
                out_shape=stat.out_shape or (),
                inject_shape=_inject_shape(cfg, trace.modules, name),
                params=stat.params,
                macs=stat.macs,
                rf=f.rf,
                jump=f.jump,
                act_bytes=stat.act_bytes,
                rf_global=f.global_,
            )
        )
    return rows


def clear_cache() -> None:
    """Forget every cached :class:`Report`."""
    with _cache_lock:
        _cache.clear()


def analyze(
    cfg: ModelConfig,
    input_size: tuple[int, int] | int | None = None,
    device: str = "auto",
    *,
    latency: bool = False,
    batch_size: int = 32,
    layer_depth: int | None = None,
    cross_check: bool = False,
) -> Report:
    """Analyse a design: params, MACs / FLOPs, per-stage table, receptive fields, memory (and optionally
    latency, a torchinfo layer table and a counter cross-check).

    Args:
        cfg: the design.
        input_size: analyse at this (H, W) (or H = W) instead of ``cfg.input.size``.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``: where latency is measured and
            the model would run; counting itself is device-independent (``meta`` tensors).
        latency: time forward passes at batch 1 and batch N (N = 8 for ≥128 px inputs, else ``batch_size``).
        batch_size: batch of the training-memory estimate.
        layer_depth: add torchinfo's per-layer rows down to this module depth (slow).
        cross_check: also count with ``FlopCounterMode`` and fvcore (slow: builds and runs a real model).

    Returns:
        a :class:`Report`, cached by (fingerprint, input size, device, options) in an LRU of 128 entries.

    Raises:
        ConfigError: an invalid input size or a config the layers cannot run.
        ValueError: an unknown or unavailable device, a batch size < 1, or latency / cross-check asked for a
            model too large to allocate.
    """
    cfg = with_size(cfg, input_size)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: must be a positive integer")
    if layer_depth is not None and (not isinstance(layer_depth, int) or layer_depth < 0):
        raise ValueError(f"layer_depth={layer_depth!r}: must be a non-negative integer")
    dev = resolve_device(device)
    label = device_name(dev)
    key = (cfg.fingerprint(), tuple(cfg.input.size), label, latency, batch_size, layer_depth, cross_check)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is not None:
        return hit if hit.name == cfg.name else dataclasses.replace(hit, name=cfg.name)
    report = _analyze(cfg, dev, label, latency, batch_size, layer_depth, cross_check)
    with _cache_lock:
        _cache[key] = report
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return report


def _analyze(
    cfg: ModelConfig,
    dev: torch.device,
    label: str,
    latency: bool,
    batch_size: int,
    layer_depth: int | None,
    cross_check: bool,
) -> Report:
    t0 = time.perf_counter()
    c, h, w = cfg.input.channels, *cfg.input.size
    model, trace, build_s = _build_and_trace(cfg, "meta")
    t_trace = time.perf_counter()
    named = [(n, p.numel(), p.requires_grad) for n, p in model.named_parameters()]
    total, trainable, p_stage, p_path = _params(cfg, named)
    rows = _stage_rows(cfg, trace)
    report = Report(
        name=cfg.name,
        fingerprint=cfg.fingerprint(),
        input_shape=(c, h, w),
        output_shape=trace.output_shape,
        device=label,
        params_total=total,
        params_trainable=trainable,
        params_by_stage=p_stage,
        params_by_path=p_path,
        macs=trace.macs,
        flops=trace.flops,
        macs_by_stage={r.name: r.macs for r in rows},
        macs_by_path=_macs_by_path(trace.modules, trace.macs),
        stages=rows,
        memory=model_memory(model, trace.modules[""].act_bytes, batch_size),
        batch_size=batch_size,
        uncounted_ops=trace.uncounted_ops,
        modules=trace.modules,
    )
    t_done = time.perf_counter()
    report.timings_ms = {
        "build": build_s * 1e3,
        "trace": (t_trace - t0 - build_s) * 1e3,
        "tables": (t_done - t_trace) * 1e3,
    }
    if layer_depth is not None:
        t = time.perf_counter()
        report.layers = extras.torchinfo_layers(cfg, layer_depth, trace.modules)
        report.timings_ms["layers"] = (time.perf_counter() - t) * 1e3
    if cross_check:
        t = time.perf_counter()
        report.cross_check = extras.cross_check(cfg, trace.macs, trace.uncounted_ops)
        report.timings_ms["cross_check"] = (time.perf_counter() - t) * 1e3
    if latency:
        t = time.perf_counter()
        report.latency = extras.latency(cfg, dev, batch_size)
        report.timings_ms["latency"] = (time.perf_counter() - t) * 1e3
    report.timings_ms["total"] = (time.perf_counter() - t0) * 1e3
    return report
