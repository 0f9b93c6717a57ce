"""The Design tab's event handlers: one for every design control, the loaders (preset, link, YAML, upload,
a clicked fix), latency, PNG and the visibility rules. Plain functions of plain values (no components), so
they are tested without a browser; :mod:`.wiring` connects them to the page."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from idfy.analysis.memory import check_memory
from idfy.config import ConfigError, ModelConfig
from idfy.presets import list_presets, load_config_file, preset_config, resolve_config
from idfy.ui import formatting as fmt
from idfy.ui.controls import (
    CUSTOM_ORDER,
    KEYS,
    MAX_STAGES,
    SPECS,
    ControlSpec,
    config_to_values,
    conv_field_visibility,
    order_text_for,
    values_to_config,
)
from idfy.ui.fixes import field_name, fix_conv_for_kind, locate, suggest_fixes
from idfy.ui.state import remember_latency
from idfy.ui.tabs.design.results import (
    LATENCY_BATCH,
    RESULT_FIELDS,
    _analyze,
    _cards,
    _diagram_png,
    _elem_id,
    _slug,
    _write,
    invalid_results,
    results_for,
    run_safely,
)

log = logging.getLogger("idfy.ui")

#: A handler's outputs by name (:func:`idfy.ui.tabs.keyed.keyed` maps the names to components).
Out = dict[str, Any]


def design_change(*args: Any) -> Out:
    """The one handler for every design control: ``(*control values, config yaml, measured, preset)`` ->
    the results by name (:data:`RESULT_FIELDS`; only ``summary`` when the edit is invalid). The config yaml
    is the last valid design (the base for options without a control, the reference for the short-lived
    deltas, and what stays on screen when the edit is invalid)."""
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
LAYOUT_NAMES = ("layout.stem", *[f"layout.stage{i}" for i in range(MAX_STAGES)])
#: Names a loader may set: the preset picker, every control, the layout blocks and :data:`RESULT_FIELDS`.
LOADED_NAMES = ("preset", *KEYS, *LAYOUT_NAMES, *RESULT_FIELDS)


def load_design(
    cfg: ModelConfig,
    measured: dict[str, Any] | None,
    preset: str | None = None,
    previous: ModelConfig | None = None,
) -> Out:
    """Everything a freshly loaded design (preset, link, upload, YAML editor, a fix) sets, in one step: the
    preset picker, each control's value *and* visibility, the layout blocks' visibility and the results.
    Setting it all at once means no control fires a follow-up event (the design handler listens to user
    input only)."""
    values = config_to_values(cfg)
    hidden = hidden_keys(values)
    name = preset if preset is not None else (cfg.name if cfg.name in list_presets() else None)
    out: Out = {} if name is None else {"preset": name}
    out |= {k: gr.update(value=values[k], visible=k not in hidden) for k in KEYS}
    out["layout.stem"] = gr.update(visible=bool(values["stem.enabled"]))
    out |= {f"layout.stage{i}": gr.update(visible=i < values["stages.count"]) for i in range(MAX_STAGES)}
    return out | results_for(cfg, measured, name, previous)


def _load_or_keep(
    make: Callable[[], ModelConfig],
    measured: dict[str, Any] | None,
    preset: str | None = None,
    current: str | None = None,
    *,
    first: bool = False,
) -> Out:
    """``first``: the page's first design (a link): no "previous design" deltas against a design never shown."""

    def previous() -> ModelConfig | None:
        try:
            return ModelConfig.from_yaml(current) if current and not first else None
        except ConfigError:
            return None

    return run_safely(
        lambda: load_design(make(), measured, preset, previous()),
        lambda msg: invalid_results(msg, current, measured, None),
    )


def on_preset(name: str, measured: dict[str, Any] | None, current: str | None = None) -> Out:
    """Preset picked (or the reset button pressed)."""
    return _load_or_keep(lambda: preset_config(name), measured, preset=name, current=current)


def on_apply_yaml(text: str, measured: dict[str, Any] | None, current: str | None = None) -> Out:
    """YAML editor's Apply."""
    return _load_or_keep(lambda: resolve_config(text or "", allow_paths=False), measured, current=current)


def on_upload(path: str | None, measured: dict[str, Any] | None, current: str | None = None) -> Out:
    """A .yaml/.yml file uploaded (size-capped, safe_load)."""

    def make() -> ModelConfig:
        if not path:
            raise ConfigError("no file received; choose a .yaml or .yml file")
        if not str(path).lower().endswith((".yaml", ".yml")):
            raise ConfigError(f"{Path(path).name}: upload a .yaml or .yml config file")
        return load_config_file(path)

    return _load_or_keep(make, measured, current=current)


def on_page_load(measured: dict[str, Any] | None, request: gr.Request, current: str | None = None) -> Out:
    """Restore the design from ``?cfg=v1...`` (or ``?preset=NAME``); the default preset otherwise."""
    params = dict(request.query_params) if request is not None else {}
    token, preset = params.get("cfg"), params.get("preset")
    if token:  # a damaged link shows why and keeps the default design on screen
        return _load_or_keep(
            lambda: resolve_config(token, allow_paths=False), measured, current=current, first=True
        )
    if preset:
        return _load_or_keep(
            lambda: preset_config(preset), measured, preset=preset, current=current, first=True
        )
    return {"summary": gr.update()}  # nothing to load: everything stays


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


