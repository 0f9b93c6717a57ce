"""The training-curves picture, drawn once from the metrics records for the app, the CLI and the run folder.

Two panels sharing the step axis: the training loss (total and its non-zero parts: box L1, GIoU, class CE)
and the held-out metrics in % (class accuracy, mean IoU, loc-acc: IoU ≥ 0.5 and the right label), with the
held-out set's chance level as dashed lines (:mod:`idfy.train.chance`).

Input: metrics records, the rows of a run folder's ``metrics.csv`` as dicts (:func:`records` makes them from
:class:`~idfy.train.events.Step` / :class:`~idfy.train.events.Eval` events): a step row has ``step`` and
``loss`` (and ``box_l1``, ``giou``, ``cls``); an eval row has ``step`` and some of ``accuracy``, ``mean_iou``,
``loc_accuracy`` (fractions in [0, 1]).

Output: :func:`curves_figure` gives plain plotly JSON (the app's interactive plot); :func:`curves_png` draws the
same series to PNG bytes with matplotlib's Agg backend (the run folder's ``curves.png``; plotly's own PNG
export needs kaleido and a browser, which idfy does not install).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from idfy.viz.figure import CHANCE_LINES, chance_traces, curves_layout, subplot_title

if TYPE_CHECKING:  # types only: idfy.train imports the run-folder pictures from here
    from idfy.train.chance import Chance
    from idfy.train.events import Eval, Step

__all__ = [
    "EVAL_KEYS",
    "LOSS_KEYS",
    "curves_figure",
    "curves_png",
    "records",
]

#: Loss series: record key, legend name, colour, line width.
LOSS_KEYS = (
    ("loss", "loss (total)", "#4f46e5", 2.6),
    ("box_l1", "box L1", "#0ea5e9", 1.4),
    ("giou", "GIoU", "#f59e0b", 1.4),
    ("cls", "class CE", "#10b981", 1.4),
)
#: Held-out series: record key, legend name, colour.
EVAL_KEYS = (
    ("accuracy", "class accuracy", "#8b5cf6"),
    ("mean_iou", "mean IoU", "#06b6d4"),
    ("loc_accuracy", "loc. accuracy", "#ef4444"),
)
_PANELS = ("training loss by step", "held-out metrics by step (%)")


@dataclass(frozen=True)
class _Series:
    """One line: ``panel`` 0 (loss) or 1 (held-out %); ``y`` None where there is no point."""

    key: str
    name: str
    color: str
    width: float
    panel: int
    x: list[int]
    y: list[float | None]


def records(steps: Iterable[Step], evals: Iterable[Eval]) -> list[dict[str, Any]]:
    """Step and Eval events as metrics records (the ``metrics.csv`` schema), steps first."""
    rows: list[dict[str, Any]] = [
        {"step": s.step, "loss": s.loss, "box_l1": s.box_l1, "giou": s.giou, "cls": s.cls} for s in steps
    ]
    for e in evals:
        rows.append({"step": e.step, **{k: e.metrics[k] for k, _, _ in EVAL_KEYS if k in e.metrics}})
    return rows


def _finite(v: Any) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


def _series(rows: Sequence[Mapping[str, Any]]) -> list[_Series]:
    """The lines of the picture: the total loss always, a loss part only when it is ever non-zero (a
    classification run has no boxes), a held-out metric when any eval row has it."""
    steps = [r for r in rows if r.get("loss") is not None]
    evals = [r for r in rows if r.get("loss") is None and any(r.get(k) is not None for k, _, _ in EVAL_KEYS)]
    out = []
    x = [int(r["step"]) for r in steps]
    for key, name, color, width in LOSS_KEYS:
        y = [_finite(r.get(key)) for r in steps]
        if key != "loss" and not any(y):
            continue
        out.append(_Series(key, name, color, width, 0, x, [v if v and v > 0 else None for v in y]))
    ex = [int(r["step"]) for r in evals]
    for key, name, color in EVAL_KEYS:
        if any(r.get(key) is not None for r in evals):
            y = [100 * float(r[key]) if r.get(key) is not None else None for r in evals]
            out.append(_Series(key, name, color, 2.0, 1, ex, y))
    return out


def _trace(s: _Series) -> dict[str, Any]:
    loss = s.panel == 0
    trace = {
        "type": "scatter",
        "mode": ("lines+markers" if len(s.x) < 12 else "lines") if loss else "lines+markers",
        "x": s.x,
        "y": s.y,
        "name": s.name,
        "line": {"color": s.color, "width": s.width},
        "marker": {"size": 4 if loss else 7},
        "hovertemplate": ("step %{x}: %{y:.4f}" if loss else "step %{x}: %{y:.1f} %")
        + f"<extra>{s.name}</extra>",
    }
    return trace if loss else {**trace, "xaxis": "x2", "yaxis": "y2"}


def curves_figure(
    rows: Sequence[Mapping[str, Any]], title: str = "", chance: Chance | None = None
) -> dict[str, Any]:
    """The picture as plain plotly JSON (``{"data": [...], "layout": {...}}``) from metrics records."""
    series = _series(rows)
    data = [_trace(s) for s in series]
    xs = [x for s in series for x in s.x]
    data += chance_traces(chance, [0, *xs], ("loc_accuracy", "accuracy"))
    annotations = [subplot_title(_PANELS[0], 0.22), subplot_title(_PANELS[1], 0.79)]
    if not any(s.panel == 1 for s in series):
        annotations.append(
            {
                "text": "held-out points appear during the run<br>(and at the end)",
                "x": 0.79,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 12, "color": "#94a3b8"},
            }
        )
    return {
        "data": data,
        "layout": curves_layout(annotations, uirevision="train", legend_y=-0.12, title=title),
    }


def curves_png(rows: Sequence[Mapping[str, Any]], title: str = "", chance: Chance | None = None) -> bytes:
    """The same picture as PNG bytes (11 × 3.6 in at 100 dpi), the loss on a log scale."""
    fig = Figure(figsize=(11, 3.6), dpi=100, layout="constrained")  # a bare Figure renders through Agg
    axes = fig.subplots(1, 2, sharex=True)
    series = _series(rows)
    for s in series:
        pts = [(x, y) for x, y in zip(s.x, s.y) if y is not None]
        if pts:
            style = {"marker": "o", "ms": 3} if s.panel == 1 else {}
            axes[s.panel].plot(*zip(*pts), label=s.name, color=s.color, lw=s.width * 0.6, **style)
    xs = [x for s in series for x in s.x]
    for key, _dash, color, name in CHANCE_LINES if chance is not None and xs else ():
        if getattr(chance, key) is not None:
            axes[1].axhline(100 * getattr(chance, key), color=color, ls="--", lw=1, label=f"chance: {name}")
    if axes[0].lines:
        axes[0].set_yscale("log")
    for ax, panel in zip(axes, _PANELS):
        ax.set(title=panel, xlabel="step")
        ax.grid(alpha=0.3)
        if ax.lines:  # a run stopped before its first point has nothing to label
            ax.legend(fontsize=8)
    axes[1].set_ylim(0, 100)
    if title:
        fig.suptitle(title, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
