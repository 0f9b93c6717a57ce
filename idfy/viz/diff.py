"""What changed between two designs: :func:`config_diff` (the options) and :func:`diagram_diff` (the second
design's diagram with changed, knock-on and added parts marked).
"""

from __future__ import annotations

import graphviz

from idfy.config import ModelConfig
from idfy.viz.builder import build_graph
from idfy.viz.dot import to_dot
from idfy.viz.graph import ADDED, CHANGED, KNOCK_ON, Graph, plain

__all__ = ["config_diff", "diagram_diff"]


def config_diff(a: ModelConfig, b: ModelConfig) -> list[tuple[str, object, object]]:
    """Options that differ between ``a`` and ``b`` as (dotted key, value in a, value in b), in config order.

    Stages are compared by index (``stages.1.width``); a stage only one side has is one entry with ``None``
    on the other side.
    """
    out: list[tuple[str, object, object]] = []
    _diff(a.to_dict(), b.to_dict(), "", out)
    return out


def _diff(x: object, y: object, prefix: str, out: list[tuple[str, object, object]]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in list(x) + [k for k in y if k not in x]:
            _diff(x.get(k), y.get(k), f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(x, list) and isinstance(y, list) and prefix == "stages":
        for i in range(max(len(x), len(y))):
            _diff(x[i] if i < len(x) else None, y[i] if i < len(y) else None, f"{prefix}.{i}", out)
    elif x != y:
        out.append((prefix, x, y))


def _fmt_value(v: object) -> str:
    if isinstance(v, dict):
        return "{…}"
    if isinstance(v, bool):
        return "on" if v else "off"
    return "off" if v is None else str(v)


def _words(key: str) -> str:
    """A changed option as the explorer names it: ``stages.0.conv.groups`` -> ``stage 1 conv.groups`` (stage
    numbers count from 1, as in the per-stage table and the diagram's clusters)."""
    parts = key.split(".")
    if parts[0] == "stages" and len(parts) >= 2 and parts[1].isdigit():
        return " ".join([f"stage {int(parts[1]) + 1}", ".".join(parts[2:])]).strip()
    return key


def _place(node_id: str) -> str:
    """``"stage 2 "`` for a node inside the second stage (``stages/1/...``), ``""`` elsewhere."""
    parts = node_id.split("/")
    return f"stage {int(parts[1]) + 1} " if parts[0] == "stages" and parts[1:2] and parts[1].isdigit() else ""


def diagram_diff(
    a: ModelConfig, b: ModelConfig, detail: str = "stages", *, selectable: bool = False
) -> graphviz.Digraph:
    """``b``'s diagram with what changed against ``a`` marked.

    Nodes whose own options changed are outlined red, nodes whose shapes or costs changed as a consequence
    orange; nodes and edges ``a`` does not have are green. The caption lists the changed options
    (``config_diff``) and the parts ``a`` had that ``b`` lost. ``selectable``: as for
    :func:`idfy.viz.diagram.diagram` (the legend explains the picked node's glow).
    """
    ga, gb = build_graph(a, detail, None), build_graph(b, detail, None)
    shapes_a = _incoming(ga)
    shapes_b = _incoming(gb)
    outline: dict[str, str] = {}
    for nid, node in gb.nodes.items():
        old = ga.nodes.get(nid)
        if old is None:
            outline[nid] = ADDED
        elif (old.title, old.spec, old.kind) != (node.title, node.spec, node.kind):
            outline[nid] = CHANGED
        elif old.cost != node.cost or shapes_a.get(nid) != shapes_b.get(nid):
            outline[nid] = KNOCK_ON
    edges_a = {(e.src, e.dst) for e in ga.edges}
    new_edges = {(e.src, e.dst) for e in gb.edges if (e.src, e.dst) not in edges_a}
    changes = [(k, x, y) for k, x, y in config_diff(a, b) if k not in ("name", "description")]
    lines = [plain(f"{_words(k)}: {_fmt_value(x)} → {_fmt_value(y)}") for k, x, y in changes[:12]]
    if len(changes) > 12:
        lines.append(f"… and {len(changes) - 12} more")
    removed = [_place(n) + ga.nodes[n].title for n in ga.nodes if n not in gb.nodes]
    if removed:
        lines.append("removed: " + ", ".join(removed[:6]) + (" …" if len(removed) > 6 else ""))
    caption = _wrap(
        [f"changes vs {plain(a.name)}:", *lines] if lines else [f"changes vs {plain(a.name)}: none"]
    )
    return to_dot(
        gb, outline=outline, new_edges=new_edges, caption=caption, diff_legend=True, selectable=selectable
    )


def _wrap(items: list[str], width: int = 110) -> str:
    """Join ``items`` with ``; `` into lines of at most ~``width`` characters."""
    lines, cur = [], ""
    for item in items:
        if cur and len(cur) + len(item) + 2 > width:
            lines.append(cur)
            cur = item
        else:
            cur = f"{cur}; {item}" if cur and not cur.endswith(":") else f"{cur} {item}".strip()
    return "\n".join([*lines, cur])


def _incoming(g: Graph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in g.edges:
        out.setdefault(e.dst, []).append(e.label)
    return out
