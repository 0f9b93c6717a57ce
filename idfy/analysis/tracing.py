"""One instrumented forward pass: MACs per module (``torch.utils.flop_counter`` formulas) and tensor shapes.

:class:`MacCounter` is a ``TorchDispatchMode`` that applies the formulas of
``torch.utils.flop_counter.flop_registry`` to every aten op, decomposing composite ops that have no formula
exactly as ``FlopCounterMode`` does, so its total equals ``FlopCounterMode.get_total_flops()`` (checked in
``tests/test_analysis.py``). It skips ``FlopCounterMode``'s module tracker (forward hooks on the model attribute
the counts instead) and records the op types that ran without a formula.

On ``meta`` tensors an op's outputs and counts depend only on its arguments' metadata, so both are recorded
once per process and replayed: per op (same op, same argument shapes, strides, dtypes and values; in-place
and view ops always run), and, when :func:`trace_model` is given ``parts``, per part (a stage whose key and
input shapes were traced before is not run at all). Results are the same as a fresh trace (checked in
``tests/test_fast_path_speed.py``); the Design tab's edits mostly change one stage, so most of a new
design's trace is replayed.

Conventions: ``flops`` counts 2 per multiply-accumulate (flop_counter); ``macs`` = ``flops // 2``. Only
convolutions, matrix products (mm, addmm, bmm, baddbmm) and attention kernels have formulas: normalisation,
activations, pooling, interpolation, softmax and element-wise arithmetic count zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

__all__ = ["MacCounter", "ModuleStat", "Trace", "trace_model"]

#: ops that move no data through arithmetic (views, metadata, allocation): not reported as "uncounted".
_NO_COMPUTE = frozenset(
    {
        "aten.alias",
        "aten.arange",
        "aten.as_strided",
        "aten.clone",
        "aten.copy_",
        "aten.detach",
        "aten.empty",
        "aten.empty_like",
        "aten.empty_strided",
        "aten.expand",
        "aten.flatten",
        "aten.lift_fresh",
        "aten.permute",
        "aten.select",
        "aten.slice",
        "aten.squeeze",
        "aten.t",
        "aten.transpose",
        "aten.unsqueeze",
        "aten.view",
        "aten._unsafe_view",
        "aten._to_copy",
        "aten.zeros",
        "aten.zeros_like",
        "aten.ones_like",
        "aten.fill_",
    }
)
#: OpOverloads known to have no CompositeImplicit decomposition (filled lazily, process-wide).
_ATOMIC: set[Any] = set()

_aten = torch.ops.aten
#: no-formula ops whose output has the shape and dtype of their first argument. On ``meta`` tensors their
#: Python meta kernels cost ~0.3 ms a call, so :class:`MacCounter` makes the output directly. None of them
#: decomposes into an op with a formula, so the count is unchanged.
_SAME_SHAPE = frozenset(
    {
        _aten.batch_norm.default,
        _aten.layer_norm.default,
        _aten.group_norm.default,
        _aten.relu.default,
        _aten.gelu.default,
        _aten.silu.default,
        _aten.leaky_relu.default,
        _aten.hardswish.default,
        _aten.hardsigmoid.default,
        _aten.sigmoid.default,
        _aten.tanh.default,
        _aten.exp.default,
        _aten.neg.default,
        _aten.pow.Tensor_Scalar,
    }
)
_IN_PLACE = frozenset({_aten.relu_.default, _aten.add_.Tensor, _aten.mul_.Tensor, _aten.hardswish_.default})
_BINARY = frozenset({_aten.add.Tensor, _aten.sub.Tensor, _aten.mul.Tensor, _aten.div.Tensor})


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if a == b:
        return a
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def _meta_output(func: Any, args: tuple, kwargs: dict) -> Tensor | None:
    """The output of a no-formula op on meta tensors, made without its (slow) meta kernel; ``None`` if unknown."""
    if func in _SAME_SHAPE:
        x = args[0]
        return torch.empty(x.shape, dtype=x.dtype, device="meta")
    if func in _IN_PLACE:
        return args[0]
    if func is _aten.dropout.default:  # (input, p, train): eval mode hands back the input itself
        train = args[2] if len(args) > 2 else kwargs.get("train", True)
        x = args[0]
        return torch.empty(x.shape, dtype=x.dtype, device="meta") if train else x
    if func in _BINARY and not kwargs:
        a, b = args[0], args[1]
        shape_b = tuple(b.shape) if isinstance(b, Tensor) else ()
        dtype = torch.result_type(a, b)
        return torch.empty(_broadcast(tuple(a.shape), shape_b), dtype=dtype, device="meta")
    if func is _aten.cat.default:
        tensors = [t for t in args[0] if t.dim() > 1 or t.numel() > 0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        shape = list(tensors[0].shape)
        dim = dim % len(shape)
        shape[dim] = sum(t.shape[dim] for t in tensors)
        dtype = tensors[0].dtype
        for t in tensors[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
        return torch.empty(shape, dtype=dtype, device="meta")
    return None


#: Recorded ops on ``meta`` tensors (see :class:`MacCounter`), process-wide; cleared when it holds this many.
_REPLAYS_MAX = 50_000
_REPLAYS: dict[tuple, _Replay] = {}
_SCALARS = (bool, int, float, str, torch.dtype, torch.device, torch.memory_format, torch.layout)


@dataclass(frozen=True)
class _Replay:
    """What one op did on ``meta`` tensors: its outputs' (shape, stride, dtype), whether it returned one
    tensor, and its FLOPs, FLOPs per op type and uncounted op types (nested ops included)."""

    outs: tuple[tuple[tuple[int, ...], tuple[int, ...], torch.dtype], ...]
    single: bool
    flops: int
    by_op: tuple[tuple[str, int], ...]
    uncounted: frozenset[str]


class _NoKey(Exception):
    pass


#: Whether an op's result is a pure function of its arguments' metadata (no in-place, view or alias), per op.
_PURE: dict[Any, bool] = {}


def _add_key(x: Any, key: list) -> None:
    """Append ``x``'s metadata to ``key`` (tensors: shape, stride, dtype, offset; lists with their length).

    Raises:
        _NoKey: a tensor that is not on ``meta``, or a value other than plain scalars and lists of them.
    """
    if isinstance(x, Tensor):
        if not x.is_meta:
            raise _NoKey
        key.append((x.shape, x.stride(), x.dtype, x.storage_offset()))
    elif isinstance(x, (list, tuple)):
        key.append((type(x), len(x)))
        for y in x:
            _add_key(y, key)
    elif x is None or isinstance(x, _SCALARS):
        key.append((type(x), x))
    else:
        raise _NoKey


def _replay_key(func: Any, args: tuple, kwargs: dict) -> tuple | None:
    """A key naming an op call by its arguments' metadata, or None for an op whose result is not a pure
    function of it (in-place and view ops, arguments other than meta tensors and plain values)."""
    pure = _PURE.get(func)
    if pure is None:
        schema = func._schema
        pure = not schema.is_mutable and all(r.alias_info is None for r in schema.returns)
        _PURE[func] = pure
    if not pure:
        return None
    key: list = [func, torch.get_default_dtype()]  # factory ops without a dtype follow it
    try:
        for a in args:
            _add_key(a, key)
        for name in sorted(kwargs):
            key.append(name)
            _add_key(kwargs[name], key)
    except _NoKey:
        return None
    return tuple(key)


def _record(out: Any, args: tuple, flops: int, by_op: dict[str, int], uncounted: set[str]) -> _Replay | None:
    """The :class:`_Replay` of an op that returned ``out`` (None when ``out`` cannot be remade: not fresh
    ``meta`` tensors)."""
    single = isinstance(out, Tensor)
    outs = (out,) if single else out
    if not isinstance(outs, tuple) or not outs:
        return None
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    inputs |= {id(t) for a in args if isinstance(a, (list, tuple)) for t in a if isinstance(t, Tensor)}
    specs = []
    for t in outs:
        if not isinstance(t, Tensor) or t.device.type != "meta" or id(t) in inputs or t.storage_offset():
            return None
        specs.append((tuple(t.shape), t.stride(), t.dtype))
    return _Replay(tuple(specs), single, flops, tuple(by_op.items()), frozenset(uncounted))


class MacCounter(TorchDispatchMode):
    """Counts FLOPs (2 per MAC) of the ops run inside it, with ``torch.utils.flop_counter``'s formulas.

    Attributes:
        flops: running total (read it from hooks to attribute counts to modules).
        by_op: FLOPs per op type (``"aten.convolution"`` ...).
        uncounted: op types that ran without a formula (zero FLOPs), views and allocations excluded.

    Args:
        meta: inputs are ``meta`` tensors; enables fast output construction for common no-formula ops
            (element-wise, norms, activations, ``cat``) instead of their slow Python meta kernels.
    """

    def __init__(self, meta: bool = False) -> None:
        super().__init__()
        self.meta = meta
        self.flops = 0
        self.by_op: dict[str, int] = defaultdict(int)
        self.uncounted: set[str] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if not self.meta:
            return self._run(func, args, kwargs)
        key = _replay_key(func, args, kwargs)
        if key is None:
            return self._run(func, args, kwargs)
        hit = _REPLAYS.get(key)
        if hit is not None:
            return self._replay(hit)
        # Run it with fresh tallies, so the record holds exactly this op's share (nested ops included).
        flops0, by_op, uncounted = self.flops, self.by_op, self.uncounted
        self.by_op, self.uncounted = defaultdict(int), set()
        try:
            out = self._run(func, args, kwargs)
            record = _record(out, args, self.flops - flops0, self.by_op, self.uncounted)
        finally:
            for k, v in self.by_op.items():
                by_op[k] += v
            uncounted |= self.uncounted
            self.by_op, self.uncounted = by_op, uncounted
        if record is not None:
            if len(_REPLAYS) >= _REPLAYS_MAX:
                _REPLAYS.clear()
            _REPLAYS[key] = record
        return out

    def _replay(self, hit: _Replay) -> Any:
        """Account for a recorded op and make its outputs (fresh ``meta`` tensors, no kernel run)."""
        self.flops += hit.flops
        for k, v in hit.by_op:
            self.by_op[k] += v
        self.uncounted.update(hit.uncounted)
        outs = [
            torch.empty_strided(shape, stride, dtype=dtype, device="meta")
            for shape, stride, dtype in hit.outs
        ]
        return outs[0] if hit.single else tuple(outs)

    def _run(self, func: Any, args: tuple, kwargs: dict) -> Any:
        packet = func._overloadpacket
        formula = flop_registry.get(packet)
        if formula is None and self.meta:
            out = _meta_output(func, args, kwargs)
            if out is not None:
                self.uncounted.add(str(packet))
                return out
        if formula is None and func not in _ATOMIC:
            with self:
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
            _ATOMIC.add(func)
        out = func(*args, **kwargs)
        if formula is None:
            name = str(packet)
            if name not in _NO_COMPUTE:
                self.uncounted.add(name)
        else:
            n = int(formula(*args, **kwargs, out_val=out))
            self.flops += n
            self.by_op[str(packet)] += n
        return out


@dataclass
class ModuleStat:
    """What one module did in the traced forward pass (batch dimension dropped from shapes).

    ``macs``, ``params`` and ``act_bytes`` include the module's children. ``act_bytes``: bytes of the outputs
    of the leaf modules inside it at batch 1 (identities and pass-through outputs excluded).
    """

    name: str
    kind: str
    in_shape: tuple[int, ...] | None = None
    out_shape: tuple[int, ...] | None = None
    macs: int = 0
    params: int = 0
    act_bytes: int = 0
    leaf: bool = False
    calls: int = 0
    conv: tuple[int, int, int, int] | None = None  # (kernel, stride, groups, dilation) of a Conv2d


@dataclass
class Trace:
    """Result of :func:`trace_model`. ``flops`` in flop_counter's convention (2 per MAC)."""

    modules: dict[str, ModuleStat]
    output_shape: tuple[int, ...]
    flops: int
    by_op: dict[str, int] = field(default_factory=dict)
    uncounted_ops: list[str] = field(default_factory=list)

    @property
    def macs(self) -> int:
        return self.flops // 2