def on_fix(payload: str, *args: Any) -> Out:
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


def on_measure(config_yaml: str, measured: dict[str, Any] | None, preset: str | None = None) -> Out:
    """Measure batch-1 and batch-N latency of the current design: ``{"summary", "measured"}``."""

    def run() -> Out:
        cfg = ModelConfig.from_yaml(config_yaml)
        check_memory(cfg, batch_size=LATENCY_BATCH)
        report = _analyze(cfg, latency=True, batch_size=LATENCY_BATCH)
        lat = report.latency or {}
        new = remember_latency(measured, cfg.fingerprint(), lat)
        return {"summary": fmt.strip_html(_cards(cfg, new, preset, None)), "measured": new}

    return run_safely(run, lambda msg: invalid_results(msg, config_yaml, measured, preset))


def on_png(config_yaml: str, detail: str) -> Out:
    """Render the diagram as PNG for download: ``{"png_file": update}``."""

    def run() -> Out:
        cfg = ModelConfig.from_yaml(config_yaml)
        png = _write(f"{_slug(cfg)}-{detail}.png", _diagram_png(cfg, detail))
        return {"png_file": gr.update(value=png, visible=True)}

    def fail(msg: str) -> Out:
        gr.Warning(msg)
        return {"png_file": gr.update()}

    return run_safely(run, fail)


def _order_text_for_choice(choice: str, text: str) -> str:
    """Picking a named order writes its steps; picking ``custom`` keeps the steps being edited."""
    return text if choice == CUSTOM_ORDER else order_text_for(choice)


# --------------------------------------------------------------------------- visibility rules
_CONV_OPTIONS = ("groups", "dilation", "ghost_ratio")
_GAUSS_OPTIONS = ("gaussian.sigmas", "gaussian.learnable", "gaussian.dog")


def _shown(v: dict[str, Any], count: int) -> dict[str, bool]:
    """Which of :data:`VIS_OUTPUTS` the choices in ``v`` (by config key) show, with ``count`` stages."""
    shown = {"layout.stem": bool(v["stem.enabled"])}
    for prefix in ["stem.", *[f"stages.{i}." for i in range(MAX_STAGES)]]:
        names = [f"{prefix}conv.{n}" for n in _CONV_OPTIONS]
        shown |= dict(zip(names, conv_field_visibility(v[prefix + "conv.kind"])))
    for i in range(MAX_STAGES):
        p = f"stages.{i}."
        shown[f"layout.stage{i}"] = i < count
        shown |= {p + n: bool(v[p + "gaussian.enabled"]) for n in _GAUSS_OPTIONS}
        shown[p + "dense.reduction"] = v[p + "dense.kind"] != "none"
    return shown


def visibility(*args: Any) -> Out:
    """Show only the controls the current choices use (stage rows, conv options, sub-stream options):
    ``(*values of VIS_KEYS)`` -> ``{name: gr.update(visible=...)}`` for :data:`VIS_OUTPUTS`."""
    v = dict(zip(VIS_KEYS, args))
    try:
        count = int(float(v["stages.count"] or 1))
    except (TypeError, ValueError):  # a half-typed number: leave the layout as it is
        return {"layout.stem": gr.update()}
    return {k: gr.update(visible=x) for k, x in _shown(v, count).items()}


def hidden_keys(values: dict[str, Any]) -> set[str]:
    """Controls :func:`visibility` hides for these values (used when the page is first built)."""
    shown = _shown(values, int(values["stages.count"]))
    return {k for k, x in shown.items() if not x and not k.startswith("layout.")}


VIS_KEYS = (
    "stem.enabled",
    "stem.conv.kind",
    "stages.count",
    *[f"stages.{i}.{k}" for i in range(MAX_STAGES) for k in ("conv.kind", "gaussian.enabled", "dense.kind")],
)
#: What :func:`visibility` may show or hide (controls by key, layout blocks as ``layout.*``).
VIS_OUTPUTS = (
    "layout.stem",
    *[f"stem.conv.{n}" for n in _CONV_OPTIONS],
    *[
        f"stages.{i}.{n}"
        for i in range(MAX_STAGES)
        for n in (*[f"conv.{c}" for c in _CONV_OPTIONS], *_GAUSS_OPTIONS, "dense.reduction")
    ],
    *[f"layout.stage{i}" for i in range(MAX_STAGES)],
)


@functools.cache
def _spec_map() -> dict[str, ControlSpec]:
    return {s.key: s for s in SPECS}


def _spec(key: str) -> ControlSpec:
    return _spec_map()[key]


def conv_fixer(prefix: str) -> Callable[..., Out]:
    """The handler that fills groups / dilation with valid values when ``prefix``'s conv kind is picked:
    ``(*control values, config yaml)`` -> ``{prefix + "conv.groups": ..., prefix + "conv.dilation": ...}``."""
    names = (prefix + "conv.groups", prefix + "conv.dilation")

    def fix(*args: Any) -> Out:
        values = dict(zip(KEYS, args[: len(KEYS)]))
        current = args[len(KEYS)]
        try:
            base = ModelConfig.from_yaml(current) if current else None
            return dict(zip(names, fix_conv_for_kind(values, prefix, base)))
        except Exception:
            log.exception("conv kind defaults failed")
            return {names[0]: gr.update()}

    return fix
