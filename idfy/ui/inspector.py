"""What the diagram shows when a node is clicked: module path, shapes, params, MACs, receptive field and the
controls that shape it (plain data; the page's script renders it).

Diagram node ids follow module names with ``/`` for ``.`` (see :mod:`idfy.diagram`); the sub-stream nodes
``stages/i/gaussian`` and ``stages/i/dense`` are the modules ``stages.i.fusion.streams.gaussian`` / ``.dense``.
"""

from __future__ import annotations

import re
from typing import Any

from idfy.config import ModelConfig
from idfy.ui.controls import config_to_values, conv_field_visibility
from idfy.ui.fixes import field_name
from idfy.ui.formatting import fmt_count, fmt_shape, part_label

__all__ = ["node_info"]

_TITLE = re.compile(r'<g id="[^"]*" class="node">\s*<title>([^<]+)</title>')
_STAGE_PART = re.compile(r"^stages/(\d+)/(\w+)")

_BLOCK_FIELDS = ("width", "depth", "conv.kind", "conv.groups", "conv.dilation", "conv.ghost_ratio")
_PART_FIELDS = {
    "down": ("stride", "down"),
    "inject": ("inject",),
    "gaussian": ("gaussian.enabled", "gaussian.sigmas", "gaussian.learnable", "gaussian.dog"),
    "dense": ("dense.kind", "dense.reduction"),
    "fusion": ("fuse_project", "width"),
    "blocks": _BLOCK_FIELDS,
}
_CONV_OPTIONS = ("groups", "dilation", "ghost_ratio")
_INJECT_FIELDS = ("inject.mode", "inject.antialias", "inject.project")
_BLOCK_GLOBAL = ("block.order", "block.kernel", "block.norm", "block.act")


def _module(node_id: str) -> str:
    m = _STAGE_PART.match(node_id)
    if m and m[2] in ("gaussian", "dense"):
        return f"stages.{m[1]}.fusion.streams.{m[2]}"
    return node_id.replace("/", ".")


def _fields(node_id: str) -> list[str]:
    m = _STAGE_PART.match(node_id)
    if m:
        p = f"stages.{m[1]}."
        keys = [p + f for f in _PART_FIELDS.get(m[2], _BLOCK_FIELDS)]
        if m[2] == "inject":
            keys += list(_INJECT_FIELDS)
        if m[2] == "blocks":
            keys += list(_BLOCK_GLOBAL)
        return keys
    if node_id == "image":
        return ["input.channels", "input.height", "input.width", "input.scale"]
    if node_id.startswith("stem/inject"):
        return ["inject.stem", *_INJECT_FIELDS]
    if node_id.startswith("stem"):
        return ["stem.width", "stem.kernel", "stem.stride", "stem.conv.kind", "stem.conv.groups"]
    if node_id.startswith("head_inject"):
        return ["inject.head", *_INJECT_FIELDS]
    if node_id.startswith("head") or node_id == "output":
        return ["head.kind", "head.widths", "head.dropout", "task", "num_classes"]
    return []


def _value(v: Any) -> str:
    """A control's value as the page writes it (switches as on / off)."""
    return ("on" if v else "off") if isinstance(v, bool) else str(v)


def _in_use(key: str, values: dict[str, Any]) -> bool:
    """Whether the design uses option ``key`` (the page hides the others): a conv kind's groups / dilation /
    ghost ratio, the Gaussian stream's options when it is on, the dense reduction when a dense stream is."""
    prefix, _, name = key.rpartition(".")
    if name in _CONV_OPTIONS and prefix.endswith("conv"):
        return conv_field_visibility(values[prefix + ".kind"])[_CONV_OPTIONS.index(name)]
    if prefix.endswith("gaussian") and name != "enabled":
        return bool(values[prefix + ".enabled"])
    if key.endswith("dense.reduction"):
        return values[key.removesuffix("reduction") + "kind"] != "none"
    return True


