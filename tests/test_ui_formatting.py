"""Cards, tables and figures made from real reports (plain functions, no browser)."""

from __future__ import annotations

import re

import pytest

from idfy import load_preset
from idfy.analysis import analyze, compare
from idfy.ui import formatting as fmt


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (812, "812"),
        (177_778, "178 k"),
        (4_848_437, "4.85 M"),
        (33_384_528, "33.4 M"),
        (1.8e9, "1.80 G"),
        (None, "—"),
    ],
)
def test_fmt_count(n: float | None, text: str) -> None:
    assert fmt.fmt_count(n) == text


def test_fmt_bytes_and_shape() -> None:
    assert fmt.fmt_bytes(512) == "512 B"
    assert fmt.fmt_bytes(3 * 2**20) == "3.00 MiB"
    assert fmt.fmt_bytes(1.5 * 2**30) == "1.50 GiB"
    assert fmt.fmt_shape((3, 224, 224)) == "3×224×224"
    assert fmt.fmt_shape(None) == "—"
    assert fmt.part_label("stages.2") == "stage 3"
    assert fmt.part_label("head_inject") == "head inject"


def test_cards_state_each_convention() -> None:
    report = analyze(load_preset("seed_model2"))
    html = fmt.cards_html(report)
    assert "4,848,437" in html and "4.85 M" in html
    assert "fvcore: 1 multiply-add = 1" in html and "2 per MAC" in html
    assert "Measure latency" in html
    lat = {"batch1": {"median_ms": 2.5, "p90_ms": 3.0}, "batchN": {"median_ms": 20.0, "batch": 8}}
    html = fmt.cards_html(report, latency=lat)
    assert "2.5 ms" in html and "batch 8: 20.0 ms" in html
    assert "8×112×112" in fmt.summary_line(report)


def test_stage_table_shows_the_seed_shapes() -> None:
    rows = fmt.stage_table(analyze(load_preset("seed_model2")))
    shapes = [r[1] for r in rows]
    assert shapes[:3] == ["3×224×224 → 8×112×112", "8×112×112 → 16×56×56", "16×56×56 → 24×28×28"]
    assert [r[0].replace("\u00a0", " ") for r in rows] == ["stage 1", "stage 2", "stage 3", "head"]
    assert all(len(r) == len(fmt.STAGE_HEADERS) for r in rows)


def test_figures_have_both_panels() -> None:
    report = analyze(load_preset("full"))
    for fig in (fmt.stage_figure(report), fmt.path_figure(report)):
        assert len(fig["data"]) == 2
        assert fig["data"][1]["xaxis"] == "x2"
    assert "gaussian" in fmt.path_figure(report)["data"][0]["x"]
    import plotly.graph_objects as go

    go.Figure(fmt.stage_figure(report))  # the plain JSON is a valid plotly figure


def test_error_html_escapes_and_highlights_the_place() -> None:
    html = fmt.error_html("stage 2 block 1: groups=5 does not divide <16> channels")
    assert "<b>stage 2 block 1</b>" in html and "&lt;16&gt;" in html
    assert fmt.error_html(None) == ""


def test_inline_svg_drops_prolog_and_fixed_size() -> None:
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="100pt" height="300pt" viewBox="0 0 100 300"><g/></svg>'
    html = fmt.diagram_html(svg, "cap")
    assert html.count("<svg") == 1 and "<?xml" not in html and 'width="100pt"' not in html
    assert 'viewBox="0 0 100 300"' in html and "cap" in html


def test_compare_table_and_figure() -> None:
    cmp = compare([load_preset("seed_model2"), load_preset("tiny")], baselines=False)
    headers, rows = fmt.compare_table(cmp.rows)
    assert headers == fmt.COMPARE_HEADERS
    assert rows[0][0] == "seed_model2 (reference)"
    assert "%" in rows[1][1]  # params change against the first design
    assert rows[0][6] == "8×112×112 → 16×56×56 → 24×28×28"
    assert len(fmt.compare_figure(cmp.rows)["data"]) == 2


def test_percent_and_millisecond_formats() -> None:
    from idfy.ui.formatting import fmt_ms, fmt_pct

    assert [fmt_pct(0.816), fmt_pct(None), fmt_pct(float("nan")), fmt_pct(1)] == [
        "81.6 %",
        "—",
        "—",
        "100.0 %",
    ]
    assert [fmt_ms(12.34), fmt_ms(0.45), fmt_ms(None)] == ["12.3 ms", "450 µs", "—"]


def test_cards_show_deltas_against_the_preset_and_the_previous_design() -> None:
    base = analyze(load_preset("seed_model2"))
    new = analyze(load_preset("seed_model2").set("stages.1.inject", True))
    html = fmt.cards_html(new, base=base, base_name="seed_model2", previous=base)
    assert '<span class="idfy-card-delta" data-delta="params">+104 vs seed_model2</span>' in html
    assert 'data-flash="params">+104</span>' in html
    # beside the value, not on a line of its own (that line would stay empty once the flash has faded)
    assert '<div class="idfy-card-value" data-card="params">4.85 M <span class="idfy-card-flash"' in html
    assert fmt.fmt_delta(-1_200_000) == "−1.20 M" and fmt.fmt_delta(0) == ""


def test_stage_table_html_marks_changed_cells_and_never_cuts_numbers() -> None:
    base = analyze(load_preset("seed_model2"))
    new = analyze(load_preset("seed_model2").set("stages.1.width", 20))
    html = fmt.stage_table_html(new, base)
    assert html.count("idfy-changed") >= 2 and 'title="preset: 16×56×56 → 24×28×28">20×56×56' in html
    assert "4,834,725" in fmt.stage_table_html(base)  # the head's params, whole
    strip = fmt.strip_html(
        "",
        error="groups=5 <x>",
        field="c-a",
        field_name="stage 1 groups",
        fixes=[("c-b", "stage 1 conv", "regular")],
    )
    assert 'data-stale="1"' in strip and "&lt;x&gt;" in strip and 'data-fix-value="regular"' in strip


def test_per_stage_comparison_rows_follow_the_network() -> None:
    """A part only a later design has (the stem of ``full`` after ``seed_model2``) sits in network order."""
    reports = [(p, analyze(load_preset(p))) for p in ("seed_model2", "full")]
    page = fmt.compare_stages_html(reports)
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>', page)
    assert len(rows) == 6
    assert rows[0].startswith("stem") and rows[-1] == "head", rows
