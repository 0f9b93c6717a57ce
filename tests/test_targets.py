"""Target verdicts computed from results: met and missed cases, and the committed results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idfy.evidence import judge_targets, load_long_runs, load_model_results, results_folder, targets_markdown


def _row(
    model: str, family: str, params: float, macs: float, ms: float, fm: float, fc: float
) -> dict[str, Any]:
    return {
        "model": model,
        "family": family,
        "params": params,
        "macs": macs,
        "latency_b1_ms": ms,
        "tasks": {"fashion-mnist": {"score": fm}, "fashion-canvas": {"score": fc}},
    }


BASELINES = [
    _row("resnet18", "timm", 11e6, 1800e6, 35.0, 0.86, 0.60),
    _row("mobilenetv3_small_100", "timm", 1.5e6, 55e6, 6.7, 0.775, 0.33),
]


def test_all_missed_with_gaps() -> None:
    rows = [*BASELINES, _row("tiny", "idfy", 0.05e6, 25e6, 5.0, 0.74, 0.36)]
    a1, a2, b, c = judge_targets({"rows": rows})
    assert not a1.met and a1.verdict == "missed by 22.0 pt" and "`tiny`" in a1.measured
    assert not a2.met and a2.verdict == "missed by 23.0 pt"
    assert not b.met and b.verdict.startswith(
        "missed against resnet18 by 24.0 pt; beats mobilenetv3_small_100"
    )
    assert not c.met and "tiny` 0.75×" in c.measured


def test_met_cases() -> None:
    rows = [
        *BASELINES,
        _row("good", "idfy", 0.2e6, 100e6, 6.0, 0.80, 0.65),
        _row("big", "idfy", 4e6, 2000e6, 50.0, 0.99, 0.99),  # over the MAC budget of (b), too slow for (c)
    ]
    runs = [
        {
            "design": "long",
            "params": 0.25e6,
            "best_accuracy": 0.97,
            "final_accuracy": 0.961,
            "epochs_done": 200,
            "device_used": "cuda",
        }
    ]
    a1, a2, b, c = judge_targets({"rows": rows}, runs)
    assert a1.met and "`long` (0.250 M) 96.1 % after 200 epochs on cuda" in a1.measured
    assert a2.met and "`big`" in a2.measured
    assert b.met and b.verdict == "met: +5.0 pt over resnet18" and "`good`" in b.measured
    assert c.met and "`good` 0.90×" in c.measured and "big" not in c.measured


def test_latencies_of_different_runs_are_not_compared() -> None:
    fast = _row("fast", "idfy", 0.1e6, 20e6, 1.0, 0.9, 0.9)
    ref = {**BASELINES[1], "latency_b1_run": "interleaved"}
    c = judge_targets({"rows": [BASELINES[0], ref, {**fast, "latency_b1_run": "training benchmark"}]})[3]
    assert not c.met and "`fast` not in the reference's latency run" in c.measured
    c = judge_targets({"rows": [BASELINES[0], ref, {**fast, "latency_b1_run": "interleaved"}]})[3]
    assert c.met


def test_nothing_to_judge() -> None:
    assert judge_targets(None) == []
    rows = judge_targets({"rows": [_row("tiny", "idfy", 0.05e6, 25e6, 5.0, 0.7, 0.3)]})
    assert [r.verdict for r in rows[2:]] == ["not measured", "not measured"]


def test_committed_results_are_judged() -> None:
    root = results_folder(Path(__file__).resolve().parents[1])
    results = load_model_results(root)
    rows = judge_targets(results, load_long_runs(root))
    assert len(rows) == 4 and all(r.measured != "no result" for r in rows)
    text = targets_markdown(rows)
    assert text.count("\n") == 5 and "mobilenetv3_small_100" in text
