"""Design tab: controls on the left, the rebuilt model's numbers, shapes, diagram and charts on the right.

One handler (:func:`design_change`) serves every control (``gr.on`` over the controls' ``.input`` events,
``trigger_mode="always_last"``, no progress overlay). Loading a preset, a ``?cfg=`` link, an uploaded or
edited YAML sets the controls *and* the results in one step (:func:`load_design`). The handler listens to
``.input`` (a person's edit) rather than ``.change``: ``.change`` also fires for every control a loader sets,
which queued dozens of handler calls per preset, some of them on half-updated controls. An invalid combination
shows its message in a red box under the preset picker; the last valid numbers and diagram stay.

Every update has two steps: the numbers (cards, per-stage table, the design state, the link) first, then
(``.then``) the diagram, charts, YAML text and downloads (:func:`on_details`), which are skipped when they
already show the design. The numbers therefore never wait for graphviz or plotly.

Handlers are plain functions of plain values so they can be tested without a browser.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.plot import PlotData

from idfy.config import ConfigError, ModelConfig
from idfy.presets import list_presets, load_config_file, load_preset, preset_config, resolve_config
from idfy.ui import formatting as fmt
from idfy.ui.controls import (
    CUSTOM_ORDER,
    KEYS,
    MAX_STAGES,
    SPECS,
    ControlSpec,
    config_to_values,
    conv_field_visibility,
    fix_conv_for_kind,
    order_choice_for,
    order_text_for,
    values_to_config,
)
from idfy.ui.limits import check_memory, check_report
from idfy.ui.state import remember_latency

__all__ = [
    "DEFAULT_PRESET",
    "DesignTab",
    "build",
    "design_change",
    "diagram_svg",
    "load_design",
    "run_safely",
]

log = logging.getLogger("idfy.ui")

DEFAULT_PRESET = "full"
DIAGRAM_DETAILS = ("stages", "blocks", "layers")
LATENCY_BATCH = 32
INTERNAL_ERROR = "Something went wrong while analysing this design (the details are in the server log)."


# --------------------------------------------------------------------------- library calls (cached)
def _analyze(cfg: ModelConfig, *, latency: bool = False, batch_size: int = 32) -> Any:
    """``idfy.analysis.analyze`` (cached there by fingerprint and options)."""
    from idfy.analysis import analyze

    return analyze(cfg, latency=latency, batch_size=batch_size)


@functools.lru_cache(maxsize=128)
def diagram_svg(cfg: ModelConfig, detail: str = "stages") -> str:
    """SVG text of ``cfg``'s diagram at ``detail`` (cached per config)."""
    from idfy.diagram import diagram, render

    if detail not in DIAGRAM_DETAILS:
        raise ConfigError(f"diagram detail must be one of {', '.join(DIAGRAM_DETAILS)} (got {detail!r})")
    return render(diagram(cfg, detail=detail, report=_analyze(cfg)), fmt="svg").decode()


@functools.lru_cache(maxsize=32)
def _diagram_png(cfg: ModelConfig, detail: str) -> bytes:
    from idfy.diagram import diagram, render

    return render(diagram(cfg, detail=detail, report=_analyze(cfg)), fmt="png")


_FILES = Path(tempfile.mkdtemp(prefix="idfy-ui-"))


def _write(name: str, data: str | bytes) -> str:
    """Write a download into the process's temp folder (names carry the fingerprint, so rewrites are no-ops)."""
    path = _FILES / name
    if not path.exists():
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def _slug(cfg: ModelConfig) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in cfg.name)[:40] or "design"
    return f"{keep}-{cfg.fingerprint()[:8]}"


def plot_data(figure: fmt.Figure) -> PlotData:
    """A plotly figure given as plain JSON data, ready for ``gr.Plot`` (no plotly object on the way)."""
    return PlotData(type="plotly", plot=json.dumps(figure))


