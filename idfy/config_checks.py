"""Validation of a :class:`~idfy.config.ModelConfig`, one function per section, run by its
``__post_init__`` before any module is built. Every refusal is a one-line :class:`ConfigError` saying what
is wrong and how to fix it.

Also here: the residual-unit grammar (:data:`BLOCK_ORDERS`, :func:`parse_order`) and the size limits
(:data:`MAX_INPUT_SIDE`, :data:`MAX_FC_WEIGHT_BYTES`); :mod:`idfy.config` re-exports them.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from idfy._dataclass_io import ConfigError, short_repr
from idfy.conv_kinds import conv_kind, conv_kind_names
from idfy.substreams import DenseKind, dense_kind, dense_kind_names

if TYPE_CHECKING:  # the config module imports this one
    from idfy.config import ConvSpec, ModelConfig, StageConfig
    from idfy.plan import StagePlan

__all__ = ["BLOCK_ORDERS", "MAX_FC_WEIGHT_BYTES", "MAX_INPUT_SIDE", "check_conv", "parse_order", "validate"]

T = TypeVar("T")

#: Named residual-unit orders (He et al. 2016, "Identity Mappings in Deep Residual Networks", Fig. 4).
#: Tokens before ``add`` form the residual branch; tokens after it act on the sum.
BLOCK_ORDERS: dict[str, str] = {
    "original": "conv-bn-relu-conv-bn-add-relu",  # (a) original ResNet unit
    "bn_after_add": "conv-bn-relu-conv-add-bn-relu",  # (b) BN after addition
    "relu_before_add": "conv-bn-relu-conv-bn-relu-add",  # (c) ReLU before addition
    "relu_preact": "relu-conv-bn-relu-conv-bn-add",  # (d) ReLU-only pre-activation
    "preact": "bn-relu-conv-bn-relu-conv-add",  # (e) full pre-activation (S8's favourite)
}
_TOKENS = ("conv", "bn", "relu", "add")

#: A flatten head whose first FC weight would need more than this many bytes (fp32) is refused.
MAX_FC_WEIGHT_BYTES = 512 * 2**20
#: Largest accepted input side in pixels.
MAX_INPUT_SIDE = 2048
_MIN_INPUT_SIDE = 8
#: Longest accepted ``name`` and ``description`` (characters); both are shown on the page.
_MAX_NAME, _MAX_DESCRIPTION = 100, 2000
_KERNELS = (1, 3, 5, 7)


def parse_order(order: str) -> tuple[str, ...]:
    """Turn a named order or a dash-separated token string into a validated token tuple.

    Returns:
        tuple of tokens from ``conv``, ``bn``, ``relu``, ``add``: exactly two ``conv`` and one ``add``,
        both convs before the ``add``.

    Raises:
        ConfigError: for unknown tokens or a malformed unit.
    """
    text = BLOCK_ORDERS.get(order, order)
    tokens = tuple(
        t.strip().lower() for t in text.replace(",", "-").replace(">", "-").split("-") if t.strip()
    )
    bad = [t for t in tokens if t not in _TOKENS]
    names = ", ".join(BLOCK_ORDERS)
    if bad:
        raise ConfigError(
            f"block.order: unknown step {short_repr(bad[0])} in {short_repr(order)}. Use one of {names} "
            "or a dash-separated sequence of conv, bn, relu, add (e.g. 'bn-relu-conv-bn-relu-conv-add')."
        )
    if tokens.count("add") != 1 or tokens.count("conv") != 2:
        raise ConfigError(
            f"block.order: {short_repr(order)} must contain exactly two 'conv' and one 'add' "
            f"(a residual unit of two convolutions); named orders: {names}."
        )
    if tokens.index("add") < max(i for i, t in enumerate(tokens) if t == "conv"):
        raise ConfigError(
            f"block.order: in {short_repr(order)} both convs must come before 'add' (the residual branch)."
        )
    return tokens


def check_conv(where: str, spec: ConvSpec, cin: int, cout: int) -> None:
    """A conv of ``spec`` from ``cin`` to ``cout`` channels: a registered kind, its dilation / groups /
    ghost ratio in range, and channel counts its groups divide (or the kind's own check)."""
    kind = _registered(where, "conv.kind", spec.kind, conv_kind, conv_kind_names)
    if spec.dilation < 1 or spec.dilation > 16:
        raise ConfigError(f"{where}: dilation={spec.dilation} must be between 1 and 16")
    if spec.groups < 1:
        raise ConfigError(f"{where}: groups={spec.groups} must be at least 1")
    if spec.dilation < kind.min_dilation:
        raise ConfigError(
            f"{where}: a {spec.kind} conv needs dilation ≥ {kind.min_dilation} (it is {spec.dilation}); "
            "or use kind: regular"
        )
    if spec.groups < kind.min_groups:
        raise ConfigError(
            f"{where}: a {spec.kind} conv needs groups ≥ {kind.min_groups} (it is {spec.groups}); "
            "or use kind: regular"
        )
    if spec.ghost_ratio < 2 or spec.ghost_ratio > 8:
        raise ConfigError(f"{where}: ghost_ratio={spec.ghost_ratio} must be between 2 and 8")
    if kind.check is not None:
        kind.check(where, spec, cin, cout)
        return
    g = spec.eff_groups
    for label, c in (("input", cin), ("output", cout)):
        if c % g:
            raise ConfigError(
                f"{where}: groups={g} does not divide {c} {label} channels; choose groups from "
                f"{_divisors(math.gcd(cin, cout))} or change the width"
            )


def _registered(where: str, key: str, name: str, lookup: Callable[[str], T], names: Callable[[], tuple]) -> T:
    """``lookup(name)``, or a ``ConfigError`` naming the registered choices (with a close match)."""
    try:
        return lookup(name)
    except KeyError:
        choices = names()
        close = difflib.get_close_matches(name, choices, n=1) if len(name) <= 64 else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"{where}: {key} {short_repr(name)} is not one of {', '.join(map(repr, choices))}{hint}"
        ) from None


