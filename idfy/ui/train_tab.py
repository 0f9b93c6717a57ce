"""Train tab: a short, live training run of a preset or of the Design tab's current design.

Start streams the run (:func:`run_training`, a generator over :func:`idfy.train.train`'s events): a status line
(step, epoch, images/s, elapsed, lr), live loss and held-out curves (plotly), a grid of sample predictions with
their boxes (one PIL image), then the final metrics per class and the checkpoint to download. Stop sets the
session's stop event (:mod:`idfy.ui.jobs`): the engine ends the run cleanly (``Done(reason="stopped")``) and the
checkpoint is kept. The kept checkpoint is the session's "latest from Train" in the Predict tab.

Only :func:`idfy.ui.jobs.max_trainings` runs train at once; later ones wait in line and see their place. Every
failure (an invalid design, missing Fashion-MNIST files, a loss that became NaN, ...) is shown in the status line
with the library's message, never a traceback.
"""

from __future__ import annotations

import html
import json
import logging
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw, ImageFont

from idfy.config import ConfigError, ModelConfig
from idfy.data import describe_datasets
from idfy.events import Checkpoint, Done, Eval, Failed, Samples, Start, Step
from idfy.presets import list_presets, preset_config
from idfy.train_config import TrainConfig
from idfy.ui.formatting import fmt_pct, subplot_title
from idfy.ui.jobs import REGISTRY, JobError, JobRegistry, ordinal

__all__ = [
    "BATCH_SIZES",
    "CURRENT_DESIGN",
    "METRIC_HEADERS",
    "RunView",
    "TrainSettings",
    "build",
    "curves_figure",
    "make_configs",
    "metrics_rows",
    "run_training",
    "samples_image",
    "start_training",
    "stop_training",
]

log = logging.getLogger("idfy.ui")

#: The model choice that means "the design of the Design tab".
CURRENT_DESIGN = "current design"
DEFAULT_MODEL = "tiny"
#: Demo-sized data and cadence: the first curve appears after a few steps.
N_TRAIN, N_TEST = 3000, 500
LOG_EVERY, SAMPLE_EVERY, EVAL_EVERY = 5, 25, 100
MIN_SIZE, MAX_SIZE = 32, 224
MAX_SECONDS, MAX_STEPS = 600, 5000
BATCH_SIZES = (8, 16, 32, 64, 128)
#: Augmentation choices -> TrainConfig settings (shifts of up to 10 % of the side; erasing with p = 0.25).
AUGMENTATIONS = {"flip": {"augment": True}, "shift": {"translate": 0.1}, "erase": {"erase": 0.25}}
#: Seconds between two page updates from :class:`Step` events (Eval / Samples / the end always update).
REFRESH_S = 0.4
WAIT_POLL_S = 0.5
METRIC_HEADERS = ["class", "n", "accuracy", "IoU", "loc. acc."]
INTERNAL_ERROR = "the training failed unexpectedly (the details are in the server log)"
_REASONS = {
    "budget": "time budget reached",
    "max_steps": "step budget reached",
    "epochs": "all epochs done",
    "stopped": "stopped",
}


# --------------------------------------------------------------------------- settings -> configs
@dataclass(frozen=True)
class TrainSettings:
    """What the Train tab's controls say (plain values)."""

    dataset: str = "shapes"
    size: int = 64
    model: str = DEFAULT_MODEL
    budget_kind: str = "seconds"
    budget: float = 60
    optimizer: str = "adamw"
    lr: float = 2e-3
    batch_size: int = 32
    augment: tuple[str, ...] = ("flip",)

    @property
    def model_label(self) -> str:
        return "the current design" if self.model == CURRENT_DESIGN else self.model


def _number(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: give a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name}: give a finite number")
    return v


def resolve_design(model: str, config_yaml: str | None) -> ModelConfig:
    """The design to train: a preset by name, or the Design tab's current design (YAML)."""
    if model == CURRENT_DESIGN:
        if not (config_yaml or "").strip():
            raise ConfigError("current design: the Design tab has no valid design yet; pick a preset there")
        return ModelConfig.from_yaml(config_yaml or "")
    if model not in list_presets():
        raise ConfigError(f"model: unknown preset {model!r}; choose one of {', '.join(list_presets())}")
    return preset_config(model)  # a name only: this value comes from the browser


