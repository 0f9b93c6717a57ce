"""Scatter-point labels placed without overlaps (idfy.ui.plot_labels), as the Evidence tab's Pareto charts use."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from idfy.evidence import load_model_results, results_folder
from idfy.ui import plot_labels
from idfy.ui.plot_labels import place_labels
from idfy.ui.tabs import evidence as ev

W, H = 470.0, 240.0


def _boxes(
    placement: plot_labels.Placement, ys: list[float], font_px: float = 11.0
) -> list[tuple[float, ...]]:
    """Each label's box in pixels (y up) on a W × H plot area, from its annotation's offsets."""
    (x0, x1), (y0, y1) = placement.x_range, placement.y_range
    out = []
    for a, y in zip(placement.annotations, ys, strict=True):
        px, py = (a["x"] - x0) / (x1 - x0) * W, (y - y0) / (y1 - y0) * H
        dx, dy = (a["ax"], -a["ay"]) if a["showarrow"] else (a["xshift"], a["yshift"])
        w, h = len(a["text"]) * plot_labels.CHAR_EM * font_px + 4, font_px * 1.35
        out.append((px + dx - w / 2, py + dy - h / 2, px + dx + w / 2, py + dy + h / 2))
    return out


def _overlapping(boxes: list[tuple[float, ...]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i][0] < boxes[j][2] and boxes[j][0] < boxes[i][2] and boxes[i][1] < boxes[j][3] and boxes[j][1] < boxes[i][3]
    ]  # fmt: skip


def test_points_on_top_of_each_other_get_labels_apart() -> None:
    xs, ys = [100.0, 101.0, 99.0, 100.0], [80.0, 80.2, 79.9, 80.1]
    names = ["small", "small_tuned", "ghostnet_100", "medium"]
    placement = place_labels(xs, ys, names, log_x=True, width=W, height=H)
    boxes = _boxes(placement, ys)
    assert _overlapping(boxes) == []
    assert all(b[0] >= 0 and b[2] <= W and b[1] >= 0 and b[3] <= H for b in boxes)


@pytest.mark.parametrize("task", ["fashion-mnist", "fashion-canvas"])
@pytest.mark.parametrize("x", ["macs", "latency_b1_ms"])
def test_the_committed_pareto_charts_have_no_overlapping_labels(task: str, x: str) -> None:
    results = load_model_results(results_folder(Path(__file__).resolve().parents[1]))
    assert results is not None
    fig = ev.pareto_figure(results, task, x)
    names = [n for t in fig.data for n in t.text]
    ys = [float(v) for t in fig.data for v in t.y]
    assert [a.text for a in fig.layout.annotations] == names  # every point named once, no plotly text
    assert all(t.mode == "markers" for t in fig.data)
    placement = plot_labels.Placement(
        [a.to_plotly_json() for a in fig.layout.annotations],
        tuple(fig.layout.xaxis.range),  # type: ignore[arg-type]
        tuple(fig.layout.yaxis.range),  # type: ignore[arg-type]
    )
    assert _overlapping(_boxes(placement, ys)) == []
    assert math.isclose(fig.layout.height, H + fig.layout.margin.t + fig.layout.margin.b)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        place_labels([1.0], [1.0, 2.0], ["a"])
    with pytest.raises(ValueError, match="every x > 0"):
        place_labels([0.0], [1.0], ["a"], log_x=True)
    empty: Any = place_labels([], [], [])
    assert empty.annotations == []
