"""Evidence tab: the verdicts first (the targets, every seed claim with its one-line takeaway), then the committed
benchmark (Pareto charts against the timm baselines, drawn by :mod:`idfy.ui.tabs.evidence_figures`) and one
claim's runs, plus a small ablation of the current design run live from the browser."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import plotly.graph_objects as go

import idfy
from idfy.config import ConfigError, ModelConfig
from idfy.evidence import (
    TargetRow,
    judge_targets,
    load_ablations,
    load_long_runs,
    load_model_results,
    results_folder,
)
from idfy.train.ablate import MACROS, AblationResult, RunFinished, RunStarted, run_ablation
from idfy.ui.context import TabContext
from idfy.ui.formatting import fmt_ms, fmt_pct
from idfy.ui.glossary import SEED_ITEMS
from idfy.ui.tabs.evidence_figures import PARETO_AREA, ablation_figure, long_run_figure, pareto_figure
from idfy.ui.tabs.keyed import keyed

__all__ = [
    "ablation_figure",
    "ablation_table",
    "build",
    "claim_takeaway",
    "claims_html",
    "long_run_figure",
    "model_table",
    "pareto_figure",
    "run_small_ablation",
    "targets_table",
]

log = logging.getLogger("idfy.ui")

#: Limits of an ablation started from the browser (a short demo, not a study).
MAX_SEEDS, MAX_STEPS, MAX_VARIANTS, N_TRAIN, N_TEST = 3, 400, 4, 2000, 500
KEY_CHOICES = [
    *MACROS,
    "block.order",
    "input.scale",
    "inject.mode",
    "stages.*.down",
    "stages.*.conv.kind",
]
DEFAULT_VALUES = {
    "injection": "none,all",
    "gaussian": "off,on",
    "dense": "none,gc,fc",
    "convs": "regular,mix",
    "design": "tiny,small_tuned",
    "block.order": "original,preact",
    "input.scale": "1,10,255",
    "inject.mode": "bicubic,bilinear,area",
    "stages.*.down": "avgpool,maxpool,conv",
    "stages.*.conv.kind": "regular,ghost",
}


def _results() -> Path | None:
    """The repository's committed results folder (``$IDFY_RESULTS`` overrides), next to the idfy package."""
    return results_folder(Path(idfy.__file__).resolve().parents[1])


def model_table(results: dict[str, Any] | None) -> list[list[Any]]:
    """Rows of the model benchmark: model, family, params, MACs, latency b1 / b64, each task's metric."""
    if not results:
        return []
    rows = []
    for r in results.get("rows", []):
        tasks = r.get("tasks", {})
        rows.append(
            [
                r["model"],
                r.get("family", ""),
                f"{r.get('params', 0) / 1e6:.3f} M",
                f"{r.get('macs', 0) / 1e6:.1f} M",
                fmt_ms(r.get("latency_b1_ms")),
                fmt_ms(r.get("latency_b64_ms")),
                *(fmt_pct(tasks.get(t, {}).get("score")) for t in results.get("tasks", [])),
            ]
        )
    return rows


def _target_letter(target: str) -> str:
    """The letter :data:`TARGETS_NOTE` defines a target under: (a) Fashion-MNIST within a parameter budget,
    (b) fashion-canvas at ≤ 1/5 of ResNet-18's MACs, (c) batch-1 latency; empty for any other target."""
    if "latency" in target:
        return "(c)"
    if "fashion-canvas" in target:
        return "(b)"
    return "(a)" if "Fashion-MNIST" in target else ""


def targets_table(rows: list[TargetRow]) -> list[list[str]]:
    """Rows of the targets table: target (with its letter from :data:`TARGETS_NOTE`), anchor, measured, verdict
    (✓ met / ✗ missed; glyphs every system font has)."""
    return [
        [
            f"{_target_letter(r.target)} {r.target}".strip(),
            r.anchor,
            r.measured.replace("`", ""),
            ("✓ " if r.met else "✗ ") + r.verdict,
        ]
        for r in rows
    ]


def claim_takeaway(result: dict[str, Any]) -> str:
    """One line that says what an ablation found: the variants that differ significantly from the base
    (Welch p < 0.05 as stored), else that none does and which moved the score most."""
    rows = [r for r in result.get("rows", []) if not str(r.get("variant", "")).startswith("base")]
    base = result.get("base", "the base")
    if not rows:
        return "no variants were run"
    sig = [r for r in rows if r.get("significant")]
    if sig:
        parts = [f"{r['variant']} {r['delta'] * 100:+.1f} pt (p = {r['p_value']:.3f})" for r in sig]
        return f"differs significantly from {base}: " + "; ".join(parts)
    top = max(rows, key=lambda r: abs(r.get("delta") or 0))
    n = len(result.get("seeds", []))
    return (
        f"no variant differs significantly from {base} at {n} seeds; largest change: {top['variant']} "
        f"{top['delta'] * 100:+.1f} pt (p = {top['p_value']:.2f})"
    )


