"""Design tab: a summary strip on top, controls on the left, the diagram beside them, the table and charts below.

The strip (params, MACs, FLOPs, memory, latency, the shape chain and the error state) stays pinned to the top
of the window; the controls column scrolls on its own; the diagram fills the rest of the first screen.

One handler (:func:`design_change`) serves every control (``gr.on`` over the controls' ``.input`` events,
``trigger_mode="always_last"``, no progress overlay). Loading a preset, a ``?cfg=`` link, an uploaded or
edited YAML, or a clicked fix sets the controls *and* the results in one step (:func:`load_design`). The
handler listens to ``.input`` (a person's edit) rather than ``.change``: ``.change`` also fires for every
control a loader sets.

An invalid combination is not applied: the strip shows the message, the control it names is marked invalid
with the message beside it (the strip's script), the numbers, table and diagram are marked stale (they show
the last valid design), and the fixes offered are single changes tested to make the design valid
(:mod:`idfy.ui.fixes`).

Every number is shown with its change against the preset the design started from (and, for a moment,
against the design before the last change); changed table cells are highlighted and the diagram outlines what
differs from the preset (:func:`idfy.diagram.diagram_diff`).

Every update has two steps: the numbers (strip, per-stage table, the design state, the link) first, then
(``.then``) the diagram, charts, YAML text and downloads (:func:`on_details`), which are skipped when they
already show the design. The numbers therefore never wait for graphviz or plotly.

Handlers are plain functions of plain values so they can be tested without a browser.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.plot import PlotData

from idfy._dataclass_io import short_repr
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
    order_choice_for,
    order_text_for,
    values_to_config,
)
from idfy.ui.fixes import field_name, fix_conv_for_kind, headline, locate, suggest_fixes
from idfy.ui.glossary import SEED_ITEMS, choice_text, describe
from idfy.ui.limits import check_memory, check_report
from idfy.ui.state import remember_latency

__all__ = [
    "DEFAULT_PRESET",
    "DesignTab",
    "build",
    "changes_in_words",
    "design_change",
    "diagram_svg",
    "help_data",
    "load_design",
    "run_safely",
]

log = logging.getLogger("idfy.ui")

#: The seed's Model 2 (S12): what a first visit shows.
DEFAULT_PRESET = "seed_model2"
DIAGRAM_DETAILS = ("stages", "blocks", "layers")
LATENCY_BATCH = 32
INTERNAL_ERROR = "Something went wrong while analysing this design (the details are in the server log)."
STATIC = Path(__file__).with_name("static")


# --------------------------------------------------------------------------- library calls (cached)
def _analyze(cfg: ModelConfig, *, latency: bool = False, batch_size: int = 32) -> Any:
    """``idfy.analysis.analyze`` (cached there by fingerprint and options)."""
    from idfy.analysis import analyze

    return analyze(cfg, latency=latency, batch_size=batch_size)


@functools.lru_cache(maxsize=128)
def diagram_svg(cfg: ModelConfig, detail: str = "stages", against: ModelConfig | None = None) -> str:
    """SVG text of ``cfg``'s diagram at ``detail`` (cached per config); with ``against`` (the preset) what
    differs from it is outlined (:func:`idfy.diagram.diagram_diff`)."""
    from idfy.diagram import diagram, diagram_diff, render

    if detail not in DIAGRAM_DETAILS:
        raise ConfigError(
            f"diagram detail must be one of {', '.join(DIAGRAM_DETAILS)} (got {short_repr(detail)})"
        )
    if against is not None:
        return render(diagram_diff(against, cfg, detail=detail), fmt="svg").decode()
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


# --------------------------------------------------------------------------- presets and changes
def _preset_config(preset: str | None) -> ModelConfig | None:
    """The bundled preset ``preset`` names (None for anything else)."""
    if not preset or preset not in list_presets():
        return None
    return preset_config(preset)


def _changes(a: ModelConfig, b: ModelConfig) -> list[tuple[str, object, object]]:
    from idfy.diagram import config_diff

    return [(k, x, y) for k, x, y in config_diff(a, b) if k not in ("name", "description")]


def _plain_value(v: object) -> str:
    if v is True:
        return "on"
    if v is False or v is None:
        return "off"
    if isinstance(v, (list, tuple)):
        return ", ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v) or "none"
    if isinstance(v, dict):
        return "on"
    return str(v)


def _key_words(key: str) -> str:
    """``stages.1.conv.groups`` -> ``stage 2 conv.groups``; other keys unchanged."""
    parts = key.split(".")
    if parts[0] == "stages" and len(parts) > 2 and parts[1].isdigit():
        return f"stage {int(parts[1]) + 1} " + ".".join(parts[2:])
    if parts[0] == "stages" and len(parts) == 2:
        return f"stage {int(parts[1]) + 1}"
    return key


def changes_in_words(a: ModelConfig, b: ModelConfig, limit: int = 8) -> list[str]:
    """What ``b`` changes against ``a`` in the page's words (``stage 2 inject: off → on``), at most ``limit``
    lines (a last line counts the rest)."""
    out = []
    for k, x, y in _changes(a, b):
        if k.startswith("stages.") and k.count(".") == 1:
            out.append(f"{_key_words(k)} {'added' if x is None else 'removed'}")
        else:
            out.append(f"{_key_words(k)}: {_plain_value(x)} → {_plain_value(y)}")
    if len(out) > limit:
        out = out[: limit - 1] + [f"… and {len(out) - limit + 1} more"]
    return out


def preset_state_html(preset: str | None, cfg: ModelConfig | None) -> str:
    """``(modified) · 2 changes`` beside the preset picker (titled with the changes), or nothing."""
    base = _preset_config(preset)
    if base is None or cfg is None:
        return ""
    words = changes_in_words(base, cfg)
    if not words:
        return '<span class="idfy-preset-same">as bundled</span>'
    n = len(_changes(base, cfg))
    tip = html.escape("changes: " + "; ".join(words))
    return f'<span class="idfy-modified" title="{tip}">(modified) · {n} change{"s" if n != 1 else ""}</span>'


# --------------------------------------------------------------------------- results
#: Outputs of :func:`results_for` (the fast step: numbers and shapes), in order.
RESULT_FIELDS = ("summary", "table", "config", "token", "preset_state")
#: Outputs of :func:`on_details` (the second step: diagram, charts, YAML, downloads), in order.
DETAIL_FIELDS = ("diagram", "svg_file", "fig_stage", "fig_path", "yaml", "yaml_file", "rendered")


def _cards(
    cfg: ModelConfig, measured: dict[str, Any] | None, preset: str | None, previous: ModelConfig | None
) -> str:
    report = _analyze(cfg)
    base = _preset_config(preset)
    base_report = _analyze(base) if base is not None else None
    prev_report = None
    if previous is not None and previous.fingerprint() != cfg.fingerprint():
        prev_report = _analyze(previous)
    note = ""
    if cfg.head.kind == "flatten" and cfg.input.size[0] < 100 and cfg.name == "seed_model1":
        note = (
            "Seed Model 1 uses a 32×32 input: at 224×224 the flatten head's first FC layer alone would need "
            "205 M weights."
        )
    lat = (measured or {}).get(cfg.fingerprint())
    return fmt.cards_html(
        report,
        latency=lat,
        note=note,
        base=base_report,
        base_name=preset or "",
        previous=prev_report,
    )


def results_for(
    cfg: ModelConfig,
    measured: dict[str, Any] | None,
    preset: str | None = None,
    previous: ModelConfig | None = None,
) -> tuple[Any, ...]:
    """The numbers for a valid ``cfg`` (see :data:`RESULT_FIELDS`), with changes against ``preset`` and
    ``previous``. Kept small on purpose: the page shows them before the diagram and charts, which
    :func:`on_details` sends in a second step."""
    report = _analyze(cfg)  # counts on the meta device: safe before the memory check
    check_report(report)
    base = _preset_config(preset)
    return (
        fmt.strip_html(_cards(cfg, measured, preset, previous)),
        fmt.stage_table_html(report, _analyze(base) if base is not None else None),
        cfg.to_yaml(),
        cfg.to_url(),
        preset_state_html(preset, cfg),
    )


def _elem_id(key: str) -> str:
    return "c-" + key.replace(".", "-")


def invalid_results(
    message: str,
    current_yaml: str | None,
    measured: dict[str, Any] | None,
    preset: str | None,
    key: str | None = None,
    fixes: list[tuple[str, Any]] | None = None,
) -> tuple[Any, ...]:
    """Results for an invalid edit: the strip shows the message, the control it names and the tested fixes
    over the last valid design's (stale) numbers; everything else stays as it is."""
    cards = ""
    if current_yaml:
        try:
            cards = _cards(ModelConfig.from_yaml(current_yaml), measured, preset, None)
        except Exception:
            log.exception("could not redraw the last valid design")
    text = headline(message) if fixes else message
    where, sep, rest = text.partition(": ")
    if key is not None and sep and "=" not in where and len(where) <= 40:
        text = rest  # the strip and the field name the place already ("stage 1 groups")
    strip = fmt.strip_html(
        cards,
        error=text,
        field=_elem_id(key) if key else "",
        field_name=field_name(key) if key else "",
        fixes=[(_elem_id(k), field_name(k), _plain_fix(v)) for k, v in (fixes or [])],
    )
    return (strip, *[gr.update() for _ in RESULT_FIELDS[1:]])


