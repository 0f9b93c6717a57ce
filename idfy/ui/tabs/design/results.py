"""The Design tab's numbers: cached library calls, changes against the preset, the summary strip, the
per-stage table and the second step (diagram, charts, YAML, downloads). Plain functions of plain values."""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.plot import PlotData

from idfy._dataclass_io import short_repr
from idfy.analysis import analyze
from idfy.analysis.memory import check_report
from idfy.config import ConfigError, ModelConfig
from idfy.presets import list_presets, preset_config
from idfy.ui import formatting as fmt
from idfy.ui.fixes import field_name, headline
from idfy.ui.inspector import node_info
from idfy.viz.diagram import config_diff, diagram, diagram_diff, render

log = logging.getLogger("idfy.ui")

DEFAULT_PRESET = "seed_model2"
DIAGRAM_DETAILS = ("stages", "blocks", "layers")
LATENCY_BATCH = 32
INTERNAL_ERROR = "Something went wrong while analysing this design (the details are in the server log)."


# --------------------------------------------------------------------------- library calls (cached)
_inflight: dict[tuple[Any, ...], threading.Event] = {}
_inflight_lock = threading.Lock()


def _once(key: tuple[Any, ...], fn: Callable[[], Any]) -> Any:
    """``fn()``, but a call while another with the same ``key`` runs waits for it and then calls ``fn`` again
    (answered by the cache the first one filled): the fast path and the Gradio event of one edit arrive
    together and would otherwise do the same work twice on the same cores."""
    with _inflight_lock:
        running = _inflight.get(key)
        if running is None:
            _inflight[key] = threading.Event()
    if running is not None:
        running.wait(timeout=60)
        return fn()
    try:
        return fn()
    finally:
        with _inflight_lock:
            _inflight.pop(key).set()


def _analyze(cfg: ModelConfig, *, latency: bool = False, batch_size: int = 32) -> Any:
    """``idfy.analysis.analyze`` (cached there by fingerprint and options; one at a time per design)."""
    key = ("analyze", cfg.fingerprint(), tuple(cfg.input.size), latency, batch_size)
    return _once(key, lambda: analyze(cfg, latency=latency, batch_size=batch_size))


@functools.lru_cache(maxsize=128)
def diagram_svg(
    cfg: ModelConfig, detail: str = "stages", against: ModelConfig | None = None, selectable: bool = False
) -> str:
    """SVG text of ``cfg``'s diagram at ``detail`` (cached per config); with ``against`` (the preset) what
    differs from it is outlined (:func:`idfy.viz.diff.diagram_diff`); ``selectable``: for the Design tab,
    where a clicked node is marked, which its legend explains."""
    if detail not in DIAGRAM_DETAILS:
        raise ConfigError(
            f"diagram detail must be one of {', '.join(DIAGRAM_DETAILS)} (got {short_repr(detail)})"
        )
    if against is not None:
        return render(diagram_diff(against, cfg, detail=detail, selectable=selectable), fmt="svg").decode()
    return render(
        diagram(cfg, detail=detail, report=_analyze(cfg), selectable=selectable), fmt="svg"
    ).decode()


@functools.lru_cache(maxsize=32)
def _diagram_png(cfg: ModelConfig, detail: str) -> bytes:
    return render(diagram(cfg, detail=detail, report=_analyze(cfg)), fmt="png")


@functools.cache
def _files() -> Path:
    """The process's folder for downloads (made on first use, not at import)."""
    return Path(tempfile.mkdtemp(prefix="idfy-ui-"))


def _write(name: str, data: str | bytes) -> str:
    """Write a download into the process's temp folder (names carry the fingerprint, so rewrites are no-ops)."""
    path = _files() / name
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
    """The bundled preset ``preset`` names (None for anything else); read once per process (a preset file
    costs 2–7 ms to parse and every change compares against it several times)."""
    if not preset or preset not in list_presets():
        return None
    return _bundled(preset)


@functools.lru_cache(maxsize=64)
def _bundled(name: str) -> ModelConfig:
    return preset_config(name)


