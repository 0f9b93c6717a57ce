"""Designs side by side: params, MACs, FLOPs, per-stage output shapes, training memory and deltas against
the first design, followed by timm reference models counted the same way (:mod:`idfy.analysis.baselines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idfy.analysis.baselines import baseline_rows
from idfy.analysis.measure import analyze, with_size
from idfy.analysis.report import CONVENTIONS, Report
from idfy.analysis.units import MISSING, human_bytes, human_count, shape_text
from idfy.config import ModelConfig

__all__ = ["Comparison", "compare"]


def _pct(new: float, old: float) -> float | None:
    return None if old == 0 else (new - old) / old * 100.0


@dataclass
class Comparison:
    """Side-by-side numbers of several designs (``rows[0]`` is the reference for the deltas) followed by
    timm reference models (``kind == "baseline"``)."""

    rows: list[dict]
    input_size: tuple[int, int]
    batch_size: int = 32
    conventions: dict[str, str] = field(default_factory=lambda: dict(CONVENTIONS))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "rows": self.rows,
            "conventions": self.conventions,
        }

    def to_markdown(self) -> str:
        """A Markdown table: one row per design, deltas against the first in brackets."""
        head = (
            f"| model | kind | params | MACs | FLOPs | train memory (batch {self.batch_size}) | output "
            "| stage outputs (C×H×W) |"
        )
        lines = [head, "|" + "---|" * 8]
        for i, r in enumerate(self.rows):
            dp = _fmt_delta(r.get("delta_params"), r.get("delta_params_pct"), human_count) if i else ""
            dm = _fmt_delta(r.get("delta_macs"), r.get("delta_macs_pct"), human_count) if i else ""
            df = _fmt_delta(r.get("delta_flops"), r.get("delta_flops_pct"), human_count) if i else ""
            mem = human_bytes(r["memory_total"]) if r.get("memory_total") is not None else MISSING
            if i and r.get("memory_total") is not None:
                mem += _fmt_delta(r.get("delta_memory_total"), r.get("delta_memory_total_pct"), human_bytes)
            shapes = " → ".join(shape_text(s) for s in r.get("stage_out_shapes", [])) or MISSING
            lines.append(
                f"| {r['name']} | {r['kind']} | {human_count(r['params'])}{dp} | {human_count(r['macs'])}{dm} | "
                f"{human_count(r['flops'])}{df} | {mem} | {shape_text(r['output_shape'])} | {shapes} |"
            )
        lines.append("")
        lines.append(
            f"Input {self.input_size[0]}×{self.input_size[1]}; counts at batch 1. {self.conventions['macs']}"
        )
        lines.append(f"{self.conventions['flops']} Deltas (in brackets) are against the first row.")
        return "\n".join(lines)


def _fmt_delta(delta: float | None, pct: float | None, fmt: Any) -> str:
    if delta is None:
        return ""
    sign = "+" if delta >= 0 else "−"
    p = f", {pct:+.1f} %" if pct is not None else ""
    return f" ({sign}{fmt(abs(delta))}{p})"


def _design_row(report: Report) -> dict:
    return {
        "name": report.name,
        "kind": "design",
        "fingerprint": report.fingerprint,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape),
        "params": report.params_total,
        "macs": report.macs,
        "flops": report.flops,
        "stage_out_shapes": [list(r.out_shape) for r in report.stages if r.name.startswith("stages.")],
        "params_by_path": dict(report.params_by_path),
        "macs_by_path": dict(report.macs_by_path),
        "memory": dict(report.memory),
        "memory_total": report.memory["total"],
    }


def _add_deltas(rows: list[dict]) -> None:
    ref = rows[0]
    for r in rows:
        for key in ("params", "macs", "flops", "memory_total"):
            if r.get(key) is None or ref.get(key) is None:
                continue
            r[f"delta_{key}"] = r[key] - ref[key]
            r[f"delta_{key}_pct"] = _pct(r[key], ref[key])


def compare(
    cfgs: list[ModelConfig],
    input_size: tuple[int, int] | int | None = None,
    *,
    baselines: bool = True,
    batch_size: int = 32,
) -> Comparison:
    """Compare designs side by side: params, MACs, FLOPs, per-stage output shapes, training memory and
    deltas against the first design (absolute and %).

    Args:
        cfgs: one or more designs; all are analysed at ``input_size`` (default: the first design's size).
        baselines: add timm ``resnet18``, ``mobilenetv3_small_100`` and ``ghostnet_100`` (untrained, with
            the first design's outputs and input channels), counted the same way at the same size.
        batch_size: batch of the training-memory estimates.
    """
    if not cfgs:
        raise ValueError("compare needs at least one config")
    first = with_size(cfgs[0], input_size)
    size = tuple(first.input.size)
    rows = [_design_row(analyze(c, size, device="cpu", batch_size=batch_size)) for c in cfgs]
    if baselines:
        rows += baseline_rows(
            num_classes=first.num_outputs, in_chans=first.input.channels, size=size, batch_size=batch_size
        )
    _add_deltas(rows)
    return Comparison(rows=rows, input_size=(int(size[0]), int(size[1])), batch_size=batch_size)