def _plain_fix(v: Any) -> str:
    return "on" if v is True else "off" if v is False else str(v)


def on_details(
    config_yaml: str, detail: str, rendered: str | None, preset: str | None = None
) -> tuple[Any, ...]:
    """Diagram (inline SVG + file, what differs from ``preset`` outlined), charts by stage and path, YAML text
    and file for the current design (see :data:`DETAIL_FIELDS`); nothing is resent when they already show
    this design (``rendered``)."""
    key = f"{detail}:{preset}:{hashlib.sha1((config_yaml or '').encode()).hexdigest()[:16]}"
    if key == rendered:
        return tuple(gr.update() for _ in DETAIL_FIELDS)

    def run() -> tuple[Any, ...]:
        from idfy.ui.inspector import node_info

        cfg = ModelConfig.from_yaml(config_yaml)
        report = _analyze(cfg)
        base = _preset_config(preset)
        against = base if base is not None and _changes(base, cfg) else None
        svg = diagram_svg(cfg, detail, against)
        caption = f"{cfg.name} · {detail}" + (f" · outlined: changed against {preset}" if against else "")
        return (
            fmt.diagram_html(svg, caption, nodes=node_info(cfg, report, svg)),
            _write(f"{_slug(cfg)}-{detail}.svg", svg),
            plot_data(fmt.stage_figure(report)),
            plot_data(fmt.path_figure(report)),
            config_yaml,
            _write(f"{_slug(cfg)}.yaml", config_yaml),
            key,
        )

    return run_safely(run, lambda msg: tuple(gr.update() for _ in DETAIL_FIELDS))


