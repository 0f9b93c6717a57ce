"""Graphviz diagrams of an idfy design, drawn from its config and the shapes / costs traced by :func:`analyze`.

>>> from idfy import load_preset
>>> from idfy.diagram import diagram, render
>>> svg = render(diagram(load_preset("full")), "svg")

What is drawn (top to bottom):

* an ``image`` source node; the main stream starts there, and every re-injection point (S1) gets its own
  dashed orange edge from it, labelled with the resized shape and the resize mode ("3×112×112 bicubic");
* the main stream: stem, each stage as a cluster (downsampling, image CAT, residual blocks, sub-streams),
  the head injection, the head and the output;
* sub-streams (S2: Gaussian, dense GCNet / FC) as parallel branches merging at a CAT node (S3);
* at ``blocks`` / ``layers`` detail, every residual block with its shortcut and its ``+`` node;
* edges carry tensor shapes (C×H×W), nodes their parameters and MACs; colours follow the block kind and
  a legend cluster explains them.

``detail``: ``stages`` (compact: one node per stage part), ``blocks`` (one node per residual block) or
``layers`` (one node per layer of the stem, the residual branches and the head: conv, norm, activation, ...;
injections and sub-streams stay one node each).

Node names are stable and follow module names with ``/`` for ``.`` (``stages/1/blocks``, ``stages/1/gaussian``,
``stages/1/inject``, ``head``); tests and :func:`diagram_diff` rely on them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import graphviz

from idfy.analysis import Report, analyze, human_count
from idfy.config import ConvSpec, ModelConfig, StageConfig, parse_order
from idfy.conv_kinds import conv_kind, uses
from idfy.substreams import dense_kind

__all__ = ["DETAILS", "config_diff", "diagram", "diagram_diff", "render"]

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


def _style(kind: str) -> tuple[str, str]:
    """(fill colour, legend words) of a node kind; ``dense:NAME`` kinds come from :mod:`idfy.substreams`."""
    if kind.startswith("dense:"):
        dk = dense_kind(kind.split(":", 1)[1])
        return dk.colour, dk.legend
    if kind in KINDS:
        return KINDS[kind]
    ck = conv_kind(kind)
    return ck.colour, ck.legend


_POOL_NOTE = {"avgpool": "stride 2 (↓2, S5)", "maxpool": "stride 2 (↓2)"}
_ORANGE = "#e07a10"
_CHANGED = "#d62728"
_KNOCK_ON = "#ff9900"
_ADDED = "#2ca02c"
_FONT = "Helvetica"


# --------------------------------------------------------------------------- intermediate graph
@dataclass
class _Node:
    """A diagram node. ``spec``: the config-level description (compared by :func:`diagram_diff`);
    ``cost``: params / MACs (numbers only)."""

    id: str
    title: str
    kind: str
    spec: list[str] = field(default_factory=list)
    cost: str = ""
    shape: str = "box"


@dataclass
class _Edge:
    src: str
    dst: str
    label: str = ""
    kind: str = "main"  # main | image | stream | skip


@dataclass
class _Graph:
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    clusters: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    title: str = ""

    def add(self, node: _Node, cluster: str | None = None) -> str:
        self.nodes[node.id] = node
        if cluster is not None:
            self.clusters[cluster][1].append(node.id)
        return node.id

    def edge(self, src: str, dst: str, label: str = "", kind: str = "main") -> None:
        self.edges.append(_Edge(src, dst, label, kind))


def _nid(module_name: str) -> str:
    return module_name.replace(".", "/")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "×".join(str(s) for s in shape) if shape else ""


def _cost(report: Report, *modules: str) -> str:
    """``"12.3 K params · 4.5 M MACs"`` summed over ``modules`` (empty when both are zero)."""
    stats = [report.modules[m] for m in modules if m in report.modules]
    params, macs = sum(s.params for s in stats), sum(s.macs for s in stats)
    if not (params or macs):
        return ""
    return f"{human_count(params)} params · {human_count(macs)} MACs"


def _out(report: Report, module: str) -> str:
    stat = report.modules.get(module)
    return _shape(stat.out_shape) if stat is not None else ""


def _conv_text(spec: ConvSpec, kernel: int) -> str:
    """``ConvSpec(kind="sparse", groups=4, dilation=2)``, 3 -> ``"sparse conv 3×3 g4 d2"``."""
    bits = [f"{kernel}×{kernel}"]
    if spec.eff_groups > 1:
        bits.append(f"g{spec.eff_groups}")
    if spec.eff_dilation > 1 and kernel > 1:
        bits.append(f"d{spec.eff_dilation}")
    if uses(spec.kind, "ghost_ratio"):
        bits.append(f"ratio {spec.ghost_ratio}")
    return f"{spec.kind} conv " + " ".join(bits)


def _layer_title(kind: str, conv: tuple[int, int, int, int] | None) -> str:
    """``Conv2d`` -> ``conv 3×3 s2 g4 d2`` (from the module's hyper-parameters), other kinds unchanged."""
    if conv is None:
        return kind
    k, s, g, d = conv
    bits = [f"conv {k}×{k}"] + [f"s{s}"] * (s > 1) + [f"g{g}"] * (g > 1) + [f"d{d}"] * (d > 1)
    return " ".join(bits)


# --------------------------------------------------------------------------- builders per part
class _Builder:
    """Builds the :class:`_Graph` of one design at one detail level."""

    def __init__(self, cfg: ModelConfig, report: Report, detail: str) -> None:
        self.cfg, self.r, self.detail = cfg, report, detail
        self.g = _Graph()
        self.order = parse_order(cfg.block.order)
        self.plan = cfg.plan()

    # -- helpers
    def image_edge(self, dst: str, shape: tuple[int, ...] | None) -> None:
        inj = self.cfg.inject
        mode = inj.mode + (" aa" if inj.antialias and inj.mode != "area" else "")
        same = shape is not None and tuple(shape[1:]) == tuple(self.cfg.input.size)
        label = f"{_shape(shape)} {'(full size)' if same else mode}"
        self.g.edge("image", dst, label, "image")

    def injection(self, module: str, cluster: str | None, prev: str, prev_shape: str) -> tuple[str, str]:
        """An image-CAT node (+ its projection) fed by ``prev``; returns (last node id, its output shape)."""
        stat = self.r.modules[module]
        img_shape = (self.cfg.input.channels, *(stat.in_shape or (0, 0, 0))[1:])
        proj = self.cfg.inject.project
        spec = [
            f"CAT +{self.cfg.input.channels} ch → 1×1 conv" if proj else f"CAT +{self.cfg.input.channels} ch"
        ]
        nid = self.g.add(_Node(_nid(module), "inject image", "inject", spec, _cost(self.r, module)), cluster)
        self.g.edge(prev, nid, prev_shape)
        self.image_edge(nid, img_shape)
        return nid, _out(self.r, module)

    def chain_leaves(
        self, module: str, cluster: str | None, prev: str, prev_shape: str, kind: str, skip: str = "\0"
    ) -> tuple[str, str]:
        """``layers`` detail: one node per leaf module under ``module`` (except those under ``skip``), chained
        in registration order. Convolutions take the colour ``kind``; other layers (norm, act, pool, linear)
        a neutral one."""
        leaves = [
            n
            for n, s in self.r.modules.items()
            if s.leaf
            and n.startswith(module + ".")
            and not n.startswith(skip + ".")
            and s.calls
            and s.kind != "Dropout"
        ]
        for name in leaves:
            s = self.r.modules[name]
            conv = s.conv
            title = _layer_title(s.kind, conv)
            node_kind = kind if conv is not None or kind == "head" else "layer"
            cost = _cost(self.r, name)
            nid = self.g.add(_Node(_nid(name), title, node_kind, [name], cost), cluster)
            self.g.edge(prev, nid, prev_shape)
            prev, prev_shape = nid, _shape(s.out_shape)
        return prev, prev_shape

    # -- parts
    def image(self) -> tuple[str, str]:
        c, h, w = self.r.input_shape
        scale = self.cfg.input.scale
        spec = [f"{c}×{h}×{w} in [0, 1]"] + ([f"× {scale:g} (S9 input scale)"] if scale != 1 else [])
        self.g.add(_Node("image", "image", "image", spec, shape="box"))
        return "image", _shape(self.r.input_shape)

    def stem(self, prev: str, prev_shape: str) -> tuple[str, str]:
        st = self.cfg.stem
        if st is None:
            return prev, prev_shape
        self.g.clusters["cluster_stem"] = (f"stem · {_out(self.r, 'stem')}", [])
        if self.detail == "layers":  # the injection is drawn as one node below
            prev, prev_shape = self.chain_leaves(
                "stem", "cluster_stem", prev, prev_shape, "stem", "stem.inject"
            )
        else:
            spec = [f"{_conv_text(st.conv, st.kernel)} s{st.stride} → {st.width}", "norm · act"]
            cost = _cost(self.r, "stem.conv", "stem.norm", "stem.act")
            self.g.add(_Node("stem", "stem conv", "stem", spec, cost), "cluster_stem")
            self.g.edge(prev, "stem", prev_shape)
            prev, prev_shape = "stem", _out(self.r, "stem.act")
        if self.cfg.inject.stem:
            prev, prev_shape = self.injection("stem.inject", "cluster_stem", prev, prev_shape)
        return prev, prev_shape

    def stage(self, i: int, prev: str, prev_shape: str) -> tuple[str, str]:
        sc: StageConfig = self.cfg.stages[i]
        name = f"stages.{i}"
        row = self.r.stage(name)
        rf = f"RF {row.rf}px" + (" + global" if row.rf_global else "")
        cluster = f"cluster_stage_{i}"
        # named as the page and the per-stage table name it: stage 1 is the first stage (module stages.0)
        self.g.clusters[cluster] = (f"stage {i + 1} · {_shape(row.out_shape)} · {rf}", [])
        if self.plan.stages[i].pool:
            nid = self.g.add(
                _Node(_nid(f"{name}.down"), f"{sc.down} 2×2", "pool", [_POOL_NOTE[sc.down]]), cluster
            )
            self.g.edge(prev, nid, prev_shape)
            prev, prev_shape = nid, _out(self.r, f"{name}.down")
        if sc.inject:
            prev, prev_shape = self.injection(f"{name}.inject", cluster, prev, prev_shape)
        if self.detail == "stages":
            prev, prev_shape = self.blocks_compact(i, cluster, prev, prev_shape)
        else:
            for j in range(sc.depth):
                prev, prev_shape = self.block(i, j, cluster, prev, prev_shape)
        if sc.has_substreams:
            prev, prev_shape = self.substreams(i, cluster, prev, prev_shape)
        return prev, prev_shape

    def blocks_compact(self, i: int, cluster: str, prev: str, prev_shape: str) -> tuple[str, str]:
        sc = self.cfg.stages[i]
        name = f"stages.{i}.blocks"
        spec = [f"{_conv_text(sc.conv, self.cfg.block.kernel)} → {sc.width}", f"order {self.cfg.block.order}"]
        if self.plan.stages[i].strided_conv:
            spec.append("↓2: stride-2 first conv + 1×1 s2 shortcut")
        title = f"{sc.depth} × residual block" if sc.depth > 1 else "residual block"
        nid = self.g.add(_Node(_nid(name), title, sc.conv.kind, spec, _cost(self.r, name)), cluster)
        self.g.edge(prev, nid, prev_shape)
        return nid, _out(self.r, name)

    def block(self, i: int, j: int, cluster: str, prev: str, prev_shape: str) -> tuple[str, str]:
        sc = self.cfg.stages[i]
        name = f"stages.{i}.blocks.{j}"
        stride = self.plan.stages[i].blocks[j].stride
        split = self.order.index("add")
        if self.detail == "layers":
            end, end_shape = self.chain_leaves(f"{name}.branch", cluster, prev, prev_shape, sc.conv.kind)
        else:
            spec = [
                " · ".join(self.order[:split]),
                f"{_conv_text(sc.conv, self.cfg.block.kernel)} → {sc.width}",
            ]
            if stride == 2:
                spec.append("first conv stride 2 (↓2)")
            end = self.g.add(
                _Node(
                    _nid(f"{name}.branch"),
                    f"block {j + 1} of stage {i + 1}",
                    sc.conv.kind,
                    spec,
                    _cost(self.r, f"{name}.branch"),
                ),
                cluster,
            )
            self.g.edge(prev, end, prev_shape)
            end_shape = _out(self.r, f"{name}.branch")
        post = self.order[split + 1 :]
        add_title = "+" + (" → " + " · ".join(post) if post else "")
        add = self.g.add(_Node(_nid(f"{name}.add"), add_title, "add", [], shape="ellipse"), cluster)
        self.g.edge(end, add, end_shape)
        short = self.r.modules.get(f"{name}.shortcut")
        if short is not None and short.kind != "Identity":
            s = self.r.modules[f"{name}.shortcut.0"]
            conv_spec = [f"1×1 conv s{stride} → {sc.width}"]
            sid = self.g.add(
                _Node(
                    _nid(f"{name}.shortcut"),
                    "shortcut",
                    "layer",
                    conv_spec,
                    _cost(self.r, f"{name}.shortcut"),
                ),
                cluster,
            )
            self.g.edge(prev, sid, prev_shape, "skip")
            self.g.edge(
                sid, add, _shape(s.out_shape) if stride == 1 else _out(self.r, f"{name}.shortcut"), "skip"
            )
        else:
            self.g.edge(prev, add, "identity", "skip")
        return add, _out(self.r, name)

    def substreams(self, i: int, cluster: str, prev: str, prev_shape: str) -> tuple[str, str]:
        sc = self.cfg.stages[i]
        base = f"stages.{i}.fusion"
        inputs = [(prev, prev_shape, "main")]
        if sc.gaussian.enabled:
            g = sc.gaussian
            sig = ", ".join(f"{s:g}" for s in g.sigmas)
            spec = [f"{'DoG' if g.dog else 'Gaussian'} σ {sig}" + (" (learnable)" if g.learnable else "")]
            spec.append(f"1×1 conv → {sc.gaussian_width()}")
            mod = f"{base}.streams.gaussian"
            nid = self.g.add(
                _Node(_nid(f"stages.{i}.gaussian"), "Gaussian stream", "gaussian", spec, _cost(self.r, mod)),
                cluster,
            )
            self.g.edge(prev, nid, prev_shape, "stream")
            inputs.append((nid, _out(self.r, mod), "stream"))
        if sc.dense.kind != "none":
            d = sc.dense
            kind = dense_kind(d.kind)
            tail = "broadcast H×W" if kind.global_ else "H×W"
            spec = [f"{kind.title} r{d.reduction}", f"→ {sc.dense_width()} ch, {tail}"]
            mod = f"{base}.streams.dense"
            node_kind = f"dense:{d.kind}"
            nid = self.g.add(
                _Node(_nid(f"stages.{i}.dense"), "dense stream", node_kind, spec, _cost(self.r, mod)), cluster
            )
            self.g.edge(prev, nid, prev_shape, "stream")
            inputs.append((nid, _out(self.r, mod), "stream"))
        spec = [f"1×1 conv → {sc.width}" if sc.fuse_project else f"→ {sc.out_channels()} ch (no projection)"]
        fid = self.g.add(
            _Node(_nid(base), "CAT fusion", "fusion", spec, _cost(self.r, f"{base}.proj")), cluster
        )
        for src, shape, kind in inputs:
            self.g.edge(src, fid, shape, kind)
        return fid, _out(self.r, base)

    def head(self, prev: str, prev_shape: str) -> None:
        hc = self.cfg.head
        if self.cfg.inject.head:
            self.g.clusters["cluster_head"] = ("head", [])
            prev, prev_shape = self.injection("head_inject", "cluster_head", prev, prev_shape)
        else:
            self.g.clusters["cluster_head"] = ("head", [])
        if self.detail == "layers":
            prev, prev_shape = self.chain_leaves("head", "cluster_head", prev, prev_shape, "head")
        else:
            widths = " → ".join(str(w) for w in hc.widths)
            if hc.kind == "flatten":
                spec = ["flatten", f"FC {widths} → {self.cfg.num_outputs}" if widths else "FC"]
            else:
                spec = [
                    f"1×1 convs {widths}" if widths else "no 1×1 convs",
                    f"global avg pool · FC → {self.cfg.num_outputs}",
                ]
            self.g.add(_Node("head", "head", "head", spec, _cost(self.r, "head")), "cluster_head")
            self.g.edge(prev, "head", prev_shape)
            prev, prev_shape = "head", _out(self.r, "head")
        n = self.cfg.num_classes
        what = f"4 box + {n} class logits" if self.cfg.task == "localize" else f"{n} class logits"
        spec = [what] + (["→ (x1, y1, x2, y2, label)"] if self.cfg.task == "localize" else [])
        self.g.add(_Node("output", "output", "output", spec, shape="box"))
        self.g.edge(prev, "output", prev_shape)

    def build(self) -> _Graph:
        prev, shape = self.image()
        prev, shape = self.stem(prev, shape)
        for i in range(len(self.cfg.stages)):
            prev, shape = self.stage(i, prev, shape)
        self.head(prev, shape)
        r = self.r
        self.g.title = (
            f"{_plain(self.cfg.name)} · {human_count(r.params_total)} params · {human_count(r.macs)} MACs "
            f"({human_count(r.flops)} FLOPs = 2 × MACs) · input {_shape(r.input_shape)}"
        )
        return self.g


# --------------------------------------------------------------------------- graphviz output
def _plain(text: str) -> str:
    """Text for a plain (non-HTML) Graphviz label: backslashes would start escapes, so they are dropped."""
    return text.replace("\\", "/")


def _label(node: _Node) -> str:
    """HTML-like label: bold title, spec lines, grey cost line."""
    if node.kind == "add":
        return f"<<b>{html.escape(node.title)}</b>>"
    parts = [f'<font point-size="12"><b>{html.escape(node.title)}</b></font>']
    parts += [f'<font point-size="10">{html.escape(s)}</font>' for s in node.spec]
    if node.cost:
        parts.append(f'<font point-size="9" color="#555555">{html.escape(node.cost)}</font>')
    return "<" + "<br/>".join(parts) + ">"


_EDGE_STYLE = {
    "main": {"color": "#333333", "penwidth": "1.4"},
    "image": {"color": _ORANGE, "style": "dashed", "fontcolor": _ORANGE, "penwidth": "1.2"},
    "stream": {"color": "#4a7f3a", "fontcolor": "#4a7f3a"},
    "skip": {"color": "#777777", "style": "dashed", "fontcolor": "#777777"},
}


def _glyph(text: str) -> str:
    return "- - -" if ("image" in text or "shortcut" in text) else "——"


def _legend(dot: graphviz.Digraph, kinds: list[str], extra: list[tuple[str, str]], columns: int = 3) -> None:
    """A ``cluster_legend`` holding one wide, short table node: a colour swatch per node kind present, then
    edge / outline keys given as (colour, text)."""
    cells = []
    for k in kinds:
        fill, text = _style(k)
        cells.append(
            f'<td bgcolor="{fill}" border="1" width="18" style="rounded"> </td>'
            f'<td align="left"><font point-size="9">{html.escape(text)}</font></td>'
        )
    for color, text in extra:
        cells.append(
            f'<td><font color="{color}" point-size="10"><b>{_glyph(text)}</b></font></td>'
            f'<td align="left"><font point-size="9" color="{color}">{html.escape(text)}</font></td>'
        )
    rows = ["<tr>" + "".join(cells[i : i + columns]) + "</tr>" for i in range(0, len(cells), columns)]
    table = '<<table border="0" cellspacing="2" cellpadding="1">' + "".join(rows) + "</table>>"
    with dot.subgraph(name="cluster_legend") as lg:
        lg.attr(label="legend", fontsize="10", style="rounded", color="#999999", fontname=_FONT)
        lg.node("legend", table, shape="plaintext", style="", margin="0")


def _to_dot(
    g: _Graph,
    *,
    outline: dict[str, str] | None = None,
    new_edges: set[tuple[str, str]] | None = None,
    caption: str = "",
    diff_legend: bool = False,
) -> graphviz.Digraph:
    outline = outline or {}
    dot = graphviz.Digraph(
        "idfy",
        graph_attr={
            "rankdir": "TB",
            "fontname": _FONT,
            "labelloc": "t",
            "fontsize": "14",
            "nodesep": "0.35",
            "ranksep": "0.32",
            "newrank": "true",
            "label": g.title + ("\\n" + caption if caption else ""),
        },
    )
    dot.attr("node", fontname=_FONT, style="filled,rounded", shape="box", margin="0.12,0.05")
    dot.attr("edge", fontname=_FONT, fontsize="9", arrowsize="0.7")
    placed = {n for _, ids in g.clusters.values() for n in ids}

    def emit(target: graphviz.Digraph, node: _Node) -> None:
        attrs = {"fillcolor": _style(node.kind)[0], "shape": node.shape}
        if node.kind == "add":
            attrs.update(width="0.3", height="0.3", margin="0.02")
        if node.id in outline:
            attrs.update(color=outline[node.id], penwidth="3")
        target.node(node.id, _label(node), **attrs)

    for nid, node in g.nodes.items():
        if nid not in placed:
            emit(dot, node)
    for cname, (label, ids) in g.clusters.items():
        with dot.subgraph(name=cname) as sub:
            sub.attr(
                label=label,
                style="rounded,dashed",
                color="#9a9a9a",
                fontsize="10",
                fontname=_FONT,
                labeljust="l",
            )
            for nid in ids:
                emit(sub, g.nodes[nid])
    for e in g.edges:
        attrs = dict(_EDGE_STYLE[e.kind])
        if e.kind == "image":
            attrs["constraint"] = "false"
        if new_edges and (e.src, e.dst) in new_edges:
            attrs.update(color=_ADDED, fontcolor=_ADDED, penwidth="2.2")
        dot.edge(e.src, e.dst, label=(" " + e.label + " ") if e.label else "", **attrs)
    kinds = list(dict.fromkeys(n.kind for n in g.nodes.values() if n.kind not in ("output",)))
    extra = []
    if any(e.kind == "image" for e in g.edges):
        extra.append((_ORANGE, "re-injected image (resized)"))
    if any(e.kind == "stream" for e in g.edges):
        extra.append(("#4a7f3a", "sub-stream branch"))
    if any(e.kind == "skip" for e in g.edges):
        extra.append(("#777777", "residual shortcut"))
    if diff_legend:
        extra += [
            (_CHANGED, "outline: option changed"),
            (_KNOCK_ON, "outline: shape / cost changed"),
            (_ADDED, "added"),
        ]
    _legend(dot, kinds, extra)
    return dot


def _report_for(cfg: ModelConfig, report: Report | None) -> Report:
    if report is not None:
        if report.fingerprint != cfg.fingerprint():
            raise ValueError("report was made for another config (fingerprints differ)")
        return report
    return analyze(cfg, device="cpu")


def _graph(cfg: ModelConfig, detail: str, report: Report | None) -> _Graph:
    if detail not in DETAILS:
        raise ValueError(f"detail={detail!r}: choose from {', '.join(DETAILS)}")
    return _Builder(cfg, _report_for(cfg, report), detail).build()


# --------------------------------------------------------------------------- public API
def diagram(cfg: ModelConfig, detail: str = "stages", report: Report | None = None) -> graphviz.Digraph:
    """The design as a ``graphviz.Digraph`` (render it with :func:`render`).

    Args:
        detail: ``stages`` | ``blocks`` | ``layers``.
        report: an :func:`analyze` report of ``cfg`` to reuse (else one is made, cached).
    """
    return _to_dot(_graph(cfg, detail, report))


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
    return "off" if v is None else str(v)


def diagram_diff(a: ModelConfig, b: ModelConfig, detail: str = "stages") -> graphviz.Digraph:
    """``b``'s diagram with what changed against ``a`` marked.

    Nodes whose own options changed are outlined red, nodes whose shapes or costs changed as a consequence
    orange; nodes and edges ``a`` does not have are green. The caption lists the changed options
    (``config_diff``) and the parts ``a`` had that ``b`` lost.
    """
    ga, gb = _graph(a, detail, None), _graph(b, detail, None)
    shapes_a = _incoming(ga)
    shapes_b = _incoming(gb)
    outline: dict[str, str] = {}
    for nid, node in gb.nodes.items():
        old = ga.nodes.get(nid)
        if old is None:
            outline[nid] = _ADDED
        elif (old.title, old.spec, old.kind) != (node.title, node.spec, node.kind):
            outline[nid] = _CHANGED
        elif old.cost != node.cost or shapes_a.get(nid) != shapes_b.get(nid):
            outline[nid] = _KNOCK_ON
    edges_a = {(e.src, e.dst) for e in ga.edges}
    new_edges = {(e.src, e.dst) for e in gb.edges if (e.src, e.dst) not in edges_a}
    changes = [(k, x, y) for k, x, y in config_diff(a, b) if k not in ("name", "description")]
    lines = [_plain(f"{k}: {_fmt_value(x)} → {_fmt_value(y)}") for k, x, y in changes[:12]]
    if len(changes) > 12:
        lines.append(f"… and {len(changes) - 12} more")
    removed = [ga.nodes[n].title + f" ({n})" for n in ga.nodes if n not in gb.nodes]
    if removed:
        lines.append("removed: " + ", ".join(removed[:6]) + (" …" if len(removed) > 6 else ""))
    caption = _wrap(
        [f"changes vs {_plain(a.name)}:", *lines] if lines else [f"changes vs {_plain(a.name)}: none"]
    )
    return _to_dot(gb, outline=outline, new_edges=new_edges, caption=caption, diff_legend=True)


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


def _incoming(g: _Graph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in g.edges:
        out.setdefault(e.dst, []).append(e.label)
    return out


def render(dot: graphviz.Digraph, fmt: str = "svg") -> bytes:
    """Lay out and render with Graphviz ``dot`` (``svg``, ``png``, ``pdf``, ...); returns the file's bytes.

    Raises:
        RuntimeError: the ``dot`` program is missing (install Graphviz: ``apt-get install graphviz``).
    """
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("Graphviz 'dot' was not found; install it (apt-get install graphviz)") from None
