"""What a design costs: parameters, MACs / FLOPs, per-stage shapes, receptive field, memory, latency.

>>> from idfy import load_preset
>>> from idfy.analysis import analyze
>>> r = analyze(load_preset("seed_model2"))
>>> [row.out_shape for row in r.stages][:3]
[(8, 112, 112), (16, 56, 56), (24, 28, 28)]

How the numbers are made (fast path, ~30–60 ms for ``full`` at 224×224 on 2 CPU cores):

1. The model is built (on the CPU, or directly on the ``meta`` device when it would be large) and moved to
   ``meta``: no weights, no arithmetic, no kernel warm-up for new shapes.
2. One forward pass at batch 1 runs under :class:`idfy.tracing.MacCounter`, which applies
   ``torch.utils.flop_counter``'s formulas (identical totals to ``FlopCounterMode``), with forward hooks on
   every module for shapes, per-module MACs and the bytes of each leaf module's output.
3. Receptive fields come from the config (:mod:`idfy.receptive_field`).

Conventions (also in ``Report.conventions``): **MACs** count one fused multiply-add as 1 (fvcore's "flop");
**FLOPs** = 2 × MACs (``torch.utils.flop_counter``). Only convolutions, linear layers and matrix products are
counted; normalisation, activations, pooling, interpolation, softmax and additions count zero.

Optional, slower parts: ``latency=True`` (timed runs on the chosen device, ≤ ~1.5 s), ``layer_depth`` (a torchinfo
per-layer table), ``cross_check=True`` (``FlopCounterMode`` and fvcore's ``FlopCountAnalysis`` on the same model).
:func:`compare` puts several designs side by side with timm reference models.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from idfy.config import ConfigError, ModelConfig
from idfy.model import build_model
from idfy.receptive_field import receptive_fields
from idfy.substreams import SLOTS
from idfy.tracing import ModuleStat, Trace, trace_model

__all__ = [
    "CONVENTIONS",
    "PATHS",
    "Comparison",
    "Report",
    "StageRow",
    "analyze",
    "clear_cache",
    "compare",
    "count",
    "human_bytes",
    "human_count",
    "path_of",
    "resolve_device",
]

#: Parameter / MAC paths (``Report.params_by_path`` keys): every sub-stream slot of :mod:`idfy.substreams`
#: is one path (all dense kinds count under ``dense``).
PATHS = ("main", *SLOTS, "injection", "head")

CONVENTIONS: dict[str, str] = {
    "macs": "MACs: multiply-accumulates of convolutions, linear layers and matrix products; one fused "
    "multiply-add = 1 (fvcore's 'flop' convention). Normalisation, activations, pooling, interpolation, "
    "softmax and additions are not counted.",
    "flops": "FLOPs = 2 × MACs (torch.utils.flop_counter's convention).",
    "params": "params: elements of nn.Parameters (buffers such as BatchNorm running statistics and fixed "
    "Gaussian σ are excluded; they are in memory['weights']).",
    "shapes": "shapes are (C, H, W) without the batch dimension.",
    "receptive_field": "rf / jump: theoretical receptive field and stride of the main conv path in input "
    "pixels (dilation included; Gaussian sub-stream counted, image re-injection paths ignored; not clipped "
    "to the image). rf_global: a global operation (a dense sub-stream: GCNet attention, FC squeeze or "
    "non-local attention; global pooling or flatten+FC) lets every output see the whole image.",
    "activations": "act_bytes: bytes of the outputs of the leaf modules (conv, norm, act, pool, ...) at batch 1 "
    "in fp32; concatenations, residual sums and matrix products inside non-leaf modules are not included.",
    "memory": "memory (bytes, fp32): weights = parameters + buffers; grads = trainable parameters; optimizer = "
    "AdamW's two moments (2 × trainable parameters); activations = act_bytes × batch_size (approximates the "
    "tensors saved for backward); total = their sum. Framework workspace and allocator overhead excluded.",
    "latency": "latency: wall-clock ms of warm forward passes under torch.inference_mode (median and p90); "
    "per-stage times from forward hooks at batch 1.",
}

_CACHE_SIZE = 128
_cache: OrderedDict[tuple, Report] = OrderedDict()
_cache_lock = threading.Lock()
#: A model whose estimated parameter count exceeds this is built directly on ``meta`` (no CPU init cost).
_META_BUILD_PARAMS = 2_000_000
#: Latency and the cross-check need real weights; beyond this many (estimated) parameters they are refused.
_REAL_BUILD_PARAMS = 250_000_000


# --------------------------------------------------------------------------- result types
@dataclass
class StageRow:
    """One row of the per-stage table. Shapes are (C, H, W) without the batch dimension.

    ``inject_shape``: the re-injected image as resized for this part (None when nothing is injected).
    ``rf`` / ``jump``: receptive field and stride in input pixels after this part; ``rf_global`` see
    ``CONVENTIONS["receptive_field"]``. ``act_bytes``: leaf-module output bytes at batch 1, fp32.
    """

    name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    inject_shape: tuple[int, ...] | None
    params: int
    macs: int
    rf: int
    jump: int
    act_bytes: int
    rf_global: bool = False


@dataclass
class Report:
    """Everything :func:`analyze` measured for one design. Treat as read-only: reports are cached and shared.

    Counts follow :data:`CONVENTIONS`; ``conventions`` repeats them so a JSON dump is self-describing.
    ``modules`` holds per-module stats (for diagrams and charts) and is left out of :meth:`to_dict` unless asked.
    """

    name: str
    fingerprint: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, ...]
    device: str
    params_total: int
    params_trainable: int
    params_by_stage: dict[str, int]
    params_by_path: dict[str, int]
    macs: int
    flops: int
    macs_by_stage: dict[str, int]
    macs_by_path: dict[str, int]
    stages: list[StageRow]
    memory: dict[str, int]
    batch_size: int
    latency: dict | None = None
    layers: list[dict] | None = None
    cross_check: dict | None = None
    conventions: dict[str, str] = field(default_factory=lambda: dict(CONVENTIONS))
    uncounted_ops: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    modules: dict[str, ModuleStat] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self, modules: bool = False) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists when dumped). ``modules=True`` adds the per-module stats."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "modules"}
        d["stages"] = [dataclasses.asdict(s) for s in self.stages]
        d["input_shape"] = list(self.input_shape)
        d["output_shape"] = list(self.output_shape)
        for row in d["stages"]:
            for key in ("in_shape", "out_shape", "inject_shape"):
                row[key] = list(row[key]) if row[key] is not None else None
        if modules:
            d["modules"] = {k: dataclasses.asdict(v) for k, v in self.modules.items()}
        return d

    def stage(self, name: str) -> StageRow:
        """The row called ``name`` (``"stages.1"``, ``"head"``, ...)."""
        for row in self.stages:
            if row.name == name:
                return row
        raise KeyError(f"no stage {name!r}; stages: {', '.join(r.name for r in self.stages)}")


# --------------------------------------------------------------------------- small helpers
def resolve_device(device: str = "auto") -> tuple[torch.device, str]:
    """``"auto"`` -> CUDA when available, else CPU. Returns the device and its label
    (``"cpu"`` or ``"cuda:0 (NVIDIA H100 80GB HBM3)"``).

    Raises:
        ValueError: an unknown device string, or CUDA asked for but not available.
    """
    text = (device or "auto").strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(text)
    except RuntimeError:
        raise ValueError(f"device {device!r}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: CUDA is not available on this machine; use cpu or auto")
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        dev = torch.device("cuda", index)
        return dev, f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if dev.type != "cpu":
        raise ValueError(f"device {device!r}: use auto, cpu, cuda or cuda:N")
    return dev, "cpu"


def _with_size(cfg: ModelConfig, input_size: tuple[int, int] | list[int] | int | None) -> ModelConfig:
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


def path_of(name: str) -> str:
    """Which path a module / parameter name belongs to: one of :data:`PATHS`.

    ``*.inject`` and ``head_inject`` -> injection; ``*.fusion.streams.gaussian`` -> gaussian;
    ``*.fusion.streams.dense`` -> dense; ``head`` -> head; everything else (stem conv, blocks, pools and the
    fusion's 1×1 projection) -> main.
    """
    parts = name.split(".")
    if parts[0] == "head_inject" or "inject" in parts:
        return "injection"
    if "streams" in parts:
        i = parts.index("streams")
        if i + 1 < len(parts) and parts[i + 1] in SLOTS:
            return parts[i + 1]
    if parts[0] == "head":
        return "head"
    return "main"


def _top_parts(cfg: ModelConfig) -> list[str]:
    """Names of the top-level parts in forward order: stem, stages.i, head_inject, head."""
    names = ["stem"] if cfg.stem is not None else []
    names += [f"stages.{i}" for i in range(len(cfg.stages))]
    names += ["head_inject"] if cfg.inject.head else []
    return [*names, "head"]


def _estimate_params(cfg: ModelConfig) -> int:
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


def _build_meta(cfg: ModelConfig) -> nn.Module:
    """The model on the ``meta`` device, in eval mode. Small models are built on the CPU (fast init) and
    moved; large ones are built on ``meta`` directly (no memory, no init arithmetic)."""
    if _estimate_params(cfg) <= _META_BUILD_PARAMS:
        return build_model(cfg).eval().to("meta")
    with torch.device("meta"):
        return build_model(cfg).eval()


def _check_real_build(cfg: ModelConfig, what: str) -> None:
    """Refuse to allocate a model too large for a real ``what`` (latency, cross-check)."""
    n = _estimate_params(cfg)
    if n > _REAL_BUILD_PARAMS:
        raise ValueError(
            f"{what} needs the real model, about {n / 1e6:,.0f} M parameters ({n * 4 / 2**30:.1f} GiB): "
            f"too large here (limit {_REAL_BUILD_PARAMS / 1e6:.0f} M); the counts do not need it"
        )


def _build_and_trace(cfg: ModelConfig, device: str) -> tuple[nn.Module, Trace, float]:
    """Build ``cfg``'s model on ``device`` and trace it at batch 1; returns (model, trace, build seconds)."""
    c, h, w = cfg.input.channels, *cfg.input.size
    t0 = time.perf_counter()
    model = _build_meta(cfg) if device == "meta" else build_model(cfg).eval().to(device)
    t_build = time.perf_counter() - t0
    x = torch.rand(1, c, h, w, device=device)
    try:
        return model, trace_model(model, x), t_build
    except RuntimeError as e:  # a size / option combination the layers cannot run
        raise ConfigError(f"the model cannot run on a {c}×{h}×{w} input: {str(e).splitlines()[0]}") from None


def count(cfg: ModelConfig, *, device: str = "meta") -> Trace:
    """Trace ``cfg``'s model once at batch 1 (MACs per module, shapes, activation bytes).

    Args:
        device: ``meta`` (default: shape-only, fast, no memory) or ``cpu`` (real arithmetic; used by the
            tests to show both give the same numbers).
    """
    return _build_and_trace(cfg, device)[1]


# --------------------------------------------------------------------------- report pieces
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


def _memory(model_params: list[tuple[str, int, bool]], buffer_bytes: int, act_bytes: int, batch: int) -> dict:
    trainable = sum(n for _, n, g in model_params if g) * 4
    weights = sum(n for _, n, _ in model_params) * 4 + buffer_bytes
    acts = act_bytes * batch
    return {
        "weights": weights,
        "grads": trainable,
        "optimizer": 2 * trainable,
        "activations": acts,
        "total": weights + trainable + 2 * trainable + acts,
    }


def _called_macs(modules: dict[str, ModuleStat], name: str | None) -> int | None:
    """MACs of module ``name`` if it ran as a whole (a ``ModuleList`` never does: ``None``)."""
    stat = modules.get(name) if name is not None else None
    return stat.macs if stat is not None and stat.calls else None


def _torchinfo_layers(cfg: ModelConfig, depth: int, modules: dict[str, ModuleStat]) -> list[dict]:
    """torchinfo's per-layer rows down to ``depth``. ``macs``: this module's MACs in idfy's convention
    (children included, from ``modules``); ``torchinfo_macs``: torchinfo's own mult-adds, which it reports
    per leaf (containers show only what their children do not cover)."""
    import torchinfo

    model = _build_meta(cfg)
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


def _cross_check(cfg: ModelConfig, fast_macs: int, fast_uncounted: list[str]) -> dict:
    """Count the same model with ``FlopCounterMode`` and fvcore's ``FlopCountAnalysis`` (CPU, batch 1)."""
    from torch.utils.flop_counter import FlopCounterMode

    _check_real_build(cfg, "the cross-check")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fvcore's import uses the deprecated torch.jit.script
        from fvcore.nn import FlopCountAnalysis

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


def _latency(cfg: ModelConfig, dev: torch.device, batch_size: int) -> dict:
    from idfy.latency import measure_latency

    _check_real_build(cfg, "latency")
    h, w = cfg.input.size
    batch_n = min(8, batch_size) if min(h, w) >= 128 else batch_size
    model = build_model(cfg).eval().to(dev)
    return measure_latency(model, (cfg.input.channels, h, w), dev, batch_n=batch_n, budget_s=1.2)


# --------------------------------------------------------------------------- public API
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
    cfg = _with_size(cfg, input_size)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: must be a positive integer")
    if layer_depth is not None and (not isinstance(layer_depth, int) or layer_depth < 0):
        raise ValueError(f"layer_depth={layer_depth!r}: must be a non-negative integer")
    dev, label = resolve_device(device)
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
    buffer_bytes = sum(b.numel() * b.element_size() for b in model.buffers())
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
        memory=_memory(named, buffer_bytes, trace.modules[""].act_bytes, batch_size),
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
        report.layers = _torchinfo_layers(cfg, layer_depth, trace.modules)
        report.timings_ms["layers"] = (time.perf_counter() - t) * 1e3
    if cross_check:
        t = time.perf_counter()
        report.cross_check = _cross_check(cfg, trace.macs, trace.uncounted_ops)
        report.timings_ms["cross_check"] = (time.perf_counter() - t) * 1e3
    if latency:
        t = time.perf_counter()
        report.latency = _latency(cfg, dev, batch_size)
        report.timings_ms["latency"] = (time.perf_counter() - t) * 1e3
    report.timings_ms["total"] = (time.perf_counter() - t0) * 1e3
    return report


# --------------------------------------------------------------------------- comparison
def _pct(new: float, old: float) -> float | None:
    return None if old == 0 else (new - old) / old * 100.0


@dataclass
class Comparison:
    """Side-by-side numbers of several designs (``rows[0]`` is the reference for the deltas) followed by
    timm reference models (``kind == "baseline"``)."""

    rows: list[dict]
    input_size: tuple[int, int]
    batch_size: int = 32
    conventions: dict[str, str] = field(default_factory=lambda: dict(CONVENTIONS))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "rows": self.rows,
            "conventions": self.conventions,
        }

    def to_markdown(self) -> str:
        """A Markdown table: one row per design, deltas against the first in brackets."""
        head = (
            f"| model | kind | params | MACs | FLOPs | train memory (batch {self.batch_size}) | output "
            "| stage outputs (C×H×W) |"
        )
        lines = [head, "|" + "---|" * 8]
        for i, r in enumerate(self.rows):
            dp = _fmt_delta(r.get("delta_params"), r.get("delta_params_pct"), _human) if i else ""
            dm = _fmt_delta(r.get("delta_macs"), r.get("delta_macs_pct"), _human) if i else ""
            mem = _human_bytes(r["memory_total"]) if r.get("memory_total") is not None else "–"
            shapes = " → ".join(_shape_str(s) for s in r.get("stage_out_shapes", [])) or "–"
            lines.append(
                f"| {r['name']} | {r['kind']} | {_human(r['params'])}{dp} | {_human(r['macs'])}{dm} | "
                f"{_human(r['flops'])} | {mem} | {_shape_str(r['output_shape'])} | {shapes} |"
            )
        lines.append("")
        lines.append(
            f"Input {self.input_size[0]}×{self.input_size[1]}; counts at batch 1. {self.conventions['macs']}"
        )
        lines.append(f"{self.conventions['flops']} Deltas (in brackets) are against the first row.")
        return "\n".join(lines)