def _keep(message: str) -> tuple[Any, ...]:
    """Show ``message`` in the strip (no numbers); leave every other result as it is."""
    return (fmt.strip_html("", error=message), *[gr.update() for _ in RESULT_FIELDS[1:]])


def design_change(*args: Any) -> tuple[Any, ...]:
    """The one handler for every design control: ``(*control values, config yaml, measured, preset)`` ->
    results (:data:`RESULT_FIELDS`). The config yaml is the last valid design (the base for options without
    a control, the reference for the short-lived deltas, and what stays on screen when the edit is invalid).
    """
    values = dict(zip(KEYS, args[: len(KEYS)]))
    base_yaml, measured = args[len(KEYS)], args[len(KEYS) + 1]
    preset = args[len(KEYS) + 2] if len(args) > len(KEYS) + 2 else None
    base = None
    try:
        base = ModelConfig.from_yaml(base_yaml) if base_yaml else None
        cfg = values_to_config(values, base)
    except ConfigError as e:
        key = locate(e)
        try:
            fixes = suggest_fixes(values, key, base)
        except Exception:
            log.exception("fix search failed")
            fixes = []
        return invalid_results(str(e), base_yaml, measured, preset, key, fixes)
    return run_safely(
        lambda: results_for(cfg, measured, preset, base),
        lambda msg: invalid_results(msg, base_yaml, measured, preset),
    )


