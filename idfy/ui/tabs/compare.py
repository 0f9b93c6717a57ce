"""Compare tab: 2–4 designs side by side — a table with deltas against the first, bar charts, and the
diagrams next to each other with the differences to the first design marked (``idfy.viz.diff.diagram_diff``).

Designs are presets, the design being edited ("current design") or designs saved in this session.
"""

from __future__ import annotations

import functools
import html
import math
from pathlib import Path
from typing import Any

import gradio as gr

from idfy.analysis import compare
from idfy.analysis.memory import check_numbers
from idfy.config import ConfigError, ModelConfig
from idfy.ui import formatting as fmt
from idfy.ui.context import TabContext
from idfy.ui.state import CURRENT, SAVED_PREFIX, design_choices, resolve_design, save_design
from idfy.ui.tabs.design.results import _analyze, _changes, _key_words, _plain_value, plot_data, run_safely
from idfy.ui.tabs.keyed import keyed
from idfy.viz.diagram import diagram, diagram_diff, render

__all__ = ["DEFAULT_DESIGNS", "build", "compare_designs", "on_compare", "on_save"]

DEFAULT_DESIGNS = ["seed_model2", "small", CURRENT]
#: Zoom buttons of each diagram in the grid (the gr.HTML's ``js_on_load``).
ZOOM_JS_PATH = Path(__file__).resolve().parents[1] / "static" / "compare_zoom.js"
MAX_DESIGNS = 4
#: The side-by-side table's height limit: its 7 rows at most (4 designs, 3 timm rows) fit at 800 px, so that no
#: row hides in an inner scroll box (its columns are measured from their content: theme.css).
TABLE_MAX_HEIGHT = 760
#: Batch of ``Report.memory`` (``analyze``'s default ``batch_size``), which ``compare`` rows carry.
REPORT_BATCH = 32


@functools.lru_cache(maxsize=64)
def _diagram_svg(cfg: ModelConfig, first: ModelConfig | None) -> str:
    """``cfg``'s stage diagram; with ``first``, the differences to it are marked."""
    dot = diagram(cfg, detail="stages") if first is None else diagram_diff(first, cfg)
    return render(dot, fmt="svg").decode()


def _label(ref: str) -> str:
    return ref[len(SAVED_PREFIX) :] if ref.startswith(SAVED_PREFIX) else ref


def compare_designs(cfgs: list[ModelConfig], baselines: bool = True) -> Any:
    """``idfy.analysis.compare`` after the memory guard (the returned ``Comparison``)."""
    if not 1 <= len(cfgs) <= MAX_DESIGNS:
        raise ConfigError(f"choose 2 to {MAX_DESIGNS} designs to compare (got {len(cfgs)})")
    comparison = compare(cfgs, baselines=baselines)  # counts on the meta device
    for row in comparison.rows:
        if row.get("kind") == "design":
            check_numbers(row["memory"], REPORT_BATCH, row["params"])
    return comparison


def _diff_note(first: ModelConfig, cfg: ModelConfig) -> str:
    """What ``cfg`` changes against ``first`` in plain words (config keys without their dots), each change with
    what it alone does to the parameter count when it is valid on its own (``stage 2 inject: off → on (+104
    params)``, ``stage 1 conv kind: regular → group``)."""
    changes = _changes(first, cfg)
    if not changes:
        return "same options as the first design"
    base = _analyze(first).params_total
    shown = []
    for k, old, new in changes[:6]:
        words = _key_words(k).replace(".", " ")  # "stage 1 conv kind", not "stage 1 conv.kind"
        text = f"{words}: {_short(_plain_value(old))} → {_short(_plain_value(new))}"
        if k.count(".") >= 1 and not (k.startswith("stages.") and k.count(".") == 1):
            try:
                delta = _analyze(first.set(k, new)).params_total - base
            except (ConfigError, ValueError):
                delta = None  # not valid on its own (it needs another of the changes)
            if delta:
                text += f" ({fmt.fmt_delta(delta)} params)"
        shown.append(text)
    more = f"; … and {len(changes) - 6} more" if len(changes) > 6 else ""
    return "; ".join(shown) + more


