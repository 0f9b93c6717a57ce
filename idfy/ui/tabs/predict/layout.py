"""The Predict tab's components, by name: the inputs on the left (:func:`inputs`), the prediction on the right
(:func:`results`) and the stage views below (:func:`stage_views`). Nothing is connected here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from idfy.data import IMAGE_EXTENSIONS
from idfy.ui.tabs.predict.checkpoints import LATEST, UPLOADED
from idfy.ui.tabs.predict.examples import examples
from idfy.ui.tabs.predict.handlers import card
from idfy.ui.tabs.predict.pictures import stage_note

__all__ = ["SUMMARY_CSS_PATH", "inputs", "layout", "results", "stage_views"]

#: The summary card's style (its ``css_template``).
SUMMARY_CSS_PATH = Path(__file__).resolve().parents[2] / "static" / "predict_summary.css"
START = "Upload an image or pick an example; the model is the Train tab's latest checkpoint."


def inputs() -> dict[str, Any]:
    """The image (upload or example), the checkpoint source and file, the Predict button."""
    c: dict[str, Any] = {
        "image": gr.File(
            label="image to predict",
            file_types=sorted(IMAGE_EXTENSIONS),
            type="filepath",
            height=150,
            elem_id="predict-image",
        )
    }
    gr.HTML(
        '<div class="predict-note"><span>JPEG, PNG, BMP, GIF, WebP, TIFF or PPM</span> — or pick an example '
        "<span>(green box: its truth)</span></div>",
        js_on_load=None,
    )
    c["gallery"] = gr.Gallery(
        value=[(str(e.path), e.caption) for e in examples()],
        label="examples",
        show_label=False,
        columns=4,
        rows=2,
        height="auto",  # as tall as its rows: tabs.css puts each caption under its picture, wrapped
        buttons=[],
        allow_preview=False,
        object_fit="contain",
        interactive=False,
        elem_id="predict-examples",
    )
    c["source"] = gr.Radio(
        [LATEST, UPLOADED],
        value=LATEST,
        label="checkpoint",
        info="the model kept by this page's last training, or a .pt file written by idfy (≤ 100 MB)",
        elem_id="predict-source",
    )
    c["checkpoint"] = gr.File(
        label="checkpoint file (.pt)",
        file_types=[".pt", ".pth"],
        type="filepath",
        height=130,
        elem_id="predict-checkpoint",
    )
    c["run"] = gr.Button("Predict", variant="primary", elem_id="predict-run")
    return c


def results() -> dict[str, Any]:
    """The summary card, the overlay, the class probabilities and the JSON."""
    c: dict[str, Any] = {
        "summary": gr.HTML(
            card("info", START),
            label="summary",
            css_template=SUMMARY_CSS_PATH.read_text(encoding="utf-8"),
            js_on_load=None,
            elem_id="predict-summary",
        )
    }
    with gr.Row(equal_height=False):
        c["overlay"] = gr.Image(
            type="pil",
            format="png",
            label="prediction (red) · truth (green)",
            interactive=False,
            height=340,
            scale=3,
            min_width=240,
            elem_id="predict-overlay",
        )
        c["probs"] = gr.Label(
            num_top_classes=5, label="class probabilities", scale=2, min_width=200, elem_id="predict-probs"
        )
    with gr.Accordion("the 5-tuple as JSON", open=False):
        c["json"] = gr.JSON(label="prediction", elem_id="predict-json")
    return c


def stage_views() -> dict[str, Any]:
    """What each stage sees: a note on what is shown (it follows the checkpoint's design, see
    :func:`~idfy.ui.tabs.predict.pictures.stage_note`) over a gallery of the re-injected images and feature maps."""
    return {
        "note": gr.HTML(stage_note(None), js_on_load=None, elem_id="predict-stage-note"),
        "stages": gr.Gallery(
            label="what each stage sees",
            show_label=False,
            columns=6,
            height="auto",
            object_fit="contain",
            allow_preview=True,
            interactive=False,
            buttons=["fullscreen"],
            elem_id="predict-stages",
        ),
    }


def layout() -> dict[str, Any]:
    """Every component of the Predict tab by name (inside the current ``gr.Tab``)."""
    with gr.Row(equal_height=False, elem_id="predict-row"):
        with gr.Column(scale=2, min_width=300, elem_id="predict-inputs"):
            c = inputs()
        with gr.Column(scale=3, min_width=300, elem_id="predict-results"):
            c.update(results())
    c.update(stage_views())
    return c
