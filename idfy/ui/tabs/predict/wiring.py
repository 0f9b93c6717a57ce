"""The Predict tab's events: Predict, an upload, a clicked example and an uploaded checkpoint all predict
(``/predict`` is the API's). Handlers return ``{name: value}``, mapped to the components by
:func:`~idfy.ui.tabs.keyed.keyed`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from idfy.ui.tabs.keyed import keyed
from idfy.ui.tabs.predict.handlers import OUTPUTS, pick_example, predict, uploaded_checkpoint

__all__ = ["wire"]

#: Brings the result into view before a prediction when the columns are stacked (narrow windows).
SCROLL_JS_PATH = Path(__file__).resolve().parents[2] / "static" / "predict_scroll.js"


def wire(c: dict[str, Any]) -> None:
    """Connect the Predict tab's components ``c`` (see :func:`~idfy.ui.tabs.predict.layout.layout`)."""
    inputs = [c["image"], c["source"], c["checkpoint"]]
    outputs = [c[k] for k in OUTPUTS]
    on_predict = keyed(predict, c)
    scroll = SCROLL_JS_PATH.read_text(encoding="utf-8")
    gr.on(
        triggers=[c["run"].click, c["image"].upload],
        fn=on_predict,
        inputs=inputs,
        outputs=outputs,
        api_name="predict",
        js=scroll,
    )
    c["gallery"].select(
        keyed(pick_example, c), None, c["image"], api_visibility="private", show_progress="hidden"
    ).then(on_predict, inputs, outputs, api_visibility="private", js=scroll)
    c["checkpoint"].upload(
        keyed(uploaded_checkpoint, c),
        c["checkpoint"],
        c["source"],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    ).then(on_predict, inputs, outputs, api_visibility="private")