def node_info(cfg: ModelConfig, report: Any, svg: str) -> dict[str, dict[str, Any]]:
    """For every node drawn in ``svg`` (graphviz output of ``cfg``'s diagram): ``path`` (module name),
    ``name`` (as the page names it, "stage 2 blocks"), ``in`` / ``out`` shapes (C×H×W), ``params``, ``macs``,
    ``rf`` (receptive field in input pixels after the node's stage), for ``output`` also ``total`` (the whole
    model's params and MACs), ``fields`` (``"stage 2 width = 16"``: the controls that shape it, with their
    current values) and ``controls`` (those controls' element ids, in the same order)."""
    values = config_to_values(cfg)
    rows = {r.name: r for r in report.stages}
    out: dict[str, dict[str, Any]] = {}
    for node_id in dict.fromkeys(_TITLE.findall(svg)):
        if node_id == "legend":
            continue
        path = _module(node_id)
        stat = report.modules.get(path)
        m = _STAGE_PART.match(node_id)
        row = rows.get(f"stages.{m[1]}") if m else rows.get(path.split(".")[0])
        keys = [k for k in _fields(node_id) if k in values and _in_use(k, values)]
        info: dict[str, Any] = {
            "path": path,
            "name": _name(node_id, m) if m else part_label(path.replace(".", "_")),
            "in": fmt_shape(stat.in_shape) if stat is not None and stat.in_shape else "—",
            "out": fmt_shape(stat.out_shape) if stat is not None and stat.out_shape else "—",
            "params": f"{int(stat.params):,}" if stat is not None else "—",
            "macs": fmt_count(stat.macs) if stat is not None else "—",
            "rf": f"{row.rf} px" + (" + global" if row.rf_global else "") if row is not None else "—",
            "fields": [f"{field_name(k)} = {_value(values[k])}" for k in keys],
            "controls": ["c-" + k.replace(".", "-") for k in keys],
        }
        if node_id == "image":
            info.update(path="input", out=fmt_shape(report.input_shape), params="0", macs="0", rf="1 px")
        elif node_id.endswith("/add"):
            info.update(_residual_add(path.removesuffix(".add"), report))
        elif node_id == "output":
            info.update(_output(cfg, report))
        out[node_id] = info
    return out


def _name(node_id: str, m: re.Match[str]) -> str:
    """``stage 2 inject``; inside a stage's blocks (``blocks`` / ``layers`` detail) ``stage 2 block 1
    branch.3`` and ``stage 2 block 1 residual add``."""
    name = f"stage {int(m[1]) + 1} {m[2]}"
    rest = node_id[m.end() :].strip("/").split("/")
    if m[2] != "blocks" or not rest[0].isdigit():
        return name
    inner = ".".join(rest[1:])
    return f"stage {int(m[1]) + 1} block {int(rest[0]) + 1}" + {"add": " residual add", "": ""}.get(
        inner, f" {inner}"
    )


def _residual_add(block: str, report: Any) -> dict[str, Any]:
    """A residual unit's addition (He et al.): branch + shortcut, no weights; fvcore counts no MACs for it."""
    stat = report.modules.get(block)
    shape = fmt_shape(stat.out_shape) if stat is not None and stat.out_shape else "—"
    return {
        "path": f"{block} (branch + shortcut)",
        "in": f"{shape} + {shape}",
        "out": shape,
        "params": "0",
        "macs": "0",
    }


def _output(cfg: ModelConfig, report: Any) -> dict[str, Any]:
    """The ``output`` node: the head's last layer (the module that writes the model's output), the output as
    ``B × (4 + C)`` (S13: four box values, then C class logits) or ``B × C``, the whole model's totals."""
    head = report.modules.get("head")
    last_name, last = "head", head
    for name, stat in report.modules.items():
        if name.startswith("head.") and stat.leaf and stat.out_shape:
            last_name, last = name, stat
    n = cfg.num_classes
    logits = f"{n} class logit{'s' if n != 1 else ''}"
    what = f"4 box values (x1, y1, x2, y2) + {logits}" if cfg.task == "localize" else logits
    row = next((r for r in report.stages if r.name == "head"), None)
    return {
        "path": last_name,
        "in": fmt_shape(last.in_shape) if last is not None and last.in_shape else "—",
        "out": f"B × {cfg.num_outputs}: {what}",
        "params": f"{int(last.params):,}" if last is not None else "—",
        "macs": fmt_count(last.macs) if last is not None else "—",
        "rf": f"{row.rf} px" + (" + global" if row.rf_global else "") if row is not None else "—",
        "total": f"{int(report.params_total):,} params · {fmt_count(report.macs)} MACs",
    }