def _human(n: float | None) -> str:
    if n is None:
        return "–"
    for div, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.3g} {unit}"
    return f"{n:.0f}"


def _human_bytes(n: float) -> str:
    for div, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(n) >= div:
            return f"{n / div:.3g} {unit}"
    return f"{n:.0f} B"


def _shape_str(shape: Any) -> str:
    return "×".join(str(s) for s in shape) if shape else "–"


def _fmt_delta(delta: float | None, pct: float | None, fmt: Any) -> str:
    if delta is None:
        return ""
    sign = "+" if delta >= 0 else "−"
    p = f", {pct:+.1f} %" if pct is not None else ""
    return f" ({sign}{fmt(abs(delta))}{p})"


def _design_row(report: Report) -> dict:
    return {
        "name": report.name,
        "kind": "design",
        "fingerprint": report.fingerprint,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape),
        "params": report.params_total,
        "macs": report.macs,
        "flops": report.flops,
        "stage_out_shapes": [list(r.out_shape) for r in report.stages if r.name.startswith("stages.")],
        "params_by_path": dict(report.params_by_path),
        "macs_by_path": dict(report.macs_by_path),
        "memory": dict(report.memory),
        "memory_total": report.memory["total"],
    }


def _add_deltas(rows: list[dict]) -> None:
    ref = rows[0]
    for r in rows:
        for key in ("params", "macs", "flops", "memory_total"):
            if r.get(key) is None or ref.get(key) is None:
                continue
            r[f"delta_{key}"] = r[key] - ref[key]
            r[f"delta_{key}_pct"] = _pct(r[key], ref[key])