#: Layout blocks whose visibility follows the controls: the stem's options and the stage accordions.
N_LAYOUT = 1 + MAX_STAGES
#: Outputs of a loader: the preset picker, every control, the layout blocks, then :data:`RESULT_FIELDS`.
N_LOADED = 1 + len(KEYS) + N_LAYOUT + len(RESULT_FIELDS)


def load_design(
    cfg: ModelConfig,
    measured: dict[str, Any] | None,
    preset: str | None = None,
    previous: ModelConfig | None = None,
) -> tuple[Any, ...]:
    """Everything a freshly loaded design (preset, link, upload, YAML editor, a fix) sets, in one step: the
    preset picker, each control's value *and* visibility, the layout blocks' visibility and the results.
    Setting it all at once means no control fires a follow-up event (the design handler listens to user
    input only)."""
    values = config_to_values(cfg)
    hidden = _hidden_keys(values)
    name = preset if preset is not None else (cfg.name if cfg.name in list_presets() else None)
    preset_value = name if name is not None else gr.update()
    controls = [gr.update(value=values[k], visible=k not in hidden) for k in KEYS]
    layout = [gr.update(visible=bool(values["stem.enabled"]))]
    layout += [gr.update(visible=i < values["stages.count"]) for i in range(MAX_STAGES)]
    return (preset_value, *controls, *layout, *results_for(cfg, measured, name, previous))


def _load_or_keep(
    make: Callable[[], ModelConfig],
    measured: dict[str, Any] | None,
    preset: str | None = None,
    current: str | None = None,
):
    n_before = 1 + len(KEYS) + N_LAYOUT

    def previous() -> ModelConfig | None:
        try:
            return ModelConfig.from_yaml(current) if current else None
        except ConfigError:
            return None

    return run_safely(
        lambda: load_design(make(), measured, preset, previous()),
        lambda msg: (*[gr.update()] * n_before, *invalid_results(msg, current, measured, None)),
    )


def on_preset(name: str, measured: dict[str, Any] | None, current: str | None = None) -> tuple[Any, ...]:
    """Preset picked (or the reset button pressed)."""
    return _load_or_keep(lambda: preset_config(name), measured, preset=name, current=current)


def on_apply_yaml(text: str, measured: dict[str, Any] | None, current: str | None = None) -> tuple[Any, ...]:
    """YAML editor's Apply."""
    return _load_or_keep(lambda: resolve_config(text or "", allow_paths=False), measured, current=current)


def on_upload(
    path: str | None, measured: dict[str, Any] | None, current: str | None = None
) -> tuple[Any, ...]:
    """A .yaml/.yml file uploaded (size-capped, safe_load)."""

    def make() -> ModelConfig:
        if not path:
            raise ConfigError("no file received; choose a .yaml or .yml file")
        if not str(path).lower().endswith((".yaml", ".yml")):
            raise ConfigError(f"{Path(path).name}: upload a .yaml or .yml config file")
        return load_config_file(path)

    return _load_or_keep(make, measured, current=current)


def on_page_load(
    measured: dict[str, Any] | None, request: gr.Request, current: str | None = None
) -> tuple[Any, ...]:
    """Restore the design from ``?cfg=v1...`` (or ``?preset=NAME``); the default preset otherwise."""
    params = dict(request.query_params) if request is not None else {}
    token, preset = params.get("cfg"), params.get("preset")
    if token:  # a damaged link shows why and keeps the default design on screen
        return _load_or_keep(lambda: resolve_config(token, allow_paths=False), measured, current=current)
    if preset:
        return _load_or_keep(lambda: preset_config(preset), measured, preset=preset, current=current)
    return tuple(gr.update() for _ in range(N_LOADED))


