"""Which control an invalid design's message is about, and single changes that are *tested* to fix it.

The page marks the control an error names (:func:`locate`) and lists changes that make the design valid
(:func:`suggest_fixes`): each suggestion is checked by building the config, so a hint never names a change
that does not help. :func:`fix_conv_for_kind` fills groups / dilation with values that pass validation when a
conv kind is picked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from idfy.config import ConfigError, ModelConfig
from idfy.ui.controls import KEYS, SPECS, ControlError, config_to_values, values_to_config

__all__ = ["field_name", "fix_conv_for_kind", "headline", "locate", "suggest_fixes"]

_SPEC = {s.key: s for s in SPECS}
_STAGE = re.compile(r"^stage (\d+)(?: block 1| blocks)?: (.*)$", re.S)
#: (pattern in the message after "stage N: " / "stem: ", control key suffix), first match wins.
_PART_RULES = (
    (r"ghost_ratio", "conv.ghost_ratio"),
    (r"\bgroups\b", "conv.groups"),
    (r"\bdilation\b", "conv.dilation"),
    (r"^width=", "width"),
    (r"^depth=", "depth"),
    (r"\bstride\b", "stride"),
    (r"gaussian\.dog", "gaussian.dog"),
    (r"gaussian", "gaussian.sigmas"),
    (r"dense\.kind|non-local", "dense.kind"),
    (r"dense", "dense.reduction"),
)
#: (pattern at the start of a message about the whole design, control key).
_TOP_RULES = (
    (r"^stem\.width", "stem.width"),
    (r"^stem\.kernel", "stem.kernel"),
    (r"^stem\.stride", "stem.stride"),
    (r"^input\.channels", "input.channels"),
    (r"^input\.size", "input.height"),
    (r"^input\.scale", "input.scale"),
    (r"^num_classes", "num_classes"),
    (r"^head\.dropout", "head.dropout"),
    (r"^head", "head.widths"),
    (r"^block\.kernel", "block.kernel"),
    (r"^stages:", "stages.count"),
    (r"order|unit", "block.order_text"),
)


def locate(error: BaseException | str) -> str | None:
    """The control key an error is about (``stages.0.conv.groups``), or None when no control matches.

    A :class:`~idfy.ui.controls.ControlError` carries its key; a validation message of
    :class:`~idfy.config.ModelConfig` is read by its prefix (``stage 2 block 1: groups=3 ...``, ``stem: ...``,
    ``input.size=...``).
    """
    if isinstance(error, ControlError):
        return error.key if error.key in KEYS else None
    message = str(error)
    m = _STAGE.match(message)
    prefix, rest = "", message
    if m:
        prefix, rest = f"stages.{int(m[1]) - 1}.", m[2]
    elif message.startswith("stem: "):
        prefix, rest = "stem.", message[len("stem: ") :]
    if prefix:
        for pattern, suffix in _PART_RULES:
            if re.search(pattern, rest):
                key = prefix + suffix
                return key if key in _SPEC else None
        return None
    for pattern, key in _TOP_RULES:
        if re.search(pattern, message):
            return key
    return None


def field_name(key: str) -> str:
    """How the page names a control: ``stages.1.conv.groups`` -> ``stage 2 groups``; ``stem.width`` -> ``stem
    width``; ``input.scale`` -> ``input scale (S9)``."""
    spec = _SPEC.get(key)
    label = (spec.label if spec else key).split(" (e.g.")[0].split(" (conv,")[0]
    parts = key.split(".")
    if parts[0] == "stages" and len(parts) > 2 and parts[1].isdigit():
        return f"stage {int(parts[1]) + 1} {label}"
    if parts[0] in ("stem", "input", "head", "inject", "block") and not label.startswith(parts[0]):
        return f"{parts[0]} {label}"
    return label


def headline(message: str) -> str:
    """The message without the library's own advice after its first ``; `` (the page lists tested fixes)."""
    return str(message).split("; ", 1)[0]


def _valid(values: Mapping[str, Any], base: ModelConfig | None) -> bool:
    try:
        values_to_config(values, base)
    except ConfigError:
        return False
    return True


def _int_or(raw: Any, default: int) -> int:
    try:
        return int(float(raw))
    except (TypeError, ValueError):
        return default