def _shape_of(obj: Any) -> tuple[int, ...] | None:
    """Shape of a tensor (or of the first tensor in a tuple) without the batch dimension."""
    if isinstance(obj, Tensor):
        return tuple(obj.shape[1:])
    if isinstance(obj, (tuple, list)) and obj and isinstance(obj[0], Tensor):
        return tuple(obj[0].shape[1:])
    return None


def _make_hooks(stat: ModuleStat, counter: MacCounter, starts: dict[str, int]) -> tuple[Callable, Callable]:
    name = stat.name

    def pre_hook(module: nn.Module, args: tuple) -> None:
        starts[name] = counter.flops
        if stat.in_shape is None and args:
            stat.in_shape = _shape_of(args[0])

    def post_hook(module: nn.Module, args: tuple, out: Any) -> None:
        stat.macs += (counter.flops - starts[name]) // 2
        stat.calls += 1
        stat.out_shape = _shape_of(out)
        if stat.leaf and isinstance(out, Tensor) and not (args and out is args[0]):
            stat.act_bytes += out.numel() * out.element_size()

    return pre_hook, post_hook


def _hook(module: nn.Module, stat: ModuleStat, counter: MacCounter, starts: dict[str, int]) -> list[Any]:
    """Put :func:`_make_hooks`' hooks on ``module``; returns their handles."""
    pre, post = _make_hooks(stat, counter, starts)
    return [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]


