"""Graphviz output: a :class:`~idfy.viz.graph.Graph` as a ``graphviz.Digraph`` (HTML-like node labels,
clusters, edge styles, hover tooltips that spell out the labels' terms, a legend of the kinds and terms
present) and :func:`render` to SVG / PNG / PDF bytes.
"""

from __future__ import annotations

import html

import graphviz

from idfy.viz.graph import ADDED, CHANGED, FONT, KNOCK_ON, ORANGE, SELECTED, Graph, Node, node_style
from idfy.viz.terms import full, short, terms_in

__all__ = ["render", "to_dot"]


def _label(node: Node) -> str:
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
    "image": {"color": ORANGE, "style": "dashed", "fontcolor": ORANGE, "penwidth": "1.2"},
    "stream": {"color": "#4a7f3a", "fontcolor": "#4a7f3a"},
    "skip": {"color": "#777777", "style": "dashed", "fontcolor": "#777777"},
}


def _glyph(text: str) -> str:
    if text.startswith("glow"):
        return "○"
    return "- - -" if ("image" in text or "shortcut" in text) else "——"


def _legend(
    dot: graphviz.Digraph,
    kinds: list[str],
    extra: list[tuple[str, str]],
    below: str | None = None,
    columns: int = 3,
    terms: tuple[str, ...] = (),
) -> None:
    """A ``cluster_legend`` holding one wide, short table node: a colour swatch per node kind present, then
    edge / outline keys given as (colour, text), then one line per abbreviation in ``terms`` (keys of
    :data:`idfy.viz.terms.TERMS`; the legend's tooltip gives them in full, with their sources). With
    ``below`` (the graph's last node) an invisible edge ranks the legend under it, at the bottom of the
    drawing, where no edge runs: placed freely, Graphviz may put it beside the stem, across the re-injected
    image's edges."""
    cells = []
    for fill, text in dict.fromkeys(node_style(k) for k in kinds):  # kinds drawn alike share one key
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
    span = 2 * min(columns, max(1, len(cells)))
    rows += [
        f'<tr><td colspan="{span}" align="left"><font point-size="9">{html.escape(short(t))}</font></td></tr>'
        for t in terms
    ]
    table = '<<table border="0" cellspacing="2" cellpadding="1">' + "".join(rows) + "</table>>"
    tip = {"tooltip": " | ".join(full(t) for t in terms)} if terms else {}
    with dot.subgraph(name="cluster_legend") as lg:
        lg.attr(label="legend", fontsize="10", style="rounded", color="#999999", fontname=FONT)
        lg.node("legend", table, shape="plaintext", style="", margin="0", **tip)
    if below is not None:
        dot.edge(below, "legend", style="invis")


def _emit(target: graphviz.Digraph, node: Node, outline: dict[str, str]) -> None:
    attrs = {"fillcolor": node_style(node.kind)[0], "shape": node.shape}
    if node.kind == "add":
        attrs.update(width="0.3", height="0.3", margin="0.02")
    if node.id in outline:
        attrs.update(color=outline[node.id], penwidth="3")
    if node.tooltip:
        attrs["tooltip"] = node.tooltip
    target.node(node.id, _label(node), **attrs)


def _edge_keys(g: Graph, diff_legend: bool, selectable: bool = False) -> list[tuple[str, str]]:
    """The legend's (colour, text) keys for the edge kinds present, for a diff the outlines and, for a page
    where a node can be picked, the glow that marks it."""
    extra = []
    if any(e.kind == "image" for e in g.edges):
        extra.append((ORANGE, "re-injected image (resized)"))
    if any(e.kind == "stream" for e in g.edges):
        extra.append(("#4a7f3a", "sub-stream branch"))
    if any(e.kind == "skip" for e in g.edges):
        extra.append(("#777777", "residual shortcut"))
    if diff_legend:
        extra += [
            (CHANGED, "outline: option changed"),
            (KNOCK_ON, "outline: shape / cost changed"),
            (ADDED, "added"),
        ]
    if selectable:
        extra.append((SELECTED, "glow: the node picked (details beside)"))
    return extra


def _used_terms(g: Graph) -> tuple[str, ...]:
    """The abbreviations the drawing's labels use (:func:`idfy.viz.terms.terms_in`)."""
    texts = [n.title for n in g.nodes.values()] + [s for n in g.nodes.values() for s in n.spec]
    texts += [e.label for e in g.edges] + [label for label, _ in g.clusters.values()]
    return tuple(terms_in(texts))


def to_dot(
    g: Graph,
    *,
    outline: dict[str, str] | None = None,
    new_edges: set[tuple[str, str]] | None = None,
    caption: str = "",
    diff_legend: bool = False,
    selectable: bool = False,
) -> graphviz.Digraph:
    """``g`` as a Digraph: nodes outside clusters, then each cluster, then the edges and the legend.

    ``outline``: node id -> outline colour; ``new_edges``: (src, dst) pairs drawn as added; ``caption``: a
    line under the title; ``diff_legend``: explain the outline colours (for :func:`~idfy.viz.diff.diagram_diff`);
    ``selectable``: the drawing goes to a page where clicking a node picks it (the Design tab), so the legend
    explains the glow (:data:`~idfy.viz.graph.SELECTED`) that marks the picked node.
    """
    outline = outline or {}
    dot = graphviz.Digraph(
        "idfy",
        graph_attr={
            "rankdir": "TB",
            "fontname": FONT,
            "labelloc": "t",
            "fontsize": "14",
            "nodesep": "0.35",
            "ranksep": "0.32",
            "newrank": "true",
            "label": g.title + ("\\n" + caption if caption else ""),
        },
    )
    dot.attr("node", fontname=FONT, style="filled,rounded", shape="box", margin="0.12,0.05")
    dot.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")
    placed = {n for _, ids in g.clusters.values() for n in ids}
    for nid, node in g.nodes.items():
        if nid not in placed:
            _emit(dot, node, outline)
    for cname, (label, ids) in g.clusters.items():
        with dot.subgraph(name=cname) as sub:
            sub.attr(
                label=label,
                style="rounded,dashed",
                color="#9a9a9a",
                fontsize="10",
                fontname=FONT,
                labeljust="l",
            )
            for nid in ids:
                _emit(sub, g.nodes[nid], outline)
    for e in g.edges:
        attrs = dict(_EDGE_STYLE[e.kind])
        if e.kind == "image":
            attrs["constraint"] = "false"
        if new_edges and (e.src, e.dst) in new_edges:
            attrs.update(color=ADDED, fontcolor=ADDED, penwidth="2.2")
        if e.tooltip:
            attrs["tooltip"] = e.tooltip
        dot.edge(e.src, e.dst, label=(" " + e.label + " ") if e.label else "", **attrs)
    kinds = list(dict.fromkeys(n.kind for n in g.nodes.values() if n.kind not in ("output",)))
    last = "output" if "output" in g.nodes else (next(reversed(g.nodes)) if g.nodes else None)
    _legend(dot, kinds, _edge_keys(g, diff_legend, selectable), below=last, terms=_used_terms(g))
    return dot


def render(dot: graphviz.Digraph, fmt: str = "svg") -> bytes:
    """Lay out and render with Graphviz ``dot`` (``svg``, ``png``, ``pdf``, ...); returns the file's bytes.

    Raises:
        RuntimeError: the ``dot`` program is missing (install Graphviz: ``apt-get install graphviz``).
    """
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("Graphviz 'dot' was not found; install it (apt-get install graphviz)") from None
