"""idfy.viz: one renderer per picture; the run folder's curves.png / samples.png show what the app shows."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from idfy.train.chance import Chance
from idfy.train.events import Eval, Samples, Step
from idfy.train.runlog import RunLog
from idfy.ui.run_view import curves_figure as app_curves
from idfy.viz.curves import curves_figure, curves_png, records
from idfy.viz.samples import samples_image

_PNG = b"\x89PNG\r\n\x1a\n"


def _step(i: int) -> Step:
    return Step(
        step=i,
        epoch=0.1 * i,
        loss=2.0 / i,
        box_l1=0.5 / i,
        giou=0.3,
        cls=0.0,
        lr=1e-3,
        images_per_s=50.0,
        elapsed=i,
    )


def _samples() -> Samples:
    b = torch.tensor([[0.1, 0.2, 0.6, 0.7]]).repeat(3, 1)
    return Samples(
        step=4,
        images=torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0)),
        pred_boxes=b,
        pred_labels=[0, 1, 0],
        pred_scores=[0.9, 0.8, 0.7],
        true_boxes=b,
        true_labels=[0, 1, 1],
        classes=["a", "b"],
    )


def test_curves_are_drawn_from_records_once() -> None:
    steps, evals = (
        [_step(i) for i in range(1, 5)],
        [Eval(step=4, metrics={"accuracy": 0.5, "loc_accuracy": 0.25}, elapsed=4)],
    )
    chance = Chance(n=10, num_classes=2, accuracy=0.5, mean_iou=0.1, loc_accuracy=0.05)
    fig = curves_figure(records(steps, evals), chance=chance)
    assert app_curves(steps, evals, chance=chance) == fig
    names = [t["name"] for t in fig["data"]]
    assert names[:3] == ["loss (total)", "box L1", "GIoU"] and "class CE" not in names  # cls is always 0
    assert fig["data"][3]["y"] == [50.0] and fig["data"][3]["yaxis"] == "y2"
    assert curves_png(records(steps, evals), chance=chance).startswith(_PNG)
    assert curves_png([]).startswith(_PNG)  # a run stopped before its first point


def test_run_folder_pictures_are_the_apps(tmp_path: Path) -> None:
    log = RunLog(tmp_path)
    for i in range(1, 5):
        log.add(_step(i))
    log.add(Eval(step=4, metrics={"accuracy": 0.5, "mean_iou": 0.4, "loc_accuracy": 0.25}, elapsed=4))
    s = _samples()
    curves, samples = log.write_plots(s)
    assert curves.read_bytes().startswith(_PNG)
    written = np.asarray(Image.open(io.BytesIO(samples.read_bytes())).convert("RGB"))
    assert np.array_equal(written, np.asarray(samples_image(s)))