def _candidates(key: str, current: Any, last: Any = None) -> list[Any]:
    """Values worth trying for ``key``, nearest to ``current`` first (at most ~24); ``last``, the value in the
    last valid design, is tried too (for text fields such as the σ list it is the only candidate)."""
    spec = _SPEC[key]
    if spec.widget in ("text", "float"):
        return [last] if last is not None and str(last) != str(current) else []
    if spec.widget in ("drop", "radio"):
        return [c for c in spec.choices if str(c) != str(current)]
    if spec.widget == "check":
        return [not bool(current)]
    if spec.widget in ("int", "slider"):
        lo, hi = int(spec.minimum or 1), int(spec.maximum or 4096)
        v = min(max(_int_or(current, lo), lo), hi)
        if key.endswith("conv.groups"):
            pool = range(1, min(hi, 64) + 1)
        else:
            pool = {v + d for d in range(-8, 9)} | {v * 2, max(lo, v // 2)}
        out = sorted(
            (x for x in pool if lo <= x <= hi and x != _int_or(current, -1)), key=lambda x: abs(x - v)
        )
        return out[:24]
    return []


def _related(key: str) -> list[str]:
    """Controls whose single change may fix an error at ``key``: itself first, then its stage's conv kind
    and width (and the stem, for the first stage's conv)."""
    out = [key]
    parts = key.split(".")
    if parts[0] == "stages" and len(parts) > 2:
        p = f"stages.{parts[1]}."
        if "conv" in parts:
            out += [p + "conv.kind", p + "width"]
            if parts[1] == "0":
                out.append("stem.enabled")
    elif parts[0] == "stem" and "conv" in parts:
        out += ["stem.conv.kind", "stem.width"]
    return [k for k in dict.fromkeys(out) if k in _SPEC]


def suggest_fixes(
    values: Mapping[str, Any], key: str | None, base: ModelConfig | None = None, limit: int = 3
) -> list[tuple[str, Any]]:
    """Up to ``limit`` single changes ``(control key, new value)`` that each make the design valid, tried in
    the order of :func:`_related` and nearest values first. Empty when ``key`` is None or nothing single works.
    """
    if key is None or key not in _SPEC:
        return []
    out: list[tuple[str, Any]] = []
    last = config_to_values(base) if base is not None else {}
    for k in _related(key):
        for value in _candidates(k, values.get(k), last.get(k)):
            trial = {**values, k: value}
            if _valid(trial, base):
                out.append((k, value))
                break  # one value per control: the nearest that works
        if len(out) >= limit:
            break
    return out


def fix_conv_for_kind(
    values: Mapping[str, Any], prefix: str, base: ModelConfig | None = None
) -> tuple[Any, Any]:
    """Groups and dilation for the conv kind just picked at ``prefix`` (``stages.0.`` or ``stem.``), chosen so
    that the conv is valid: group / sparse need groups ≥ 2 that divide the conv's channels, dilated / sparse
    need dilation ≥ 2. When no group count can work here (e.g. 3 input channels and 8 outputs), the current
    value stays and the page's error names a change that does fix it."""
    kind = values.get(prefix + "conv.kind")
    groups, dilation = values.get(prefix + "conv.groups"), values.get(prefix + "conv.dilation")
    g, dl = _int_or(groups, 1), _int_or(dilation, 1)
    if kind in ("dilated", "sparse") and dl < 2:
        dl = 2
    if kind not in ("group", "sparse", "ghost"):
        return (g if groups is not None else groups), dl
    lowest = 1 if kind == "ghost" else 2
    trials = ([g] if g >= lowest else []) + [x for x in range(lowest, 65) if x != g]
    own = {
        prefix + "conv.groups",
        prefix + "conv.dilation",
        prefix + "conv.kind",
        prefix + "conv.ghost_ratio",
    }
    for x in trials:
        trial = {**values, prefix + "conv.groups": x, prefix + "conv.dilation": dl}
        try:
            values_to_config(trial, base)
        except ConfigError as e:
            if locate(e) in own:
                continue
            return x, dl  # something else is wrong: this conv's fields are not the cause
        return x, dl
    return g, dl