def log_ticks(values: list[float], max_ticks: int = 7) -> list[float]:
    """Tick positions for a log axis over ``values``: 1-2-5 steps of each decade, thinned to powers of ten
    (then every other power) when that would give more than ``max_ticks``; empty for no positive value."""
    positive = [v for v in values if v > 0]
    if not positive:
        return []
    lo, hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    for steps in ((1, 2, 5), (1,)):
        ticks = [m * 10.0**e for e in range(lo, hi + 1) for m in steps]
        ticks = [t for t in ticks if min(positive) / 2 <= t <= max(positive) * 2]
        if len(ticks) <= max_ticks:
            return ticks
    return [10.0**e for e in range(lo, hi + 1, 2)]


def _with_log_ticks(figure: fmt.Figure) -> fmt.Figure:
    """Both log panels of the comparison chart with few, readable ticks (1-2-5, SI labels: 2M, 500k)."""
    layout = figure["layout"]
    for axis, trace in (("yaxis", 0), ("yaxis2", 1)):
        if trace < len(figure["data"]) and layout.get(axis, {}).get("type") == "log":
            ticks = log_ticks([float(v) for v in figure["data"][trace]["y"]])
            layout[axis] = {**layout[axis], "tickmode": "array", "tickvals": ticks, "tickformat": "~s"}
    return figure


def _unsplit_percent(cell: Any) -> Any:
    """A table cell whose percentages keep their sign on the same line: ``"(+240 %)"`` gets a no-break space
    before ``%`` (a narrow column otherwise wraps it as ``"(+240"`` / ``"%)"``); other values unchanged."""
    return cell.replace(" %)", "\u00a0%)") if isinstance(cell, str) else cell


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _comparison(
    refs: list[str] | None, baselines: bool, saved: dict[str, str] | None, current_yaml: str
) -> dict[str, Any]:
    chosen = list(dict.fromkeys(refs or []))
    if len(chosen) < 2:
        raise ConfigError(
            "choose at least two designs to compare (a preset, the current design or a saved one)"
        )
    if len(chosen) > MAX_DESIGNS:
        raise ConfigError(f"choose at most {MAX_DESIGNS} designs")
    cfgs = [resolve_design(r, saved, current_yaml).replace(name=_label(r)) for r in chosen]
    comparison = compare_designs(cfgs, baselines=bool(baselines))
    headers, rows = fmt.compare_table(comparison.rows)
    rows = [[_unsplit_percent(cell) for cell in row] for row in rows]
    items = [(cfgs[0].name, _diagram_svg(cfgs[0], None), "first design: the reference for the deltas")]
    items += [(c.name, _diagram_svg(c, cfgs[0]), _diff_note(cfgs[0], c)) for c in cfgs[1:]]
    return {
        "message": fmt.error_html(None),
        "table": gr.update(value=rows, headers=headers),
        "figure": plot_data(_with_log_ticks(fmt.compare_figure(comparison.rows))),
        "diagrams": fmt.diagram_grid_html(items),
        "stages": fmt.compare_stages_html([(c.name, _analyze(c)) for c in cfgs]),
    }


def on_compare(
    refs: list[str] | None, baselines: bool, saved: dict[str, str] | None, current_yaml: str
) -> dict[str, Any]:
    """The chosen designs compared: ``{"message", "table", "figure", "diagrams", "stages"}`` (error html, table
    update, bar figure, diagrams html, per-stage table html); on a problem only ``"message"`` (the rest stays)."""
    return run_safely(
        lambda: _comparison(refs, baselines, saved, current_yaml),
        lambda msg: {"message": fmt.error_html(msg)},
    )


def on_save(
    name: str, saved: dict[str, str] | None, current_yaml: str, refs: list[str] | None
) -> dict[str, Any]:
    """Store the current design under ``name``: ``{"saved", "designs", "note"}`` (saved state, dropdown update,
    message html); on a problem only ``"note"``."""

    def run() -> dict[str, Any]:
        new = save_design(saved, name, current_yaml)
        ref = SAVED_PREFIX + name.strip()
        value = list(refs or [])
        if ref not in value and len(value) < MAX_DESIGNS:
            value.append(ref)
        msg = f'<div class="idfy-ok">Saved “{html.escape(name.strip())}” for this session.</div>'
        return {"saved": new, "designs": gr.update(choices=design_choices(new), value=value), "note": msg}

    return run_safely(run, lambda msg: {"note": fmt.error_html(msg)})


