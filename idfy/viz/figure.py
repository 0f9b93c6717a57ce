"""Plotly layout pieces shared by idfy's two-panel training figures (one run's curves, a race's overlay): the
layout (loss left, held-out % right, one step or time axis), the subplot titles and the chance lines.

Plain plotly JSON dicts; no plotting library is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: idfy.train imports the run-folder pictures from here
    from idfy.train.chance import Chance


__all__ = ["CHANCE_LINES", "chance_traces", "curves_layout", "subplot_title"]

#: Chance lines: metric key, dash, colour, legend name.
CHANCE_LINES = (
    ("loc_accuracy", "dash", "#b91c1c", "loc. accuracy"),
    ("accuracy", "dot", "#6d28d9", "class accuracy"),
)
_AXIS = {"automargin": True, "gridcolor": "rgba(120,120,140,0.18)", "zeroline": False}


def subplot_title(text: str, x: float) -> dict[str, Any]:
    """A plotly annotation titling one of two side-by-side subplots (``x`` in paper coordinates)."""
    return {
        "text": text,
        "x": x,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "yanchor": "bottom",
        "font": {"size": 12},
    }


def chance_traces(
    chance: Chance | None, x: list[float], keys: tuple[str, ...], axis: str = "2"
) -> list[dict[str, Any]]:
    """Dashed horizontal chance lines (%) over the x range ``x`` for each metric in ``keys`` the set has."""
    if chance is None or not x:
        return []
    lo, hi = min(x), max(x)
    hi = hi if hi > lo else lo + 1
    out = []
    for key, dash, color, name in CHANCE_LINES:
        value = getattr(chance, key)
        if key not in keys or value is None:
            continue
        out.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [lo, hi],
                "y": [100 * value, 100 * value],
                "name": f"chance: {name} {100 * value:.1f} %",
                "line": {"color": color, "width": 1.6, "dash": dash},
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "hovertemplate": f"constant answer: %{{y:.1f}} %<extra>chance ({name})</extra>",
            }
        )
    return out


def curves_layout(
    annotations: list[dict[str, Any]], *, uirevision: str, legend_y: float, title: str | None = None
) -> dict[str, Any]:
    """Plotly layout of the two-panel training figure: the loss on the left (x, y), held-out percentages on
    the right (x2, y2, 0–100 %), sharing the x axis; ``title`` (when given) above both."""
    layout: dict[str, Any] = {
        "height": 330,
        "margin": {"l": 10, "r": 10, "t": 46 if title else 30, "b": 10},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": legend_y, "x": 0},
        "xaxis": {**_AXIS, "domain": [0, 0.46]},
        "yaxis": {**_AXIS, "rangemode": "tozero"},
        "xaxis2": {**_AXIS, "domain": [0.56, 1], "anchor": "y2", "matches": "x"},
        "yaxis2": {**_AXIS, "anchor": "x2", "range": [0, 100], "ticksuffix": " %"},
        "annotations": annotations,
        "uirevision": uirevision,
    }
    if title is not None:
        layout["title"] = {"text": title, "x": 0.01, "font": {"size": 14}}
    return layout