def run_safely(fn: Callable[[], Any], fallback: Callable[[str], Any]) -> Any:
    """Run ``fn``; a ConfigError/ValueError becomes ``fallback(message)``, anything else is logged with its
    traceback and ``fallback`` gets a short generic message (never a traceback in the page)."""
    try:
        return fn()
    except (ConfigError, ValueError) as e:
        return fallback(str(e))
    except Exception:
        log.exception("design handler failed")
        return fallback(INTERNAL_ERROR)


# --------------------------------------------------------------------------- results
#: Outputs of :func:`results_for` (the fast step: numbers and shapes), in order.
RESULT_FIELDS = ("error", "cards", "table", "config", "token")
#: Outputs of :func:`on_details` (the second step: diagram, charts, YAML, downloads), in order.
DETAIL_FIELDS = ("diagram", "svg_file", "fig_stage", "fig_path", "yaml", "yaml_file", "rendered")


def results_for(cfg: ModelConfig, measured: dict[str, Any] | None) -> tuple[Any, ...]:
    """The numbers for a valid ``cfg`` (see :data:`RESULT_FIELDS`). Kept small on purpose: the page shows
    them before the diagram and charts, which :func:`on_details` sends in a second step."""
    report = _analyze(cfg)  # counts on the meta device: safe before the memory check
    check_report(report)
    note = ""
    if cfg.head.kind == "flatten" and cfg.input.size[0] < 100 and cfg.name == "seed_model1":
        note = (
            "Seed Model 1 uses a 32×32 input: at 224×224 the flatten head's first FC layer alone would need "
            "205 M weights."
        )
    lat = (measured or {}).get(cfg.fingerprint())
    return (
        fmt.error_html(None),
        fmt.cards_html(report, latency=lat, note=note),
        fmt.stage_table(report),
        cfg.to_yaml(),
        cfg.to_url(),
    )


def on_details(config_yaml: str, detail: str, rendered: str | None) -> tuple[Any, ...]:
    """Diagram (inline SVG + file), charts by stage and path, YAML text and file for the current design
    (see :data:`DETAIL_FIELDS`); nothing is resent when they already show this design (``rendered``)."""
    key = f"{detail}:{hashlib.sha1((config_yaml or '').encode()).hexdigest()[:16]}"
    if key == rendered:
        return tuple(gr.update() for _ in DETAIL_FIELDS)

    def run() -> tuple[Any, ...]:
        cfg = ModelConfig.from_yaml(config_yaml)
        report = _analyze(cfg)
        svg = diagram_svg(cfg, detail)
        return (
            fmt.diagram_html(svg, f"{cfg.name} · {detail} · graphviz"),
            _write(f"{_slug(cfg)}-{detail}.svg", svg),
            plot_data(fmt.stage_figure(report)),
            plot_data(fmt.path_figure(report)),
            config_yaml,
            _write(f"{_slug(cfg)}.yaml", config_yaml),
            key,
        )

    return run_safely(run, lambda msg: tuple(gr.update() for _ in DETAIL_FIELDS))


def _keep(message: str) -> tuple[Any, ...]:
    """Show ``message``; leave every other result as it is."""
    return (fmt.error_html(message), *[gr.update() for _ in RESULT_FIELDS[1:]])


def design_change(*args: Any) -> tuple[Any, ...]:
    """The one handler for every design control: ``(*control values, config yaml, measured)`` -> results."""
    values = dict(zip(KEYS, args[: len(KEYS)]))
    base_yaml, measured = args[len(KEYS)], args[len(KEYS) + 1]

    def run() -> tuple[Any, ...]:
        base = ModelConfig.from_yaml(base_yaml) if base_yaml else None
        return results_for(values_to_config(values, base), measured)

    return run_safely(run, _keep)


#: Layout blocks whose visibility follows the controls: the stem's options and the stage accordions.
N_LAYOUT = 1 + MAX_STAGES
#: Outputs of a loader: the preset picker, every control, the layout blocks, then :data:`RESULT_FIELDS`.
N_LOADED = 1 + len(KEYS) + N_LAYOUT + len(RESULT_FIELDS)


