"""The Design tab's components, created in page order (no events: :mod:`.wiring` connects them).

The summary strip on top, the controls column on the left (preset, help line, controls in accordions, share /
save / load), the diagram beside it, the per-stage table and the charts below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from idfy.presets import list_presets
from idfy.ui.controls import MAX_STAGES, SPECS, ControlSpec
from idfy.ui.tabs.design.handlers import hidden_keys
from idfy.ui.tabs.design.results import DEFAULT_PRESET, DIAGRAM_DETAILS, _elem_id
from idfy.ui.tabs.design.words import seed_legend, static_text

Component = gr.components.Component


@dataclass
class DesignLayout:
    """Every component of the Design tab, by role (``controls`` by config key, ``blocks`` the stem options and
    stage accordions by ``"stem"`` / ``"stage0"`` ...)."""

    controls: dict[str, Component] = field(default_factory=dict)
    blocks: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        """The component a handler's output names: a control key, ``layout.stem`` / ``layout.stage0`` ... or a
        part (``summary``, ``table``, ``diagram``, ...)."""
        if name in self.controls:
            return self.controls[name]
        if name.startswith("layout."):
            return self.blocks[name.removeprefix("layout.")]
        return self.parts[name]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name.startswith("layout."):
            return name.removeprefix("layout.") in self.blocks
        return name in self.controls or name in self.parts


def component(spec: ControlSpec, value: Any, visible: bool = True) -> Component:
    """The Gradio component for one control (its element id is ``c-`` + the key with dashes)."""
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


# One statement per accordion row: the layout reads like the page, so it stays one function (~60 lines).
def controls_block(values: dict[str, Any]) -> tuple[dict[str, Component], dict[str, Any]]:
    """Create the controls in accordions; returns (controls by key, layout handles for visibility)."""
    c: dict[str, Component] = {}
    h: dict[str, Any] = {}

    hidden = hidden_keys(values)
    specs = {s.key: s for s in SPECS}

    def add(*keys: str) -> None:
        for k in keys:
            c[k] = component(specs[k], values[k], visible=k not in hidden)

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


def create(values: dict[str, Any], first: dict[str, Any]) -> DesignLayout:
    """Create every component inside the current ``gr.Tab``: ``values`` are the controls' first values,
    ``first`` the first design's numbers by :data:`~.results.RESULT_FIELDS` name."""
    ui = DesignLayout()
    p = ui.parts
    p["rendered"] = gr.State(None)  # which design/detail the diagram and charts show
    p["summary"] = gr.HTML(
        first["summary"], elem_id="design-summary", padding=False, js_on_load=static_text("summary.js")
    )
    with gr.Row(equal_height=False, elem_id="design-row"):
        with gr.Column(scale=4, min_width=360, elem_id="design-controls"):
            _controls_column(ui, values, first)
        with gr.Column(scale=7, min_width=420, elem_id="design-results"):
            _results_column(ui, first)
    return ui


def _controls_column(ui: DesignLayout, values: dict[str, Any], first: dict[str, Any]) -> None:
    p = ui.parts
    with gr.Row(equal_height=True, elem_id="preset-row"):
        p["preset"] = gr.Dropdown(
            choices=list_presets(), value=DEFAULT_PRESET, label="Preset", elem_id="preset", scale=3
        )
        p["preset_state"] = gr.HTML(first["preset_state"], elem_id="preset-state", padding=False, scale=2)
        p["reset"] = gr.Button("↺ reset", size="sm", elem_id="reset-preset", scale=0, min_width=60)
    gr.HTML(
        '<div class="idfy-help" aria-live="polite">Point at or focus a control to read what it does. '
        "</div>" + seed_legend(),
        elem_id="design-help",
        padding=False,
    )
    with gr.Row(elem_classes=["idfy-offscreen"]):  # driven by the fix buttons' script
        p["fix_request"] = gr.Textbox(value="", elem_id="fix-request", show_label=False, container=False)
        p["fix_apply"] = gr.Button("apply fix", elem_id="fix-apply")
    ui.controls, ui.blocks = controls_block(values)
    with gr.Accordion("Share, save and load", open=False, elem_classes=["idfy-acc"], elem_id="share-acc"):
        p["link"] = gr.Textbox(
            label="Link to this design",
            buttons=["copy"],
            interactive=False,
            elem_id="share-link",
            max_lines=1,
        )
        p["token"] = gr.Textbox(value=first["token"], visible=False)
        with gr.Row():
            p["yaml_file"] = gr.DownloadButton("Download YAML", value=None, size="sm", elem_id="dl-yaml")
            p["upload"] = gr.UploadButton(
                "Upload YAML", file_types=[".yaml", ".yml"], size="sm", elem_id="ul-yaml"
            )
        p["yaml_code"] = gr.Code(
            value=first["config"],
            language="yaml",
            label="YAML",
            lines=14,
            max_lines=30,
            interactive=True,
            elem_id="yaml-editor",
        )
        p["apply"] = gr.Button("Apply YAML", size="sm", variant="secondary", elem_id="apply-yaml")


def _results_column(ui: DesignLayout, first: dict[str, Any]) -> None:
    # The diagram and charts are not part of the first page: the page-load chain sends them right after the
    # numbers are on screen (plotly and a 50 kB SVG would otherwise delay the first render by seconds).
    p = ui.parts
    with gr.Group(elem_id="diagram-group"):
        with gr.Row(equal_height=True, elem_id="diagram-bar"):
            p["detail"] = gr.Radio(
                list(DIAGRAM_DETAILS),
                value="stages",
                label="Diagram detail",
                show_label=False,
                container=False,
                elem_id="diagram-detail",
                scale=3,
            )
            p["svg_file"] = gr.DownloadButton(
                "SVG", value=None, size="sm", elem_id="dl-svg", scale=0, min_width=70
            )
            p["png_btn"] = gr.Button("PNG", size="sm", elem_id="mk-png", scale=0, min_width=70)
        p["png_file"] = gr.File(label="diagram PNG", visible=False, elem_id="png-file", height=60)
        p["diagram"] = gr.HTML(
            "",
            html_template=static_text("diagram.html"),
            js_on_load=static_text("diagram.js"),
            elem_id="diagram",
            padding=False,
        )
    gr.HTML(
        '<div class="idfy-section-title">Per-stage shapes (C×H×W), params, MACs, receptive field '
        '<span class="idfy-muted">· highlighted: differs from the preset (hover for its value)</span>'
        "</div>",
        padding=False,
    )
    p["table"] = gr.HTML(first["table"], elem_id="stage-table", padding=False)
    with gr.Row(elem_id="cards-actions"):
        p["measure"] = gr.Button("Measure latency", size="sm", variant="primary", elem_id="measure", scale=0)
        gr.HTML(
            '<span class="idfy-muted">times batch 1 and batch 32 forward passes on the device above; '
            "MACs count one multiply-add as 1 (fvcore), FLOPs count 2 (torch.utils.flop_counter)</span>",
            padding=False,
        )
    with gr.Row():
        p["fig_stage"] = gr.Plot(None, show_label=False, elem_id="fig-stage")
        p["fig_path"] = gr.Plot(None, show_label=False, elem_id="fig-path")
