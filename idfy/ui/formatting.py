"""Cards, tables and plotly figures from an :class:`idfy.analysis.Report` — plain functions, no Gradio.

Every number carries its convention: MACs are fvcore's (one fused multiply-add = 1), FLOPs are
``torch.utils.flop_counter``'s (2 per MAC).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from idfy.analysis.units import human_bytes, human_count, shape_text
from idfy.viz.figure import subplot_title

# ~560 lines: every HTML and figure formatter of the Design tab (cards, tables, diagram frame, charts).
__all__ = [
    "COMPARE_HEADERS",
    "STAGE_HEADERS",
    "Figure",
    "cards_html",
    "compare_figure",
    "compare_stages_html",
    "compare_table",
    "diagram_grid_html",
    "diagram_html",
    "error_html",
    "fmt_bytes",
    "fmt_count",
    "fmt_delta",
    "fmt_ms",
    "fmt_pct",
    "fmt_shape",
    "part_label",
    "path_figure",
    "stage_figure",
    "stage_table",
    "stage_table_html",
    "strip_html",
    "summary_line",
]

STAGE_HEADERS = ["stage", "shape in → out", "injected image", "params", "MACs", "RF / jump", "act. memory"]
_PALETTE = ("#4f46e5", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")


# --------------------------------------------------------------------------- numbers
def fmt_count(n: float | None, unit: str = "") -> str:
    """``4848437`` -> ``4.85 M``, ``812`` (:func:`idfy.analysis.units.human_count`)."""
    return human_count(n, unit)


def fmt_bytes(n: float | None) -> str:
    """``3.5e8`` -> ``334 MiB`` (:func:`idfy.analysis.units.human_bytes`)."""
    return human_bytes(n)


def fmt_shape(shape: Sequence[int] | None) -> str:
    """``(3, 224, 224)`` -> ``3×224×224``; ``None`` -> ``—`` (the library's :func:`shape_text`)."""
    return shape_text(shape)


def fmt_ms(x: Any) -> str:
    """Milliseconds as ``12.3 ms`` (``450 µs`` below 1 ms); ``—`` for None."""
    return "—" if x is None else f"{float(x):.1f} ms" if float(x) >= 1 else f"{float(x) * 1000:.0f} µs"


def fmt_pct(x: Any) -> str:
    """A fraction as a percentage, ``0.816`` → ``81.6 %``; ``—`` for None or NaN."""
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * float(x):.1f} %"


# --------------------------------------------------------------------------- headline
def fmt_delta(d: float, fmt_fn: Any = None) -> str:
    """A signed change: ``+104``, ``−1.20 M``, ``+3.00 MiB`` (exact below 10,000 for counts); ``""`` for 0."""
    if not d:
        return ""
    sign = "+" if d > 0 else "−"
    if fmt_fn is None:
        body = f"{abs(int(d)):,}" if abs(d) < 10_000 else fmt_count(abs(d))
    else:
        body = fmt_fn(abs(d))
    return f"{sign}{body}"


def _card(
    title: str, value: str, sub: str, kind: str, tip: str = "", delta: str = "", flash: str = ""
) -> str:
    t = f' title="{html.escape(tip)}"' if tip else ""
    extra = f'<span class="idfy-card-delta" data-delta="{kind}">{html.escape(delta)}</span>' if delta else ""
    # the short-lived change sits beside the value: on a line of its own it would leave an empty line
    # behind once it has faded
    now = f' <span class="idfy-card-flash" data-flash="{kind}">{html.escape(flash)}</span>' if flash else ""
    return (
        f'<div class="idfy-card idfy-card-{kind}"{t}><div class="idfy-card-title">{html.escape(title)}{extra}</div>'
        f'<div class="idfy-card-value" data-card="{kind}">{html.escape(value)}{now}</div>'
        f'<div class="idfy-card-sub">{html.escape(sub)}</div></div>'
    )


def summary_line(report: Any) -> str:
    """The shape chain ``3×224×224 → 8×112×112 → 16×56×56 → 24×28×28`` (input, then each stage's output)."""
    shapes = [fmt_shape(report.input_shape)] + [fmt_shape(r.out_shape) for r in report.stages]
    return " → ".join(shapes)


def _numbers(report: Any) -> dict[str, float]:
    return {
        "params": float(report.params_total),
        "macs": float(report.macs),
        "flops": float(report.flops),
        "memory": float((report.memory or {}).get("total") or 0),
    }


