"""The files of a run folder besides the checkpoints: ``metrics.csv``, ``curves.png`` and ``samples.png``.

``metrics.csv`` has one row per :class:`~idfy.train.events.Step` (loss columns filled) and one per
:class:`~idfy.train.events.Eval` (metric columns filled); a resumed run first drops the rows written after the
checkpoint it resumes from. Plots are drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from idfy.train.checkpoint import atomic_write_bytes
from idfy.train.events import Eval, Samples, Step

__all__ = ["CSV_COLUMNS", "RunLog", "plot_curves", "plot_samples"]

CSV_COLUMNS = (
    "step", "epoch", "elapsed_s", "lr", "loss", "box_l1", "giou", "cls", "images_per_s",
    "accuracy", "mean_iou", "loc_accuracy",
)  # fmt: skip


class RunLog:
    """Appends events to ``out_dir/metrics.csv`` and keeps them for the plots."""

    def __init__(self, out_dir: str | Path, resume_step: int | None = None) -> None:
        self.dir = Path(out_dir)
        self.path = self.dir / "metrics.csv"
        self.rows: list[dict[str, Any]] = []
        if resume_step is not None and self.path.is_file():
            with self.path.open(newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    if row.get("step") and int(float(row["step"])) <= resume_step:
                        self.rows.append({k: _num(v) for k, v in row.items() if k in CSV_COLUMNS})
        self._rewrite()

    def _rewrite(self) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in self.rows:
            w.writerow({k: _fmt(r.get(k)) for k in CSV_COLUMNS})
        data = buf.getvalue().encode()
        atomic_write_bytes(self.path, lambda f: f.write(data))

    def add(self, event: Step | Eval) -> None:
        """Record a Step or Eval event (one CSV row)."""
        if isinstance(event, Step):
            row: dict[str, Any] = {
                "step": event.step, "epoch": event.epoch, "elapsed_s": event.elapsed, "lr": event.lr,
                "loss": event.loss, "box_l1": event.box_l1, "giou": event.giou, "cls": event.cls,
                "images_per_s": event.images_per_s,
            }  # fmt: skip
        else:
            m = event.metrics
            row = {"step": event.step, "elapsed_s": event.elapsed}
            row.update({k: m[k] for k in ("accuracy", "mean_iou", "loc_accuracy") if k in m})
        self.rows.append(row)
        with self.path.open("a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, fieldnames=CSV_COLUMNS).writerow({k: _fmt(row.get(k)) for k in CSV_COLUMNS})

    def write_plots(self, samples: Samples | None) -> list[Path]:
        """Write ``curves.png`` (and ``samples.png`` when ``samples`` is given); returns the paths."""
        paths = [plot_curves(self.rows, self.dir / "curves.png")]
        if samples is not None:
            paths.append(plot_samples(samples, self.dir / "samples.png"))
        return paths


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _num(v: str | None) -> float | int | None:
    if v is None or v == "":
        return None
    f = float(v)
    return int(f) if f.is_integer() and "." not in v and "e" not in v else f


def _figure(**kw: Any) -> Any:
    # A bare Figure (no pyplot) renders through Agg on savefig: no global backend, no display.
    from matplotlib.figure import Figure

    return Figure(**kw)


def plot_curves(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Loss parts, learning rate and held-out metrics against the step -> PNG at ``path``."""
    fig = _figure(figsize=(11, 3.4), dpi=100, layout="constrained")
    axes = fig.subplots(1, 3)
    steps = [r for r in rows if r.get("loss") is not None]
    evals = [r for r in rows if r.get("accuracy") is not None]
    for key in ("loss", "box_l1", "giou", "cls"):
        pts = [(r["step"], r[key]) for r in steps if r.get(key) is not None and math.isfinite(r[key])]
        if pts and any(v for _, v in pts):
            axes[0].plot(*zip(*pts), label=key, lw=1.2 if key == "loss" else 0.9)
    axes[0].set(title="training loss", xlabel="step")
    if any(r.get("loss") for r in steps):
        axes[0].set_yscale("log")
    if axes[0].lines:  # a run stopped before its first loss point has no curve to label
        axes[0].legend(fontsize=8)
    lr = [(r["step"], r["lr"]) for r in steps if r.get("lr") is not None]
    if lr:
        axes[1].plot(*zip(*lr), color="tab:purple")
    axes[1].set(title="learning rate", xlabel="step")
    for key, label in (
        ("accuracy", "class accuracy"),
        ("mean_iou", "mean IoU"),
        ("loc_accuracy", "loc. accuracy"),
    ):
        pts = [(r["step"], r[key]) for r in evals if r.get(key) is not None]
        if pts:
            axes[2].plot(*zip(*pts), marker="o", ms=3, label=label)
    axes[2].set(title="held-out metrics", xlabel="step", ylim=(0, 1))
    if evals:
        axes[2].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))


def plot_samples(s: Samples, path: str | Path, cols: int = 4) -> Path:
    """A grid of sample images with true (green) and predicted (red) boxes and labels -> PNG at ``path``."""
    from matplotlib.patches import Rectangle

    k = len(s.images)
    rows = max(1, math.ceil(k / cols))
    fig = _figure(figsize=(2.6 * cols, 2.8 * rows), dpi=100, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= k:
            continue
        img = s.images[i].float().clamp(0, 1)
        h, w = img.shape[-2:]
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).numpy())
        true_name = s.classes[s.true_labels[i]]
        pred_name = s.classes[s.pred_labels[i]]
        for boxes, color in ((s.true_boxes, "lime"), (s.pred_boxes, "red")):
            if boxes is not None:
                x1, y1, x2, y2 = (float(v) for v in boxes[i])
                ax.add_patch(
                    Rectangle(
                        (x1 * w - 0.5, y1 * h - 0.5),
                        (x2 - x1) * w,
                        (y2 - y1) * h,
                        fill=False,
                        color=color,
                        lw=1.5,
                    )
                )
        ok = "✓" if s.pred_labels[i] == s.true_labels[i] else "✗"
        ax.set_title(f"{ok} {pred_name} {s.pred_scores[i]:.2f}\n(true: {true_name})", fontsize=8)
    fig.suptitle(f"samples at step {s.step}: green = truth, red = prediction", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))