def _coerce(key: str, raw: str) -> Any:
    """A fix's value (as the strip's button carries it, text) in the control's own type."""
    spec = _spec(key)
    if spec.widget == "check":
        return raw == "on"
    if spec.widget in ("drop", "radio"):
        for c in spec.choices:
            if str(c) == raw:
                return c
        raise ConfigError(f"{field_name(key)}: {raw!r} is not one of its choices")
    if spec.widget in ("int", "slider"):
        return int(raw)
    return raw


def on_fix(payload: str, *args: Any) -> tuple[Any, ...]:
    """A fix clicked in the strip: ``payload`` is ``{"field": "c-stages-0-conv-kind", "value": "regular"}``;
    ``args`` are the control values, the last valid design, measured latencies and the preset. The fixed
    design is loaded like a preset (every control and result at once)."""
    values = dict(zip(KEYS, args[: len(KEYS)]))
    current, measured, preset = args[len(KEYS)], args[len(KEYS) + 1], args[len(KEYS) + 2]

    def make() -> ModelConfig:
        try:
            data = json.loads(payload or "{}")
        except ValueError:
            raise ConfigError("fix: could not read the request; edit the control by hand") from None
        keys = {_elem_id(k): k for k in KEYS}
        key = keys.get(str(data.get("field")))
        if key is None:
            raise ConfigError("fix: unknown control; edit the control by hand")
        values[key] = _coerce(key, str(data.get("value")))
        base = ModelConfig.from_yaml(current) if current else None
        return values_to_config(values, base)

    return _load_or_keep(make, measured, preset=preset, current=current)


def on_measure(
    config_yaml: str, measured: dict[str, Any] | None, preset: str | None = None
) -> tuple[Any, Any]:
    """Measure batch-1 and batch-N latency of the current design; returns (summary strip, measured)."""

    def run() -> tuple[Any, Any]:
        cfg = ModelConfig.from_yaml(config_yaml)
        check_memory(cfg, batch_size=LATENCY_BATCH)
        report = _analyze(cfg, latency=True, batch_size=LATENCY_BATCH)
        lat = report.latency or {}
        new = remember_latency(measured, cfg.fingerprint(), lat)
        return fmt.strip_html(_cards(cfg, new, preset, None)), new

    return run_safely(run, lambda msg: (invalid_results(msg, config_yaml, measured, preset)[0], gr.update()))


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


# --------------------------------------------------------------------------- words
def help_data() -> dict[str, Any]:
    """The descriptions the page shows for the control in focus or under the pointer: ``fields`` (element id
    -> one line) and ``choices`` (element id -> {choice: one line}), from :mod:`idfy.ui.glossary`."""
    fields = {_elem_id(k): describe(k) for k in KEYS if describe(k)}
    choices: dict[str, dict[str, str]] = {}
    for s in SPECS:
        texts = {str(c): choice_text(s.key, c) for c in s.choices}
        texts = {c: t for c, t in texts.items() if t}
        if texts:
            choices[_elem_id(s.key)] = texts
    fields["preset"] = "A bundled design to start from; every change is measured against it."
    return {"fields": fields, "choices": choices}


def head_html() -> str:
    """``<head>`` additions: the descriptions as data and the page script (read from ``static/``)."""
    data = json.dumps(help_data(), ensure_ascii=False).replace("</", "<\\/")
    script = (STATIC / "page.js").read_text()
    return f"<script>window.IDFY_HELP = {data};</script>\n<script>{script}</script>"


