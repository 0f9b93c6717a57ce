"""Design controls <-> :class:`~idfy.config.ModelConfig`, as plain data (testable without a browser).

Every control has a dotted *key* (``"stages.1.conv.groups"``, ``"input.height"``, ``"stem.enabled"``);
:func:`config_to_values` fills all keys from a config and :func:`values_to_config` builds a validated
config back from them. Options the page has no control for (``gaussian.width``, ``dense.width``,
``name``, ``description``, stages beyond the fourth) are carried over from a *base* config, so a
design loaded from YAML loses nothing when one control changes.

:func:`make_controls` creates the Gradio components (grouped in accordions) in the current Blocks
context and returns them keyed the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from idfy._dataclass_io import to_plain
from idfy.config import BLOCK_ORDERS, ConfigError, ModelConfig, StageConfig, StemConfig, parse_order
from idfy.conv_kinds import conv_kind_names, uses
from idfy.substreams import dense_kind_names

__all__ = [
    "CONV_KINDS",
    "CUSTOM_ORDER",
    "KEYS",
    "MAX_STAGES",
    "SPECS",
    "ControlError",
    "ControlSpec",
    "config_to_values",
    "conv_field_visibility",
    "order_choice_for",
    "order_text_for",
    "values_to_config",
]

#: Stages the page shows controls for (a config may hold up to 8; extra ones are kept from the base).
MAX_STAGES = 4
CONV_KINDS = conv_kind_names()
CUSTOM_ORDER = "custom"


@dataclass(frozen=True)
class ControlSpec:
    """One control: its key, label and widget (``int``, ``float``, ``check``, ``drop``, ``radio``, ``text``,
    ``slider``) with choices or bounds."""

    key: str
    label: str
    widget: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    info: str | None = None
    group: str = ""


def _stage_specs(i: int) -> list[ControlSpec]:
    p, g = f"stages.{i}.", f"stage{i}"
    return [
        ControlSpec(p + "width", "width", "int", minimum=1, maximum=4096, group=g),
        ControlSpec(p + "depth", "blocks", "int", minimum=1, maximum=16, group=g),
        ControlSpec(p + "stride", "stride", "drop", (1, 2), group=g),
        ControlSpec(p + "down", "downsample", "drop", ("avgpool", "maxpool", "conv"), group=g),
        ControlSpec(p + "conv.kind", "conv", "drop", CONV_KINDS, group=g),
        ControlSpec(p + "conv.groups", "groups", "int", minimum=1, maximum=4096, group=g),
        ControlSpec(p + "conv.dilation", "dilation", "int", minimum=1, maximum=16, group=g),
        ControlSpec(p + "conv.ghost_ratio", "ghost ratio", "int", minimum=2, maximum=8, group=g),
        ControlSpec(p + "inject", "inject image", "check", group=g),
        ControlSpec(p + "gaussian.enabled", "Gaussian", "check", group=g),
        ControlSpec(p + "gaussian.sigmas", "σ list", "text", group=g),
        ControlSpec(p + "gaussian.learnable", "learnable σ", "check", group=g),
        ControlSpec(p + "gaussian.dog", "DoG", "check", group=g),
        ControlSpec(p + "dense.kind", "dense", "drop", dense_kind_names(), group=g),
        ControlSpec(p + "dense.reduction", "reduction", "int", minimum=1, maximum=64, group=g),
        ControlSpec(p + "fuse_project", "1×1 fuse", "check", group=g),
    ]


#: Every control, in the order the handlers receive them.
SPECS: tuple[ControlSpec, ...] = (
    ControlSpec("input.channels", "channels", "drop", (1, 3), group="input"),
    ControlSpec("input.height", "height", "int", minimum=8, maximum=2048, group="input"),
    ControlSpec("input.width", "width", "int", minimum=8, maximum=2048, group="input"),
    ControlSpec("input.scale", "scale (S9)", "float", minimum=0.001, maximum=10000, group="input"),
    ControlSpec("stem.enabled", "stem conv", "check", group="stem"),
    ControlSpec("stem.width", "width", "int", minimum=1, maximum=1024, group="stem"),
    ControlSpec("stem.kernel", "kernel", "drop", (1, 3, 5, 7), group="stem"),
    ControlSpec("stem.stride", "stride", "drop", (1, 2), group="stem"),
    ControlSpec("stem.conv.kind", "conv", "drop", CONV_KINDS, group="stem"),
    ControlSpec("stem.conv.groups", "groups", "int", minimum=1, maximum=1024, group="stem"),
    ControlSpec("stem.conv.dilation", "dilation", "int", minimum=1, maximum=16, group="stem"),
    ControlSpec("stem.conv.ghost_ratio", "ghost ratio", "int", minimum=2, maximum=8, group="stem"),
    ControlSpec("stages.count", "stages", "slider", minimum=1, maximum=MAX_STAGES, step=1, group="stages"),
    *[s for i in range(MAX_STAGES) for s in _stage_specs(i)],
    ControlSpec("block.order", "order", "drop", (*BLOCK_ORDERS, CUSTOM_ORDER), group="block"),
    ControlSpec("block.order_text", "steps (conv, bn, relu, add joined by '-')", "text", group="block"),
    ControlSpec("block.kernel", "kernel", "drop", (1, 3, 5, 7), group="block"),
    ControlSpec("block.norm", "norm", "drop", ("batch", "group", "none"), group="block"),
    ControlSpec("block.act", "activation", "drop", ("relu", "gelu", "silu", "leaky_relu"), group="block"),
    ControlSpec("inject.stem", "after stem", "check", group="inject"),
    ControlSpec("inject.head", "before head", "check", group="inject"),
    ControlSpec("inject.mode", "resize", "drop", ("bicubic", "bilinear", "area"), group="inject"),
    ControlSpec("inject.antialias", "antialias", "check", group="inject"),
    ControlSpec("inject.project", "1×1 project", "check", group="inject"),
    ControlSpec("head.kind", "head", "radio", ("flatten", "conv1x1"), group="head"),
    ControlSpec("head.widths", "widths (e.g. 128, 64)", "text", group="head"),
    ControlSpec("head.dropout", "dropout", "float", minimum=0, maximum=0.95, group="head"),
    ControlSpec("task", "task", "radio", ("localize", "classify"), group="head"),
    ControlSpec("num_classes", "classes", "int", minimum=1, maximum=100000, group="head"),
)
KEYS: tuple[str, ...] = tuple(s.key for s in SPECS)
_SPEC = {s.key: s for s in SPECS}


# --------------------------------------------------------------------------- config -> values
def _fmt_list(xs: Sequence[float]) -> str:
    return ", ".join(f"{x:g}" for x in xs)


def order_choice_for(order: str) -> str:
    """Dropdown value for a block order: its name when it is (or spells) a named order, else ``custom``."""
    if order in BLOCK_ORDERS:
        return order
    try:
        tokens = parse_order(order)
    except ConfigError:
        return CUSTOM_ORDER
    for name, text in BLOCK_ORDERS.items():
        if parse_order(text) == tokens:
            return name
    return CUSTOM_ORDER


def order_text_for(order: str) -> str:
    """The token spelling of a named order (``preact`` -> ``bn-relu-conv-bn-relu-conv-add``)."""
    return BLOCK_ORDERS.get(order, order)


def _stage_values(i: int, st: StageConfig) -> dict[str, Any]:
    p = f"stages.{i}."
    return {
        p + "width": st.width,
        p + "depth": st.depth,
        p + "stride": st.stride,
        p + "down": st.down,
        p + "conv.kind": st.conv.kind,
        p + "conv.groups": st.conv.groups,
        p + "conv.dilation": st.conv.dilation,
        p + "conv.ghost_ratio": st.conv.ghost_ratio,
        p + "inject": st.inject,
        p + "gaussian.enabled": st.gaussian.enabled,
        p + "gaussian.sigmas": _fmt_list(st.gaussian.sigmas),
        p + "gaussian.learnable": st.gaussian.learnable,
        p + "gaussian.dog": st.gaussian.dog,
        p + "dense.kind": st.dense.kind,
        p + "dense.reduction": st.dense.reduction,
        p + "fuse_project": st.fuse_project,
    }


def config_to_values(cfg: ModelConfig) -> dict[str, Any]:
    """Every control's value for ``cfg``. Stage rows beyond ``len(cfg.stages)`` get a sensible next stage
    (twice the previous width, stride 2) so that raising the stage count shows something reasonable."""
    stem = cfg.stem or StemConfig()
    v: dict[str, Any] = {
        "input.channels": cfg.input.channels,
        "input.height": cfg.input.size[0],
        "input.width": cfg.input.size[1],
        "input.scale": cfg.input.scale,
        "stem.enabled": cfg.stem is not None,
        "stem.width": stem.width,
        "stem.kernel": stem.kernel,
        "stem.stride": stem.stride,
        "stem.conv.kind": stem.conv.kind,
        "stem.conv.groups": stem.conv.groups,
        "stem.conv.dilation": stem.conv.dilation,
        "stem.conv.ghost_ratio": stem.conv.ghost_ratio,
        "stages.count": min(len(cfg.stages), MAX_STAGES),
        "block.order": order_choice_for(cfg.block.order),
        "block.order_text": order_text_for(cfg.block.order),
        "block.kernel": cfg.block.kernel,
        "block.norm": cfg.block.norm,
        "block.act": cfg.block.act,
        "inject.stem": cfg.inject.stem,
        "inject.head": cfg.inject.head,
        "inject.mode": cfg.inject.mode,
        "inject.antialias": cfg.inject.antialias,
        "inject.project": cfg.inject.project,
        "head.kind": cfg.head.kind,
        "head.widths": _fmt_list(cfg.head.widths),
        "head.dropout": cfg.head.dropout,
        "task": cfg.task,
        "num_classes": cfg.num_classes,
    }
    last = cfg.stages[0]
    for i in range(MAX_STAGES):
        if i < len(cfg.stages):
            last = cfg.stages[i]
            v.update(_stage_values(i, last))
        else:
            filler = StageConfig(width=min(4096, last.width * 2), depth=1, stride=2, down=last.down)
            v.update(_stage_values(i, filler))
            last = filler
    return v


# --------------------------------------------------------------------------- values -> config
def _where(key: str) -> str:
    parts = key.split(".")
    if parts[0] == "stages" and parts[1].isdigit():
        return f"stage {int(parts[1]) + 1} {_SPEC[key].label}"
    return key


class ControlError(ConfigError):
    """A control holds something unusable; ``key`` names the control (``stages.0.width``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _int(values: Mapping[str, Any], key: str) -> int:
    raw = values.get(key)
    if raw is None or raw == "":
        raise ControlError(key, f"{_where(key)}: enter a whole number")
    try:
        f = float(raw)
    except (TypeError, ValueError):
        raise ControlError(key, f"{_where(key)}: {raw!r} is not a whole number") from None
    if not f.is_integer():
        raise ControlError(key, f"{_where(key)}: {raw!r} is not a whole number")
    return int(f)


def _float(values: Mapping[str, Any], key: str) -> float:
    raw = values.get(key)
    if raw is None or raw == "":
        raise ControlError(key, f"{_where(key)}: enter a number")
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ControlError(key, f"{_where(key)}: {raw!r} is not a number") from None


def _choice(values: Mapping[str, Any], key: str) -> Any:
    raw = values.get(key)
    choices = _SPEC[key].choices
    for c in choices:  # radios may come back as strings
        if raw == c or str(raw) == str(c):
            return c
    raise ControlError(key, f"{_where(key)}: choose one of {', '.join(map(str, choices))} (got {raw!r})")


def _numbers(text: Any, key: str, kind: type) -> list[Any]:
    parts = [p for p in str(text or "").replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        try:
            x = float(p)
        except ValueError:
            raise ControlError(
                key, f"{_where(key)}: {p.strip()!r} is not a number; write e.g. '128, 64'"
            ) from None
        if kind is int:
            if not x.is_integer():
                raise ControlError(key, f"{_where(key)}: {p.strip()!r} is not a whole number")
            out.append(int(x))
        else:
            out.append(x)
    return out


def _conv(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {
        "kind": _choice(values, prefix + "conv.kind"),
        "groups": _int(values, prefix + "conv.groups"),
        "dilation": _int(values, prefix + "conv.dilation"),
        "ghost_ratio": _int(values, prefix + "conv.ghost_ratio"),
    }


def _stage_dict(values: Mapping[str, Any], i: int, base: dict[str, Any]) -> dict[str, Any]:
    p = f"stages.{i}."
    d = copy.deepcopy(base)
    d.update(
        width=_int(values, p + "width"),
        depth=_int(values, p + "depth"),
        stride=_choice(values, p + "stride"),
        down=_choice(values, p + "down"),
        inject=bool(values.get(p + "inject")),
        fuse_project=bool(values.get(p + "fuse_project")),
    )
    d["conv"] = _conv(values, p)
    g = dict(d.get("gaussian") or {})
    g.update(
        enabled=bool(values.get(p + "gaussian.enabled")),
        learnable=bool(values.get(p + "gaussian.learnable")),
        dog=bool(values.get(p + "gaussian.dog")),
    )
    sigmas = _numbers(values.get(p + "gaussian.sigmas"), p + "gaussian.sigmas", float)
    if g["enabled"] and not sigmas:
        raise ControlError(
            p + "gaussian.sigmas", f"stage {i + 1}: the Gaussian sub-stream needs at least one σ, e.g. '1, 2'"
        )
    g["sigmas"] = sigmas or list(g.get("sigmas") or [1.0, 2.0])
    d["gaussian"] = g
    dense = dict(d.get("dense") or {})
    dense.update(kind=_choice(values, p + "dense.kind"), reduction=_int(values, p + "dense.reduction"))
    d["dense"] = dense
    return d


# One statement per config section in the config's order (~64 lines): the whole mapping in one view.
def values_to_config(values: Mapping[str, Any], base: ModelConfig | None = None) -> ModelConfig:
    """Build the config the controls describe; options without a control come from ``base``.

    Raises:
        ConfigError: a control holds something unusable (empty number, bad list) or the combination is
            invalid; the message names the control ("stage 2 groups: ...").
    """
    base = base or ModelConfig()
    d = base.to_dict()
    d["input"] = {
        "channels": _choice(values, "input.channels"),
        "size": [_int(values, "input.height"), _int(values, "input.width")],
        "scale": _float(values, "input.scale"),
    }
    if values.get("stem.enabled"):
        d["stem"] = {
            "width": _int(values, "stem.width"),
            "kernel": _choice(values, "stem.kernel"),
            "stride": _choice(values, "stem.stride"),
            "conv": _conv(values, "stem."),
        }
    else:
        d["stem"] = None
    count = _int(values, "stages.count")
    if not 1 <= count <= MAX_STAGES:
        raise ControlError("stages.count", f"stages: choose 1 to {MAX_STAGES} stages (got {count})")
    stages = []
    for i in range(count):
        src = d["stages"][i] if i < len(d["stages"]) else to_plain(StageConfig())
        stages.append(_stage_dict(values, i, src))
    if count == MAX_STAGES and len(d["stages"]) > MAX_STAGES:
        stages.extend(d["stages"][MAX_STAGES:])  # stages the page has no controls for stay as loaded
    d["stages"] = stages
    choice = values.get("block.order")
    order = (
        str(values.get("block.order_text") or "").strip()
        if choice == CUSTOM_ORDER
        else _choice(values, "block.order")
    )
    if not order:
        raise ControlError(
            "block.order_text", "block.order: write a custom order such as 'bn-relu-conv-bn-relu-conv-add'"
        )
    d["block"] = {
        "order": order,
        "kernel": _choice(values, "block.kernel"),
        "norm": _choice(values, "block.norm"),
        "act": _choice(values, "block.act"),
    }
    d["inject"] = {
        "stem": bool(values.get("inject.stem")),
        "head": bool(values.get("inject.head")),
        "mode": _choice(values, "inject.mode"),
        "antialias": bool(values.get("inject.antialias")),
        "project": bool(values.get("inject.project")),
    }
    d["head"] = {
        "kind": _choice(values, "head.kind"),
        "widths": _numbers(values.get("head.widths"), "head.widths", int),
        "dropout": _float(values, "head.dropout"),
    }
    d["task"] = _choice(values, "task")
    d["num_classes"] = _int(values, "num_classes")
    return ModelConfig.from_dict(d)


# --------------------------------------------------------------------------- small UI rules
def conv_field_visibility(kind: str) -> tuple[bool, bool, bool]:
    """Which of (groups, dilation, ghost ratio) a conv kind uses (from :mod:`idfy.conv_kinds`)."""
    return uses(kind, "groups"), uses(kind, "dilation"), uses(kind, "ghost_ratio")
