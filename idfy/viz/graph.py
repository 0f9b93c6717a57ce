"""The intermediate graph a diagram is drawn from: nodes, edges and clusters, node kinds and their colours,
and the small text helpers (shapes, costs, conv titles) shared by the builder and the Graphviz output.

Node ids follow module names with ``/`` for ``.`` (``stages/1/blocks``); shapes are written C×H×W.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idfy.analysis import Report, human_count, units
from idfy.config import ConvSpec
from idfy.conv_kinds import conv_kind, uses
from idfy.substreams import dense_kind
from idfy.viz.terms import TERMS, full

__all__ = [
    "DETAILS",
    "KINDS",
    "Edge",
    "Graph",
    "Node",
    "conv_text",
    "conv_tooltip",
    "cost_text",
    "layer_title",
    "node_id",
    "node_style",
    "out_shape_text",
    "plain",
    "shape_text",
]

DETAILS = ("stages", "blocks", "layers")

#: fill colour per node kind (and the legend's wording); conv and dense sub-stream kinds bring their own (``_style``).
KINDS: dict[str, tuple[str, str]] = {
    "image": ("#fde2c0", "input image (S1 source)"),
    "stem": ("#cfd8e8", "stem conv"),
    "pool": ("#e6e6e6", "downsampling"),
    "inject": ("#ffd9a8", "image CAT (S1e)"),
    "gaussian": ("#d4ecc8", "Gaussian sub-stream (S2a)"),
    "fusion": ("#fff7a8", "CAT fusion (S3)"),
    "add": ("#ffffff", "residual add"),
    "layer": ("#f4f4f4", "layer"),
    "head": ("#f6c9c9", "head"),
    "output": ("#ffffff", "output"),
}


def node_style(kind: str) -> tuple[str, str]:
    """(fill colour, legend words) of a node kind; ``dense:NAME`` kinds come from :mod:`idfy.substreams`."""
    if kind.startswith("dense:"):
        dk = dense_kind(kind.split(":", 1)[1])
        return dk.colour, dk.legend
    if kind in KINDS:
        return KINDS[kind]
    ck = conv_kind(kind)
    return ck.colour, ck.legend


POOL_NOTE = {"avgpool": "stride 2 (↓2, S5)", "maxpool": "stride 2 (↓2)"}
ORANGE = "#e07a10"
CHANGED = "#d62728"
KNOCK_ON = "#ff9900"
ADDED = "#2ca02c"
#: The glow around the node the page's inspector shows (drawn by the page's stylesheet, idfy/ui/static/design.css, on
#: top of the node's own outline; the legend's "glow" key): a blue that no fill, edge or outline colour is near.
SELECTED = "#2563eb"
FONT = "Helvetica"


@dataclass
class Node:
    """A diagram node. ``spec``: the config-level description (compared by :func:`idfy.viz.diff.diagram_diff`);
    ``cost``: params / MACs (numbers only); ``tooltip``: hover text that spells out its terms (SVG)."""

    id: str
    title: str
    kind: str
    spec: list[str] = field(default_factory=list)
    cost: str = ""
    shape: str = "box"
    tooltip: str = ""


@dataclass
class Edge:
    src: str
    dst: str
    label: str = ""
    kind: str = "main"  # main | image | stream | skip
    tooltip: str = ""


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    clusters: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    title: str = ""

    def add(self, node: Node, cluster: str | None = None) -> str:
        self.nodes[node.id] = node
        if cluster is not None:
            self.clusters[cluster][1].append(node.id)
        return node.id

    def edge(self, src: str, dst: str, label: str = "", kind: str = "main", tooltip: str = "") -> None:
        self.edges.append(Edge(src, dst, label, kind, tooltip))


def node_id(module_name: str) -> str:
    return module_name.replace(".", "/")


def shape_text(shape: tuple[int, ...] | None) -> str:
    """The diagram's shape label: empty when unknown (the library's :func:`~idfy.analysis.units.shape_text`)."""
    return units.shape_text(shape, missing="")


def cost_text(report: Report, *modules: str) -> str:
    """``"12.3 K params · 4.5 M MACs"`` summed over ``modules`` (empty when both are zero)."""
    stats = [report.modules[m] for m in modules if m in report.modules]
    params, macs = sum(s.params for s in stats), sum(s.macs for s in stats)
    if not (params or macs):
        return ""
    return f"{human_count(params)} params · {human_count(macs)} MACs"


def out_shape_text(report: Report, module: str) -> str:
    stat = report.modules.get(module)
    return shape_text(stat.out_shape) if stat is not None else ""


def conv_text(spec: ConvSpec, kernel: int) -> str:
    """``ConvSpec(kind="sparse", groups=4, dilation=2)``, 3 -> ``"sparse conv 3×3 g4 d2"``."""
    bits = [f"{kernel}×{kernel}"]
    if spec.eff_groups > 1:
        bits.append(f"g{spec.eff_groups}")
    if spec.eff_dilation > 1 and kernel > 1:
        bits.append(f"d{spec.eff_dilation}")
    if uses(spec.kind, "ghost_ratio"):
        bits.append(f"ratio {spec.ghost_ratio}")
    return f"{spec.kind} conv " + " ".join(bits)


def conv_tooltip(spec: ConvSpec, kernel: int) -> str:
    """Hover text for a node drawn with :func:`conv_text`: what its conv kind is (the term spelled out when
    :data:`idfy.viz.terms.TERMS` has it, as for ``sparse conv``, else the kind's registry summary) and what its
    ``g`` / ``d`` tokens mean."""
    term = f"{spec.kind} conv"
    parts = [full(term) if term in TERMS else f"{term}: {conv_kind(spec.kind).summary}"]
    if spec.eff_groups > 1:
        parts.append(f"g{spec.eff_groups}: {spec.eff_groups} channel groups")
    d = spec.eff_dilation
    if d > 1 and kernel > 1:
        parts.append(f"d{d}: dilation {d} (taps {d} pixels apart)")
    return " · ".join(parts)


def layer_title(kind: str, conv: tuple[int, int, int, int] | None) -> str:
    """``Conv2d`` -> ``conv 3×3 s2 g4 d2`` (from the module's hyper-parameters), other kinds unchanged."""
    if conv is None:
        return kind
    k, s, g, d = conv
    bits = [f"conv {k}×{k}"] + [f"s{s}"] * (s > 1) + [f"g{g}"] * (g > 1) + [f"d{d}"] * (d > 1)
    return " ".join(bits)


def plain(text: str) -> str:
    """Text for a plain (non-HTML) Graphviz label: backslashes would start escapes, so they are dropped."""
    return text.replace("\\", "/")
