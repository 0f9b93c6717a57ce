"""A race (:mod:`idfy.train.race`) as the Train tab shows it: overlaid curves on one time axis, the designs' sample
predictions side by side, a status line per design, and the final table with the chance level.

Nothing here imports Gradio: :class:`RaceView` turns race items into plain values (HTML, plotly JSON, a PIL
image, table rows) and the tab wraps them.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from idfy.train.chance import Chance
from idfy.train.events import Done, Eval, Failed, Samples, Start, Step
from idfy.train.race import SPEED_LABEL, SPEED_NOTE, Lap, RaceDone, RaceStart, format_speed
from idfy.ui.formatting import fmt_pct
from idfy.ui.jobs import ordinal
from idfy.viz.figure import chance_traces, curves_layout, subplot_title
from idfy.viz.samples import race_samples_image

__all__ = ["COLORS", "RaceView", "chance_traces", "race_curves_figure"]

#: One colour per design, in race order.
COLORS = ("#4f46e5", "#ef4444", "#10b981", "#f59e0b")
_NAMES = {"loc_accuracy": "loc. accuracy", "accuracy": "class accuracy"}


def race_curves_figure(
    names: list[str],
    steps: list[list[Step]],
    evals: list[list[Eval]],
    chance: Chance | None,
    by_time: bool = True,
) -> dict[str, Any]:
    """Training loss and the held-out headline metric (%) of every design against its own compute time
    (seconds; the step when ``by_time`` is False), overlaid, with the chance line."""
    key = chance.key if chance is not None else "loc_accuracy"
    data: list[dict[str, Any]] = []
    xs: list[float] = []
    for i, name in enumerate(names):
        color = COLORS[i % len(COLORS)]
        x = [s.elapsed if by_time else s.step for s in steps[i]]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": [s.loss if math.isfinite(s.loss) and s.loss > 0 else None for s in steps[i]],
                "name": f"{name} · loss",
                "legendgroup": name,
                "line": {"color": color, "width": 2},
                "hovertemplate": "%{x:.1f}: %{y:.4f}<extra>" + html.escape(name) + "</extra>",
            }
        )
        ev = [e for e in evals[i] if key in e.metrics or "accuracy" in e.metrics]
        ex = [e.elapsed if by_time else e.step for e in ev]
        xs += x + ex
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": ex,
                "y": [100 * float(e.metrics.get(key, e.metrics.get("accuracy", 0))) for e in ev],
                "name": f"{name} · {_NAMES.get(key, key)}",
                "legendgroup": name,
                "line": {"color": color, "width": 2},
                "marker": {"size": 7},
                "xaxis": "x2",
                "yaxis": "y2",
                "hovertemplate": "%{x:.1f}: %{y:.1f} %<extra>" + html.escape(name) + "</extra>",
            }
        )
    data += chance_traces(chance, xs, (key,))
    unit = "x: s of its own compute" if by_time else "x: step"  # short: the two titles share one line
    annotations = [
        subplot_title(f"training loss ({unit})", 0.22),
        subplot_title(f"held-out {_NAMES.get(key, key)} (%)", 0.79),
    ]
    return {"data": data, "layout": curves_layout(annotations, uirevision="race", legend_y=-0.14)}


@dataclass
class RaceView:
    """Everything the page shows about one race, updated item by item (:meth:`apply`)."""

    names: list[str]
    title: str
    budget_s: float | None = None
    max_steps: int | None = None
    state: str = "preparing"  # waiting, preparing, racing, stopping, done, stopped, failed
    message: str = ""
    position: int = 0
    running: int = 0
    limit: int = 1
    chance: Chance | None = None
    n_train: int = 0
    starts: list[Start | None] = field(default_factory=list)
    steps: list[list[Step]] = field(default_factory=list)
    evals: list[list[Eval]] = field(default_factory=list)
    samples: list[Samples | None] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    finished: list[bool] = field(default_factory=list)
    speeds: list[float | None] = field(default_factory=list)  # the library's, per design (Lap.images_per_s)
    done: RaceDone | None = None
    files: list[str] = field(default_factory=list)
    samples_changed: bool = False

    def __post_init__(self) -> None:
        n = len(self.names)
        self.starts = [None] * n
        self.steps = [[] for _ in range(n)]
        self.evals = [[] for _ in range(n)]
        self.samples = [None] * n
        self.failed = [""] * n
        self.finished = [False] * n
        self.speeds = [None] * n

    def apply(self, item: Any) -> bool:
        """Take one race item; True when the page should be refreshed now."""
        if isinstance(item, RaceStart):
            self.chance, self.n_train, self.state = item.chance, item.n_train, "racing"
            return True
        if isinstance(item, RaceDone):
            self.done = item
            self.state = "stopped" if item.reason == "stopped" else "done"
            return True
        if not isinstance(item, Lap):
            return False
        i, ev = item.index, item.event
        if item.images_per_s is not None:
            self.speeds[i] = item.images_per_s
        if isinstance(ev, Start):
            self.starts[i] = ev
            return False
        if isinstance(ev, Step):
            self.steps[i].append(ev)
            return False
        if isinstance(ev, Eval):
            self.evals[i].append(ev)
            return True
        if isinstance(ev, Samples):
            self.samples[i] = ev
            self.samples_changed = True
            return True
        if isinstance(ev, Failed):
            self.failed[i] = ev.message
            self.finished[i] = True
            return True
        if isinstance(ev, Done):
            self.finished[i] = True
            return True
        return False

    def fail(self, message: str) -> None:
        self.state, self.message = "failed", message

    # ------------------------------------------------------------------ pieces of the page
    def progress(self) -> float:
        """Fraction of the whole race's budget used (0..1)."""
        if self.state in ("done", "stopped"):
            return 1.0
        parts = []
        for i, steps in enumerate(self.steps):
            if self.finished[i]:
                parts.append(1.0)
            elif not steps:
                parts.append(0.0)
            elif self.budget_s:
                parts.append(min(1.0, steps[-1].elapsed / self.budget_s))
            else:
                parts.append(min(1.0, steps[-1].step / max(self.max_steps or 1, 1)))
        return sum(parts) / max(len(parts), 1)

    def headline(self) -> str:
        n = len(self.names)
        if self.state == "waiting":
            return (
                f"waiting: {ordinal(self.position)} in line — {self.running} training(s) running, "
                f"{self.limit} at a time on this server"
            )
        if self.state == "preparing":
            return f"preparing the data and {n} designs …"
        if self.state == "racing":
            return f"racing {n} designs in turns — {100 * self.progress():.0f} % of the race done"
        if self.state == "stopping":
            return "stopping every design: final evaluations and checkpoints …"
        if self.state in ("done", "stopped") and self.done is not None:
            ranked = [s for s in self.done.standings if s.score is not None]
            if not ranked:
                return "the race ended without a final evaluation"
            best = max(ranked, key=lambda s: s.score or 0.0)
            key = self.chance.key if self.chance is not None else "loc_accuracy"
            why = "stopped" if self.state == "stopped" else "race over"
            what = f"{_NAMES.get(key, key)} {fmt_pct(best.score)}"
            if sum(s.score == best.score for s in ranked) > 1:
                return f"{why}: a tie at {what} — every checkpoint kept"
            return f"{why}: {best.name} wins with {what} — every checkpoint kept"
        return self.message

    def rows(self) -> list[tuple[str, str, str]]:
        """(design, colour, one line of numbers) per design: step, its own training seconds, its speed (the
        library's :attr:`~idfy.train.race.Lap.images_per_s`: at the end the final table's number) and its latest
        held-out headline metric."""
        out = []
        key = self.chance.key if self.chance is not None else "loc_accuracy"
        for i, name in enumerate(self.names):
            parts = []
            if self.failed[i]:
                parts.append(f"failed: {self.failed[i]}")
            elif self.steps[i]:
                st = self.steps[i][-1]
                parts.append(f"step {st.step}")
                # each design's own training time (the designs take turns), not the seconds since Start
                parts.append(
                    f"{st.elapsed:.1f} s"
                    + (f" of its {self.budget_s:g} s budget" if self.budget_s else " trained")
                )
                if self.speeds[i] is not None:  # the number the final table shows (Standing.images_per_s)
                    parts.append(f"{format_speed(self.speeds[i])} {SPEED_LABEL}")
            if self.evals[i] and not self.failed[i]:
                m = self.evals[i][-1].metrics
                if key in m:
                    parts.append(f"{_NAMES.get(key, key)} {fmt_pct(m[key])}")
            out.append((name, COLORS[i % len(COLORS)], " · ".join(parts) or "waiting for its turn"))
        return out

    def status_html(self) -> str:
        badge = {"preparing": "starting", "racing": "racing"}.get(self.state, self.state)
        state = {"racing": "training"}.get(self.state, self.state)
        bar = ""
        if self.state in ("racing", "stopping", "done", "stopped"):
            bar = f'<div class="bar"><div style="width:{100 * self.progress():.1f}%"></div></div>'
        runs = "".join(
            f'<div class="run" title="{html.escape(SPEED_NOTE)}"><span class="dot" style="background:{c}"></span>'
            f"<b>{html.escape(n)}</b> {html.escape(text)}</div>"
            for n, c, text in self.rows()
        )
        verdicts = ""
        if self.done is not None:
            items = [
                f'<li data-beat="{"yes" if s.verdict.beat else "no"}"><b>{html.escape(s.name)}</b>: '
                f"{html.escape(s.verdict.text)}</li>"
                for s in self.done.standings
                if s.verdict is not None
            ]
            verdicts = f'<ul class="verdicts" id="race-verdicts">{"".join(items)}</ul>' if items else ""
        chance = ""
        if self.chance is not None:
            c = self.chance
            chance = (
                f'<div class="sub">chance (a constant answer on the {c.n} held-out images): class accuracy '
                f"{fmt_pct(c.accuracy)}" + (f", loc. accuracy {fmt_pct(c.loc_accuracy)}" if c.loc_accuracy is not None else "")
                + "</div>"
            )  # fmt: skip
        return (
            f'<div class="ts" data-state="{state}" data-race="1">'
            f'<div class="head"><span class="badge">{html.escape(badge)}</span>'
            f'<span class="msg">{html.escape(self.headline())}</span></div>'
            f'<div class="sub">{html.escape(self.title)}</div>{bar}'
            f'<div class="runs">{runs}</div>{chance}{verdicts}</div>'
        )

    def figure(self) -> dict[str, Any]:
        return race_curves_figure(
            self.names, self.steps, self.evals, self.chance, by_time=bool(self.budget_s)
        )

    def samples_picture(self) -> Image.Image | None:
        if not any(s is not None for s in self.samples):
            return None
        return race_samples_image(self.names, self.samples)

    def table(self) -> tuple[list[str], list[list[Any]]]:
        if self.done is None:
            return [], []
        return self.done.table()