def make_configs(settings: TrainSettings, config_yaml: str | None = None) -> tuple[ModelConfig, TrainConfig]:
    """The design and the run's :class:`TrainConfig` for ``settings``, validated.

    Raises:
        ConfigError / ValueError: a message naming the control to change.
    """
    from idfy.ui.limits import check_memory

    if settings.dataset not in describe_datasets():
        raise ValueError(f"dataset: choose one of {', '.join(describe_datasets())}")
    size = int(_number(settings.size, "input size"))
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"input size: {size} px is outside {MIN_SIZE}–{MAX_SIZE} px")
    budget = _number(settings.budget, "budget")
    if settings.budget_kind == "seconds":
        if not 1 <= budget <= MAX_SECONDS:
            raise ValueError(f"budget: give 1 to {MAX_SECONDS} seconds (got {budget:g})")
        limits: dict[str, Any] = {"time_budget_s": budget, "max_steps": None}
    elif settings.budget_kind == "steps":
        if not 1 <= budget <= MAX_STEPS or budget != int(budget):
            raise ValueError(f"budget: give a whole number of steps from 1 to {MAX_STEPS} (got {budget:g})")
        limits = {"time_budget_s": None, "max_steps": int(budget)}
    else:
        raise ValueError("budget: choose seconds or steps")
    lr = _number(settings.lr, "learning rate")
    if not 0 < lr <= 10:
        raise ValueError(f"learning rate: {lr:g} must be above 0 and at most 10")
    batch = int(_number(settings.batch_size, "batch size"))
    if batch not in BATCH_SIZES:
        raise ValueError(f"batch size: choose one of {', '.join(map(str, BATCH_SIZES))}")
    unknown = [a for a in settings.augment if a not in AUGMENTATIONS]
    if unknown:
        raise ValueError(
            f"augmentation: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(AUGMENTATIONS)}"
        )
    augment: dict[str, Any] = {"augment": False}
    for name in settings.augment:
        augment.update(AUGMENTATIONS[name])
    cfg = resolve_design(settings.model, config_yaml)
    try:
        sized = cfg.set("input.size", [size, size])
    except ConfigError as e:
        raise ConfigError(f"input size: the design does not work at {size}×{size} px ({e})") from None
    check_memory(sized, batch_size=batch)  # refuse designs that would exhaust the server before building one
    tc = TrainConfig(
        data=settings.dataset,
        size=size,
        n_train=N_TRAIN,
        n_test=N_TEST,
        batch_size=batch,
        optimizer=settings.optimizer,  # type: ignore[arg-type]
        lr=lr,
        log_every=LOG_EVERY,
        sample_every=SAMPLE_EVERY,
        eval_every=EVAL_EVERY,
        checkpoint_every=0,  # best.pt at evaluations, last.pt at the end
        **limits,
        **augment,
    )
    tc.validate()
    return cfg, tc


# --------------------------------------------------------------------------- pictures
_TRUTH, _PRED, _BAD = (34, 197, 94), (239, 68, 68), (185, 28, 28)
_TILE = 124


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _tile(image: Any, side: int) -> Image.Image:
    """A (C, H, W) float tensor in [0, 1] -> an RGB PIL image ``side`` pixels square (nearest when enlarging)."""
    arr = (image.float().clamp(0, 1) * 255).round().byte()
    if arr.shape[0] == 1:
        arr = arr.expand(3, -1, -1)
    pil = Image.fromarray(arr[:3].permute(1, 2, 0).contiguous().numpy(), "RGB")
    if pil.size != (side, side):
        up = pil.width < side
        pil = pil.resize((side, side), Image.Resampling.NEAREST if up else Image.Resampling.BILINEAR)
    return pil


