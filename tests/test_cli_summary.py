"""``python -m idfy summary`` and ``python -m idfy compare``: output for seed_model2, JSON, diagram files,
deltas, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idfy import load_preset
from idfy.analysis import analyze, compare
from idfy.cli import main


def test_summary_seed_model2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "seed_model2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "stage outputs: 3×224×224 → 8×112×112 → 16×56×56 → 24×28×28" in out
    rows = {
        line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("stages.", "head"))
    }
    assert rows["stages.0"][1:3] == ["3×224×224", "8×112×112"]
    assert rows["stages.2"][1:3] == ["16×56×56", "24×28×28"]
    assert rows["head"][4] == "4,834,725"
    assert "4,848,437" in out and "33,384,528 MACs = 66,769,056 FLOPs" in out
    assert "fvcore's 'flop' convention" in out and "FLOPs = 2 × MACs" in out


def test_summary_table_terms_are_spelled_out_under_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "full", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("part"))
    assert "RF px" in header and "jump" in header and "act b=1" in header
    assert any(line.split()[-4].endswith("+g") for line in lines if line.startswith("stages."))
    total = next(i for i, line in enumerate(lines) if line.startswith("total"))
    note = "\n".join(lines[total + 1 : total + 4])
    assert all(line.startswith("  ") for line in lines[total + 1 : total + 4])  # never read as a table row
    for words in ("RF: receptive field in input pixels (Araujo et al. 2019)", "jump: output stride",
                  "+g: a global operation", "act b=1: activation memory for one image (batch 1, fp32)"):  # fmt: skip
        assert words in note, words


def test_summary_json_and_diagram(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg, png = tmp_path / "d.svg", tmp_path / "d.png"
    assert main(["summary", "tiny", "--size", "96", "--json", "--device", "cpu", "--diagram", str(svg)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shape"] == [3, 96, 96]
    assert data["macs"] * 2 == data["flops"] and data["stages"][1]["out_shape"] == [16, 24, 24]
    assert b"<svg" in svg.read_bytes()
    assert main(["summary", "seed_model1", "--detail", "blocks", "--diagram", str(png), "--layers", "1"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "layer (torchinfo)" in capsys.readouterr().out


def test_summary_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "no_such_preset"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert main(["summary", "tiny", "--size", "99999"]) == 2
    assert "input.size" in capsys.readouterr().err
    assert main(["summary", "tiny", "--diagram", "out.gif"]) == 2


def test_compare_deltas() -> None:
    small, tiny = load_preset("small"), load_preset("tiny")
    c = compare([small, tiny], baselines=False)
    ref, other = analyze(small, device="cpu"), analyze(tiny, device="cpu")
    assert [r["name"] for r in c.rows] == ["small", "tiny"]
    assert c.rows[0]["delta_params"] == 0 and c.rows[0]["delta_macs_pct"] == 0
    assert c.rows[1]["delta_params"] == other.params_total - ref.params_total
    assert c.rows[1]["delta_macs"] == other.macs - ref.macs
    assert c.rows[1]["delta_macs_pct"] == pytest.approx((other.macs - ref.macs) / ref.macs * 100)
    assert c.rows[1]["stage_out_shapes"] == [
        list(s.out_shape) for s in other.stages if s.name.startswith("stages.")
    ]
    md = c.to_markdown()
    assert md.startswith("| model |") and "tiny" in md and "%" in md
    cells = [cell.strip() for cell in md.splitlines()[3].split("|")]  # tiny's row: a delta in every number
    pct = lambda new, old: f"{100 * (new - old) / old:+.1f} %"  # noqa: E731
    assert cells[3].endswith(f"{pct(other.params_total, ref.params_total)})")
    assert cells[4].endswith(f"{pct(other.macs, ref.macs)})") and cells[5].endswith(
        f"{pct(other.macs, ref.macs)})"
    )
    mem_ref, mem = c.rows[0]["memory_total"], c.rows[1]["memory_total"]
    assert mem < mem_ref and cells[6].endswith(f"{pct(mem, mem_ref)})") and "(−" in cells[6]
    json.dumps(c.to_dict())


def test_compare_baselines_counted_like_designs() -> None:
    """timm resnet18 at 224×224: 11.69 M params with 1000 classes -> 11,183,694 with 14 outputs
    (512·14 + 14 in the classifier); 1.82 G MACs (its published count)."""
    c = compare([load_preset("tiny")])
    rows = {r["name"]: r for r in c.rows}
    assert set(rows) == {"tiny", "resnet18", "mobilenetv3_small_100", "ghostnet_100"}
    r18 = rows["resnet18"]
    assert r18["kind"] == "baseline" and r18["params"] == 11_689_512 - 513 * 1000 + 513 * 14
    assert r18["macs"] == 1_813_568_512 and r18["flops"] == 2 * r18["macs"]
    assert r18["output_shape"] == [14]
    assert r18["delta_params"] == r18["params"] - rows["tiny"]["params"]


def test_compare_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "tiny", "small", "--size", "128", "--no-baselines"]) == 0
    out = capsys.readouterr().out
    assert "| tiny |" in out and "| small |" in out and "Input 128×128" in out
    assert main(["compare", "tiny", "small", "--no-baselines", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["rows"]) == 2 and "delta_macs_pct" in data["rows"][1]


def test_summary_latency_and_cross_check(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "summary",
        "tiny",
        "--size",
        "64",
        "--device",
        "cpu",
        "--latency",
        "--cross-check",
        "--batch-size",
        "4",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "latency  (cpu" in out and "batch 4:" in out and "per part (ms, batch 1):" in out
    assert "cross-check  flop_counter" in out and "fvcore skips:" in out
