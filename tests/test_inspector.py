"""idfy.ui.inspector: what the diagram's node inspector shows, for every node at every detail (no browser)."""

from __future__ import annotations

import pytest

from idfy import build_model, load_preset
from idfy.ui.inspector import node_info
from idfy.ui.tabs.design.results import _analyze, diagram_svg


@pytest.mark.parametrize("detail", ["stages", "blocks", "layers"])
def test_every_node_has_shapes_params_and_macs(detail: str) -> None:
    cfg = load_preset("full")
    info = node_info(cfg, _analyze(cfg), diagram_svg(cfg, detail))
    assert "output" in info and "image" in info
    empty = {k: f for k, v in info.items() for f in ("out", "params", "macs", "rf") if v[f] == "—"}
    assert empty == {}


def test_the_output_node_is_the_heads_last_layer() -> None:
    cfg = load_preset("tiny")  # localize, 10 classes, conv1x1 head ending in head.fc (96 -> 14)
    out = node_info(cfg, _analyze(cfg), diagram_svg(cfg, "stages"))["output"]
    fc = build_model(cfg).head.fc
    assert out["path"] == "head.fc"
    assert out["in"] == "96"
    assert out["out"] == "B × 14: 4 box values (x1, y1, x2, y2) + 10 class logits"
    assert out["params"] == f"{sum(p.numel() for p in fc.parameters()):,}" == "1,358"
    assert out["macs"] == "1.34 k"  # 96 × 14 multiply-adds
    assert out["rf"].endswith("+ global")
    total = sum(p.numel() for p in build_model(cfg).parameters())
    assert out["total"].startswith(f"{total:,} params")
    assert "task = localize" in out["fields"] and "classes = 10" in out["fields"]
    one = load_preset("seed_model2")  # one class: "1 class logit"
    assert node_info(one, _analyze(one), diagram_svg(one, "stages"))["output"]["out"].endswith(
        "1 class logit"
    )


def test_blocks_are_named_by_stage_and_block() -> None:
    cfg = load_preset("full")
    info = node_info(cfg, _analyze(cfg), diagram_svg(cfg, "blocks"))
    add = info["stages/1/blocks/0/add"]
    assert add["name"] == "stage 2 block 1 residual add"
    assert add["in"] == f"{add['out']} + {add['out']}" and add["params"] == "0"
    assert info["stages/1/blocks/1/branch"]["name"] == "stage 2 block 2 branch"


def test_set_by_lists_the_controls_in_use_with_their_ids() -> None:
    cfg = load_preset("seed_model2")  # stage 2: a regular conv (no groups, dilation or ghost ratio)
    blocks = node_info(cfg, _analyze(cfg), diagram_svg(cfg, "stages"))["stages/1/blocks"]
    assert "stage 2 width = 16" in blocks["fields"] and not any("ghost" in f for f in blocks["fields"])
    assert blocks["controls"][blocks["fields"].index("stage 2 width = 16")] == "c-stages-1-width"
    full = load_preset("full")
    gauss = node_info(full, _analyze(full), diagram_svg(full, "stages"))["stages/2/gaussian"]
    assert gauss["fields"][0] == "stage 3 Gaussian = on"