def _dense_kind(where: str, name: str) -> DenseKind:
    """The registered dense kind ``name``, or a ``ConfigError`` naming the choices (with a close match)."""
    return _registered(where, "dense.kind", name, dense_kind, dense_kind_names)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0][:8]


def validate(cfg: ModelConfig) -> None:
    """Check every option of ``cfg``, section by section, in the order a reader meets them.

    Raises:
        ConfigError: the first problem found, in one line with its fix.
    """
    _check_text(cfg)
    _check_input(cfg)
    _check_block(cfg)
    _check_stem(cfg)
    plan = cfg.plan()
    for i in range(len(cfg.stages)):
        _check_stage(cfg, i, plan.stages[i])
    _check_head(cfg)


def _check_text(cfg: ModelConfig) -> None:
    if len(cfg.name) > _MAX_NAME:
        raise ConfigError(f"name: {len(cfg.name):,} characters; at most {_MAX_NAME}")
    if len(cfg.description) > _MAX_DESCRIPTION:
        raise ConfigError(f"description: {len(cfg.description):,} characters; at most {_MAX_DESCRIPTION}")


def _check_input(cfg: ModelConfig) -> None:
    """``input``, ``num_classes`` and the number of stages."""
    inp = cfg.input
    if inp.channels not in (1, 3):
        raise ConfigError(f"input.channels={inp.channels}: must be 1 (grey) or 3 (RGB)")
    for s in inp.size:
        if not _MIN_INPUT_SIDE <= s <= MAX_INPUT_SIDE:
            raise ConfigError(
                f"input.size={list(inp.size)}: each side must be between {_MIN_INPUT_SIDE} and "
                f"{MAX_INPUT_SIDE} pixels"
            )
    if not (math.isfinite(inp.scale) and 0 < inp.scale <= 1e4):
        raise ConfigError(
            f"input.scale={inp.scale}: must be a positive number (1, 10 and 255 are typical; S9)"
        )
    if cfg.num_classes < 1 or cfg.num_classes > 100_000:
        raise ConfigError(f"num_classes={cfg.num_classes}: must be between 1 and 100000")
    if not cfg.stages:
        raise ConfigError("stages: at least one stage is needed")
    if len(cfg.stages) > 8:
        raise ConfigError(f"stages: {len(cfg.stages)} stages given; at most 8 are supported")


def _check_block(cfg: ModelConfig) -> None:
    parse_order(cfg.block.order)
    if cfg.block.kernel not in _KERNELS:
        raise ConfigError(f"block.kernel={cfg.block.kernel}: use 1, 3, 5 or 7")


def _check_stem(cfg: ModelConfig) -> None:
    st = cfg.stem
    if st is None:
        return
    if not 1 <= st.width <= 1024:
        raise ConfigError(f"stem.width={st.width}: must be between 1 and 1024 (or set `stem: null`)")
    if st.kernel not in _KERNELS:
        raise ConfigError(f"stem.kernel={st.kernel}: use 1, 3, 5 or 7")
    if st.stride not in (1, 2):
        raise ConfigError(f"stem.stride={st.stride}: must be 1 or 2")
    check_conv("stem", st.conv, cfg.input.channels, st.width)