def samples_image(samples: Samples, columns: int = 4, tile: int = _TILE) -> Image.Image:
    """One picture of the sample predictions: each image enlarged, its true box (green) and predicted box (red),
    the predicted class and score (green when right, red when wrong) and the true class under it."""
    k = len(samples.images)
    cols = max(1, min(columns, k))
    rows = max(1, math.ceil(k / cols))
    pad, caption, header = 8, 36, 26
    width = cols * tile + (cols + 1) * pad
    height = header + rows * (tile + caption) + (rows + 1) * pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    small, big = _font(12), _font(13)
    title = f"test images at step {samples.step}"
    draw.text((pad, 7), title, fill=(30, 41, 59), font=big)
    legend_x = pad + int(draw.textlength(title, font=big)) + 16
    has_boxes = samples.true_boxes is not None or samples.pred_boxes is not None
    for label, color in (("truth", _TRUTH), ("prediction", _PRED)) if has_boxes else ():
        draw.rectangle((legend_x, 9, legend_x + 13, 21), outline=color, width=3)
        draw.text((legend_x + 18, 8), label, fill=(71, 85, 105), font=small)
        legend_x += 30 + int(draw.textlength(label, font=small))
    for i in range(k):
        r, c = divmod(i, cols)
        x0 = pad + c * (tile + pad)
        y0 = header + pad + r * (tile + caption + pad)
        canvas.paste(_tile(samples.images[i], tile), (x0, y0))
        draw.rectangle((x0 - 1, y0 - 1, x0 + tile, y0 + tile), outline=(203, 213, 225))
        for boxes, color in ((samples.true_boxes, _TRUTH), (samples.pred_boxes, _PRED)):
            if boxes is None:
                continue
            x1, y1, x2, y2 = (float(v) * tile for v in boxes[i])
            rect = (x0 + x1 - 1, y0 + y1 - 1, x0 + x2 + 1, y0 + y2 + 1)
            draw.rectangle(
                rect, outline=(15, 23, 42), width=5
            )  # a dark rim keeps the box visible on any colour
            draw.rectangle((x0 + x1, y0 + y1, x0 + x2, y0 + y2), outline=color, width=3)
        pred, true = samples.pred_labels[i], samples.true_labels[i]
        ok = pred == true
        name = samples.classes[pred] if 0 <= pred < len(samples.classes) else str(pred)
        truth = samples.classes[true] if 0 <= true < len(samples.classes) else str(true)
        draw.text(
            (x0, y0 + tile + 4),
            f"{name} {samples.pred_scores[i]:.2f}",
            fill=(21, 128, 61) if ok else _BAD,
            font=big,
        )
        draw.text((x0, y0 + tile + 21), f"true: {truth}", fill=(100, 116, 139), font=small)
    return canvas


_AXIS = {"automargin": True, "gridcolor": "rgba(120,120,140,0.18)", "zeroline": False}
_LOSS_TRACES = (
    ("loss", "loss (total)", "#4f46e5", 2.6),
    ("box_l1", "box L1", "#0ea5e9", 1.4),
    ("giou", "GIoU", "#f59e0b", 1.4),
    ("cls", "class CE", "#10b981", 1.4),
)
_EVAL_TRACES = (
    ("accuracy", "class accuracy", "#8b5cf6"),
    ("mean_iou", "mean IoU", "#06b6d4"),
    ("loc_accuracy", "loc. accuracy", "#ef4444"),
)