def _deltas(report: Any, other: Any | None, label: str) -> dict[str, str]:
    if other is None:
        return {}
    new, old = _numbers(report), _numbers(other)
    out = {}
    for k in new:
        text = fmt_delta(new[k] - old[k], fmt_bytes if k == "memory" else None)
        if text:
            out[k] = f"{text} {label}".strip()
    return out


# One card after another in page order (~80 lines): the strip's HTML reads like the strip it draws.
def cards_html(
    report: Any,
    latency: Mapping[str, Any] | None = None,
    note: str = "",
    *,
    base: Any | None = None,
    base_name: str = "",
    previous: Any | None = None,
) -> str:
    """The headline cards: Params · MACs · FLOPs · train memory · latency · device.

    ``base``: the preset's report; each number then shows its change against it (``+104 vs seed_model2``).
    ``previous``: the design before the last change; its change shows for a moment (``data-flash``).
    """
    mem = report.memory or {}
    trainable = report.params_trainable
    p_sub = f"{report.params_total:,}" + (
        "" if trainable == report.params_total else f" · {trainable:,} trainable"
    )
    lat = latency or getattr(report, "latency", None)
    if lat and lat.get("batch1"):
        b1, bn = lat["batch1"], lat.get("batchN") or {}
        lat_value = fmt_ms(b1.get("median_ms"))
        lat_sub = f"batch 1 median · p90 {fmt_ms(b1.get('p90_ms'))}"
        if bn.get("median_ms") is not None:
            lat_sub += f" · batch {bn.get('batch', report.batch_size)}: {fmt_ms(bn['median_ms'])}"
    else:
        lat_value, lat_sub = "—", "press “Measure latency”"
    mem_sub = (
        f"batch {report.batch_size}: weights {fmt_bytes(mem.get('weights'))} · "
        f"activations {fmt_bytes(mem.get('activations'))}"
    )
    vs = _deltas(report, base, f"vs {base_name}" if base_name else "")
    now = _deltas(report, previous, "")
    cards = [
        _card(
            "Params",
            fmt_count(report.params_total),
            p_sub,
            "params",
            "",
            vs.get("params", ""),
            now.get("params", ""),
        ),
        _card(
            "MACs",
            fmt_count(report.macs),
            "fvcore: 1 multiply-add = 1",
            "macs",
            "multiply-accumulates per image, fvcore convention",
            vs.get("macs", ""),
            now.get("macs", ""),
        ),
        _card(
            "FLOPs",
            fmt_count(report.flops),
            "torch flop_counter: 2 per MAC",
            "flops",
            "",
            vs.get("flops", ""),
            now.get("flops", ""),
        ),
        _card(
            "Train memory",
            fmt_bytes(mem.get("total")),
            mem_sub,
            "memory",
            "weights + gradients + Adam state + activations (estimate)",
            vs.get("memory", ""),
            now.get("memory", ""),
        ),
        _card("Latency", lat_value, lat_sub, "latency"),
        _card("Device", str(report.device), "where the model is built and timed", "device"),
    ]
    head = (
        f'<div class="idfy-summary"><span class="idfy-name">{html.escape(str(report.name))}</span>'
        f'<span class="idfy-shapes" title="input, then each stage\'s output (C×H×W)">'
        f"{html.escape(summary_line(report))}</span>"
        f'<span class="idfy-fp" title="config fingerprint">#{html.escape(str(report.fingerprint)[:8])}</span></div>'
    )
    extra = f'<div class="idfy-note">{html.escape(note)}</div>' if note else ""
    return f'<div class="idfy-cards-wrap">{head}<div class="idfy-cards">{"".join(cards)}</div>{extra}</div>'


def strip_html(
    cards: str,
    *,
    error: str | None = None,
    field: str = "",
    field_name: str = "",
    fixes: Sequence[tuple[str, str, str]] = (),
) -> str:
    """The summary strip: the cards, and when the design is invalid the message, the control it names
    (``data-error-field``: the control's element id) and the tested fixes ``(element id, control, value)``;
    ``data-stale`` tells the page that the numbers and diagram are those of the last valid design."""
    if not error:
        return f'<div class="idfy-strip" data-stale="0">{cards}</div>'
    where = f"<b>{html.escape(field_name)}</b>: " if field_name else ""
    fix_html = ""
    if fixes:
        buttons = "".join(
            f'<button type="button" class="idfy-fix" data-fix-field="{html.escape(fid)}" '
            f'data-fix-value="{html.escape(value)}">{html.escape(name)} → {html.escape(value)}</button>'
            for fid, name, value in fixes
        )
        fix_html = f'<div class="idfy-fixes"><span>fixes that work:</span>{buttons}</div>'
    box = (
        f'<div class="idfy-error" role="alert" data-error-field="{html.escape(field)}">'
        '<span class="idfy-error-icon" aria-hidden="true">!</span>'
        f'<div><div class="idfy-error-body">{where}{html.escape(error)}</div>{fix_html}'
        '<div class="idfy-error-hint">Not applied: the numbers, table and diagram show the last valid design '
        "until this is fixed.</div></div></div>"
    )
    return (
        f'<div class="idfy-strip idfy-strip-stale" data-stale="1" data-error-field="{html.escape(field)}">'
        f"{box}{cards}</div>"
    )


