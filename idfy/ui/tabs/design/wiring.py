"""The Design tab's events: every control, loader and button connected to its handler (:mod:`.handlers`)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from idfy.ui.context import TabContext
from idfy.ui.controls import KEYS, MAX_STAGES, order_choice_for
from idfy.ui.tabs.design.handlers import (
    VIS_KEYS,
    _order_text_for_choice,
    conv_fixer,
    design_change,
    on_apply_yaml,
    on_fix,
    on_measure,
    on_page_load,
    on_png,
    on_preset,
    on_upload,
    visibility,
)
from idfy.ui.tabs.design.layout import DesignLayout
from idfy.ui.tabs.design.results import on_details
from idfy.ui.tabs.design.words import static_text


def _vis_outputs(c: dict[str, Any], h: dict[str, Any]) -> list[Any]:
    out = [h["stem"], c["stem.conv.groups"], c["stem.conv.dilation"], c["stem.conv.ghost_ratio"]]
    for i in range(MAX_STAGES):
        p = f"stages.{i}."
        out += [h[f"stage{i}"], c[p + "conv.groups"], c[p + "conv.dilation"], c[p + "conv.ghost_ratio"]]
        out += [c[p + "gaussian.sigmas"], c[p + "gaussian.learnable"], c[p + "gaussian.dog"]]
        out.append(c[p + "dense.reduction"])
    return out


def connect(ctx: TabContext, ui: DesignLayout) -> None:
    """Connect the Design tab's events (``ui`` from :func:`.layout.create`)."""
    demo, config_state, measured = ctx.demo, ctx.config_state, ctx.measured
    c, h, p = ui.controls, ui.blocks, ui.parts
    summary, table, token, preset_state, preset = (
        p["summary"],
        p["table"],
        p["token"],
        p["preset_state"],
        p["preset"],
    )
    diagram, svg_file, fig_stage, fig_path = p["diagram"], p["svg_file"], p["fig_stage"], p["fig_path"]
    yaml_code, yaml_file, rendered, detail, link = (
        p["yaml_code"],
        p["yaml_file"],
        p["rendered"],
        p["detail"],
        p["link"],
    )
    reset, apply, upload, fix_apply, fix_request = (
        p["reset"],
        p["apply"],
        p["upload"],
        p["fix_apply"],
        p["fix_request"],
    )
    png_btn, png_file, measure = p["png_btn"], p["png_file"], p["measure"]
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
    url_step = {"fn": None, "inputs": [token], "outputs": [link], "js": static_text("url.js")}

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
                conv_fixer(prefix),
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

    vis_inputs = [c[k] for k in VIS_KEYS]
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
            js=static_text("fix.js"),
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