def _changes(a: ModelConfig, b: ModelConfig) -> list[tuple[str, object, object]]:
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
#: Names of :func:`results_for`'s outputs (the fast step: numbers and shapes; ``config`` is the design state).
RESULT_FIELDS = ("summary", "table", "config", "token", "preset_state")
#: Names of :func:`on_details`'s outputs (the second step: diagram, charts, YAML, downloads).
DETAIL_FIELDS = ("diagram", "svg_file", "fig_stage", "fig_path", "yaml_code", "yaml_file", "rendered")
#: A handler's outputs by name (:func:`idfy.ui.tabs.keyed.keyed` maps the names to components).
Out = dict[str, Any]


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
) -> Out:
    """The numbers for a valid ``cfg`` by :data:`RESULT_FIELDS` name, with changes against ``preset`` and
    ``previous``. Kept small on purpose: the page shows them before the diagram and charts, which
    :func:`on_details` sends in a second step."""
    report = _analyze(cfg)  # counts on the meta device: safe before the memory check
    check_report(report)
    base = _preset_config(preset)
    return {
        "summary": fmt.strip_html(_cards(cfg, measured, preset, previous)),
        "table": fmt.stage_table_html(report, _analyze(base) if base is not None else None),
        "config": cfg.to_yaml(),
        "token": cfg.to_url(),
        "preset_state": preset_state_html(preset, cfg),
    }


def summary_for(cfg: ModelConfig, preset: str | None = None, previous: ModelConfig | None = None) -> Out:
    """Only what the fast path shows for a valid ``cfg``: ``{"summary": strip, "token": link text}`` (the
    same strip as :func:`results_for`'s; the table, YAML and preset state wait for the Gradio event).

    Raises:
        ValueError: the memory guard refuses the design (:func:`idfy.analysis.memory.check_report`).
    """
    check_report(_analyze(cfg))
    return {"summary": fmt.strip_html(_cards(cfg, None, preset, previous)), "token": cfg.to_url()}


def _elem_id(key: str) -> str:
    return "c-" + key.replace(".", "-")


def invalid_results(
    message: str,
    current_yaml: str | None,
    measured: dict[str, Any] | None,
    preset: str | None,
    key: str | None = None,
    fixes: list[tuple[str, Any]] | None = None,
) -> Out:
    """Results for an invalid edit, ``{"summary": strip}``: the strip shows the message, the control it
    names and the tested fixes over the last valid design's (stale) numbers; everything else stays."""
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
    return {"summary": strip}


def _plain_fix(v: Any) -> str:
    return "on" if v is True else "off" if v is False else str(v)


def on_details(config_yaml: str, detail: str, rendered: str | None, preset: str | None = None) -> Out:
    """Diagram (inline SVG + file, what differs from ``preset`` outlined), charts by stage and path, YAML text
    and file for the current design (see :data:`DETAIL_FIELDS`); nothing is resent when they already show
    this design (``rendered``: then only a no-op ``rendered`` update)."""
    key = f"{detail}:{preset}:{hashlib.sha1((config_yaml or '').encode()).hexdigest()[:16]}"
    if key == rendered:
        return {"rendered": gr.update()}

    def run() -> Out:
        cfg = ModelConfig.from_yaml(config_yaml)
        report = _analyze(cfg)
        html_text, svg = diagram_for(cfg, detail, preset)
        return {
            "diagram": html_text,
            "svg_file": _write(f"{_slug(cfg)}-{detail}.svg", svg),
            "fig_stage": plot_data(fmt.stage_figure(report)),
            "fig_path": plot_data(fmt.path_figure(report)),
            "yaml_code": config_yaml,
            "yaml_file": _write(f"{_slug(cfg)}.yaml", config_yaml),
            "rendered": key,
        }

    return run_safely(run, lambda msg: {"rendered": gr.update()})


def diagram_for(cfg: ModelConfig, detail: str, preset: str | None) -> tuple[str, str]:
    """``(html, svg)``: the diagram component's content for ``cfg`` (what differs from ``preset`` outlined,
    the inspector's per-node data attached) and the SVG text. Raises ConfigError for an unknown detail."""
    report = _analyze(cfg)
    base = _preset_config(preset)
    against = base if base is not None and _changes(base, cfg) else None
    key = ("diagram", cfg.fingerprint(), detail, against.fingerprint() if against is not None else None)
    svg = _once(key, lambda: diagram_svg(cfg, detail, against, selectable=True))
    caption = f"{cfg.name} · {detail}" + (f" · outlined: changed against {preset}" if against else "")
    return fmt.diagram_html(svg, caption, nodes=node_info(cfg, report, svg)), svg


def _keep(message: str) -> Out:
    """Show ``message`` in the strip (no numbers); leave every other result as it is."""
    return {"summary": fmt.strip_html("", error=message)}