def _seed_legend() -> str:
    items = "".join(
        f"<li><b>{html.escape(code)}</b> {html.escape(text)}</li>" for code, text in SEED_ITEMS.items()
    )
    return (
        '<details class="idfy-seed-legend"><summary>What do S1–S13 mean?</summary>'
        f"<p>Labels such as “(S8)” name the seed's design items:</p><ul>{items}</ul></details>"
    )


# --------------------------------------------------------------------------- components
def _component(spec: ControlSpec, value: Any, visible: bool = True) -> gr.components.Component:
    kw: dict[str, Any] = {
        "label": spec.label,
        "value": value,
        "elem_id": _elem_id(spec.key),
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
    '<button type="button" data-zoom="in" title="zoom in" aria-label="zoom in">+</button>'
    '<button type="button" data-zoom="out" title="zoom out" aria-label="zoom out">−</button>'
    '<button type="button" data-zoom="width" title="fit the width">width</button>'
    '<button type="button" data-zoom="fit" title="show the whole diagram">whole</button>'
    '<span class="idfy-diagram-hint">click a node for its details · ctrl + scroll to zoom · drag to move</span>'
    "</div>"
    '<div class="idfy-diagram-body"><div class="idfy-diagram-viewport" tabindex="0" '
    'aria-label="model diagram">${value}</div>'
    '<aside class="idfy-inspector" aria-live="polite" hidden></aside></div>'
)

#: Sends the fix a button in the strip asked for (static/summary.js leaves it in ``window.idfyFix``).
FIX_JS = "(...args) => { args[0] = window.idfyFix || ''; return args; }"

#: Keeps the address bar and the share field on the current design (runs in the browser); the first time,
#: it also reveals a linked design (see static/page.js).
URL_JS = """(token) => {
  document.documentElement.classList.remove('idfy-linking');
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
    with gr.Accordion(
        "Residual unit order (S8: He et al.)", open=False, elem_classes=["idfy-acc"], elem_id="acc-block"
    ):
        with gr.Row(equal_height=True):
            add("block.order", "block.order_text")
        with gr.Row(equal_height=True):
            add("block.kernel", "block.norm", "block.act")
    with gr.Accordion("Image re-injection (S1)", open=False, elem_classes=["idfy-acc"], elem_id="acc-inject"):
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


def _conv_fixer(prefix: str) -> Callable[..., tuple[Any, Any]]:
    """The handler that fills groups / dilation with valid values when ``prefix``'s conv kind is picked."""

    def fix(*args: Any) -> tuple[Any, Any]:
        values = dict(zip(KEYS, args[: len(KEYS)]))
        current = args[len(KEYS)]
        try:
            base = ModelConfig.from_yaml(current) if current else None
            return fix_conv_for_kind(values, prefix, base)
        except Exception:
            log.exception("conv kind defaults failed")
            return gr.update(), gr.update()

    return fix


