"""idfy.analysis.units: one number format (lower-case SI k, binary byte prefixes) for the CLI, diagram and app."""

from __future__ import annotations

import math

from idfy import load_preset
from idfy.analysis import analyze, compare, human_bytes, human_count
from idfy.analysis.units import MISSING, shape_text
from idfy.commands.summary import format_report
from idfy.ui.formatting import fmt_bytes, fmt_count, fmt_shape


def test_counts_use_si_prefixes_with_a_lower_case_k() -> None:
    assert human_count(12_345) == "12.3 k"
    assert human_count(4_848_437) == "4.85 M"
    assert human_count(1.82e9, "MACs") == "1.82 GMACs"
    assert human_count(812) == "812"
    assert human_count(None) == MISSING and human_count(math.nan) == MISSING


def test_bytes_use_binary_prefixes() -> None:
    assert human_bytes(1536) == "1.50 KiB"
    assert human_bytes(3.5e8) == "334 MiB"
    assert human_bytes(812) == "812 B"
    assert human_bytes(None) == MISSING


def test_cli_and_app_print_the_same_numbers() -> None:
    r = analyze(load_preset("tiny"), device="cpu")
    assert f"{human_count(r.macs):>10}" in format_report(r) and fmt_count(r.macs) == human_count(r.macs)
    assert fmt_bytes(r.memory["total"]) == human_bytes(r.memory["total"])
    table = compare([load_preset("tiny")], baselines=False).to_markdown()
    assert human_count(r.params_total) in table and " K" not in table


def test_one_shape_format_for_the_cli_the_diagram_and_the_app() -> None:
    assert shape_text((3, 224, 224)) == fmt_shape((3, 224, 224)) == "3×224×224"
    assert shape_text(None) == shape_text(()) == fmt_shape(None) == MISSING
    assert shape_text(None, missing="") == ""
    report = analyze(load_preset("seed_model2"))
    assert "input 3×224×224 · output 5" in format_report(report)