def _check_stage(cfg: ModelConfig, i: int, sp: StagePlan) -> None:
    """Stage ``i`` (shown 1-based): its sizes, its convs, where it downsamples (from the plan ``sp``) and
    its sub-streams."""
    st = cfg.stages[i]
    where = f"stage {i + 1}"
    if not 1 <= st.width <= 4096:
        raise ConfigError(f"{where}: width={st.width} must be between 1 and 4096")
    if not 1 <= st.depth <= 16:
        raise ConfigError(f"{where}: depth={st.depth} must be between 1 and 16 blocks")
    if st.stride not in (1, 2):
        raise ConfigError(f"{where}: stride={st.stride} must be 1 or 2")
    check_conv(f"{where} block 1", st.conv, sp.block_in_shape[0], st.width)
    check_conv(f"{where} blocks", st.conv, st.width, st.width)
    _, h, w = sp.in_shape
    if st.stride == 2 and min(h, w) < 2:
        raise ConfigError(
            f"{where}: stride 2 would shrink the {h}×{w} map below 1×1; use stride 1 here, "
            "fewer stages or a larger input.size"
        )
    _check_gaussian(where, st)
    _check_dense(where, st, sp)


def _check_gaussian(where: str, st: StageConfig) -> None:
    g = st.gaussian
    if not g.enabled:
        return
    if not 1 <= len(g.sigmas) <= 6:
        raise ConfigError(f"{where}: gaussian.sigmas needs 1 to 6 values, got {len(g.sigmas):,}")
    if any(not (0.1 <= s <= 16) for s in g.sigmas):
        raise ConfigError(
            f"{where}: gaussian.sigmas {short_repr(list(g.sigmas))} must lie between 0.1 and 16"
        )
    if g.dog and len(g.sigmas) < 2:
        raise ConfigError(f"{where}: gaussian.dog needs at least two sigmas (differences of Gaussians)")
    if st.gaussian_width() < 1:
        raise ConfigError(f"{where}: gaussian.width must be at least 1")


def _check_dense(where: str, st: StageConfig, sp: StagePlan) -> None:
    """The dense sub-stream: a registered kind, its reduction and width, and the kind's own check on the
    stage's output map."""
    if st.dense.kind == "none":
        return
    kind = _dense_kind(where, st.dense.kind)
    if not 1 <= st.dense.reduction <= 64:
        raise ConfigError(f"{where}: dense.reduction={st.dense.reduction} must be between 1 and 64")
    if st.dense_width() < 1:
        raise ConfigError(f"{where}: dense.width must be at least 1")
    if kind.check is not None:
        _, h, w = sp.out_shape
        kind.check(where, (st.width, h, w), st.dense.reduction, st.dense_width())


def _check_head(cfg: ModelConfig) -> None:
    """``head``: widths and dropout in range; a flatten head's first FC layer within
    :data:`MAX_FC_WEIGHT_BYTES`."""
    head = cfg.head
    if len(head.widths) > 12:  # the length first: a long list is never listed in a message (fuzz-7)
        raise ConfigError(f"head.widths: {len(head.widths):,} layers; at most 12")
    if any(not 1 <= x <= 65536 for x in head.widths):
        raise ConfigError(f"head.widths {list(head.widths)}: every width must be between 1 and 65536")
    if not 0.0 <= head.dropout < 1.0:
        raise ConfigError(f"head.dropout={head.dropout}: must be in [0, 1)")
    if head.kind != "flatten":
        return
    c, hh, ww = cfg.head_in_shape()
    feats = c * hh * ww
    first = head.widths[0] if head.widths else cfg.num_outputs
    nbytes = feats * first * 4
    if nbytes > MAX_FC_WEIGHT_BYTES:
        raise ConfigError(
            f"head: flattening the {c}×{hh}×{ww} map gives {feats:,} features; its first FC layer "
            f"({feats:,}×{first:,}) would hold {feats * first / 1e6:,.0f} M weights "
            f"({nbytes / 2**30:.1f} GiB, limit {MAX_FC_WEIGHT_BYTES / 2**20:.0f} MiB). Use a smaller "
            "input.size, more stride-2 stages, a narrower first FC width, or head.kind: conv1x1"
        )