def build(demo: gr.Blocks, config_state: gr.State, measured: gr.State) -> DesignTab:
    """Create the Design tab's components and events inside the current ``gr.Tab``."""
    initial = load_preset(DEFAULT_PRESET)
    values = config_to_values(initial)
    first = dict(zip(RESULT_FIELDS, run_safely(lambda: results_for(initial, None, DEFAULT_PRESET), _keep)))
    # The diagram and charts are not part of the first page: the page-load chain sends them right after the
    # numbers are on screen (plotly and a 50 kB SVG would otherwise delay the first render by seconds).
    more: dict[str, Any] = dict.fromkeys(DETAIL_FIELDS)
    more["yaml"] = first["config"]
    rendered = gr.State(more["rendered"])  # which design/detail the diagram and charts show
    summary = gr.HTML(
        first["summary"],
        elem_id="design-summary",
        padding=False,
        js_on_load=(STATIC / "summary.js").read_text(),
    )
    with gr.Row(equal_height=False, elem_id="design-row"):
        with gr.Column(scale=4, min_width=360, elem_id="design-controls"):
            with gr.Row(equal_height=True, elem_id="preset-row"):
                preset = gr.Dropdown(
                    choices=list_presets(),
                    value=DEFAULT_PRESET,
                    label="Preset",
                    elem_id="preset",
                    scale=3,
                )
                preset_state = gr.HTML(first["preset_state"], elem_id="preset-state", padding=False, scale=2)
                reset = gr.Button(
                    "↺ Reset to preset", size="sm", elem_id="reset-preset", scale=0, min_width=120
                )
            gr.HTML(
                '<div class="idfy-help" aria-live="polite">Point at or focus a control to read what it does. '
                "</div>" + _seed_legend(),
                elem_id="design-help",
                padding=False,
            )
            with gr.Row(elem_classes=["idfy-offscreen"]):  # driven by the fix buttons' script
                fix_request = gr.Textbox(value="", elem_id="fix-request", show_label=False, container=False)
                fix_apply = gr.Button("apply fix", elem_id="fix-apply")
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
        with gr.Column(scale=7, min_width=420, elem_id="design-results"):
            with gr.Group(elem_id="diagram-group"):
                with gr.Row(equal_height=True, elem_id="diagram-bar"):
                    detail = gr.Radio(
                        list(DIAGRAM_DETAILS),
                        value="stages",
                        label="Diagram detail",
                        show_label=False,
                        container=False,
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
                    js_on_load=(STATIC / "diagram.js").read_text(),
                    elem_id="diagram",
                    padding=False,
                )
            gr.HTML(
                '<div class="idfy-section-title">Per-stage shapes (C×H×W), params, MACs, receptive field '
                '<span class="idfy-muted">· highlighted: differs from the preset (hover for its value)</span>'
                "</div>",
                padding=False,
            )
            table = gr.HTML(first["table"], elem_id="stage-table", padding=False)
            with gr.Row(elem_id="cards-actions"):
                measure = gr.Button(
                    "Measure latency", size="sm", variant="primary", elem_id="measure", scale=0
                )
                gr.HTML(
                    '<span class="idfy-muted">times batch 1 and batch 32 forward passes on the device above; '
                    "MACs count one multiply-add as 1 (fvcore), FLOPs count 2 (torch.utils.flop_counter)</span>",
                    padding=False,
                )
            with gr.Row():
                fig_stage = gr.Plot(more["fig_stage"], show_label=False, elem_id="fig-stage")
                fig_path = gr.Plot(more["fig_path"], show_label=False, elem_id="fig-path")

    config_state.value = first["config"]
    controls = [c[k] for k in KEYS]
    results = [summary, table, config_state, token, preset_state]
    details = [diagram, svg_file, fig_stage, fig_path, yaml_code, yaml_file, rendered]
    details_step = {
        "fn": on_details,
        "inputs": [config_state, detail, rendered, preset],
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
        "inputs": [*controls, config_state, measured, preset],
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
                _conv_fixer(prefix),
                [*controls, config_state],
                [groups, dil],
                api_visibility="private",
                show_progress="hidden",
                queue=False,
                preprocess=False,
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
        (preset.input, on_preset, [preset, measured, config_state], "load_preset"),
        (reset.click, on_preset, [preset, measured, config_state], "reset_preset"),
        (apply.click, on_apply_yaml, [yaml_code, measured, config_state], "apply_yaml"),
        (upload.upload, on_upload, [upload, measured, config_state], "upload_yaml"),
    ):
        then_details(
            trig(fn, ins, loaded, api_name=name, api_visibility="undocumented", show_progress="hidden")
        )
    then_details(
        fix_apply.click(
            on_fix,
            [fix_request, *controls, config_state, measured, preset],
            loaded,
            js=FIX_JS,
            api_name="apply_fix",
            api_visibility="private",
            show_progress="hidden",
            preprocess=False,
        )
    )
    then_details(
        demo.load(
            on_page_load,
            [measured, config_state],
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
        [config_state, measured, preset],
        [summary, measured],
        api_name="measure_latency",
        concurrency_limit=1,
        concurrency_id="latency",
    )
    return DesignTab(controls=c, preset=preset, error=summary, cards=summary, outputs=results)