def error_html(message: str | None) -> str:
    """A red box with the message (empty string when there is nothing wrong)."""
    if not message:
        return ""
    where, _, rest = str(message).partition(": ")
    if rest and len(where) <= 40:
        body = f"<b>{html.escape(where)}</b>: {html.escape(rest)}"
    else:
        body = html.escape(str(message))
    return (
        '<div class="idfy-error" role="alert"><span class="idfy-error-icon">!</span>'
        f'<div><div class="idfy-error-body">{body}</div>'
        '<div class="idfy-error-hint">The numbers on the right are still those of the last valid design.</div>'
        "</div></div>"
    )


# --------------------------------------------------------------------------- per-stage table
def part_label(name: str) -> str:
    """``stages.0`` -> ``stage 1``, ``head_inject`` -> ``head inject``; other names unchanged."""
    if name.startswith("stages.") and name[7:].isdigit():
        return f"stage {int(name[7:]) + 1}"
    return name.replace("_", " ")


_NBSP = "\u00a0"


def _keep_together(text: str) -> str:
    """Spaces that must not wrap inside a narrow table cell (``14.5 M``, ``stage 1``)."""
    return text.replace(" ", _NBSP)


def stage_table(report: Any) -> list[list[Any]]:
    """Rows for :data:`STAGE_HEADERS` (strings, formatted for reading; short values never wrap)."""
    rows = []
    for r in report.stages:
        rf = getattr(r, "rf", None)
        rf_text = "—" if rf is None else _keep_together(f"{rf} / {r.jump}")
        if getattr(r, "rf_global", False):
            rf_text += " · global"
        rows.append(
            [
                _keep_together(part_label(str(r.name))),
                f"{fmt_shape(r.in_shape)} → {fmt_shape(r.out_shape)}",
                fmt_shape(r.inject_shape) if r.inject_shape else "—",
                f"{int(r.params):,}",
                _keep_together(fmt_count(r.macs)),
                rf_text,
                _keep_together(fmt_bytes(r.act_bytes)),
            ]
        )
    return rows


def stage_table_html(report: Any, base: Any | None = None) -> str:
    """The per-stage table as HTML (:data:`STAGE_HEADERS`); numbers never wrap or get cut. With ``base`` (the
    preset's report) every cell that differs from the preset's row of the same name is marked
    ``idfy-changed`` and titled with the preset's value; rows the preset lacks are marked ``idfy-added``."""
    rows = stage_table(report)
    old = {r[0]: r for r in stage_table(base)} if base is not None else {}
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in STAGE_HEADERS)
    body = []
    for r in rows:
        was = old.get(r[0])
        cells = []
        for j, cell in enumerate(r):
            cls = ["idfy-num"] if j >= 3 else []
            tip = ""
            if base is not None and was is None:
                cls.append("idfy-added")
            elif was is not None and was[j] != cell:
                cls.append("idfy-changed")
                tip = f' title="preset: {html.escape(str(was[j]))}"'
            tag = 'th scope="row"' if j == 0 else "td"
            c = f' class="{" ".join(cls)}"' if cls else ""
            cells.append(f"<{tag}{c}{tip}>{html.escape(str(cell))}</{tag.split()[0]}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<div class="idfy-table-wrap"><table class="idfy-table" aria-label="per-stage shapes and costs">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


# --------------------------------------------------------------------------- figures
Figure = dict[str, Any]
"""A plotly figure as plain JSON data (``{"data": [...], "layout": {...}}``): building ``go.Figure`` objects
validates every property and costs ~20 ms per chart, too slow for a per-keystroke update."""

_AXIS = {"automargin": True, "gridcolor": "rgba(120,120,140,0.18)", "zeroline": False}


def _bar(x: list[str], y: list[float], name: str, colors: list[str], axis: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "x": x,
        "y": y,
        "name": name,
        "marker": {"color": colors},
        "text": [fmt_count(v) for v in y],
        "textposition": "auto",
        "xaxis": "x" if axis == "1" else "x2",
        "yaxis": "y" if axis == "1" else "y2",
        "hovertemplate": "%{x}: %{y:,}<extra>" + name + "</extra>",
    }


def _figure(
    data: list[dict[str, Any]], titles: tuple[str, str], title: str, height: int = 300, log: bool = False
) -> Figure:
    """Two panels side by side (x/y and x2/y2) with a title; no plotly import, no validation."""
    y_kind = {"type": "log"} if log else {}
    return {
        "data": data,
        "layout": {
            "title": {"text": title, "x": 0.01, "font": {"size": 14}},
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 42, "b": 10},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
            "showlegend": False,
            "bargap": 0.25,
            "xaxis": {**_AXIS, "domain": [0, 0.47]},
            "xaxis2": {**_AXIS, "domain": [0.53, 1], "anchor": "y2"},
            "yaxis": {**_AXIS, **y_kind},
            "yaxis2": {**_AXIS, **y_kind, "anchor": "x2"},
            "annotations": [subplot_title(titles[0], 0.235), subplot_title(titles[1], 0.765)],
        },
    }


