"""benchmarks/app_demo.py: what it reads off the page (the verdict and status texts the app writes) and its table."""

from __future__ import annotations

from bench_scripts import load_benchmark


def test_parse_reads_the_apps_own_verdict_and_status() -> None:
    from idfy.train.chance import Chance, verdict

    bench = load_benchmark("app_demo")
    chance = Chance(n=2000, num_classes=10, accuracy=0.106, mean_iou=0.354, loc_accuracy=0.042)
    text = verdict({"n": 2000, "accuracy": 0.83, "mean_iou": 0.87, "loc_accuracy": 0.8245}, chance).text
    status = "time budget reached at step 1,001, 60.4 s after Start — checkpoint kept for the Predict tab"
    got = bench.parse_page(text, status)
    assert got == {"loc_accuracy_pct": 82.5, "steps": 1001, "result_s_after_start": 60.4}
    assert bench.parse_page("", "") == {"loc_accuracy_pct": None, "steps": None, "result_s_after_start": None}


def test_markdown_says_whether_the_goal_was_met() -> None:
    bench = load_benchmark("app_demo")
    meta = {"date": "d", "machine": "m", "torch": "t", "python": "p"}

    def res(accs: list[float]) -> dict:
        runs = [{"run": i + 1, "steps": 900, "result_s_after_start": 60.4, "verdict_seen_s": 63.0,
                 "loc_accuracy_pct": a, "held_out_points": [[6.1, 13.2], [12.1, 64.0]], "verdict": "v",
                 "load_before": 1.0, "load_after": 1.5} for i, a in enumerate(accs)]  # fmt: skip
        return {"command": "c", "meta": meta, "chromium": "1", "runs": runs}

    met = bench.markdown(res([82.0, 81.0, 83.0]))
    assert "Mean **82.0 ± 1.0 %** over 3 runs" in met and "— met." in met and "6.1: 13.2, 12.1: 64.0" in met
    assert "— missed." in bench.markdown(res([79.0, 80.5]))
