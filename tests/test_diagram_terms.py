"""The diagram's words and marks: every abbreviation it prints ("aa", "sparse conv", g4 / d2, RF) is in its
legend and spelled out on hover (SVG tooltips); the picked node's glow has a legend key in a colour no other
key uses, apart from the outline colours a changed node has."""

from __future__ import annotations

import re

import pytest

from idfy import load_preset
from idfy.config import ModelConfig
from idfy.conv_kinds import conv_kinds
from idfy.substreams import dense_kinds
from idfy.ui.glossary import describe
from idfy.viz.diagram import diagram, diagram_diff, render
from idfy.viz.dot import _EDGE_STYLE, _edge_keys
from idfy.viz.graph import ADDED, CHANGED, KINDS, KNOCK_ON, ORANGE, SELECTED, Graph
from idfy.viz.terms import TERMS, full, short, terms_in


def legend(source: str) -> str:
    """The legend node's HTML-like table in DOT ``source``."""
    match = re.search(r"\blegend \[label=<(<table.*?</table>)>", source, flags=re.S)
    assert match is not None
    return match[1]


def tooltip(source: str, head: str) -> str:
    """The tooltip of the DOT statement that starts with ``head`` (a node or an edge)."""
    line = next(line for line in source.splitlines() if line.strip().startswith(head))
    match = re.search(r'tooltip="([^"]*)"', line)
    assert match is not None, line
    return match[1]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_antialiased_image_edges_say_what_aa_means() -> None:
    cfg = load_preset("full")  # bicubic, antialias on
    dot = diagram(cfg)
    tip = tooltip(dot.source, 'image -> "stages/0/inject"')
    assert "3×112×112 (bicubic interpolation)" in tip and "aa: antialiased resize" in tip
    assert "Parmar, Zhang & Zhu 2022" in tip
    assert short("aa") in legend(dot.source)
    # the full-size injection after the stem is not resized: no "aa" there
    assert "antialiased" not in tooltip(dot.source, 'image -> "stem/inject"')
    # without antialiasing, or with area (which averages anyway), neither the label nor the legend says aa
    for off in (cfg.set("inject.antialias", False), cfg.set("inject.mode", "area")):
        src = diagram(off).source
        assert " aa " not in src and short("aa") not in legend(src)
        assert "antialiased" not in tooltip(src, 'image -> "stages/0/inject"')


def test_sparse_conv_nodes_are_spelled_out() -> None:
    dot = diagram(load_preset("full"))  # a sparse stem and a sparse stage 1
    assert "sparse conv 3×3 g4 d2" in dot.source
    tip = tooltip(dot.source, '"stages/0/blocks"')
    assert "not a sparse-tensor convolution" in tip and "Yu & Koltun 2016" in tip
    assert "g4: 4 channel groups" in tip and "d2: dilation 2" in tip
    assert short("sparse conv") in legend(dot.source) and short("g d s") in legend(dot.source)
    # another kind describes itself from the registry; a regular conv has no g / d tokens to explain
    assert tooltip(dot.source, '"stages/1/blocks"').startswith("group conv: ")
    seed = diagram(load_preset("seed_model2")).source
    assert "sparse conv" not in legend(seed) and "groups" not in tooltip(seed, '"stages/0/blocks"')


def test_the_legend_tooltip_gives_every_term_in_full_with_its_source() -> None:
    src = diagram(load_preset("full")).source
    tip = tooltip(src, "legend [")
    for term in ("aa", "sparse conv", "g d s", "RF"):
        assert full(term).split(".")[0] in tip, term
    assert "Araujo" in tip  # the receptive field's source


def test_svg_tooltips_keep_the_node_titles_the_page_reads() -> None:
    svg = render(diagram(load_preset("full")), "svg").decode()
    assert 'xlink:title="sparse conv: sparse connectivity' in svg
    assert "aa: antialiased resize" in svg
    # the page finds a node by its <title> right after the group's opening tag (idfy.ui.inspector)
    assert re.search(r'<g id="node\d+" class="node">\s*<title>stages/0/blocks</title>', svg)


