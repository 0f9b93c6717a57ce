"""Evidence tab: committed results are read and drawn; the live ablation validates its input and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import idfy
from idfy.evidence import load_ablations, load_model_results, results_folder
from idfy.ui.tabs import evidence as ev


def _results() -> Path | None:
    return results_folder(Path(__file__).resolve().parents[1])


def test_committed_model_results_are_shown() -> None:
    results = load_model_results(_results())
    assert results is not None, "benchmarks/results/models.json is committed"
    rows = ev.model_table(results)
    names = [r[0] for r in rows]
    assert {"small", "resnet18", "mobilenetv3_small_100", "ghostnet_100", "efficientnet_b0"} <= set(names)
    assert all(len(r) == 6 + len(results["tasks"]) for r in rows)
    fig = ev.pareto_figure(results, "fashion-canvas", "macs")
    assert {t.name for t in fig.data} == {"idfy", "timm"}
    assert sum(len(t.x) for t in fig.data) == len(rows)


def test_committed_ablations_cover_every_claim() -> None:
    claims = {a["claim"] for a in load_ablations(_results())}
    assert {"s1_injection", "s1d_resize", "s2a_gaussian", "s2b_dense", "s5_downsample", "s7_convs"} <= claims
    assert {"s8_block_order", "s9_input_scale"} <= claims
    for a in load_ablations(_results()):
        table = ev.ablation_table(a)
        assert table[0][0].startswith("base") and len(table) == len(a["rows"])
        assert len(ev.ablation_figure(a).data) == 2


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        ("input.scale", "10", "every value gives the base design"),
        ("injection", "nowhere", "injection='nowhere'"),
        ("block.order", "a,b,c,d,e", "unknown step"),
        ("input.scale", "1,2,3,4,5", "the browser runs at most 4"),
    ],
)
def test_live_ablation_refuses_bad_input(key: str, values: str, message: str) -> None:
    cfg = idfy.load_preset("tiny").to_yaml()
    out = list(ev.run_small_ablation(cfg, key, values, 1, 20, 32, "shapes"))
    assert len(out) == 1 and "Cannot start" in out[0]["progress"] and message in out[0]["progress"]
    assert out[0]["table"] == [] and out[0]["plot"] is None


@pytest.mark.slow
def test_live_ablation_runs_and_reports() -> None:
    cfg = idfy.load_preset("tiny").to_yaml()
    out = list(ev.run_small_ablation(cfg, "input.scale", "1", 1, 20, 32, "shapes"))
    last = out[-1]
    assert last["progress"].startswith("**Done**") and len(last["table"]) == 2 and last["plot"] is not None
    assert any("[2/2]" in o["progress"] for o in out)


def test_interleaved_latency_replaces_the_training_run_latency() -> None:
    import json

    results = load_model_results(_results())
    latency = json.loads((_results() / "latency_cpu_b1.json").read_text())
    want = {r["model"]: r["median_ms"] for r in latency["rows"]}
    got = {r["model"]: r["latency_b1_ms"] for r in results["rows"]}
    assert all(got[m] == want[m] for m in want if m in got) and "latency_cpu.py" in results["latency_source"]


def test_targets_tuning_runs_and_long_runs_are_shown() -> None:
    from idfy.evidence import judge_targets, load_long_runs

    rows = ev.targets_table(judge_targets(load_model_results(_results()), load_long_runs(_results())))
    assert len(rows) == 4 and all(r[3][0] in "✓✗" for r in rows)
    assert [r[0][:3] for r in rows] == ["(a)", "(a)", "(b)", "(c)"]  # the letters the note above defines
    assert all(f"**{letter}**" in ev.TARGETS_NOTE for letter in ("(a)", "(b)", "(c)"))
    assert "`fmnist_small28` is a benchmark design" in ev.TARGETS_NOTE
    claims = [a["claim"] for a in load_ablations(_results())]
    assert "tuning_small_candidate" in claims and "tuning_tiny_candidate_wide" in claims
    assert claims.index("tuning_small_candidate") > claims.index("s9_input_scale")  # claims first
    run = {"design": "d", "params": 1e5, "device_used": "cpu", "curve": [{"epoch": 1, "accuracy": 0.9}]}
    fig = ev.long_run_figure([run])
    assert list(fig.data[0].y) == [90.0] and fig.layout.shapes  # the target line


def test_long_runs_are_read_and_broken_files_skipped(tmp_path) -> None:
    import json

    from idfy.evidence import load_long_runs

    (tmp_path / "fashion_long_a.json").write_text(json.dumps({"design": "a", "curve": []}))
    (tmp_path / "fashion_long_b.json").write_text("{not json")
    (tmp_path / "fashion_long_c.json").write_text(json.dumps({"design": "c"}))
    assert [r["design"] for r in load_long_runs(tmp_path)] == ["a"]


def test_every_claim_has_a_one_line_takeaway() -> None:
    from idfy.evidence import load_ablations
    from idfy.ui.tabs.evidence import claim_takeaway, claims_html

    ablations = {a["claim"]: a for a in load_ablations(_results())}
    if not ablations:
        return
    html = claims_html(ablations)
    assert html.count("<tr>") == len(ablations) + 1  # header + one row per claim, all at once
    s9 = ablations.get("s9_input_scale")
    if s9 is not None:
        assert claim_takeaway(s9).startswith("differs significantly from small: input.scale=255")
        assert "S9: input pixel scale" in html
