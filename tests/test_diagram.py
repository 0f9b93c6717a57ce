"""idfy.diagram: toggling an injection point or a sub-stream adds / removes the expected nodes and edges;
residual adds appear at ``blocks`` detail; edges carry shapes; diffs mark what changed; rendering works."""

from __future__ import annotations

import re

import graphviz
import pytest

from idfy import ConfigError, load_preset
from idfy.analysis import analyze
from idfy.viz.diagram import config_diff, diagram, diagram_diff, render


def nodes(dot: graphviz.Digraph) -> set[str]:
    """Node names declared in the DOT source (``"stages/1/inject" [label=...]``)."""
    return set(re.findall(r'^\s*"?([\w/]+)"? \[', dot.source, flags=re.M)) - {"node", "edge", "graph"}


def edges(dot: graphviz.Digraph) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"?([\w/]+)"? -> "?([\w/]+)"?', dot.source, flags=re.M))


def edge_labels(dot: graphviz.Digraph, src: str, dst: str) -> list[str]:
    pat = rf'^\s*"?{re.escape(src)}"? -> "?{re.escape(dst)}"? \[label="\s*([^"]*?)\s*"'
    return re.findall(pat, dot.source, flags=re.M)


def test_full_stages_diagram_has_every_part() -> None:
    dot = diagram(load_preset("full"))
    n = nodes(dot)
    for name in ["image", "stem", "stem/inject", "head_inject", "head", "output", "legend"]:
        assert name in n, name
    for i in range(3):
        for part in ("down", "inject", "blocks", "gaussian", "fusion"):
            assert f"stages/{i}/{part}" in n, (i, part)
    assert {"stages/1/dense", "stages/2/dense"} <= n and "stages/0/dense" not in n
    # the re-injected image: one edge per injection point, labelled with the resized shape and mode
    assert edge_labels(dot, "image", "stages/0/inject") == ["3×112×112 bicubic aa"]
    assert edge_labels(dot, "image", "head_inject") == ["3×28×28 bicubic aa"]
    # main-stream edges carry shapes; nodes their params and MACs
    assert edge_labels(dot, "stages/0/fusion", "stages/1/down") == ["24×112×112"]
    assert "params · " in dot.source and " MACs" in dot.source
    assert "cluster_legend" in dot.source


def test_toggling_an_injection_point() -> None:
    base = load_preset("full")
    off = base.set("stages.1.inject", False)
    on_dot, off_dot = diagram(base), diagram(off)
    assert "stages/1/inject" in nodes(on_dot) and "stages/1/inject" not in nodes(off_dot)
    assert ("image", "stages/1/inject") in edges(on_dot)
    assert ("image", "stages/1/inject") not in edges(off_dot)
    assert ("stages/1/down", "stages/1/blocks") in edges(off_dot)
    assert ("stages/1/down", "stages/1/inject") in edges(on_dot)
    # the other injection points are untouched
    assert {e for e in edges(off_dot) if e[0] == "image"} == {e for e in edges(on_dot) if e[0] == "image"} - {
        ("image", "stages/1/inject")
    }


def test_toggling_a_substream() -> None:
    base = load_preset("small")
    assert "stages/0/gaussian" not in nodes(diagram(base)) and "stages/0/fusion" not in nodes(diagram(base))
    with_g = diagram(base.set("stages.0.gaussian.enabled", True))
    n, e = nodes(with_g), edges(with_g)
    assert {"stages/0/gaussian", "stages/0/fusion"} <= n
    assert {("stages/0/blocks", "stages/0/gaussian"), ("stages/0/gaussian", "stages/0/fusion")} <= e
    assert ("stages/0/blocks", "stages/0/fusion") in e  # the main stream goes straight to the CAT
    assert ("stages/0/fusion", "stages/1/down") in e
    both = diagram(base.set("stages.0.gaussian.enabled", True).set("stages.0.dense.kind", "fc"))
    assert ("stages/0/dense", "stages/0/fusion") in edges(both)


def test_blocks_detail_shows_residual_adds_and_shortcuts() -> None:
    dot = diagram(load_preset("seed_model2"), "blocks")
    n, e = nodes(dot), edges(dot)
    for i in range(3):
        assert {
            f"stages/{i}/blocks/0/branch",
            f"stages/{i}/blocks/0/add",
            f"stages/{i}/blocks/0/shortcut",
        } <= n
        assert (f"stages/{i}/blocks/0/shortcut", f"stages/{i}/blocks/0/add") in e
    assert "stride 2" in dot.source  # the downsampling op of down: conv
    tiny = diagram(load_preset("full"), "blocks")
    assert ("stages/1/blocks/0/add", "stages/1/blocks/1/add") in edges(tiny)  # identity shortcut of block 1


