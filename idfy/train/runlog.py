"""The files of a run folder besides the checkpoints: ``metrics.csv``, ``curves.png`` and ``samples.png``.

``metrics.csv`` has one row per :class:`~idfy.train.events.Step` (loss columns filled) and one per
:class:`~idfy.train.events.Eval` (metric columns filled); a resumed run first drops the rows written after the
checkpoint it resumes from. The pictures are idfy.viz's, the same the app shows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from idfy.train.chance import Chance
from idfy.train.checkpoint import atomic_write_bytes
from idfy.train.events import Eval, Samples, Step
from idfy.viz.curves import curves_png
from idfy.viz.samples import samples_png

__all__ = ["CSV_COLUMNS", "RunLog", "plot_curves", "plot_samples"]

CSV_COLUMNS = (
    "step", "epoch", "elapsed_s", "lr", "loss", "box_l1", "giou", "cls", "images_per_s",
    "accuracy", "mean_iou", "loc_accuracy",
)  # fmt: skip


class RunLog:
    """Appends events to ``out_dir/metrics.csv`` and keeps them for the plots."""

    def __init__(
        self, out_dir: str | Path, resume_step: int | None = None, chance: Chance | None = None
    ) -> None:
        self.dir = Path(out_dir)
        self.chance = chance  # drawn as chance lines on curves.png
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
        paths = [plot_curves(self.rows, self.dir / "curves.png", self.chance)]
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


def plot_curves(rows: list[dict[str, Any]], path: str | Path, chance: Chance | None = None) -> Path:
    """The training curves (:func:`idfy.viz.curves.curves_png`) of the metrics records, with the chance lines
    when ``chance`` is given -> PNG at ``path``."""
    data = curves_png(rows, chance=chance)
    return atomic_write_bytes(path, lambda f: f.write(data))


def plot_samples(s: Samples, path: str | Path, cols: int = 4) -> Path:
    """The sample-predictions grid (:func:`idfy.viz.samples.samples_png`) -> PNG at ``path``."""
    data = samples_png(s, cols)
    return atomic_write_bytes(path, lambda f: f.write(data))
