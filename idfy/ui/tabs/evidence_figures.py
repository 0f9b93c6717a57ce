"""The Evidence tab's charts: Fashion-MNIST long runs against their target, score against MACs or latency
(Pareto, idfy presets against the timm baselines, each point named by a label placed apart), and one
ablation's variants with their seeds. Plain plotly figures from the committed results' dicts."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from idfy.ui.plot_labels import place_labels

__all__ = ["PARETO_AREA", "ablation_figure", "long_run_figure", "pareto_figure"]

_IDFY_COLOR, _BASE_COLOR = "#4f46e5", "#94a3b8"


def long_run_figure(runs: list[dict[str, Any]], goal: float = 96.0) -> go.Figure:
    """Test accuracy per epoch of every long Fashion-MNIST run, with the target as a dashed line."""
    fig = go.Figure()
    for run in runs:
        curve = run.get("curve", [])
        fig.add_trace(
            go.Scatter(
                x=[c["epoch"] for c in curve],
                y=[c["accuracy"] * 100 for c in curve],
                mode="lines+markers",
                name=f"{run['design']} ({run.get('params', 0) / 1e6:.3f} M, {run.get('device_used', '?')})",
            )
        )
    fig.add_hline(y=goal, line_dash="dash", line_color="#dc2626", annotation_text=f"target {goal:.1f} %")
    fig.update_layout(
        height=320,
        margin={"l": 50, "r": 10, "t": 36, "b": 40},
        title={"text": "Fashion-MNIST, long runs: test accuracy per epoch", "font": {"size": 13}},
        xaxis={"title": "epoch"},
        yaxis={"title": "test accuracy (%)"},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


#: Smallest plot area (px) a Pareto chart is drawn with: one chart per row below 1000 px, two per row above
#: (tabs.css); the point labels are placed for it (:func:`idfy.ui.plot_labels.place_labels`).
PARETO_AREA = (470.0, 240.0)
_PARETO_MARGIN = {"l": 55, "r": 15, "t": 40, "b": 44}


def pareto_figure(results: dict[str, Any] | None, task: str, x: str = "macs") -> go.Figure:
    """Score on ``task`` against MACs (``x="macs"``) or batch-1 latency (``x="latency_b1_ms"``), log x; each
    point named by a label that overlaps no other label or marker (:func:`idfy.ui.plot_labels.place_labels`)."""
    fig = go.Figure()
    names: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    colors: list[str] = []
    if results:
        for family, color in (("idfy", _IDFY_COLOR), ("timm", _BASE_COLOR)):
            pts = [
                r
                for r in results.get("rows", [])
                if r.get("family") == family and r.get("tasks", {}).get(task) and r.get(x, 0) > 0
            ]
            px = [(r[x] / 1e6 if x == "macs" else r[x]) for r in pts]
            py = [r["tasks"][task]["score"] * 100 for r in pts]
            fig.add_trace(
                go.Scatter(
                    x=px,
                    y=py,
                    text=[r["model"] for r in pts],
                    mode="markers",
                    hovertemplate="%{text}: %{y:.1f} % at %{x:.3g}<extra></extra>",
                    cliponaxis=False,
                    marker={"size": 11, "color": color},
                    name=family,
                )
            )
            names += [r["model"] for r in pts]
            xs += px
            ys += py
            colors += ["#312e81" if family == "idfy" else "#475569"] * len(pts)
    labels = place_labels(
        xs, ys, names, log_x=True, width=PARETO_AREA[0], height=PARETO_AREA[1], colors=colors
    )
    fig.update_layout(
        height=int(PARETO_AREA[1]) + _PARETO_MARGIN["t"] + _PARETO_MARGIN["b"],
        margin=_PARETO_MARGIN,
        title={  # the legend is in the title: a legend beside or below would shrink the plot area
            "text": f"{task}: score vs {'MACs (M)' if x == 'macs' else 'batch-1 CPU latency (ms)'} · "
            f'<span style="color:{_IDFY_COLOR}">● idfy</span>  <span style="color:{_BASE_COLOR}">● timm</span>',
            "font": {"size": 13},
            "x": 0.0,
            "xanchor": "left",
            "xref": "paper",
        },
        showlegend=False,
        # log axis labelled at 1-2-5 steps (plotly's default labels every digit on short ranges)
        xaxis={
            "type": "log",
            "dtick": "D2",
            "range": list(labels.x_range),
            "title": {"text": "MACs (millions)" if x == "macs" else "latency (ms)", "standoff": 4},
        },
        yaxis={"title": "score (%)", "range": list(labels.y_range)},
        annotations=labels.annotations,
        template="plotly_white",
    )
    return fig


def ablation_figure(result: dict[str, Any]) -> go.Figure:
    """Horizontal bars of the metric per variant (base on top) with ± std and each seed as a dot; the variant
    names sit on the y axis, one per line, so they never overlap however narrow the chart."""
    rows = result.get("rows", [])
    names = [r["variant"] for r in rows]
    fig = go.Figure(
        go.Bar(
            y=names,
            x=[r["mean"] * 100 for r in rows],
            orientation="h",
            error_x={"type": "data", "array": [r["std"] * 100 for r in rows]},
            marker_color=[
                _IDFY_COLOR
                if r["variant"].startswith("base")
                else ("#16a34a" if r.get("significant") else _BASE_COLOR)
                for r in rows
            ],
            name="mean ± std",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=[r["variant"] for r in rows for _ in r["values"]],
            x=[v * 100 for r in rows for v in r["values"]],
            mode="markers",
            marker={"color": "#111827", "size": 6},
            name="seeds",
        )
    )
    fig.update_layout(
        height=90 + 30 * max(len(rows), 1),
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        xaxis={"title": {"text": f"{result.get('metric', 'score')} (%)", "standoff": 4}},
        yaxis={"autorange": "reversed", "automargin": True, "categoryorder": "array", "categoryarray": names},
        template="plotly_white",
        showlegend=False,
        title={"text": "green: significant vs base (Welch p < 0.05)", "font": {"size": 12}},
    )
    return fig
