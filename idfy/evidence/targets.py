"""The evidence targets, judged from the committed results — one source for ``benchmarks/README.md`` and the app.

Targets (anchors from the literature; see benchmarks/README.md for the sources):

* (a) a preset with ≤ 0.3 M parameters reaches ≥ 96.0 % Fashion-MNIST test accuracy, and one with ≤ 5 M ≥ 97.0 %;
* (b) on ``fashion-canvas`` an idfy preset beats every baseline's localization accuracy under the same recipe,
  at ≤ 1/5 of ResNet-18's MACs;
* (c) an idfy preset's batch-1 CPU latency at 224×224 is no higher than ``mobilenetv3_small_100``'s (same run),
  with higher accuracy on (a) and (b).

Inputs are the dicts of :func:`idfy.evidence.results.load_model_results` (``models.json`` with the interleaved batch-1
latency merged in) and :func:`idfy.evidence.results.load_long_runs` (``fashion_long_*.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TargetRow", "judge_targets", "targets_markdown"]

FMNIST, CANVAS = "fashion-mnist", "fashion-canvas"
LATENCY_REFERENCE = "mobilenetv3_small_100"
MAC_REFERENCE = "resnet18"


@dataclass(frozen=True)
class TargetRow:
    """One target: what it asks, the anchor, what was measured, and whether it is met."""

    target: str
    anchor: str
    measured: str
    met: bool
    verdict: str


def _score(row: dict[str, Any], task: str) -> float | None:
    t = row.get("tasks", {}).get(task)
    return None if not t or t.get("score") is None else float(t["score"])


def _pct(v: float) -> str:
    return f"{v * 100:.1f} %"


def _fmnist_target(
    rows: list[dict[str, Any]], long_runs: list[dict[str, Any]], max_params: float, goal: float, anchor: str
) -> TargetRow:
    cands: list[tuple[float, str]] = []
    for r in rows:
        s = _score(r, FMNIST)
        if r.get("family") == "idfy" and s is not None and r.get("params", 1e18) <= max_params:
            cands.append((s, f"`{r['model']}` ({r['params'] / 1e6:.3f} M) {_pct(s)} after the short recipe"))
    for run in long_runs:
        # the last epoch's accuracy: the best epoch would be chosen on the test set itself
        final = run.get("final_accuracy", run.get("best_accuracy"))
        if run.get("params", 1e18) <= max_params and final is not None:
            s = float(final)
            where = f"{run.get('epochs_done', 0):.0f} epochs on {run.get('device_used', '?')}"
            cands.append((s, f"`{run['design']}` ({run['params'] / 1e6:.3f} M) {_pct(s)} after {where}"))
    target = f"≤ {max_params / 1e6:g} M params, Fashion-MNIST ≥ {goal * 100:.1f} %"
    if not cands:
        return TargetRow(target, anchor, "no result", False, "not measured")
    best, text = max(cands)
    met = best >= goal
    gap = f"missed by {(goal - best) * 100:.1f} pt" if not met else "met"
    return TargetRow(target, anchor, "best: " + text, met, gap)


def _canvas_target(rows: list[dict[str, Any]]) -> TargetRow:
    target = "fashion-canvas: an idfy preset beats every baseline at ≤ 1/5 of ResNet-18's MACs"
    ref = next((r for r in rows if r["model"] == MAC_REFERENCE), None)
    base = [
        (s, r["model"]) for r in rows if r.get("family") != "idfy" and (s := _score(r, CANVAS)) is not None
    ]
    if ref is None or not base:
        return TargetRow(target, "—", "no result", False, "not measured")
    budget = ref["macs"] / 5
    anchor = f"{MAC_REFERENCE} {ref['macs'] / 1e6:,.0f} M MACs → budget {budget / 1e6:,.0f} M"
    eligible = [
        (s, r)
        for r in rows
        if r.get("family") == "idfy" and r["macs"] <= budget and (s := _score(r, CANVAS)) is not None
    ]
    if not eligible:
        return TargetRow(target, anchor, "no idfy preset within the MAC budget", False, "missed")
    best_s, best = max(eligible, key=lambda t: t[0])
    top_s, top = max(base)
    beaten = [m for s, m in sorted(base, reverse=True) if best_s > s]
    measured = f"`{best['model']}` ({best['macs'] / 1e6:.0f} M MACs) {_pct(best_s)}; best baseline {top} {_pct(top_s)}"
    if best_s > top_s:
        return TargetRow(target, anchor, measured, True, f"met: +{(best_s - top_s) * 100:.1f} pt over {top}")
    others = f"; beats {', '.join(beaten)}" if beaten else ""
    return TargetRow(
        target, anchor, measured, False, f"missed against {top} by {(top_s - best_s) * 100:.1f} pt{others}"
    )


def _latency_target(rows: list[dict[str, Any]]) -> TargetRow:
    target = "batch-1 CPU latency ≤ mobilenetv3_small_100's, with higher accuracy on (a) and (b)"
    ref = next((r for r in rows if r["model"] == LATENCY_REFERENCE), None)
    if ref is None or ref.get("latency_b1_ms") is None:
        return TargetRow(target, "—", "no result", False, "not measured")
    ref_ms, ref_a, ref_b = ref["latency_b1_ms"], _score(ref, FMNIST), _score(ref, CANVAS)
    anchor = f"{LATENCY_REFERENCE}: {ref_ms:.2f} ms, {_pct(ref_a or 0)} (a), {_pct(ref_b or 0)} (b)"
    winners, notes = [], []
    for r in rows:
        if r.get("family") != "idfy" or r.get("latency_b1_ms") is None:
            continue
        if r.get("latency_b1_run") != ref.get("latency_b1_run"):
            notes.append(f"`{r['model']}` not in the reference's latency run")
            continue
        a, b = _score(r, FMNIST), _score(r, CANVAS)
        ratio = r["latency_b1_ms"] / ref_ms
        desc = f"`{r['model']}` {ratio:.2f}× ({_pct(a or 0)}, {_pct(b or 0)})"
        if ratio <= 1 and a is not None and b is not None and ref_a is not None and ref_b is not None:
            if a > ref_a and b > ref_b:
                winners.append(desc)
            else:
                notes.append(desc)
    if winners:
        return TargetRow(target, anchor, "; ".join(winners), True, f"met by {len(winners)} preset(s)")
    return TargetRow(
        target,
        anchor,
        "no preset both faster and more accurate; " + ("; ".join(notes) or "none faster"),
        False,
        "missed",
    )


def judge_targets(
    results: dict[str, Any] | None, long_runs: list[dict[str, Any]] | None = None
) -> list[TargetRow]:
    """Every target of the evidence issue judged from the committed results (empty without ``models.json``)."""
    if not results:
        return []
    rows = results.get("rows", [])
    runs = long_runs or []
    return [
        _fmnist_target(
            rows, runs, 0.3e6, 0.960, "ResNet-20 (0.27 M) with random erasing 95.98 % (published)"
        ),
        _fmnist_target(rows, runs, 5e6, 0.970, "Fine-Tuning DARTS 96.91 %, WRN40-4 (8.9 M) 96.7 %"),
        _canvas_target(rows),
        _latency_target(rows),
    ]


def targets_markdown(rows: list[TargetRow]) -> str:
    """A markdown table of :func:`judge_targets` (pasted into benchmarks/README.md)."""
    lines = ["| target | anchor | measured | verdict |", "|---|---|---|---|"]
    for r in rows:
        verdict = f"**{r.verdict}**"
        lines.append(f"| {r.target} | {r.anchor} | {r.measured} | {verdict} |")
    return "\n".join(lines)
