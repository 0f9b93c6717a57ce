"""One training run as the Train tab shows it: the status line (badge, headline, progress, numbers with the
smoothed images/s, the verdict against chance, notes), the loss and held-out curves with the chance lines, the
sample-prediction grid and the final metrics table. :class:`RunView` takes :mod:`idfy.train.events` one by one.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.components.plot import PlotData

from idfy.train.chance import Chance, Verdict, few_steps_hint, verdict
from idfy.train.events import Checkpoint, Done, Eval, Failed, Samples, Start, Step
from idfy.ui.formatting import fmt_pct
from idfy.ui.jobs import ordinal
from idfy.viz.curves import curves_figure as draw_curves
from idfy.viz.curves import records
from idfy.viz.samples import samples_image

if TYPE_CHECKING:
    from idfy.ui.tabs.train.settings import TrainSettings

__all__ = [
    "METRIC_HEADERS",
    "SPEED_SMOOTHING",
    "RunView",
    "curves_figure",
    "idle_status",
    "metrics_rows",
    "plot",
]

#: Weight of the newest window in the smoothed images/s (an exponential moving average).
SPEED_SMOOTHING = 0.2
METRIC_HEADERS = ["class", "n", "accuracy", "IoU", "loc. acc."]
_REASONS = {
    "budget": "time budget reached",
    "max_steps": "step budget reached",
    "epochs": "all epochs done",
    "stopped": "stopped",
}


def curves_figure(
    steps: list[Step], evals: list[Eval], title: str = "", chance: Chance | None = None
) -> dict[str, Any]:
    """The run's training curves (:func:`idfy.viz.curves.curves_figure`, the picture of the run folder's
    ``curves.png``) from its Step and Eval events, as plain plotly JSON."""
    return draw_curves(records(steps, evals), title, chance)


def plot(figure: dict[str, Any]) -> PlotData:
    return PlotData(type="plotly", plot=json.dumps(figure))


def _iou(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.3f}"


def metrics_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    """Rows of the final metrics table (:data:`METRIC_HEADERS`): ``all`` first, then each class."""
    if not metrics:
        return []
    rows = [
        [
            "all",
            int(metrics.get("n", 0)),
            fmt_pct(metrics.get("accuracy")),
            _iou(metrics.get("mean_iou")),
            fmt_pct(metrics.get("loc_accuracy")),
        ]
    ]
    for name, m in (metrics.get("per_class") or {}).items():
        rows.append(
            [
                name,
                int(m.get("n", 0)),
                fmt_pct(m.get("accuracy")),
                _iou(m.get("iou")),
                fmt_pct(m.get("loc_accuracy")),
            ]
        )
    return rows


# --------------------------------------------------------------------------- the run as the page shows it
@dataclass
class RunView:
    """Everything the page shows about one run, updated event by event (:meth:`apply`)."""

    settings: TrainSettings
    state: str = "preparing"  # waiting, preparing, training, stopping, done, stopped, failed
    message: str = ""
    position: int = 0
    running: int = 0
    limit: int = 1
    start: Start | None = None
    steps: list[Step] = field(default_factory=list)
    evals: list[Eval] = field(default_factory=list)
    samples: Samples | None = None
    samples_changed: bool = False
    done: Done | None = None
    checkpoint: str | None = None
    notes: list[str] = field(default_factory=list)
    chance: Chance | None = None
    verdict: Verdict | None = None
    speed: float | None = None  # images/s, smoothed
    prep_s: float = 0.0  # seconds spent preparing the data, counted in the time budget as the CLI does
    shown: bool = False  # the first update clears what an earlier run left on the page

    def apply(self, event: Any) -> bool:
        """Take one training event; True when the page should be refreshed now."""
        if isinstance(event, Start):
            self.start = event
            self.state = "training"
            self.notes = list(event.notes)
            self.chance = event.chance  # the engine's held-out set (after any class alignment)
            return True
        if isinstance(event, Step):
            self.steps.append(event)
            if event.images_per_s > 0:
                a = SPEED_SMOOTHING
                self.speed = (
                    event.images_per_s
                    if self.speed is None
                    else (1 - a) * self.speed + a * event.images_per_s
                )
            return False
        if isinstance(event, Eval):
            self.evals.append(event)
            return True
        if isinstance(event, Samples):
            self.samples = event
            self.samples_changed = True
            return True
        if isinstance(event, Checkpoint):
            return False
        if isinstance(event, Done):
            self.done = event
            self.state = "stopped" if event.reason == "stopped" else "done"
            if self.chance is not None:
                self.verdict = verdict(event.metrics, self.chance)
            return True
        if isinstance(event, Failed):
            self.fail(event.message, event.step)
            return True
        return False

    def fail(self, message: str, step: int = 0) -> None:
        self.state = "failed"
        self.message = f"{message} (at step {step})" if step else message

    # ------------------------------------------------------------------ pieces of the page
    def _title(self) -> str:
        s = self.settings
        return (
            f"{s.model_label} on {s.dataset} · {s.size} px · {s.budget_text} · {s.optimizer} lr {s.lr:g} · "
            f"batch {s.batch_size}"
        )

    def progress(self) -> float:
        """Fraction of the budget used (0..1)."""
        if self.state in ("done", "stopped"):
            return 1.0
        if not self.steps:
            return 0.0
        last = self.steps[-1]
        if self.settings.budget_kind == "seconds":
            return min(1.0, (self.prep_s + last.elapsed) / max(float(self.settings.budget), 1e-9))
        return min(1.0, last.step / max(float(self.settings.budget), 1.0))

    def headline(self) -> str:
        """The status in words (the badge says the state)."""
        s = self.settings
        if self.state == "waiting":
            return (
                f"waiting: {ordinal(self.position)} in line — {self.running} training(s) running, "
                f"{self.limit} at a time on this server"
            )
        if self.state == "preparing":
            return f"preparing the {s.dataset} images at {s.size} px and building {s.model_label} …"
        if self.state == "training":
            if not self.steps:
                return "training — the first curve appears after a few steps"
            return f"training — {100 * self.progress():.0f} % of the budget used"
        if self.state == "stopping":
            return "stopping: final evaluation and checkpoint …"
        if self.state in ("done", "stopped") and self.done is not None:
            d = self.done
            why = _REASONS.get(d.reason, d.reason)
            kept = " — checkpoint kept for the Predict tab" if self.checkpoint else ""
            return f"{why} at step {d.step}, {self.clock_s():.1f} s after Start{kept}"
        if self.state == "stopped":
            return self.message or "stopped"
        return self.message

    def clock_s(self) -> float:
        """Seconds from Start to the last training step logged (data preparation included): the clock the
        time budget counts. The final held-out evaluation comes after it (:meth:`final_eval_s`)."""
        if self.steps:
            return self.prep_s + self.steps[-1].elapsed
        return self.prep_s + (self.done.elapsed if self.done is not None else 0.0)

    def final_eval_s(self) -> float | None:
        """Seconds the run took after its last training step (final held-out evaluation, sample boxes and
        checkpoint); None before the run is over."""
        if self.done is None or not self.steps:
            return None
        return max(0.0, self.done.elapsed - self.steps[-1].elapsed)

    def chips(self) -> list[tuple[str, str]]:
        """(name, value) pairs of the status line. ``since Start`` is the budget's clock, the number the
        headline repeats at the end; ``final evaluation`` is the time spent after it."""
        out: list[tuple[str, str]] = []
        if self.steps:
            st = self.steps[-1]
            total = f" / {int(self.settings.budget)}" if self.settings.budget_kind == "steps" else ""
            speed = self.speed if self.speed is not None else st.images_per_s
            budget = f" / {self.settings.budget:g} s budget" if self.settings.budget_kind == "seconds" else ""
            out += [
                ("step", f"{st.step}{total}"),
                ("epoch", f"{st.epoch:.2f}"),
                ("images/s", f"{speed:,.0f}"),
                ("since Start", f"{self.clock_s():.1f} s{budget}"),
            ]
            after = self.final_eval_s()
            if after is not None:
                out.append(("final evaluation", f"{after:.1f} s after that"))
            out += [("lr", f"{st.lr:.2e}"), ("loss", f"{st.loss:.4f}")]
        m = self.done.metrics if self.done is not None else (self.evals[-1].metrics if self.evals else None)
        if m:
            parts = [f"acc {fmt_pct(m.get('accuracy'))}"]
            if "mean_iou" in m:
                parts += [f"IoU {_iou(m.get('mean_iou'))}", f"loc {fmt_pct(m.get('loc_accuracy'))}"]
            out.append(("held-out" if self.done is None else "final", " · ".join(parts)))
        if self.chance is not None:
            c = self.chance
            out.append(
                (
                    "chance",
                    f"loc {fmt_pct(c.loc_accuracy)}"
                    if c.loc_accuracy is not None
                    else f"acc {fmt_pct(c.accuracy)}",
                )
            )
        if self.start is not None:
            out.append(("params", f"{self.start.num_params:,}"))
            out.append(("device", self.start.device))
        return out

    def verdict_html(self) -> str:
        """The final word on learning: did the model beat the chance level, and by how much."""
        if self.verdict is None:
            return ""
        v = self.verdict
        mark = "✓" if v.beat else "✗"
        last = self.steps[-1] if self.steps else None
        hint = "" if v.beat or last is None else few_steps_hint(last.step, self.speed or last.images_per_s)
        return (
            f'<div class="verdict" id="train-verdict" data-beat="{"yes" if v.beat else "no"}">'
            f"{mark} {html.escape(v.text)}{html.escape(hint)}</div>"
        )

    def status_html(self) -> str:
        """The status line (badge, headline, progress bar, numbers, verdict, notes) as HTML."""
        badge = {"preparing": "starting", "training": "training"}.get(self.state, self.state)
        chips = "".join(
            f'<span class="chip"><b>{html.escape(k)}</b> {html.escape(v)}</span>' for k, v in self.chips()
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        bar = ""
        if self.state in ("training", "stopping", "done", "stopped") and self.steps:
            bar = f'<div class="bar"><div style="width:{100 * self.progress():.1f}%"></div></div>'
        return (
            f'<div class="ts" data-state="{self.state}">'
            f'<div class="head"><span class="badge">{html.escape(badge)}</span>'
            f'<span class="msg">{html.escape(self.headline())}</span></div>'
            f'<div class="sub">{html.escape(self._title())}</div>'
            f"{bar}"
            + (f'<div class="chips">{chips}</div>' if chips else "")
            + self.verdict_html()
            + (f'<ul class="notes">{notes}</ul>' if notes else "")
            + "</div>"
        )

    def outputs(self, final: bool = False) -> tuple[Any, ...]:
        """(status, curves, samples, metrics, checkpoint file) for the page; unchanged parts are ``gr.update()``
        except in the ``final`` update, which carries every value (what an API client receives)."""
        every = final or not self.shown
        self.shown = True
        figure = (
            plot(curves_figure(self.steps, self.evals, chance=self.chance))
            if (self.steps or self.evals or every)
            else gr.update()
        )
        if self.samples is not None and (self.samples_changed or every):
            image: Any = samples_image(self.samples)
            self.samples_changed = False
        else:
            image = None if every else gr.update()
        if self.done is not None:
            rows: Any = metrics_rows(self.done.metrics)
        else:
            rows = [] if every else gr.update()
        ckpt: Any = self.checkpoint if (every or self.checkpoint) else gr.update()
        return self.status_html(), figure, image, rows, ckpt


def _race_idle(s: TrainSettings) -> tuple[str, str]:
    """(headline, details) of the idle status for a race: the designs train in turns (:mod:`idfy.train.race`),
    each within the whole budget on its own clock."""
    names = s.design_labels
    n = len(names)
    raced = f"{', '.join(names[:-1])} and {names[-1]}"
    if s.budget_kind == "seconds":
        each = f"{s.budget_text} of training on its own clock"
        total = f"the race takes about {n * float(s.budget):g} s ({n} × {s.budget_text})"
    else:
        each = s.budget_text
        total = "the race takes as long as their steps, one design after another"
    head = (
        f"Press Start race to race {raced} on {s.dataset}: each of the {n} designs gets {each}, trained in "
        f"turns (never two at once) on the same data and seed; {total}, plus the data preparation and each "
        "design's final held-out evaluation."
    )
    sub = (
        "The designs' curves are overlaid as they train, with the chance level drawn in, and their sample "
        "predictions shown side by side; the final table gives each design's held-out metrics and its Δ against "
        "the first. Stop ends every design early and keeps every checkpoint; the winner's is the Predict tab's "
        "model."
    )
    return head, sub


def idle_status(s: TrainSettings) -> str:
    """The status line before any run: what Start (or, with designs under "race against", Start race) with ``s``
    will do: the design(s), the data and the budget."""
    if s.race:
        head, sub = _race_idle(s)
    else:
        head = f"Press Start to train {s.model_label} on {s.dataset} for {s.budget_text}."
        clock = (
            "The time budget runs from Start (data preparation included)"
            if s.budget_kind == "seconds"
            else "The run ends after its last step"
        )
        sub = (
            "Curves appear after a few steps, held-out points during the run with the chance level drawn in, "
            "and sample boxes tighten as it learns; Stop ends the run early and keeps its checkpoint. "
            f"{clock}; the final held-out evaluation follows it. Add designs under “race against” to race them "
            "on the same data, seed and budget."
        )
    return (
        '<div class="ts" data-state="idle"><div class="head"><span class="badge">ready</span>'
        f'<span class="msg">{html.escape(head)}</span></div>'
        f'<div class="sub">{html.escape(sub)}</div></div>'
    )
