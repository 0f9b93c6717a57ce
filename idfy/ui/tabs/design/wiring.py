"""The Design tab's events: every control, loader and button connected to its handler (:mod:`.handlers`).

Handlers return ``{name: value}`` for what changed; :func:`idfy.ui.tabs.keyed.keyed` turns the names into the
components (``ui[name]``), and each event lists every component its handler may name as outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import gradio as gr

from idfy.ui.context import TabContext
from idfy.ui.controls import KEYS, MAX_STAGES, order_choice_for
from idfy.ui.tabs.design.handlers import (
    LOADED_NAMES,
    VIS_KEYS,
    VIS_OUTPUTS,
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
from idfy.ui.tabs.design.results import DETAIL_FIELDS, RESULT_FIELDS, on_details
from idfy.ui.tabs.design.words import static_text
from idfy.ui.tabs.keyed import keyed

_PREFIXES = ("stem.", *[f"stages.{i}." for i in range(MAX_STAGES)])


class _Wiring:
    """Connects one Design tab: ``ui`` holds the components by name, ``ctx`` the page-wide ones."""

    def __init__(self, ctx: TabContext, ui: DesignLayout) -> None:
        self.ctx, self.ui = ctx, ui
        ui.parts["config"] = ctx.config_state
        ui.parts["measured"] = ctx.measured
        self.controls = [ui.controls[k] for k in KEYS]

    def fn(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` answering by name, as Gradio expects it (``{component: value}``)."""
        return keyed(handler, self.ui)

    def outs(self, names: Iterable[str]) -> list[Any]:
        return [self.ui[n] for n in names]

    def then_details(self, dep: Any) -> None:
        """After the numbers: the address bar (in the browser) and the diagram, charts and YAML (server)."""
        ui = self.ui
        dep.then(fn=None, inputs=[ui["token"]], outputs=[ui["link"]], js=static_text("url.js"))
        dep.then(**self.details_step())

    def details_step(self) -> dict[str, Any]:
        ui = self.ui
        return {
            "fn": self.fn(on_details),
            "inputs": [ui["config"], ui["detail"], ui["rendered"], ui["preset"]],
            "outputs": self.outs(DETAIL_FIELDS),
            "show_progress": "hidden",
            "api_visibility": "private",
        }

    def change_step(self) -> dict[str, Any]:
        """The design handler's event arguments. preprocess=False: the controls' raw JSON values are what
        values_to_config expects anyway, and skipping ~95 per-input preprocess calls shortens every update."""
        ui = self.ui
        return {
            "fn": self.fn(design_change),
            "inputs": [*self.controls, ui["config"], ui["measured"], ui["preset"]],
            "outputs": self.outs(RESULT_FIELDS),
            "show_progress": "hidden",
            "preprocess": False,
        }

    def controls_events(self) -> None:
        """Every control -> the design handler; conv kind and block order first adjust their partners."""
        c, change = self.ui.controls, self.change_step()
        chained = {f"{p}conv.kind" for p in _PREFIXES} | {"block.order", "block.order_text"}
        self.then_details(
            gr.on(
                triggers=[c[k].input for k in KEYS if k not in chained],
                **change,
                api_name="design_change",
                api_visibility="undocumented",
                trigger_mode="always_last",
            )
        )
        quick = {"api_visibility": "private", "show_progress": "hidden", "queue": False}
        for prefix in _PREFIXES:
            fixed = self.outs([prefix + "conv.groups", prefix + "conv.dilation"])
            step = c[prefix + "conv.kind"].input(
                self.fn(conv_fixer(prefix)),
                [*self.controls, self.ui["config"]],
                fixed,
                preprocess=False,
                **quick,
            )
            self.then_details(step.then(**change, api_visibility="private"))
        order, order_text = c["block.order"], c["block.order_text"]
        for trig, fn, ins, outs in (
            (order.input, _order_text_for_choice, [order, order_text], [order_text]),
            (order_text.input, order_choice_for, [order_text], [order]),
        ):
            self.then_details(trig(fn, ins, outs, **quick).then(**change, api_visibility="private"))
        gr.on(
            triggers=[c[k].input for k in VIS_KEYS],
            fn=self.fn(visibility),
            inputs=[c[k] for k in VIS_KEYS],
            outputs=self.outs(VIS_OUTPUTS),
            api_name="control_visibility",
            **quick,
        )

    def loaders(self) -> None:
        """Preset, reset, YAML editor, upload, a clicked fix and the page load set every control at once."""
        ui, loaded = self.ui, self.outs(LOADED_NAMES)
        state = [ui["measured"], ui["config"]]
        for trig, fn, ins, name in (
            (ui["preset"].input, on_preset, [ui["preset"], *state], "load_preset"),
            (ui["reset"].click, on_preset, [ui["preset"], *state], "reset_preset"),
            (ui["apply"].click, on_apply_yaml, [ui["yaml_code"], *state], "apply_yaml"),
            (ui["upload"].upload, on_upload, [ui["upload"], *state], "upload_yaml"),
        ):
            self.then_details(
                trig(
                    self.fn(fn),
                    ins,
                    loaded,
                    api_name=name,
                    api_visibility="undocumented",
                    show_progress="hidden",
                )
            )
        fix_inputs = [ui["fix_request"], *self.controls, ui["config"], ui["measured"], ui["preset"]]
        self.then_details(
            ui["fix_apply"].click(
                self.fn(on_fix),
                fix_inputs,
                loaded,
                js=static_text("fix.js"),
                api_name="apply_fix",
                api_visibility="private",
                show_progress="hidden",
                preprocess=False,
            )
        )
        self.then_details(
            self.ctx.demo.load(
                self.fn(on_page_load),
                state,
                loaded,
                api_name="restore_design",
                api_visibility="undocumented",
                show_progress="hidden",
            )
        )

    def buttons(self) -> None:
        """Diagram detail, PNG and latency."""
        ui = self.ui
        ui["detail"].change(**{**self.details_step(), "api_name": "diagram_detail"})
        ui["png_btn"].click(
            self.fn(on_png),
            [ui["config"], ui["detail"]],
            [ui["png_file"]],
            api_name="diagram_png",
            api_visibility="private",
        )
        ui["measure"].click(
            self.fn(on_measure),
            [ui["config"], ui["measured"], ui["preset"]],
            self.outs(["summary", "measured"]),
            api_name="measure_latency",
            concurrency_limit=1,
            concurrency_id="latency",
        )


def connect(ctx: TabContext, ui: DesignLayout) -> None:
    """Connect the Design tab's events (``ui`` from :func:`.layout.create`)."""
    w = _Wiring(ctx, ui)
    w.controls_events()
    w.loaders()
    w.buttons()