def test_terms_in_finds_only_whole_words() -> None:
    assert terms_in(["3×112×112 bicubic aa", "sparse conv 3×3 g4 d2 → 24", "stage 1 · RF 46px"]) == [
        "aa",
        "sparse conv",
        "g d s",
        "RF",
    ]
    assert terms_in(["aaa", "regular conv 3×3 → 8", "order preact", "RFs"]) == []
    assert all(text.startswith(term.split()[0][:2]) for term, (text, _) in TERMS.items())


def test_the_glossary_explains_the_terms_at_their_controls() -> None:
    assert "'aa' in the diagram" in describe("inject.antialias")
    assert "grouped + dilated" in describe("stages.1.conv.kind")
    assert "grouped + dilated" in describe("stem.conv.kind")


# --------------------------------------------------------------------------- the picked node
def test_only_a_selectable_diagram_explains_the_glow() -> None:
    cfg, base = load_preset("full"), load_preset("tiny")
    key = "glow: the node picked"
    assert key in legend(diagram(cfg, selectable=True).source)
    assert key in legend(diagram_diff(base, cfg, selectable=True).source)
    assert key not in legend(diagram(cfg).source)  # the CLI's and the API's files: nothing to pick
    assert key not in legend(diagram_diff(base, cfg).source)
    assert SELECTED in legend(diagram(cfg, selectable=True).source)


def test_the_glow_colour_collides_with_no_legend_colour() -> None:
    fills = [fill for fill, _ in KINDS.values()]
    fills += [k.colour for k in conv_kinds()] + [k.colour for k in dense_kinds()]
    keys = [colour for colour, _ in _edge_keys(_all_edges_graph(), diff_legend=True)]
    strokes = [style["color"] for style in _EDGE_STYLE.values()]
    outlines = [CHANGED, KNOCK_ON, ADDED, ORANGE]
    for colour in (*fills, *keys, *strokes, *outlines):
        distance = sum((a - b) ** 2 for a, b in zip(_rgb(colour), _rgb(SELECTED), strict=True)) ** 0.5
        assert distance > 120, colour  # far apart in RGB, not just a different code
    # and the keys among themselves: one colour, one meaning
    assert len(set(keys)) == len(keys)
    selectable = [c for c, _ in _edge_keys(_all_edges_graph(), diff_legend=True, selectable=True)]
    assert selectable == [*keys, SELECTED]


def _all_edges_graph() -> Graph:
    g = Graph()
    for kind in ("main", "image", "stream", "skip"):
        g.edge("a", "b", kind=kind)
    return g


@pytest.mark.parametrize("preset", ["full", "seed_model2"])
def test_the_longer_legend_still_sits_clear_of_every_edge(preset: str) -> None:
    cfg: ModelConfig = load_preset(preset)
    svg = render(diagram_diff(load_preset("tiny"), cfg, selectable=True), "svg").decode()
    box = re.search(r"<title>cluster_legend</title>\s*<path[^>]* d=\"([^\"]+)\"", svg)
    assert box is not None
    lx0, ly0, lx1, ly1 = _box(box[1])
    paths = re.findall(r'<g id="edge\d+" class="edge">.*?<path[^>]* d="([^"]+)"', svg, flags=re.S)
    assert len(paths) >= 4
    for d in paths:
        x0, y0, x1, y1 = _box(d)
        assert x1 < lx0 or x0 > lx1 or y1 < ly0 or y0 > ly1, d[:60]


def _box(d: str) -> tuple[float, float, float, float]:
    nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
    xs, ys = nums[::2], nums[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def test_kinds_drawn_alike_share_one_legend_key() -> None:
    """``full`` has two dense sub-stream kinds (gc, fc) drawn in the same colour: one legend line for both."""
    src = legend(diagram(load_preset("full")).source)
    fill, text = dense_kinds()[0].colour, dense_kinds()[0].legend
    assert src.count(text) == 1 and src.count(f'bgcolor="{fill}"') == 1