def _twin_bars(
    left: Mapping[str, float], right: Mapping[str, float], titles: tuple[str, str], title: str
) -> Figure:
    """Two bar charts side by side in one figure (params | MACs)."""
    data = []
    for axis, values, name in (("1", left, titles[0]), ("2", right, titles[1])):
        keys = list(values)
        colors = [_PALETTE[j % len(_PALETTE)] for j in range(len(keys))]
        data.append(_bar(keys, [float(values[k]) for k in keys], name, colors, axis))
    return _figure(data, titles, title)


def _relabel(d: Mapping[str, float]) -> dict[str, float]:
    return {part_label(k): v for k, v in d.items()}


def stage_figure(report: Any) -> Figure:
    """Params and MACs by stage (stem, stages, head)."""
    return _twin_bars(
        _relabel(report.params_by_stage),
        _relabel(report.macs_by_stage),
        ("params", "MACs (fvcore)"),
        "By stage",
    )


def path_figure(report: Any) -> Figure:
    """Params and MACs by path (main stream, sub-streams, injection, head)."""
    return _twin_bars(report.params_by_path, report.macs_by_path, ("params", "MACs (fvcore)"), "By path")


# --------------------------------------------------------------------------- diagram
_SVG_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)


_SVG_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')


def _inline_svg(svg: str | bytes) -> str:
    """The ``<svg>`` element alone (no XML prolog / doctype), without its fixed width and height so CSS can
    fit it to the frame (its ``viewBox`` keeps the aspect ratio)."""
    text = _SVG_PROLOG.sub("", svg.decode() if isinstance(svg, bytes) else svg, count=1)
    end = text.find(">")
    if end < 0:
        return ""
    return _SVG_SIZE.sub("", text[:end]) + text[end:]


def diagram_html(svg: str | bytes, caption: str = "", nodes: Mapping[str, Any] | None = None) -> str:
    """Inline SVG inside the pan/zoom viewport the diagram component's script drives; ``nodes`` (node id ->
    details, see :func:`idfy.ui.inspector.node_info`) feeds the inspector shown when a node is clicked."""
    cap = f'<div class="idfy-diagram-caption">{html.escape(caption)}</div>' if caption else ""
    data = f' data-nodes="{html.escape(json.dumps(nodes, ensure_ascii=False))}"' if nodes else ""
    return f'<div class="idfy-diagram-canvas"{data}>{_inline_svg(svg)}</div>{cap}'


def diagram_grid_html(items: Sequence[tuple[str, str | bytes, str]]) -> str:
    """Diagrams side by side (two per row when there are more than two): ``(title, svg, note)`` per design,
    each with zoom buttons (the compare tab's script scales the SVG; the cell scrolls)."""
    cols = []
    tools = (
        '<span class="idfy-grid-tools">'
        '<button type="button" data-gzoom="in" aria-label="zoom in">+</button>'
        '<button type="button" data-gzoom="out" aria-label="zoom out">−</button>'
        '<button type="button" data-gzoom="fit">fit</button></span>'
    )
    for title, svg, note in items:
        cols.append(
            f'<div class="idfy-grid-cell"><div class="idfy-grid-title">{html.escape(title)}{tools}</div>'
            f'<div class="idfy-grid-note">{html.escape(note)}</div>'
            f'<div class="idfy-grid-svg" tabindex="0" aria-label="diagram of {html.escape(title)}">'
            f"{_inline_svg(svg)}</div></div>"
        )
    n = max(1, len(items))
    return f'<div class="idfy-grid" style="--cols:{n if n <= 2 else 2}">{"".join(cols)}</div>'