def load_design(
    cfg: ModelConfig, measured: dict[str, Any] | None, preset: str | None = None
) -> tuple[Any, ...]:
    """Everything a freshly loaded design (preset, link, upload, YAML editor) sets, in one step: the preset
    picker, each control's value *and* visibility, the layout blocks' visibility and the results. Setting it
    all at once means no control fires a follow-up event (the design handler listens to user input only)."""
    values = config_to_values(cfg)
    hidden = _hidden_keys(values)
    preset_value = preset if preset is not None else (cfg.name if cfg.name in list_presets() else gr.update())
    controls = [gr.update(value=values[k], visible=k not in hidden) for k in KEYS]
    layout = [gr.update(visible=bool(values["stem.enabled"]))]
    layout += [gr.update(visible=i < values["stages.count"]) for i in range(MAX_STAGES)]
    return (preset_value, *controls, *layout, *results_for(cfg, measured))


def _load_or_keep(
    make: Callable[[], ModelConfig], measured: dict[str, Any] | None, preset: str | None = None
):
    n_before = 1 + len(KEYS) + N_LAYOUT
    return run_safely(
        lambda: load_design(make(), measured, preset),
        lambda msg: (*[gr.update()] * n_before, *_keep(msg)),
    )


def on_preset(name: str, measured: dict[str, Any] | None) -> tuple[Any, ...]:
    """Preset picked."""
    return _load_or_keep(lambda: preset_config(name), measured, preset=name)


def on_apply_yaml(text: str, measured: dict[str, Any] | None) -> tuple[Any, ...]:
    """YAML editor's Apply."""
    return _load_or_keep(lambda: resolve_config(text or "", allow_paths=False), measured)


def on_upload(path: str | None, measured: dict[str, Any] | None) -> tuple[Any, ...]:
    """A .yaml/.yml file uploaded (size-capped, safe_load)."""

    def make() -> ModelConfig:
        if not path:
            raise ConfigError("no file received; choose a .yaml or .yml file")
        if not str(path).lower().endswith((".yaml", ".yml")):
            raise ConfigError(f"{Path(path).name}: upload a .yaml or .yml config file")
        return load_config_file(path)

    return _load_or_keep(make, measured)


def on_page_load(measured: dict[str, Any] | None, request: gr.Request) -> tuple[Any, ...]:
    """Restore the design from ``?cfg=v1...`` (or ``?preset=NAME``); the default preset otherwise."""
    params = dict(request.query_params) if request is not None else {}
    token, preset = params.get("cfg"), params.get("preset")
    if token:  # a damaged link shows why and keeps the default design on screen
        return _load_or_keep(lambda: resolve_config(token, allow_paths=False), measured)
    if preset:
        return _load_or_keep(lambda: preset_config(preset), measured, preset=preset)
    return tuple(gr.update() for _ in range(N_LOADED))


