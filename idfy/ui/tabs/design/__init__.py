"""Design tab: a summary strip on top, controls on the left, the diagram beside them, the table and charts below.

The strip (params, MACs, FLOPs, memory, latency, the shape chain and the error state) stays pinned to the top
of the window; the controls column scrolls on its own; the diagram fills the rest of the first screen.

One handler (:func:`~.handlers.design_change`) serves every control (``gr.on`` over the controls' ``.input``
events, ``trigger_mode="always_last"``, no progress overlay). Loading a preset, a ``?cfg=`` link, an uploaded
or edited YAML, or a clicked fix sets the controls *and* the results in one step
(:func:`~.handlers.load_design`). The handler listens to ``.input`` (a person's edit) rather than ``.change``:
``.change`` also fires for every control a loader sets.

An invalid combination is not applied: the strip shows the message, the control it names is marked invalid
(``aria-invalid``, an outline) with the message right under the field's row, its accordions opened and both
scrolled into view (the strip's script, ``static/summary.js``); the numbers, table and diagram are marked
stale (they show the last valid design), and the fixes offered are single changes tested to make the design
valid (:mod:`idfy.ui.fixes`).

Every number is shown with its change against the preset the design started from (and, for a moment,
against the design before the last change); changed table cells are highlighted and the diagram outlines what
differs from the preset (:func:`idfy.viz.diff.diagram_diff`).

Every update has two steps: the numbers (strip, per-stage table, the design state, the link) first, then
(``.then``) the diagram, charts, YAML text and downloads (:func:`~.results.on_details`), which are skipped
when they already show the design. The numbers therefore never wait for graphviz or plotly.

Modules: :mod:`.layout` creates the components, :mod:`.wiring` connects the events, :mod:`.handlers` and
:mod:`.results` are the plain functions behind them, :mod:`.words` the descriptions and ``<head>`` script.
"""

from __future__ import annotations

from idfy.presets import load_preset
from idfy.ui.context import TabContext
from idfy.ui.controls import config_to_values
from idfy.ui.tabs.design import layout, wiring
from idfy.ui.tabs.design.handlers import design_change, load_design, visibility
from idfy.ui.tabs.design.results import (
    DEFAULT_PRESET,
    RESULT_FIELDS,
    _keep,
    changes_in_words,
    diagram_svg,
    results_for,
    run_safely,
)
from idfy.ui.tabs.design.words import head_html, help_data

__all__ = [
    "DEFAULT_PRESET",
    "build",
    "changes_in_words",
    "design_change",
    "diagram_svg",
    "head_html",
    "help_data",
    "load_design",
    "run_safely",
    "visibility",
]


def build(ctx: TabContext) -> None:
    """Create the Design tab's components and events inside the current ``gr.Tab``; publishes the controls
    (``design.controls``, by config key), the preset picker (``design.preset``) and the summary strip
    (``design.summary``) in ``ctx.shared``."""
    initial = load_preset(DEFAULT_PRESET)
    first = dict.fromkeys(RESULT_FIELDS, "") | run_safely(
        lambda: results_for(initial, None, DEFAULT_PRESET), _keep
    )
    ui = layout.create(config_to_values(initial), first)
    ctx.config_state.value = first["config"]
    wiring.connect(ctx, ui)
    ctx.shared["design.controls"] = ui.controls
    ctx.shared["design.preset"] = ui["preset"]
    ctx.shared["design.summary"] = ui["summary"]