def _network_order(name: str) -> tuple[int, int]:
    """Sort key of a report part in input-to-output order: stem, stages.0, stages.1, …, head_inject, head."""
    if name.startswith("stages."):
        return (1, int(name.split(".")[1]))
    return {"stem": (0, 0), "head_inject": (2, 0), "head": (3, 0)}.get(name, (2, 1))


def compare_stages_html(reports: Sequence[tuple[str, Any]]) -> str:
    """Per-stage comparison: one row per part (stem, stage 1, …, head), one column per design with the part's
    output shape and params; cells that differ from the first design are marked ``idfy-changed``."""
    names: list[str] = []
    for _, r in reports:
        for row in r.stages:
            if row.name not in names:
                names.append(row.name)
    names.sort(key=_network_order)  # a part only a later design has goes where the network has it
    head = '<th scope="col">part</th>' + "".join(f'<th scope="col">{html.escape(n)}</th>' for n, _ in reports)
    body = []
    for name in names:
        cells, first = [], None
        for j, (_, r) in enumerate(reports):
            row = next((x for x in r.stages if x.name == name), None)
            text = "—" if row is None else f"{fmt_shape(row.out_shape)} · {int(row.params):,} params"
            if j == 0:
                first = text
            cls = ' class="idfy-changed"' if j > 0 and text != first else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append(
            f'<tr><th scope="row">{html.escape(_keep_together(part_label(name)))}</th>{"".join(cells)}</tr>'
        )
    return (
        '<div class="idfy-section-title">Per stage: output shape (C×H×W) and params '
        '<span class="idfy-muted">· highlighted: differs from the first design</span></div>'
        '<div class="idfy-table-wrap"><table class="idfy-table idfy-compare-stages">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


# --------------------------------------------------------------------------- compare
COMPARE_HEADERS = [
    "design",
    "params",
    "MACs (fvcore)",
    "FLOPs",
    "train memory",
    "head outputs",
    "stage outputs (C×H×W)",
]


def _with_delta(row: Mapping[str, Any], key: str, first: bool, fmt_fn: Any = fmt_count) -> str:
    value = row.get(key)
    if value is None:
        return "—"
    text = fmt_fn(value)
    if first:
        return text
    d, pct = row.get(f"delta_{key}"), row.get(f"delta_{key}_pct")
    if d is None:
        return text
    if d == 0:
        return f"{text}  (=)"
    return (
        f"{text}  ({pct:+.0f} %)" if pct is not None else f"{text}  ({'+' if d > 0 else '−'}{fmt_fn(abs(d))})"
    )


def compare_table(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Headers and formatted rows for ``Comparison.rows``; changes against the first row in brackets."""
    out = []
    for i, r in enumerate(rows):
        shapes = " → ".join(fmt_shape(s) for s in r.get("stage_out_shapes") or []) or "—"
        name = str(r.get("name"))
        if i == 0:
            name += " (reference)"
        elif r.get("kind") == "baseline":
            name += " · timm"
        out.append(
            [
                name,
                _with_delta(r, "params", i == 0),
                _with_delta(r, "macs", i == 0),
                _with_delta(r, "flops", i == 0),
                _with_delta(r, "memory_total", i == 0, fmt_bytes),
                fmt_shape(r.get("output_shape")),
                shapes,
            ]
        )
    return list(COMPARE_HEADERS), out


def compare_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Params and MACs per design (timm reference rows in grey), log scale."""
    names = [str(r.get("name", f"#{i}")) for i, r in enumerate(rows)]
    colors = [
        "#94a3b8" if r.get("kind") == "baseline" else _PALETTE[j % len(_PALETTE)] for j, r in enumerate(rows)
    ]
    data = [
        _bar(names, [float(r.get(key) or 0) for r in rows], title, colors, axis)
        for axis, key, title in (("1", "params", "params"), ("2", "macs", "MACs (fvcore)"))
    ]
    return _figure(
        data,
        ("params", "MACs (fvcore)"),
        "Params and MACs (log scale; grey: timm reference models)",
        height=340,
        log=True,
    )
