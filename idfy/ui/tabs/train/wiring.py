"""The Train tab's events: which component triggers which handler (:mod:`idfy.ui.tabs.train.handlers`), with
what inputs, and what it may change. Handlers return ``{name: value}``; :func:`~idfy.ui.tabs.keyed.keyed` maps
the names to these components."""

from __future__ import annotations

from typing import Any

import gradio as gr

from idfy.ui.context import TabContext
from idfy.ui.tabs.keyed import keyed
from idfy.ui.tabs.train import handlers as h
from idfy.ui.tabs.train.runs import RACE_OUTPUTS, RUN_OUTPUTS

__all__ = ["wire", "wire_compare"]

#: Quick page-only updates: no queue, no spinner, not in the API.
PAGE_ONLY: dict[str, Any] = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
#: What Start / Start race lock and the end of a run unlocks.
LOCKED = ("start", "race_start", "stop", "checkpoint", "race_files", "metrics", "race_table")
#: The settings after the model (and the race's designs) in /train's and /race's inputs.
COMMON = ("budget_kind", "budget", "optimizer", "lr", "batch", "augment")
#: The idle status line's inputs (:func:`~idfy.ui.tabs.train.handlers.idle`): the line itself, then the settings
#: it names, each of which updates it.
IDLE_INPUTS = ("status", "dataset", "model", "race_with", "budget_kind", "budget")


def _pick(c: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    return [c[n] for n in names]


def _wire_runs(c: dict[str, Any], ctx: TabContext) -> None:
    """Start / Start race: lock the page, stream the run (``/train``, ``/race``), unlock it."""
    locked = _pick(c, LOCKED)
    common = [*_pick(c, COMMON), ctx.config_state, c["saved"]]
    runs = (
        ("start", False, h.start_training, ["dataset", "size", "model"], RUN_OUTPUTS, "train"),
        ("race_start", True, h.start_race, ["dataset", "size", "model", "race_with"], RACE_OUTPUTS, "race"),
    )
    for button, racing, handler, first, outputs, api_name in runs:
        c[button].click(keyed(lambda r=racing: h.lock(r), c), None, locked, **PAGE_ONLY).then(
            keyed(handler, c),
            [*_pick(c, tuple(first)), *common],
            _pick(c, outputs),
            api_name=api_name,
            show_progress="hidden",
            concurrency_limit=16,  # the job registry runs IDFY_MAX_TRAININGS of them; the rest wait visibly
            concurrency_id="idfy-train",
        ).then(keyed(h.unlock, c), [c["checkpoint"], c["race_files"]], locked, **PAGE_ONLY)


def wire(c: dict[str, Any], ctx: TabContext) -> None:
    """Connect the Train tab's components ``c`` (see :func:`~idfy.ui.tabs.train.layout.layout`)."""
    c["dataset"].change(keyed(h.dataset_info, c), c["dataset"], c["dataset_info"], **PAGE_ONLY)
    c["budget_kind"].change(
        keyed(h.budget_default, c), _pick(c, ("budget_kind", "race_with")), c["budget"], **PAGE_ONLY
    )
    # .input: a person's pick only (a restored or programmatic value keeps its learning rate)
    c["optimizer"].input(keyed(h.optimizer_lr, c), c["optimizer"], c["lr"], **PAGE_ONLY)
    c["race_with"].change(
        keyed(h.race_mode, c),
        _pick(c, ("race_with", "budget_kind")),
        _pick(c, ("start", "race_start", "budget")),
        **PAGE_ONLY,
    )
    c["augment"].change(keyed(h.augment_info, c), c["augment"], c["augment"], **PAGE_ONLY)
    gr.on(  # the idle status line follows what Start would train
        [c[n].change for n in IDLE_INPUTS[1:]],
        keyed(h.idle, c),
        _pick(c, IDLE_INPUTS),
        c["status"],
        **PAGE_ONLY,
    )
    _wire_runs(c, ctx)
    c["stop"].click(
        keyed(h.stop_training, c),
        None,
        c["stop_note"],
        api_name="stop_training",
        show_progress="hidden",
        concurrency_limit=None,  # never waits behind trainings or predictions
        concurrency_id="idfy-stop",
    ).then(keyed(h.stopping, c), None, c["stop"], **PAGE_ONLY)


def wire_compare(c: dict[str, Any], ctx: TabContext) -> None:
    """The Compare tab's "Race these in Train" (``ctx.shared["compare.race_button"]``): its selection
    (``"compare.selection"``) and saved designs fill the model and race fields, and the Train tab is shown."""
    button, selection = ctx.shared.get("compare.race_button"), ctx.shared.get("compare.selection")
    if button is None or selection is None:
        return  # no Compare tab before this one
    targets = {**c, "tabs": ctx.tabs}
    button.click(
        keyed(h.from_compare, targets),
        [selection, ctx.saved],
        [c["model"], c["race_with"], c["saved"], ctx.tabs],
        **PAGE_ONLY,
    )