LEAD = (
    '<p class="idfy-lead">Pick 2–4 designs: the first is the reference for every delta. '
    "timm models are reference rows (their MACs come from the same counter). "
    "<b>head outputs</b>: numbers the head gives per image — 4 box values (x1, y1, x2, y2) plus one score "
    "per class, so 5 for one class (the seed's S13 output) and 14 for ten classes; classify-only heads give "
    "one score per class. Diagrams: + / − / fit, Ctrl + wheel or the + and − keys zoom, drag to pan.</p>"
)


def layout() -> dict[str, Any]:
    """The Compare tab's components by name (inside the current ``gr.Tab``)."""
    gr.HTML(LEAD, padding=False)
    c: dict[str, Any] = {
        "designs": gr.Dropdown(
            choices=design_choices({}),
            value=DEFAULT_DESIGNS,
            multiselect=True,
            max_choices=MAX_DESIGNS,
            label="Designs (first = reference)",
            elem_id="compare-designs",
        )
    }
    with gr.Row(equal_height=True, elem_id="compare-bar"):
        c["baselines"] = gr.Checkbox(
            value=True, label="timm reference rows", elem_id="compare-baselines", scale=2, min_width=220
        )
        c["run"] = gr.Button("Compare", variant="primary", elem_id="compare-run", scale=0, min_width=120)
        c["race"] = gr.Button("Race these in Train", elem_id="compare-race", scale=0, min_width=210)
    with gr.Row(equal_height=False, elem_id="save-bar"):
        c["save_name"] = gr.Textbox(
            label="Save current design as",
            placeholder="e.g. wider-stage-2",
            max_lines=1,
            elem_id="save-name",
            scale=4,
        )
        c["save"] = gr.Button("Save", elem_id="save-design", scale=0, min_width=110)
    c["message"] = gr.HTML("", elem_id="compare-error", padding=False)
    c["note"] = gr.HTML("", elem_id="save-message", padding=False)  # stays until the next save
    c["table"] = gr.Dataframe(
        headers=fmt.COMPARE_HEADERS,
        label="Designs side by side (change against the first in brackets)",
        interactive=False,
        wrap=True,
        elem_id="compare-table",
        max_height=TABLE_MAX_HEIGHT,
    )
    c["stages"] = gr.HTML("", elem_id="compare-stages", padding=False)
    c["figure"] = gr.Plot(show_label=False, elem_id="compare-figure")
    c["diagrams"] = gr.HTML(
        "", elem_id="compare-diagrams", padding=False, js_on_load=ZOOM_JS_PATH.read_text(encoding="utf-8")
    )
    return c


def build(ctx: TabContext) -> None:
    """Build the Compare tab inside the current ``gr.Tab``; publishes ``ctx.shared["compare.selection"]`` (the
    designs dropdown) and ``ctx.shared["compare.race_button"]`` ("Race these in Train", wired by the Train tab)."""
    c = layout()
    c["saved"] = ctx.saved
    triggers = [c["run"].click, c["designs"].change, c["baselines"].change]
    gr.on(
        triggers=[*triggers, ctx.tab.select] if ctx.tab is not None else triggers,
        fn=keyed(on_compare, c),
        inputs=[c["designs"], c["baselines"], ctx.saved, ctx.config_state],
        outputs=[c[k] for k in ("message", "table", "figure", "diagrams", "stages")],
        api_name="compare_designs",
        api_visibility="undocumented",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    gr.on(
        triggers=[c["save"].click, c["save_name"].submit],
        fn=keyed(on_save, c),
        inputs=[c["save_name"], ctx.saved, ctx.config_state, c["designs"]],
        outputs=[ctx.saved, c["designs"], c["note"]],
        api_name="save_design",
        api_visibility="undocumented",
        show_progress="hidden",
    )
    ctx.shared["compare.selection"] = c["designs"]
    ctx.shared["compare.race_button"] = c["race"]