def test_layers_detail_has_one_node_per_layer() -> None:
    dot = diagram(load_preset("seed_model1"), "layers")
    n = nodes(dot)
    assert {f"stages/0/blocks/0/branch/{k}" for k in range(5)} <= n  # conv bn relu conv bn
    assert "head/fc" in n and "conv 3×3" in dot.source


def test_seed_model2_stage_shapes_on_edges() -> None:
    dot = diagram(load_preset("seed_model2"))
    assert edge_labels(dot, "image", "stages/0/blocks") == ["3×224×224"]
    assert edge_labels(dot, "stages/0/blocks", "stages/1/blocks") == ["8×112×112"]
    assert edge_labels(dot, "stages/1/blocks", "stages/2/blocks") == ["16×56×56"]
    assert edge_labels(dot, "stages/2/blocks", "head") == ["24×28×28"]


def test_report_reuse_and_mismatch() -> None:
    cfg = load_preset("tiny")
    r = analyze(cfg, device="cpu")
    assert diagram(cfg, report=r).source == diagram(cfg).source
    with pytest.raises(ValueError):
        diagram(load_preset("small"), report=r)
    with pytest.raises(ValueError):
        diagram(cfg, detail="everything")


def test_config_diff() -> None:
    a = load_preset("small")
    b = a.set("stages.1.gaussian.enabled", True).set("inject.mode", "bilinear")
    assert config_diff(a, b) == [
        ("stages.1.gaussian.enabled", False, True),
        ("inject.mode", "bicubic", "bilinear"),
    ]
    assert config_diff(a, a) == []
    shorter = a.set("stages", a.to_dict()["stages"][:2])
    diff = dict((k, (x, y)) for k, x, y in config_diff(a, shorter))
    assert diff["stages.2"][1] is None


def test_diagram_diff_marks_changes() -> None:
    a = load_preset("small")
    b = (
        a.set("stages.1.gaussian.enabled", True)
        .set("stages.0.inject", False)
        .set("stages.2.dense.reduction", 8)
    )
    dot = diagram_diff(a, b)
    src = dot.source
    assert "stages/0/inject" not in nodes(dot)
    assert re.search(r'"stages/1/gaussian" \[[^\]]*color="#2ca02c"', src)  # added: green
    assert re.search(r'"stages/2/dense" \[[^\]]*color="#d62728"', src)  # own option changed: red
    assert re.search(r'"stages/2/fusion" \[[^\]]*color="#ff9900"', src) is None  # cost unchanged: no outline
    # named as the page names them: stage 1 is the first stage, switches read on / off
    assert "stage 2 gaussian.enabled: off → on" in src and "removed: stage 1 inject image" in src
    assert "changes vs small" in src and "stages." not in re.search(r'label="(small[^"]*)"', src)[1]


def test_render_svg_and_png() -> None:
    dot = diagram(load_preset("tiny"))
    svg = render(dot, "svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert render(dot, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_invalid_configs_raise_config_errors() -> None:
    with pytest.raises(ConfigError):
        diagram(load_preset("tiny").set("stages.0.width", 0))


def _points(d: str) -> list[tuple[float, float]]:
    nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(nums[::2], nums[1::2]))


def _box(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


@pytest.mark.parametrize("preset", ["tiny", "full", "seed_model2"])
def test_no_edge_crosses_the_legend(preset: str) -> None:
    # an edge's Bézier curve lies inside the box of its control points: no box overlap, no crossing
    cfg = load_preset(preset)
    for dot in (diagram(cfg), diagram_diff(load_preset("tiny"), cfg)):
        svg = render(dot, "svg").decode()
        legend = re.search(r"<title>cluster_legend</title>\s*<path[^>]* d=\"([^\"]+)\"", svg)
        assert legend is not None
        lx0, ly0, lx1, ly1 = _box(_points(legend[1]))
        edges_d = re.findall(r'<g id="edge\d+" class="edge">.*?<path[^>]* d="([^"]+)"', svg, flags=re.S)
        assert len(edges_d) >= 4
        for d in edges_d:
            x0, y0, x1, y1 = _box(_points(d))
            assert x1 < lx0 or x0 > lx1 or y1 < ly0 or y0 > ly1, (preset, d[:60])