def compare(
    cfgs: list[ModelConfig],
    input_size: tuple[int, int] | int | None = None,
    *,
    baselines: bool = True,
    batch_size: int = 32,
) -> Comparison:
    """Compare designs side by side: params, MACs, FLOPs, per-stage output shapes, training memory and
    deltas against the first design (absolute and %).

    Args:
        cfgs: one or more designs; all are analysed at ``input_size`` (default: the first design's size).
        baselines: add timm ``resnet18``, ``mobilenetv3_small_100`` and ``ghostnet_100`` (untrained, with
            the first design's outputs and input channels), counted the same way at the same size.
        batch_size: batch of the training-memory estimates.
    """
    if not cfgs:
        raise ValueError("compare needs at least one config")
    first = _with_size(cfgs[0], input_size)
    size = tuple(first.input.size)
    rows = [_design_row(analyze(c, size, device="cpu", batch_size=batch_size)) for c in cfgs]
    if baselines:
        from idfy.baselines import baseline_rows

        rows += baseline_rows(
            num_classes=first.num_outputs, in_chans=first.input.channels, size=size, batch_size=batch_size
        )
    _add_deltas(rows)
    return Comparison(rows=rows, input_size=(int(size[0]), int(size[1])), batch_size=batch_size)


def human_count(n: float | None) -> str:
    """``12345`` -> ``"12.3 K"`` (used by the CLI and the diagram)."""
    return _human(n)


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    return _human_bytes(n)
