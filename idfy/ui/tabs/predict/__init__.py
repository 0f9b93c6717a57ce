"""Predict tab: an image in -> the box and label drawn on it, the seed's 5-tuple (x1, y1, x2, y2, label) in pixels
and normalized, the class probabilities and what each stage sees (the re-injected image and the feature maps).

The image is an upload (decoded once by :func:`idfy.data.decode_image`, so a file that is not an image, truncated,
enormous, 16-bit, RGBA or animated gets a clear message or is converted) or one of ``assets/examples``. The model
is this session's latest checkpoint from the Train tab (:mod:`idfy.ui.jobs`) or an uploaded ``.pt`` file, loaded by
:meth:`idfy.predict.Predictor.from_checkpoint` (``torch.load(weights_only=True)``), size-capped, and only from
Gradio's upload folder.
"""

from __future__ import annotations

from idfy.ui.context import TabContext
from idfy.ui.tabs.predict.checkpoints import (
    LATEST,
    MAX_CHECKPOINT_BYTES,
    NO_CHECKPOINT,
    UPLOADED,
    load_predictor,
)
from idfy.ui.tabs.predict.examples import Example, examples
from idfy.ui.tabs.predict.handlers import OUTPUTS, pick_example, predict, predict_image, summary_html
from idfy.ui.tabs.predict.layout import layout
from idfy.ui.tabs.predict.pictures import stage_gallery
from idfy.ui.tabs.predict.wiring import wire

__all__ = [
    "LATEST",
    "MAX_CHECKPOINT_BYTES",
    "NO_CHECKPOINT",
    "OUTPUTS",
    "UPLOADED",
    "Example",
    "build",
    "examples",
    "load_predictor",
    "pick_example",
    "predict",
    "predict_image",
    "stage_gallery",
    "summary_html",
]


def build(ctx: TabContext) -> None:
    """Build the Predict tab inside the current ``gr.Tab`` (it reads nothing of ``ctx``: a checkpoint holds its
    own design)."""
    wire(layout())