def on_measure(config_yaml: str, measured: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    """Measure batch-1 and batch-N latency of the current design; returns (error, cards, measured)."""

    def run() -> tuple[Any, Any, Any]:
        cfg = ModelConfig.from_yaml(config_yaml)
        check_memory(cfg, batch_size=LATENCY_BATCH)
        report = _analyze(cfg, latency=True, batch_size=LATENCY_BATCH)
        lat = report.latency or {}
        new = remember_latency(measured, cfg.fingerprint(), lat)
        return fmt.error_html(None), fmt.cards_html(report, latency=lat), new

    return run_safely(run, lambda msg: (fmt.error_html(msg), gr.update(), gr.update()))


def on_png(config_yaml: str, detail: str) -> Any:
    """Render the diagram as PNG for download."""

    def run() -> Any:
        cfg = ModelConfig.from_yaml(config_yaml)
        return gr.update(value=_write(f"{_slug(cfg)}-{detail}.png", _diagram_png(cfg, detail)), visible=True)

    def fail(msg: str) -> Any:
        gr.Warning(msg)
        return gr.update()

    return run_safely(run, fail)


def _order_text_for_choice(choice: str, text: str) -> str:
    """Picking a named order writes its steps; picking ``custom`` keeps the steps being edited."""
    return text if choice == CUSTOM_ORDER else order_text_for(choice)


# --------------------------------------------------------------------------- visibility rules
def visibility(*args: Any) -> list[Any]:
    """Show only the controls the current choices use (stage rows, conv options, sub-stream options)."""
    v = dict(zip(_VIS_KEYS, args))
    try:
        count = int(float(v["stages.count"] or 1))
    except (TypeError, ValueError):  # a half-typed number: leave the layout as it is
        return [gr.update() for _ in range(4 + MAX_STAGES * 8)]
    out: list[Any] = [gr.update(visible=bool(v["stem.enabled"]))]
    out += [gr.update(visible=x) for x in conv_field_visibility(v["stem.conv.kind"])]
    for i in range(MAX_STAGES):
        p = f"stages.{i}."
        out.append(gr.update(visible=i < count))
        out += [gr.update(visible=x) for x in conv_field_visibility(v[p + "conv.kind"])]
        gauss = bool(v[p + "gaussian.enabled"])
        out += [gr.update(visible=gauss)] * 3
        out.append(gr.update(visible=v[p + "dense.kind"] != "none"))
    return out


def _hidden_keys(values: dict[str, Any]) -> set[str]:
    """Controls :func:`visibility` hides for these values (used when the page is first built)."""
    hidden: set[str] = set()
    for prefix in ["stem.", *[f"stages.{i}." for i in range(MAX_STAGES)]]:
        for name, shown in zip(
            ("groups", "dilation", "ghost_ratio"), conv_field_visibility(values[prefix + "conv.kind"])
        ):
            if not shown:
                hidden.add(f"{prefix}conv.{name}")
    for i in range(MAX_STAGES):
        p = f"stages.{i}."
        if not values[p + "gaussian.enabled"]:
            hidden |= {p + "gaussian.sigmas", p + "gaussian.learnable", p + "gaussian.dog"}
        if values[p + "dense.kind"] == "none":
            hidden.add(p + "dense.reduction")
    return hidden


_VIS_KEYS = (
    "stem.enabled",
    "stem.conv.kind",
    "stages.count",
    *[f"stages.{i}.{k}" for i in range(MAX_STAGES) for k in ("conv.kind", "gaussian.enabled", "dense.kind")],
)


# --------------------------------------------------------------------------- components
def _component(spec: ControlSpec, value: Any, visible: bool = True) -> gr.components.Component:
    kw: dict[str, Any] = {
        "label": spec.label,
        "value": value,
        "elem_id": "c-" + spec.key.replace(".", "-"),
        "visible": visible,
    }
    if spec.info:
        kw["info"] = spec.info
    if spec.widget == "int":
        return gr.Number(precision=0, minimum=spec.minimum, maximum=spec.maximum, min_width=90, **kw)
    if spec.widget == "float":
        return gr.Number(minimum=spec.minimum, maximum=spec.maximum, min_width=90, **kw)
    if spec.widget == "check":
        return gr.Checkbox(min_width=90, **kw)
    if spec.widget == "drop":
        return gr.Dropdown(choices=list(spec.choices), min_width=110, **kw)
    if spec.widget == "radio":
        return gr.Radio(choices=list(spec.choices), min_width=110, **kw)
    if spec.widget == "slider":
        return gr.Slider(minimum=spec.minimum, maximum=spec.maximum, step=spec.step, **kw)
    return gr.Textbox(max_lines=1, min_width=110, **kw)


@dataclass
class DesignTab:
    """Handles other tabs and the app need."""

    controls: dict[str, gr.components.Component]
    preset: gr.Dropdown
    error: gr.HTML
    cards: gr.HTML
    outputs: list[gr.components.Component] = field(default_factory=list)


_DIAGRAM_TEMPLATE = (
    '<div class="idfy-diagram-tools">'
    '<button type="button" data-zoom="in" title="zoom in">+</button>'
    '<button type="button" data-zoom="out" title="zoom out">−</button>'
    '<button type="button" data-zoom="width" title="fit the width">width</button>'
    '<button type="button" data-zoom="fit" title="show the whole diagram">whole</button>'
    '<span class="idfy-diagram-hint">ctrl + scroll to zoom · drag or scroll to move</span></div>'
    '<div class="idfy-diagram-viewport">${value}</div>'
)
_DIAGRAM_JS = """
let s = 1, drag = null;
const vp = () => element.querySelector('.idfy-diagram-viewport');
const svg = () => element.querySelector('.idfy-diagram-canvas svg');
const ratio = (g) => { const vb = g.viewBox && g.viewBox.baseVal; return vb && vb.width ? vb.height / vb.width : 1; };
const base = () => {
  const g = svg(), v = vp(); if (!g || !v) return 600;
  const vb = g.viewBox && g.viewBox.baseVal; const natural = (vb && vb.width ? vb.width : 600) * 4 / 3;
  return Math.max(120, Math.min(v.clientWidth - 6, natural * 1.25));
};
const apply = () => { const g = svg(); if (g) { g.style.width = (base() * s) + 'px'; g.style.height = (base() * s * ratio(g)) + 'px'; } };
const zoomAt = (f, cx, cy) => {
  const v = vp(); const ns = Math.min(12, Math.max(0.1, s * f)); const k = ns / s;
  const sx = v.scrollLeft + cx, sy = v.scrollTop + cy; s = ns; apply();
  v.scrollLeft = sx * k - cx; v.scrollTop = sy * k - cy;
};
const fit = () => {
  const g = svg(), v = vp(); if (!g || !v) return;
  s = Math.min(1, (v.clientHeight - 48) / (base() * ratio(g))); apply(); v.scrollTop = 0; v.scrollLeft = 0;
};
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-zoom]'); if (!b) return;
  const v = vp(); const k = b.dataset.zoom;
  if (k === 'fit') fit();
  else if (k === 'width') { s = 1; apply(); v.scrollTop = 0; }
  else zoomAt(k === 'in' ? 1.25 : 0.8, v.clientWidth / 2, v.clientHeight / 2);
});
element.addEventListener('wheel', (e) => {
  const v = e.target.closest('.idfy-diagram-viewport'); if (!v || !(e.ctrlKey || e.metaKey)) return;
  e.preventDefault(); const r = v.getBoundingClientRect();
  zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
}, {passive: false});
element.addEventListener('pointerdown', (e) => {
  const v = e.target.closest('.idfy-diagram-viewport'); if (!v || e.button !== 0) return;
  drag = {px: e.clientX, py: e.clientY, l: v.scrollLeft, t: v.scrollTop}; element.classList.add('idfy-dragging');
});
window.addEventListener('pointermove', (e) => {
  if (!drag) return; const v = vp(); v.scrollLeft = drag.l - (e.clientX - drag.px); v.scrollTop = drag.t - (e.clientY - drag.py);
});
window.addEventListener('pointerup', () => { drag = null; element.classList.remove('idfy-dragging'); });
watch('value', apply);
apply();
"""

#: Keeps the address bar and the share field on the current design (runs in the browser).
URL_JS = """(token) => {
  if (!token) return [];
  const u = new URL(window.location.href);
  u.searchParams.delete('preset');
  u.searchParams.set('cfg', token);
  window.history.replaceState(window.history.state, '', u);
  return [u.toString()];
}"""


def _controls_block(values: dict[str, Any]) -> tuple[dict[str, gr.components.Component], dict[str, Any]]:
    """Create the controls in accordions; returns (controls by key, layout handles for visibility)."""
    c: dict[str, gr.components.Component] = {}
    h: dict[str, Any] = {}

    hidden = _hidden_keys(values)

    def add(*keys: str) -> None:
        for k in keys:
            c[k] = _component(_spec(k), values[k], visible=k not in hidden)

    with (
        gr.Accordion("Input", open=True, elem_classes=["idfy-acc"], elem_id="acc-input"),
        gr.Row(equal_height=True),
    ):
        add("input.channels", "input.height", "input.width", "input.scale")
    with gr.Accordion("Stem", open=False, elem_classes=["idfy-acc"], elem_id="acc-stem"):
        add("stem.enabled")
        with gr.Column(visible=bool(values["stem.enabled"])) as h["stem"]:
            with gr.Row(equal_height=True):
                add("stem.width", "stem.kernel", "stem.stride")
            with gr.Row(equal_height=True):
                add("stem.conv.kind", "stem.conv.groups", "stem.conv.dilation", "stem.conv.ghost_ratio")
    with gr.Accordion("Stages", open=True, elem_classes=["idfy-acc"], elem_id="acc-stages"):
        add("stages.count")
        for i in range(MAX_STAGES):
            p = f"stages.{i}."
            with gr.Accordion(
                f"Stage {i + 1}",
                open=i == 0,
                visible=i < values["stages.count"],
                elem_classes=["idfy-stage"],
                elem_id=f"stage-{i + 1}",
            ) as h[f"stage{i}"]:
                with gr.Row(equal_height=True):
                    add(p + "width", p + "depth", p + "stride", p + "down")
                with gr.Row(equal_height=True):
                    add(p + "conv.kind", p + "conv.groups", p + "conv.dilation", p + "conv.ghost_ratio")
                with gr.Row(equal_height=True):
                    add(p + "inject", p + "gaussian.enabled", p + "gaussian.learnable", p + "gaussian.dog")
                with gr.Row(equal_height=True):
                    add(p + "gaussian.sigmas", p + "dense.kind", p + "dense.reduction", p + "fuse_project")
    with gr.Accordion("Residual unit (S8)", open=False, elem_classes=["idfy-acc"], elem_id="acc-block"):
        with gr.Row(equal_height=True):
            add("block.order", "block.order_text")
        with gr.Row(equal_height=True):
            add("block.kernel", "block.norm", "block.act")
    with gr.Accordion("Image injection (S1)", open=False, elem_classes=["idfy-acc"], elem_id="acc-inject"):
        with gr.Row(equal_height=True):
            add("inject.stem", "inject.head", "inject.antialias", "inject.project")
        with gr.Row(equal_height=True):
            add("inject.mode")
    with gr.Accordion("Head and task", open=False, elem_classes=["idfy-acc"], elem_id="acc-head"):
        with gr.Row(equal_height=True):
            add("head.kind", "head.widths", "head.dropout")
        with gr.Row(equal_height=True):
            add("task", "num_classes")
    return c, h


@functools.cache
def _spec_map() -> dict[str, ControlSpec]:
    return {s.key: s for s in SPECS}


def _spec(key: str) -> ControlSpec:
    return _spec_map()[key]


def _vis_outputs(c: dict[str, Any], h: dict[str, Any]) -> list[Any]:
    out = [h["stem"], c["stem.conv.groups"], c["stem.conv.dilation"], c["stem.conv.ghost_ratio"]]
    for i in range(MAX_STAGES):
        p = f"stages.{i}."
        out += [h[f"stage{i}"], c[p + "conv.groups"], c[p + "conv.dilation"], c[p + "conv.ghost_ratio"]]
        out += [c[p + "gaussian.sigmas"], c[p + "gaussian.learnable"], c[p + "gaussian.dog"]]
        out.append(c[p + "dense.reduction"])
    return out


def build(demo: gr.Blocks, config_state: gr.State, measured: gr.State) -> DesignTab:
    """Create the Design tab's components and events inside the current ``gr.Tab``."""
    initial = load_preset(DEFAULT_PRESET)
    values = config_to_values(initial)
    first = dict(zip(RESULT_FIELDS, run_safely(lambda: results_for(initial, None), _keep)))
    # The diagram and charts are not part of the first page: the page-load chain sends them right after the
    # numbers are on screen (plotly and a 50 kB SVG would otherwise delay the first render by seconds).
    more: dict[str, Any] = dict.fromkeys(DETAIL_FIELDS)
    more["yaml"] = first["config"]
    rendered = gr.State(more["rendered"])  # which design/detail the diagram and charts show
    with gr.Row(equal_height=False, elem_id="design-row"):
        with gr.Column(scale=5, min_width=380, elem_id="design-controls"):
            preset = gr.Dropdown(
                choices=list_presets(),
                value=DEFAULT_PRESET,
                label="Preset",
                elem_id="preset",
                info="start from a bundled design, then change anything below",
            )
            error = gr.HTML(first["error"], elem_id="design-error", padding=False)
            c, h = _controls_block(values)
            with gr.Accordion(
                "Share, save and load", open=False, elem_classes=["idfy-acc"], elem_id="share-acc"
            ):
                link = gr.Textbox(
                    label="Link to this design",
                    buttons=["copy"],
                    interactive=False,
                    elem_id="share-link",
                    max_lines=1,
                )
                token = gr.Textbox(value=first["token"], visible=False)
                with gr.Row():
                    yaml_file = gr.DownloadButton(
                        "Download YAML", value=more["yaml_file"], size="sm", elem_id="dl-yaml"
                    )
                    upload = gr.UploadButton(
                        "Upload YAML", file_types=[".yaml", ".yml"], size="sm", elem_id="ul-yaml"
                    )
                yaml_code = gr.Code(
                    value=more["yaml"],
                    language="yaml",
                    label="YAML",
                    lines=14,
                    max_lines=30,
                    interactive=True,
                    elem_id="yaml-editor",
                )
                apply = gr.Button("Apply YAML", size="sm", variant="secondary", elem_id="apply-yaml")
        with gr.Column(scale=8, min_width=520, elem_id="design-results"):
            cards = gr.HTML(first["cards"], elem_id="cards", padding=False)
            with gr.Row(elem_id="cards-actions"):
                measure = gr.Button(
                    "Measure latency", size="sm", variant="primary", elem_id="measure", scale=0
                )
                gr.HTML(
                    '<span class="idfy-muted">times batch 1 and batch 32 forward passes on the device above; '
                    "MACs count one multiply-add as 1 (fvcore), FLOPs count 2 (torch.utils.flop_counter)</span>",
                    padding=False,
                )
            table = gr.Dataframe(
                value=first["table"],
                headers=fmt.STAGE_HEADERS,
                label="Per-stage shapes (C×H×W), params, MACs, receptive field",
                interactive=False,
                wrap=True,
                elem_id="stage-table",
                max_height=560,
                column_widths=["11%", "27%", "13%", "10%", "9%", "16%", "14%"],
            )
            with gr.Group(elem_id="diagram-group"):
                with gr.Row(equal_height=True, elem_id="diagram-bar"):
                    detail = gr.Radio(
                        list(DIAGRAM_DETAILS),
                        value="stages",
                        label="Diagram detail",
                        elem_id="diagram-detail",
                        scale=3,
                    )
                    svg_file = gr.DownloadButton(
                        "SVG", value=more["svg_file"], size="sm", elem_id="dl-svg", scale=0, min_width=70
                    )
                    png_btn = gr.Button("PNG", size="sm", elem_id="mk-png", scale=0, min_width=70)
                png_file = gr.File(label="diagram PNG", visible=False, elem_id="png-file", height=60)
                diagram = gr.HTML(
                    more["diagram"] or "",
                    html_template=_DIAGRAM_TEMPLATE,
                    js_on_load=_DIAGRAM_JS,
                    elem_id="diagram",
                    padding=False,
                )
            with gr.Row():
                fig_stage = gr.Plot(more["fig_stage"], show_label=False, elem_id="fig-stage")
                fig_path = gr.Plot(more["fig_path"], show_label=False, elem_id="fig-path")

    config_state.value = first["config"]
    controls = [c[k] for k in KEYS]
    results = [error, cards, table, config_state, token]
    details = [diagram, svg_file, fig_stage, fig_path, yaml_code, yaml_file, rendered]
    details_step = {
        "fn": on_details,
        "inputs": [config_state, detail, rendered],
        "outputs": details,
        "show_progress": "hidden",
        "api_visibility": "private",
    }
    url_step = {"fn": None, "inputs": [token], "outputs": [link], "js": URL_JS}

    def then_details(dep: Any) -> None:
        """After the numbers: the address bar (in the browser) and the diagram, charts and YAML (server)."""
        dep.then(**url_step)
        dep.then(**details_step)

    # preprocess=False: the controls' raw JSON values are what values_to_config expects anyway, and skipping
    # ~95 per-input preprocess calls (one worker-thread hop each) shortens every update.
    change = {
        "fn": design_change,
        "inputs": [*controls, config_state, measured],
        "outputs": results,
        "show_progress": "hidden",
        "preprocess": False,
    }
    # Controls whose choice first adjusts other controls (conv kind -> groups/dilation, order <-> steps)
    # run that small step, then the design handler; every other control triggers the handler directly.
    chained = {f"{p}conv.kind" for p in ["stem.", *[f"stages.{i}." for i in range(MAX_STAGES)]]}
    chained |= {"block.order", "block.order_text"}
    then_details(
        gr.on(
            triggers=[c[k].input for k in KEYS if k not in chained],
            **change,
            api_name="design_change",
            api_visibility="undocumented",
            trigger_mode="always_last",
        )
    )
    for prefix in ["stem.", *[f"stages.{i}." for i in range(MAX_STAGES)]]:
        kind, groups, dil = c[prefix + "conv.kind"], c[prefix + "conv.groups"], c[prefix + "conv.dilation"]
        then_details(
            kind.input(
                fix_conv_for_kind,
                [kind, groups, dil],
                [groups, dil],
                api_visibility="private",
                show_progress="hidden",
                queue=False,
            ).then(**change, api_visibility="private")
        )
    order, order_text = c["block.order"], c["block.order_text"]
    for trig, fn, ins, outs in (
        (order.input, _order_text_for_choice, [order, order_text], [order_text]),
        (order_text.input, order_choice_for, [order_text], [order]),
    ):
        then_details(
            trig(fn, ins, outs, api_visibility="private", show_progress="hidden", queue=False).then(
                **change, api_visibility="private"
            )
        )

    vis_inputs = [c[k] for k in _VIS_KEYS]
    gr.on(
        triggers=[x.input for x in vis_inputs],
        fn=visibility,
        inputs=vis_inputs,
        outputs=_vis_outputs(c, h),
        api_name="control_visibility",
        api_visibility="private",
        show_progress="hidden",
        queue=False,
    )

    layout = [h["stem"], *[h[f"stage{i}"] for i in range(MAX_STAGES)]]
    loaded = [preset, *controls, *layout, *results]
    for trig, fn, ins, name in (
        (preset.input, on_preset, [preset, measured], "load_preset"),
        (apply.click, on_apply_yaml, [yaml_code, measured], "apply_yaml"),
        (upload.upload, on_upload, [upload, measured], "upload_yaml"),
    ):
        then_details(
            trig(fn, ins, loaded, api_name=name, api_visibility="undocumented", show_progress="hidden")
        )
    then_details(
        demo.load(
            on_page_load,
            [measured],
            loaded,
            api_name="restore_design",
            api_visibility="undocumented",
            show_progress="hidden",
        )
    )

    detail.change(**{**details_step, "api_name": "diagram_detail"})
    png_btn.click(
        on_png, [config_state, detail], [png_file], api_name="diagram_png", api_visibility="private"
    )
    measure.click(
        on_measure,
        [config_state, measured],
        [error, cards, measured],
        api_name="measure_latency",
        concurrency_limit=1,
        concurrency_id="latency",
    )
    return DesignTab(controls=c, preset=preset, error=error, cards=cards, outputs=results)
