"""The Train tab's components, by name: the controls on the left (:func:`controls`), the run's results on the
right (:func:`results`). Nothing is connected here (:mod:`idfy.ui.tabs.train.wiring`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from idfy.data import describe_datasets
from idfy.train.optim import OPTIMIZERS
from idfy.ui.run_view import METRIC_HEADERS, curves_figure, idle_status
from idfy.ui.run_view import plot as _plot
from idfy.ui.tabs.train.handlers import dataset_info, model_choices
from idfy.ui.tabs.train.settings import (
    MAX_RACE_OTHERS,
    MAX_SECONDS,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    TrainSettings,
    augmentation_text,
    augmentations,
    batch_sizes,
)

__all__ = ["METRICS_MAX_HEIGHT", "STATUS_CSS_PATH", "controls", "layout", "results"]

#: The status line's style (its ``css_template``).
STATUS_CSS_PATH = Path(__file__).resolve().parents[2] / "static" / "train_status.css"
#: The final metrics table's height limit (px) before it scrolls inside: its header and 11 rows (all and the 10
#: classes of fashion-canvas / Fashion-MNIST) take about 450 px, more where a class name wraps in a narrow
#: column, so every row of a 10-class run shows; data with more classes scrolls.
METRICS_MAX_HEIGHT = 640


def _buttons() -> dict[str, Any]:
    with gr.Row(elem_id="train-buttons"):
        return {
            "start": gr.Button("Start", variant="primary", min_width=90, scale=2, elem_id="train-start"),
            "race_start": gr.Button(
                "Start race",
                variant="primary",
                visible=False,
                min_width=90,
                scale=2,
                elem_id="train-race-start",
            ),
            "stop": gr.Button(
                "Stop", variant="stop", interactive=False, min_width=70, scale=1, elem_id="train-stop"
            ),
        }


def _recipe(demo: TrainSettings) -> dict[str, Any]:
    """Budget, optimizer, learning rate, batch size and augmentation."""
    c: dict[str, Any] = {}
    with gr.Row():
        c["budget_kind"] = gr.Radio(
            ["seconds", "steps"], value=demo.budget_kind, label="budget in", min_width=120
        )
        c["budget"] = gr.Number(
            demo.budget,
            label=f"budget ({demo.budget_kind})",
            minimum=1,
            maximum=MAX_SECONDS if demo.budget_kind == "seconds" else MAX_STEPS,
            min_width=100,
            elem_id="train-budget",
        )
    with gr.Row():
        c["optimizer"] = gr.Radio(list(OPTIMIZERS), value=demo.optimizer, label="optimizer", min_width=120)
        c["lr"] = gr.Number(demo.lr, label="learning rate", minimum=0, min_width=100, elem_id="train-lr")
    # custom values pass to the handler, which accepts "16" and 16 alike and refuses the rest in one line
    # (Gradio's own check would refuse the string its API lists)
    c["batch"] = gr.Dropdown(
        list(batch_sizes()),
        value=demo.batch_size,
        label="batch size",
        elem_id="train-batch",
        allow_custom_value=True,
    )
    c["augment"] = gr.CheckboxGroup(
        list(augmentations()),
        value=list(demo.augment),
        label="augmentation",
        info=augmentation_text(demo.augment),  # what the ticked boxes do; follows them (wiring)
        elem_id="train-augment",
    )
    return c


def controls(demo: TrainSettings) -> dict[str, Any]:
    """The settings column, opened on the demo's settings ``demo``."""
    c = _buttons()
    c["model"] = gr.Dropdown(
        model_choices(),
        value=demo.model,
        label="model",
        info="a preset, or the design being edited in the Design tab",
        elem_id="train-model",
    )
    c["race_with"] = gr.Dropdown(
        model_choices(),
        value=[],
        multiselect=True,
        max_choices=MAX_RACE_OTHERS,
        label="race against (optional)",
        info="1–3 more designs, trained in turns on the same data, seed and budget",
        elem_id="train-race-with",
    )
    c["dataset"] = gr.Radio(
        list(describe_datasets()), value=demo.dataset, label="dataset", elem_id="train-dataset"
    )
    c["dataset_info"] = gr.HTML(
        dataset_info(demo.dataset)["dataset_info"], elem_id="train-dataset-info", js_on_load=None
    )
    c["size"] = gr.Slider(
        MIN_SIZE, MAX_SIZE, value=demo.size, step=8, label="input size (px)", elem_id="train-size"
    )
    c.update(_recipe(demo))
    return c


def _downloads() -> dict[str, Any]:
    return {
        "metrics": gr.Dataframe(
            headers=METRIC_HEADERS,
            value=[],
            label="final held-out metrics",
            interactive=False,
            max_height=METRICS_MAX_HEIGHT,
            elem_id="train-metrics",
        ),
        "checkpoint": gr.File(
            label="checkpoint (.pt) to download — also the Predict tab's model",
            interactive=False,
            height=70,
            visible=False,
            elem_id="train-checkpoint",
        ),
    }


def results(demo: TrainSettings) -> dict[str, Any]:
    """The results column: status line, curves, sample predictions, metrics, race table, downloads."""
    c: dict[str, Any] = {
        "status": gr.HTML(
            idle_status(demo),
            label="status",
            css_template=STATUS_CSS_PATH.read_text(encoding="utf-8"),
            js_on_load=None,  # no click events
            elem_id="train-status",
        ),
        "curves": gr.Plot(
            _plot(curves_figure([], [])), label="curves", show_label=False, elem_id="train-curves"
        ),
    }
    with gr.Row(equal_height=False):
        c["samples"] = gr.Image(
            type="pil",
            label="sample predictions",
            show_label=False,
            interactive=False,
            format="png",
            scale=1,
            elem_id="train-samples",
            buttons=["download", "fullscreen"],
        )
        with gr.Column(scale=1, min_width=280):
            c.update(_downloads())
    c["race_table"] = gr.Dataframe(
        headers=["design"],
        value=[],
        label="race: final held-out metrics (Δ against the first design)",
        interactive=False,
        wrap=True,
        visible=False,
        elem_id="train-race-table",
    )
    c["race_files"] = gr.File(
        label="every design's checkpoint (.pt) — the winner's is the Predict tab's model",
        file_count="multiple",
        interactive=False,
        visible=False,
        elem_id="train-race-files",
    )
    return c


def layout() -> dict[str, Any]:
    """Every component of the Train tab by name (inside the current ``gr.Tab``), opened on the demo."""
    demo = TrainSettings()
    with gr.Row(equal_height=False, elem_id="train-row"):
        with gr.Column(scale=1, min_width=300, elem_id="train-controls"):
            c = controls(demo)
        with gr.Column(scale=3, elem_id="train-results"):
            c.update(results(demo))
    c["saved"] = gr.State({})  # designs saved in the Compare tab, handed over with "Race these"
    # /stop_training's answer for API clients (the page shows the status line instead)
    c["stop_note"] = gr.Textbox(label="answer", visible=False, elem_id="train-stop-note")
    return c
