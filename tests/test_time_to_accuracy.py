"""benchmarks/time_to_accuracy.py: the smoke run writes its JSON / markdown / plot with a curve per model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_scripts import load_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def test_quick_run_writes_curves_and_verdicts(tmp_path: Path) -> None:
    tta = load_benchmark("time_to_accuracy")
    argv = ["--quick", "--models", "demo", "mobilenetv3_small_100", "--budget", "6", "--points", "3",
            "--marks", "2", "4", "6", "--overhead-steps", "10", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    assert tta.main(argv) == 0
    res = json.loads((tmp_path / "time_to_accuracy.json").read_text())
    assert [r["model"] for r in res["rows"]] == ["demo", "mobilenetv3_small_100"]
    for row in res["rows"]:
        assert row["curve"] and row["curve"][-1]["n"] == 64  # the final point is the full (quick) test split
        assert row["curve"][-1]["nominal_s"] == 6
    assert res["demo_runs"] and res["demo_runs"][0]["model"] == "demo"
    assert "demo_goal_met" in res["verdicts"] and "overhead" in res
    md = (tmp_path / "time_to_accuracy.md").read_text()
    assert "| **demo** |" in md and "mobilenetv3_small_100" in md
    assert (tmp_path / "time_to_accuracy.png").stat().st_size > 1000


def test_rows_from_keeps_the_model_rows_and_adds_the_demo_runs(tmp_path: Path) -> None:
    """``--rows-from`` (benchmarks/run_time_to_accuracy.sh): the earlier rows and their clock stay as they were,
    only the demo's own runs are new, each with the clock and threads they ran under."""
    tta = load_benchmark("time_to_accuracy")
    first, second = tmp_path / "first", tmp_path / "second"
    argv = ["--quick", "--models", "demo", "--budget", "4", "--points", "2", "--marks", "2", "4",
            "--demo-budget", "0", "--overhead-steps", "0", "--threads", "1", "--clock", "cpu", "--out", str(first)]  # fmt: skip
    assert tta.main(argv) == 0
    prior = json.loads((first / "time_to_accuracy.json").read_text())
    assert prior["demo_runs"] == []
    argv = ["--quick", "--rows-from", str(first / "time_to_accuracy.json"), "--seeds", "0", "--demo-budget", "4",
            "--overhead-steps", "0", "--threads", "1", "--clock", "wall", "--out", str(second)]  # fmt: skip
    assert tta.main(argv) == 0
    res = json.loads((second / "time_to_accuracy.json").read_text())
    assert res["rows"] == prior["rows"] and res["clock"] == "cpu" and res["command"] == prior["command"]
    assert res["demo_clock"] == "wall" and res["demo_threads"] == 1
    assert [r["model"] for r in res["demo_runs"]] == ["demo"] and res["demo_runs"][0]["final"]
    assert "4" in res["demo_points"]["demo"]  # the demo's final point fills the table's 4 s column
    md = (second / "time_to_accuracy.md").read_text()
    assert "| **demo** |" in md and "its 4 s runs (wall clock, 1 threads)" in md
    assert "--rows-from" in md  # the demo's own command is written beside its runs
    res["demo_runs"][0]["images_per_s"] = None  # a run whose budget went to data preparation made no step
    assert "| 0 | " in tta.to_markdown({**res, "demo_runs": [{**res["demo_runs"][0], "steps": 0}]})
    # the inverse: new model rows (here merged from a run's log) with the demo's runs kept from ``second``
    log = tmp_path / "rows.log"
    log.write_text("".join(f"ROW {json.dumps(r)}\n" for r in prior["rows"]))
    third = tmp_path / "third"
    argv = ["--quick", "--merge", str(log), "--demo-runs-from", str(second / "time_to_accuracy.json"),
            "--marks", "2", "4", "--clock", "cpu", "--threads", "1", "--out", str(third)]  # fmt: skip
    assert tta.main(argv) == 0
    kept = json.loads((third / "time_to_accuracy.json").read_text())
    before = json.loads((second / "time_to_accuracy.json").read_text())
    assert (
        kept["demo_runs"] == before["demo_runs"]
        and kept["demo_clock"] == "wall"
        and kept["rows"] == prior["rows"]
    )
    assert "4" in kept["demo_points"]["demo"]
    assert "its 4 s runs (wall clock, 1 threads)" in (third / "time_to_accuracy.md").read_text()
    # the same models under another recipe: extra rows "<model> · LABEL" beside the merged ones, in the verdicts
    other = tmp_path / "other.log"
    lower = [{**r, "curve": [{**p, "loc_accuracy": 0.5 * (p["loc_accuracy"] or 0)} for p in r["curve"]]}
             for r in prior["rows"]]  # fmt: skip
    other.write_text("".join(f"ROW {json.dumps(r)}\n" for r in lower))
    fourth = tmp_path / "fourth"
    argv = ["--quick", "--merge", str(log), "--merge-recipe", str(other), "--recipe-label", "AdamW", "--models", "demo",
            "--demo-runs-from", str(second / "time_to_accuracy.json"), "--marks", "2", "4", "--clock", "cpu",
            "--threads", "1", "--out", str(fourth)]  # fmt: skip
    assert tta.main(argv) == 0
    both = json.loads((fourth / "time_to_accuracy.json").read_text())
    assert both["models"] == ["demo", "demo · AdamW"] and both["idfy_models"] == both["models"]
    assert [r["model"] for r in both["rows"]] == ["demo", "demo · AdamW"]
    assert both["points"]["demo · AdamW"]["4"]["mean"] == 0.5 * both["points"]["demo"]["4"]["mean"]
    md = (fourth / "time_to_accuracy.md").read_text()
    assert "| **demo · AdamW** |" in md and "Rows '· AdamW': the same models" in md


def test_attempt_script_logs_one_line_per_run(tmp_path: Path) -> None:
    mod = load_benchmark("tta_attempt")
    log = tmp_path / "attempts.log"
    argv = ["stride1", "--set", "stages.0.stride=1", "--tc", "data=shapes", "--tc", "size=32", "--tc", "n_train=64",
            "--tc", "n_test=16", "--tc", "eval_subset=8", "--tc", "batch_size=16", "--budget", "3",
            "--log", str(log)]  # fmt: skip
    assert mod.main(argv) == 0
    (line,) = log.read_text().splitlines()
    assert line.split(" | ")[:3] == ["stride1", "seed 0", "stages.0.stride=1 data=shapes size=32 n_train=64 "
                                     "n_test=16 eval_subset=8 batch_size=16"]  # fmt: skip
    assert "loc-acc" in line and "steps" in line