def claims_html(ablations: dict[str, dict[str, Any]]) -> str:
    """Every claim's verdict at once: claim, base, data and the one-line takeaway (:func:`claim_takeaway`)."""
    rows = []
    for name, a in ablations.items():
        recipe = a.get("recipe", {})
        sig = any(r.get("significant") for r in a.get("rows", []))
        mark = (
            '<span class="idfy-yes">significant</span>'
            if sig
            else '<span class="idfy-no">no clear effect</span>'
        )
        m = re.match(r"s(\d+)", name)
        seed = SEED_ITEMS.get(f"S{m[1]}", "") if m else ""
        label = html.escape(name) + (
            f'<div class="idfy-muted">S{m[1]}: {html.escape(seed)}</div>' if seed else ""
        )
        rows.append(
            f'<tr><th scope="row">{label}</th><td>{mark}</td>'
            f"<td>{html.escape(claim_takeaway(a))}"
            f'<div class="idfy-muted">{html.escape(str(recipe.get("data", "?")))} · {recipe.get("size", "?")} px · '
            f"{len(a.get('seeds', []))} seeds</div></td></tr>"
        )
    return (
        '<div class="idfy-table-wrap"><table class="idfy-table idfy-claims" aria-label="every claim at a glance">'
        '<thead><tr><th scope="col">claim</th><th scope="col">verdict</th><th scope="col">takeaway (data)</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


#: What the targets table's labels mean (shown above it).
TARGETS_NOTE = (
    "**(a)** Fashion-MNIST accuracy within a parameter budget (≤ 0.3 M → ≥ 96.0 %; ≤ 5 M → ≥ 97.0 %); "
    "**(b)** *fashion-canvas* (one Fashion-MNIST item pasted at a random place on a larger textured canvas; "
    "the model gives its box and label): an idfy preset beats every baseline at ≤ 1/5 of ResNet-18's MACs; "
    "**(c)** batch-1 CPU latency at or below mobilenetv3_small_100's with higher accuracy on (a) and (b). "
    "`fmnist_small28` is a benchmark design for 28×28 Fashion-MNIST (`benchmarks/tuning/fmnist_small28.yaml`), "
    "not a bundled preset. Loc. accuracy: IoU ≥ 0.5 with the right label."
)


def ablation_table(result: dict[str, Any]) -> list[list[Any]]:
    """Rows: variant, params, MACs, mean ± std, Δ vs base, p, significant."""
    out = []
    for r in result.get("rows", []):
        p = r.get("p_value")
        out.append(
            [
                r["variant"],
                f"{r['params']:,}",
                f"{r['macs'] / 1e6:.1f} M",
                f"{r['mean'] * 100:.1f} ± {r['std'] * 100:.1f} %",
                "—" if r["variant"].startswith("base") else f"{r['delta'] * 100:+.1f} pt",
                "—" if p is None else f"{p:.3f}",
                "—" if p is None else ("yes" if r.get("significant") else "no"),
            ]
        )
    return out


_HEADERS = ["variant", "params", "MACs", "score", "Δ vs base", "p (Welch)", "significant"]


def _ablation_out(
    progress: str, table: list[list[Any]] | None = None, figure: go.Figure | None = None
) -> dict[str, Any]:
    return {"progress": progress, "table": table or [], "plot": figure}


def run_small_ablation(
    config_yaml: str, key: str, values: str, seeds: float, steps: float, size: float, data: str
) -> Iterator[dict[str, Any]]:
    """Generator for the live ablation: yields ``{"progress": markdown}`` while it runs, then
    ``{"progress", "table", "plot"}`` (markdown, table rows, figure) at the end; a refused setting or a failed
    run yields its one-line message as ``"progress"`` with an empty table and no figure."""
    from idfy.train import TrainConfig
    from idfy.train.ablate import parse_vary, variants_for

    try:
        base = ModelConfig.from_yaml(config_yaml) if config_yaml.strip() else ModelConfig()
        spec = f"{key}={values}"
        parse_vary(spec)
        n_var = len(variants_for(base, [spec]))
        if n_var > MAX_VARIANTS:
            raise ConfigError(
                f"{n_var} variants; the browser runs at most {MAX_VARIANTS} (use the CLI for more)"
            )
        if n_var < 2:
            raise ConfigError("every value gives the base design itself; choose values that change it")
        tc = TrainConfig(
            data=data,
            size=int(size),
            n_train=N_TRAIN,
            n_test=N_TEST,
            max_steps=int(min(steps, MAX_STEPS)),
            time_budget_s=None,
            batch_size=64,
            eval_every=0,
            sample_every=0,
            checkpoint_every=0,
        )
        tc.validate()
    except (ConfigError, ValueError) as e:
        yield _ablation_out(f"**Cannot start:** {e}")
        return
    lines: list[str] = []
    try:
        for ev in run_ablation(base, [spec], seeds=int(min(seeds, MAX_SEEDS)), train_config=tc):
            if isinstance(ev, RunStarted):
                lines.append(f"- [{ev.index}/{ev.total}] **{ev.variant}**, seed {ev.seed} …")
                yield {"progress": "\n".join(lines[-12:])}
            elif isinstance(ev, RunFinished):
                score = ev.metrics.get("loc_accuracy", ev.metrics.get("accuracy", 0.0))
                lines[-1] = (
                    f"- [{ev.index}/{ev.total}] **{ev.variant}**, seed {ev.seed}: {score * 100:.1f} % ({ev.seconds:.0f} s)"
                )
                yield {"progress": "\n".join(lines[-12:])}
            elif isinstance(ev, AblationResult):
                d = ev.to_dict()
                note = "".join(f"\n\n> {n}" for n in ev.notes)
                done = (
                    f"**Done** — {ev.metric} on `{data}` at {int(size)} px, {int(steps)} steps per run.{note}"
                )
                yield _ablation_out(done, ablation_table(d), ablation_figure(d))
    except (ConfigError, ValueError, FileNotFoundError) as e:
        yield _ablation_out(f"**Stopped:** {e}")
    except Exception:  # never show a traceback in the page
        log.exception("ablation failed")
        yield _ablation_out("**Stopped:** the ablation failed unexpectedly; the server log has the details.")


INTRO = (
    "### Does the design win?\nCommitted results of `benchmarks/compare_models.py` and `python -m idfy ablate` "
    "(see `benchmarks/README.md` for the commands, machine and versions). Scores: localization accuracy "
    "(IoU ≥ 0.5 and correct label) for localization tasks, accuracy for classification."
)


def _targets_section(results: dict[str, Any] | None) -> None:
    """The targets with the letters they are defined under, and their verdicts."""
    if not results:
        gr.Markdown("_No committed model benchmark found (benchmarks/results/models.json)._")
        return
    gr.Markdown("#### Targets")
    gr.Markdown(TARGETS_NOTE, elem_id="evidence-target-terms")
    gr.Dataframe(
        value=targets_table(judge_targets(results, load_long_runs(_results()))),
        headers=["target", "anchor", "measured", "verdict"],
        interactive=False,
        wrap=True,
        column_widths=["22%", "22%", "34%", "22%"],
        elem_id="evidence-targets",
    )


def _claims_summary(ablations: dict[str, dict[str, Any]]) -> None:
    """Every claim's verdict at once with its one-line takeaway (right under the targets: the verdicts first,
    the runs behind them further down)."""
    gr.Markdown(
        "#### Seed claims, ablated\nEach claim against its base design, then the tuned presets (`tuning_*`) "
        "against the designs they came from; the runs behind each verdict are further down."
    )
    if not ablations:
        gr.Markdown("_No committed ablations found (benchmarks/results/ablations/)._")
        return
    gr.HTML(claims_html(ablations), elem_id="evidence-claims", padding=False)


def _benchmark_section(results: dict[str, Any] | None) -> None:
    """The long runs and the models under one recipe with their Pareto charts."""
    if not results:
        return
    long_runs = load_long_runs(_results())
    tasks = list(results.get("tasks", []))
    if long_runs:
        gr.Plot(long_run_figure(long_runs))
    gr.Markdown(
        f"#### Models under one recipe\n<small>{results.get('recipe_text', '')} · measured on "
        f"{results.get('machine', '?')}</small>"
    )
    gr.Dataframe(
        value=model_table(results),
        headers=["model", "family", "params", "MACs", "CPU b1", "CPU b64", *tasks],
        interactive=False,
        wrap=True,
        elem_id="evidence-models",
    )
    for x in ("macs", "latency_b1_ms"):
        with gr.Row(elem_classes=["evidence-pareto"]):  # two per row when both fit their labels' area
            for task in tasks[:2]:
                gr.Plot(pareto_figure(results, task, x), min_width=int(PARETO_AREA[0]) + 70)


def show_claim(ablations: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """One claim's details: ``{"info", "table", "plot"}`` (markdown, rows, figure).

    Raises:
        gr.Error: ``name`` is not a committed ablation.
    """
    a = ablations.get(name)
    if a is None:
        raise gr.Error(f"unknown ablation {name!r}")
    return {"info": _claim_info(a), "table": ablation_table(a), "plot": ablation_figure(a)}


def _claim_details(ablations: dict[str, dict[str, Any]]) -> None:
    """One claim's runs (table and chart), chosen in a dropdown."""
    if not ablations:
        return
    gr.Markdown("#### One claim's runs")
    names = list(ablations)
    first = show_claim(ablations, names[0])
    with gr.Row():
        claim = gr.Dropdown(names, value=names[0], label="claim", scale=1)
        c = {"info": gr.Markdown(first["info"])}
    with gr.Row():  # side by side at 1440 px, stacked when narrower than the two minimum widths
        c["table"] = gr.Dataframe(
            value=first["table"],
            headers=_HEADERS,
            interactive=False,
            wrap=True,
            scale=3,
            min_width=560,
            column_widths=["19%", "12%", "12%", "16%", "12%", "13%", "16%"],  # "significant" on one line
        )
        c["plot"] = gr.Plot(first["plot"], scale=2, min_width=360)

    def show(name: str) -> dict[str, Any]:
        return show_claim(ablations, name)

    claim.change(
        keyed(show, c), [claim], list(c.values()), api_name="evidence_ablation", show_progress="hidden"
    )


def _live_ablation(config_state: gr.State) -> None:
    """The accordion that ablates the current design for a few hundred steps."""
    with gr.Accordion("Ablate the current design (short live run)", open=False):
        gr.Markdown(
            f"Trains each variant of the **current design** for a few hundred steps on a small dataset "
            f"(≤ {MAX_VARIANTS} variants, ≤ {MAX_SEEDS} seeds, ≤ {MAX_STEPS} steps; {N_TRAIN} training images). "
            "On a laptop CPU expect about a minute per run at 48 px."
        )
        with gr.Row():
            key = gr.Dropdown(KEY_CHOICES, value="injection", label="option", allow_custom_value=True)
            values = gr.Textbox(DEFAULT_VALUES["injection"], label="values (comma-separated)")
            data = gr.Dropdown(["shapes", "fashion-canvas"], value="shapes", label="data")
        with gr.Row():
            seeds = gr.Slider(1, MAX_SEEDS, value=2, step=1, label="seeds")
            steps = gr.Slider(20, MAX_STEPS, value=150, step=10, label="steps per run")
            size = gr.Slider(32, 96, value=48, step=16, label="input size (px)")
        with gr.Row():
            start = gr.Button("Start ablation", variant="primary")
            stop = gr.Button("Stop")
        c = {
            "progress": gr.Markdown(),
            "table": gr.Dataframe(headers=_HEADERS, interactive=False),
            "plot": gr.Plot(),
        }
    key.change(lambda k: DEFAULT_VALUES.get(k, ""), [key], [values], api_visibility="private", queue=False)
    job = start.click(
        keyed(run_small_ablation, c),
        [config_state, key, values, seeds, steps, size, data],
        list(c.values()),
        api_name="ablate",
        concurrency_limit=1,
        concurrency_id="training",
    )
    stop.click(
        lambda: "**Stopped.** Finished runs are kept in the table above when it completed.",
        None,
        [c["progress"]],
        cancels=[job],
        api_visibility="private",
        queue=False,
    )


def build(ctx: TabContext) -> None:
    """Build the Evidence tab inside the current ``gr.Tab``: the verdicts first (targets, every claim), then the
    committed benchmark and one claim's runs, and a short live ablation of ``ctx.config_state``'s design."""
    gr.Markdown(INTRO)
    results = load_model_results(_results())
    ablations = {a["claim"]: a for a in load_ablations(_results())}
    _targets_section(results)
    _claims_summary(ablations)
    _benchmark_section(results)
    _claim_details(ablations)
    _live_ablation(ctx.config_state)


def _claim_info(a: dict[str, Any]) -> str:
    recipe = a.get("recipe", {})
    return (
        f"**{a['claim']}** — base `{a.get('base')}`, metric `{a.get('metric')}`, {len(a.get('seeds', []))} seeds, "
        f"data `{recipe.get('data')}` at {recipe.get('size')} px, {recipe.get('max_steps')} steps; "
        f"device {a.get('device', '?')}.  \n`{a.get('command', '')}`"
    )