def _params_by_prefix(model: nn.Module, modules: dict[str, ModuleStat]) -> None:
    for pname, p in model.named_parameters():
        parts = pname.split(".")[:-1]
        n = p.numel()
        modules[""].params += n
        for i in range(1, len(parts) + 1):
            stat = modules.get(".".join(parts[:i]))
            if stat is not None:
                stat.params += n


def _act_by_prefix(modules: dict[str, ModuleStat]) -> None:
    leaves = [(name, s.act_bytes) for name, s in modules.items() if s.leaf and name]
    for name, nbytes in leaves:
        parts = name.split(".")
        modules[""].act_bytes += nbytes
        for i in range(1, len(parts)):
            stat = modules.get(".".join(parts[:i]))
            if stat is not None:
                stat.act_bytes += nbytes


@dataclass(frozen=True)
class _PartRecord:
    """What one part (a module and everything inside it) did on ``meta`` tensors: its output's (shape,
    stride, dtype), FLOPs, FLOPs per op type, uncounted op types, and per inner module (name relative to
    the part) ``(in_shape, out_shape, macs, calls, act_bytes)`` as the hooks left them."""

    out: tuple[tuple[int, ...], tuple[int, ...], torch.dtype]
    flops: int
    by_op: tuple[tuple[str, int], ...]
    uncounted: frozenset[str]
    stats: tuple[tuple[str, Any, Any, int, int, int], ...]