def curves_figure(steps: list[Step], evals: list[Eval], title: str = "") -> dict[str, Any]:
    """Loss (total and its parts) and held-out metrics (%) against the step, as plain plotly JSON."""
    data: list[dict[str, Any]] = []
    x = [s.step for s in steps]
    mode = "lines+markers" if len(x) < 12 else "lines"
    for key, name, color, width in _LOSS_TRACES:
        y = [getattr(s, key) for s in steps]
        if key != "loss" and not any(v for v in y):
            continue  # a part that is always 0 (no boxes for classification)
        data.append(
            {
                "type": "scatter",
                "mode": mode,
                "x": x,
                "y": [v if math.isfinite(v) and v > 0 else None for v in y],
                "name": name,
                "line": {"color": color, "width": width},
                "marker": {"size": 4},
                "hovertemplate": "step %{x}: %{y:.4f}<extra>" + name + "</extra>",
            }
        )
    ex = [e.step for e in evals]
    for key, name, color in _EVAL_TRACES:
        if not any(key in e.metrics for e in evals):
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": ex,
                "y": [100 * float(e.metrics[key]) if key in e.metrics else None for e in evals],
                "name": name,
                "line": {"color": color, "width": 2},
                "marker": {"size": 7},
                "xaxis": "x2",
                "yaxis": "y2",
                "hovertemplate": "step %{x}: %{y:.1f} %<extra>" + name + "</extra>",
            }
        )
    empty_eval = not ex
    annotations = [
        subplot_title("training loss by step", 0.22),
        subplot_title("held-out metrics by step (%)", 0.79),
    ]
    if empty_eval:
        annotations.append(
            {
                "text": f"first evaluation at step {EVAL_EVERY}<br>(and at the end)",
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
        "layout": {
            "title": {"text": title, "x": 0.01, "font": {"size": 14}},
            "height": 330,
            "margin": {"l": 10, "r": 10, "t": 46 if title else 30, "b": 10},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
            "legend": {"orientation": "h", "y": -0.12, "x": 0},
            "xaxis": {**_AXIS, "domain": [0, 0.46]},
            "yaxis": {**_AXIS, "rangemode": "tozero"},
            "xaxis2": {**_AXIS, "domain": [0.56, 1], "anchor": "y2", "matches": "x"},
            "yaxis2": {**_AXIS, "anchor": "x2", "range": [0, 100], "ticksuffix": " %"},
            "annotations": annotations,
            "uirevision": "train",
        },
    }


def _plot(figure: dict[str, Any]) -> PlotData:
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
    shown: bool = False  # the first update clears what an earlier run left on the page

    def apply(self, event: Any) -> bool:
        """Take one training event; True when the page should be refreshed now."""
        if isinstance(event, Start):
            self.start = event
            self.state = "training"
            self.notes = list(event.notes)
            return True
        if isinstance(event, Step):
            self.steps.append(event)
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
        budget = f"{s.budget:g} s" if s.budget_kind == "seconds" else f"{int(s.budget)} steps"
        return f"{s.model_label} on {s.dataset} · {s.size} px · {budget} · {s.optimizer} lr {s.lr:g} · batch {s.batch_size}"

    def progress(self) -> float:
        """Fraction of the budget used (0..1)."""
        if self.state in ("done", "stopped"):
            return 1.0
        if not self.steps:
            return 0.0
        last = self.steps[-1]
        if self.settings.budget_kind == "seconds":
            return min(1.0, last.elapsed / max(float(self.settings.budget), 1e-9))
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
            return f"preparing {N_TRAIN:,} {s.dataset} images at {s.size} px and building {s.model_label} …"
        if self.state == "training":
            if not self.steps:
                return f"training — the first curve appears after {LOG_EVERY} steps"
            return f"training — {100 * self.progress():.0f} % of the budget used"
        if self.state == "stopping":
            return "stopping: final evaluation and checkpoint …"
        if self.state in ("done", "stopped") and self.done is not None:
            d = self.done
            why = _REASONS.get(d.reason, d.reason)
            kept = " — checkpoint kept for the Predict tab" if self.checkpoint else ""
            return f"{why} at step {d.step} after {d.elapsed:.0f} s{kept}"
        if self.state == "stopped":
            return self.message or "stopped"
        if self.state == "failed":
            return self.message
        return self.message

    def chips(self) -> list[tuple[str, str]]:
        """(name, value) pairs of the status line."""
        out: list[tuple[str, str]] = []
        if self.steps:
            st = self.steps[-1]
            total = f" / {int(self.settings.budget)}" if self.settings.budget_kind == "steps" else ""
            out += [
                ("step", f"{st.step}{total}"),
                ("epoch", f"{st.epoch:.2f}"),
                ("images/s", f"{st.images_per_s:,.0f}"),
                (
                    "elapsed",
                    f"{st.elapsed:.1f} s"
                    + (f" / {self.settings.budget:g} s" if self.settings.budget_kind == "seconds" else ""),
                ),
                ("lr", f"{st.lr:.2e}"),
                ("loss", f"{st.loss:.4f}"),
            ]
        m = self.done.metrics if self.done is not None else (self.evals[-1].metrics if self.evals else None)
        if m:
            parts = [f"acc {fmt_pct(m.get('accuracy'))}"]
            if "mean_iou" in m:
                parts += [f"IoU {_iou(m.get('mean_iou'))}", f"loc {fmt_pct(m.get('loc_accuracy'))}"]
            out.append(("held-out" if self.done is None else "final", " · ".join(parts)))
        if self.start is not None:
            out.append(("params", f"{self.start.num_params:,}"))
            out.append(("device", self.start.device))
        return out

    def status_html(self) -> str:
        """The status line (badge, headline, progress bar, numbers, notes) as HTML."""
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
            + (f'<ul class="notes">{notes}</ul>' if notes else "")
            + "</div>"
        )

    def outputs(self, final: bool = False) -> tuple[Any, ...]:
        """(status, curves, samples, metrics, checkpoint file) for the page; unchanged parts are ``gr.update()``
        except in the ``final`` update, which carries every value (what an API client receives)."""
        every = final or not self.shown
        self.shown = True
        figure = (
            _plot(curves_figure(self.steps, self.evals))
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


def idle_status() -> str:
    """The status line before any run."""
    return (
        '<div class="ts" data-state="idle"><div class="head"><span class="badge">ready</span>'
        '<span class="msg">Pick a dataset, a model and a budget, then Start. Curves appear after a few steps; '
        "Stop ends the run early and keeps its checkpoint.</span></div>"
        f'<div class="sub">demo runs use {N_TRAIN:,} training and {N_TEST} test images; losses every '
        f"{LOG_EVERY} steps, sample predictions every {SAMPLE_EVERY}, evaluation every {EVAL_EVERY} and at the end"
        "</div></div>"
    )


# --------------------------------------------------------------------------- the run
def _keep_checkpoint(registry: JobRegistry, session: str, view: RunView, done: Done) -> None:
    """Copy the run's checkpoint next to the session (a descriptive name, replacing older ones) and remember it
    as the session's latest for the Predict tab."""
    if not done.checkpoint or not Path(done.checkpoint).is_file():
        return
    s = view.settings
    model = view.start.model_config.name if view.start is not None else s.model
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{model}-{s.dataset}")[:60]
    folder = registry.session_dir(session)
    dest = folder / f"idfy-{slug}-{s.size}px-step{done.step}.pt"
    for old in folder.glob("idfy-*.pt"):
        old.unlink(missing_ok=True)
    shutil.copyfile(done.checkpoint, dest)
    view.checkpoint = str(dest)
    metrics = done.metrics or {}
    registry.set_latest(
        session,
        dest,
        {
            "model": model,
            "dataset": s.dataset,
            "size": s.size,
            "step": done.step,
            "reason": done.reason,
            "classes": list(done.classes),
            "loc_accuracy": metrics.get("loc_accuracy"),
            "accuracy": metrics.get("accuracy"),
        },
    )


def run_training(
    settings: TrainSettings,
    config_yaml: str | None,
    session: str,
    *,
    registry: JobRegistry = REGISTRY,
) -> Iterator[tuple[Any, ...]]:
    """Run one training for ``session`` and yield the page's outputs (see :meth:`RunView.outputs`) as it goes;
    the last yield is the final state (done, stopped or failed) with every value."""
    from idfy.train import train

    view = RunView(settings)
    try:
        model_cfg, tc = make_configs(settings, config_yaml)
        ticket = registry.submit(session)
    except (ConfigError, ValueError, JobError) as e:
        view.fail(str(e))
        yield view.outputs(final=True)
        return
    events = None
    run_dir: Path | None = None
    try:
        while not ticket.wait(WAIT_POLL_S):
            if ticket.stop.is_set():
                view.state, view.message = "stopped", "stopped before it started (it was waiting in line)"
                yield view.outputs(final=True)
                return
            view.state, view.position = "waiting", ticket.position()
            view.running, view.limit = registry.counts()[0], registry.limit
            yield view.outputs()
        view.state = "preparing"
        yield view.outputs()
        run_dir = registry.new_run_dir(session)
        events = train(model_cfg, tc, out_dir=run_dir, stop=ticket.stop)
        last = time.monotonic()
        for ev in events:
            refresh = view.apply(ev)
            if isinstance(ev, Done):
                _keep_checkpoint(registry, session, view, ev)
                break
            if isinstance(ev, Failed):
                break
            if ticket.stop.is_set() and view.state == "training":
                view.state = "stopping"
                refresh = True
            now = time.monotonic()
            if refresh or now - last >= REFRESH_S:
                last = now
                yield view.outputs()
    except Exception:  # never a traceback in the page
        log.exception("training failed")
        view.fail(INTERNAL_ERROR)
    finally:
        ticket.stop.set()  # if the page went away mid-run, the engine stops at its next step
        if events is not None:
            events.close()
        if run_dir is not None:  # the kept checkpoint was copied out; the rest of the run folder goes
            shutil.rmtree(run_dir, ignore_errors=True)
        ticket.release()
    if view.state in ("training", "stopping", "preparing"):  # the events ended without Done / Failed
        view.fail(INTERNAL_ERROR)
    yield view.outputs(final=True)


def _session(request: gr.Request | None) -> str:
    return (getattr(request, "session_hash", None) or "local") if request is not None else "local"


def start_training(
    dataset: str,
    size: float,
    model: str,
    budget_kind: str,
    budget: float,
    optimizer: str,
    lr: float,
    batch_size: float,
    augment: list[str] | None,
    config_yaml: str | None,
    request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills it in
) -> Iterator[tuple[Any, ...]]:
    """Gradio handler of Start (``/train``): stream (status HTML, curves, samples image, metrics rows,
    checkpoint file) until the run ends."""
    settings = TrainSettings(
        dataset=dataset,
        size=size,  # type: ignore[arg-type]  # checked by make_configs
        model=model,
        budget_kind=budget_kind,
        budget=budget,
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,  # type: ignore[arg-type]
        augment=tuple(augment or ()),
    )
    yield from run_training(settings, config_yaml, _session(request))


def stop_training(request: gr.Request = None) -> str:  # type: ignore[assignment]
    """Gradio handler of Stop (``/stop_training``): ask this session's training to stop; returns what happened."""
    if REGISTRY.stop(_session(request)):
        return "stop requested: the run ends after the current step and keeps its checkpoint"
    return "no training of this page is running"


# --------------------------------------------------------------------------- layout
_CSS = """
.ts { border: 1px solid #e2e6f0; border-left: 5px solid #6366f1; border-radius: 10px; padding: 9px 12px;
  background: #fff; font-size: 13.5px; color: #0f172a; }
.head { display: flex; gap: 10px; align-items: center; }
.badge { flex: none; text-transform: uppercase; letter-spacing: .06em; font-size: 11px; font-weight: 700;
  padding: 2px 8px; border-radius: 999px; background: #eef2ff; color: #3730a3; }
.msg { font-weight: 600; }
.sub { color: #64748b; font-size: 12px; margin-top: 3px; }
.bar { height: 6px; background: #eef2f7; border-radius: 999px; margin-top: 8px; overflow: hidden; }
.bar > div { height: 100%; background: linear-gradient(90deg, #6366f1, #0ea5e9); border-radius: 999px;
  transition: width .3s; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.chip { background: #f1f5f9; border-radius: 6px; padding: 2px 8px; font-size: 12.5px;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
.chip b { color: #64748b; font-weight: 600; margin-right: 3px; }
.notes { margin: 6px 0 0; padding-left: 18px; color: #92400e; font-size: 12px; }
.ts[data-state=waiting] { border-left-color: #f59e0b; } .ts[data-state=waiting] .badge { background: #fef3c7; color: #92400e; }
.ts[data-state=done] { border-left-color: #10b981; } .ts[data-state=done] .badge { background: #d1fae5; color: #065f46; }
.ts[data-state=stopped], .ts[data-state=stopping] { border-left-color: #64748b; }
.ts[data-state=stopped] .badge, .ts[data-state=stopping] .badge { background: #e2e8f0; color: #334155; }
.ts[data-state=failed] { border-left-color: #dc2626; background: #fef2f2; }
.ts[data-state=failed] .badge { background: #dc2626; color: #fff; }
.ts[data-state=failed] .msg { color: #7f1d1d; }
.ts[data-state=idle] .badge { background: #f1f5f9; color: #475569; }
"""


def _dataset_info(name: str) -> str:
    return f"<div style='font-size:12px;color:#64748b;margin:-2px 2px 2px'>{html.escape(describe_datasets().get(name, ''))}</div>"


def _budget_default(kind: str) -> Any:
    if kind == "steps":
        return gr.update(value=300, label="budget (steps)", maximum=MAX_STEPS)
    return gr.update(value=60, label="budget (seconds)", maximum=MAX_SECONDS)


def _lock() -> tuple[Any, Any, Any]:
    """Start pressed: Start off, Stop on, the previous run's download hidden."""
    return gr.update(interactive=False), gr.update(interactive=True, value="Stop"), gr.update(visible=False)


def _unlock(checkpoint: str | None) -> tuple[Any, Any, Any]:
    """The run ended: Start on, Stop off, the download shown when a checkpoint was kept."""
    return (
        gr.update(interactive=True),
        gr.update(interactive=False, value="Stop"),
        gr.update(visible=bool(checkpoint)),
    )


def _stopping() -> Any:
    return gr.update(interactive=False, value="Stopping …")


def build(config_state: gr.State) -> None:
    """Build the Train tab inside the current ``gr.Tab``; ``config_state`` holds the Design tab's YAML."""
    datasets = describe_datasets()
    models = [*list_presets(), (f"{CURRENT_DESIGN} (Design tab)", CURRENT_DESIGN)]
    with gr.Row(equal_height=False, elem_id="train-row"):
        with gr.Column(scale=1, min_width=300, elem_id="train-controls"):
            dataset = gr.Radio(list(datasets), value="shapes", label="dataset", elem_id="train-dataset")
            dataset_info = gr.HTML(_dataset_info("shapes"), elem_id="train-dataset-info", js_on_load=None)
            model = gr.Dropdown(
                models,
                value=DEFAULT_MODEL,
                label="model",
                info="a preset, or the design being edited in the Design tab",
                elem_id="train-model",
            )
            size = gr.Slider(
                MIN_SIZE, MAX_SIZE, value=64, step=8, label="input size (px)", elem_id="train-size"
            )
            with gr.Row():
                budget_kind = gr.Radio(
                    ["seconds", "steps"], value="seconds", label="budget in", min_width=120
                )
                budget = gr.Number(
                    60,
                    label="budget (seconds)",
                    minimum=1,
                    maximum=MAX_SECONDS,
                    min_width=100,
                    elem_id="train-budget",
                )
            with gr.Row():
                optimizer = gr.Radio(["adamw", "sgd"], value="adamw", label="optimizer", min_width=120)
                lr = gr.Number(2e-3, label="learning rate", minimum=0, min_width=100, elem_id="train-lr")
            batch = gr.Dropdown(list(BATCH_SIZES), value=32, label="batch size", elem_id="train-batch")
            augment = gr.CheckboxGroup(
                list(AUGMENTATIONS),
                value=["flip"],
                label="augmentation",
                info="horizontal flips · shifts ≤ 10 % · random erasing (p = 0.25)",
                elem_id="train-augment",
            )
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="train-start")
                stop = gr.Button("Stop", variant="stop", interactive=False, elem_id="train-stop")
        with gr.Column(scale=3, elem_id="train-results"):
            status = gr.HTML(
                idle_status(), label="status", css_template=_CSS, js_on_load=None, elem_id="train-status"
            )
            curves = gr.Plot(
                _plot(curves_figure([], [])), label="curves", show_label=False, elem_id="train-curves"
            )
            with gr.Row(equal_height=False):
                samples = gr.Image(
                    type="pil",
                    label="sample predictions",
                    show_label=False,
                    interactive=False,
                    format="png",
                    scale=1,
                    elem_id="train-samples",
                    buttons=["download", "fullscreen"],
                )
                with gr.Column(scale=1, min_width=280):
                    metrics = gr.Dataframe(
                        headers=METRIC_HEADERS,
                        value=[],
                        label="final held-out metrics",
                        interactive=False,
                        max_height=420,
                        elem_id="train-metrics",
                    )
                    ckpt_file = gr.File(
                        label="checkpoint (.pt) to download — also the Predict tab's model",
                        interactive=False,
                        height=70,
                        visible=False,
                        elem_id="train-checkpoint",
                    )

    dataset.change(
        _dataset_info, dataset, dataset_info, api_visibility="private", queue=False, show_progress="hidden"
    )
    budget_kind.change(
        _budget_default, budget_kind, budget, api_visibility="private", queue=False, show_progress="hidden"
    )
    outputs = [status, curves, samples, metrics, ckpt_file]
    start.click(
        _lock, None, [start, stop, ckpt_file], api_visibility="private", queue=False, show_progress="hidden"
    ).then(
        start_training,
        [dataset, size, model, budget_kind, budget, optimizer, lr, batch, augment, config_state],
        outputs,
        api_name="train",
        show_progress="hidden",
        concurrency_limit=16,  # the job registry runs IDFY_MAX_TRAININGS of them; the rest wait visibly
        concurrency_id="idfy-train",
    ).then(
        _unlock,
        ckpt_file,
        [start, stop, ckpt_file],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    # /stop_training's answer for API clients (the page shows the status line instead)
    stop_note = gr.Textbox(label="answer", visible=False, elem_id="train-stop-note")
    stop.click(
        stop_training,
        None,
        stop_note,
        api_name="stop_training",
        show_progress="hidden",
        concurrency_limit=None,  # never waits behind trainings or predictions
        concurrency_id="idfy-stop",
    ).then(_stopping, None, stop, api_visibility="private", queue=False, show_progress="hidden")