#: Recorded parts (see :func:`trace_model`'s ``parts``), process-wide; cleared when it holds this many.
_PARTS_MAX = 2_000
_PARTS: dict[tuple, _PartRecord] = {}


def _part_forward(
    module: nn.Module,
    name: str,
    key: Hashable,
    counter: MacCounter,
    modules: dict[str, ModuleStat],
    attach: Callable[[], list[Any]],
) -> Callable[..., Any]:
    """A ``forward`` for ``module`` that replays a recorded run of an equal part on inputs of the same
    metadata, or runs the real one (with its inner modules' hooks, ``attach()``) and records it."""
    bound = type(module).forward.__get__(module)
    prefix = name + "."
    inner = [n for n in modules if n.startswith(prefix)]

    def real(*args: Any, **kwargs: Any) -> Any:
        handles = attach()
        try:
            return bound(*args, **kwargs)
        finally:
            for h in handles:
                h.remove()

    def forward(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            return real(*args, **kwargs)
        full: list = [key]
        try:
            for a in args:
                _add_key(a, full)
        except _NoKey:
            return real(*args)
        full_key = tuple(full)
        hit = _PARTS.get(full_key)
        if (
            hit is not None
            and len(hit.stats) == len(inner)
            and all(prefix + s[0] in modules for s in hit.stats)
        ):
            counter.flops += hit.flops
            for op, n in hit.by_op:
                counter.by_op[op] += n
            counter.uncounted.update(hit.uncounted)
            for rel, in_shape, out_shape, macs, calls, act in hit.stats:
                stat = modules[prefix + rel]
                stat.in_shape, stat.out_shape, stat.macs, stat.calls, stat.act_bytes = (
                    in_shape,
                    out_shape,
                    macs,
                    calls,
                    act,
                )
            shape, stride, dtype = hit.out
            return torch.empty_strided(shape, stride, dtype=dtype, device="meta")
        flops0, by_op, uncounted = counter.flops, counter.by_op, counter.uncounted
        counter.by_op, counter.uncounted = defaultdict(int), set()
        try:
            out = real(*args)
            mine = (counter.flops - flops0, tuple(counter.by_op.items()), frozenset(counter.uncounted))
        finally:
            for k, v in counter.by_op.items():
                by_op[k] += v
            uncounted |= counter.uncounted
            counter.by_op, counter.uncounted = by_op, uncounted
        if (
            isinstance(out, Tensor)
            and out.is_meta
            and not out.storage_offset()
            and all(out is not a for a in args)
        ):
            stats = tuple(
                (n[len(prefix) :], s.in_shape, s.out_shape, s.macs, s.calls, s.act_bytes)
                for n in inner
                for s in (modules[n],)
            )
            if len(_PARTS) >= _PARTS_MAX:
                _PARTS.clear()
            _PARTS[full_key] = _PartRecord((tuple(out.shape), out.stride(), out.dtype), *mine, stats)
        return out

    return forward


def trace_model(model: nn.Module, x: Tensor, parts: Mapping[str, Hashable] | None = None) -> Trace:
    """Run ``model(x)`` once under :class:`MacCounter` with hooks on every module.

    Args:
        model: any ``nn.Module`` (in eval mode for inference counts); hooks are removed afterwards.
        x: input batch (B, C, H, W); real or ``meta`` tensors.
        parts: for ``meta`` inputs, submodule name -> a key that determines that part completely (its
            structure and what its forward does; the caller's promise). A part whose key and input metadata
            were traced before (in this process) is not run: its recorded counts, inner modules' stats and
            output are replayed. :func:`idfy.analysis.measure.count` keys each stage by its config, its
            plan and every non-stage field of the design.

    Returns:
        :class:`Trace` with per-module stats keyed by module name (``""`` is the whole model).
    """
    counter = MacCounter(meta=x.device.type == "meta")
    starts: dict[str, int] = {}
    modules: dict[str, ModuleStat] = {}
    handles = []
    parts = parts if counter.meta and parts else {}
    inside: dict[str, list[tuple[nn.Module, ModuleStat]]] = {name: [] for name in parts}
    for name, module in model.named_modules():
        is_leaf = next(iter(module.children()), None) is None and not isinstance(module, nn.Identity)
        stat = ModuleStat(name=name, kind=type(module).__name__, leaf=is_leaf)
        if isinstance(module, nn.Conv2d):
            stat.conv = (module.kernel_size[0], module.stride[0], module.groups, module.dilation[0])
        modules[name] = stat
        if name == "":
            continue
        part = next((p for p in inside if name.startswith(p + ".")), None)
        if part is not None:  # hooked only if the part runs (a replayed part fills these stats itself)
            inside[part].append((module, stat))
            continue
        handles.extend(_hook(module, stat, counter, starts))
    patched = []
    for name, key in parts.items():
        module = model.get_submodule(name)

        def attach(todo: list[tuple[nn.Module, ModuleStat]] = inside[name]) -> list[Any]:
            return [h for m, st in todo for h in _hook(m, st, counter, starts)]

        module.forward = _part_forward(module, name, key, counter, modules, attach)
        patched.append(module)
    try:
        with torch.inference_mode(), counter:
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        for module in patched:
            del module.forward
    root = modules[""]
    root.in_shape, root.out_shape = tuple(x.shape[1:]), _shape_of(out)
    root.macs, root.calls = counter.flops // 2, 1
    _params_by_prefix(model, modules)
    _act_by_prefix(modules)
    return Trace(
        modules=modules,
        output_shape=_shape_of(out) or (),
        flops=counter.flops,
        by_op=dict(counter.by_op),
        uncounted_ops=sorted(counter.uncounted),
    )
