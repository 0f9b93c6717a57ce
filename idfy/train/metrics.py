"""Held-out evaluation: classification accuracy, mean IoU and localization accuracy, overall and per class.

Localization accuracy counts an image as correct when the predicted box overlaps the true one with
IoU ≥ 0.5 *and* the predicted label is right (the single-object form of the usual detection criterion).
Given the model's class names, :func:`evaluate` matches the data's classes to them by name first
(:func:`idfy.data.classes.match_classes`): a label means the same class to the model and to the data, or
the evaluation is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import box_iou

from idfy.boxes import decode
from idfy.data import iterate_batches
from idfy.data.classes import align_classes

__all__ = ["IOU_THRESHOLD", "Accumulator", "evaluate", "predict_batches"]

#: IoU needed for a box to count as found.
IOU_THRESHOLD = 0.5


class Accumulator:
    """Per-class sums kept on the device; :meth:`result` is the only host sync."""

    def __init__(self, num_classes: int, device: torch.device) -> None:
        self.num_classes = num_classes
        # rows: count, correct label, IoU sum, localized (IoU >= 0.5 and correct label)
        self.sums = torch.zeros(4, num_classes, dtype=torch.float64, device=device)
        self.has_boxes = False

    def add(self, labels: Tensor, pred_labels: Tensor, iou: Tensor | None) -> None:
        """labels, pred_labels: (B,) int64; iou: (B,) IoU of each predicted box with its true box, or None."""
        correct = (pred_labels == labels).double()
        zeros = torch.zeros_like(correct)
        if iou is not None:
            self.has_boxes = True
            iou = iou.double()
            loc = correct * (iou >= IOU_THRESHOLD).double()
        else:
            iou, loc = zeros, zeros
        values = torch.stack([torch.ones_like(correct), correct, iou, loc])  # (4, B)
        # a one-hot matmul rather than index_add_: deterministic on every device
        self.sums += values @ F.one_hot(labels, self.num_classes).double()

    def result(self, classes: list[str]) -> dict[str, Any]:
        """Metrics dict (see :func:`evaluate`)."""
        s = self.sums.cpu()
        n = float(s[0].sum())
        out: dict[str, Any] = {"n": int(n), "accuracy": float(s[1].sum()) / max(n, 1.0)}
        if self.has_boxes:
            out["mean_iou"] = float(s[2].sum()) / max(n, 1.0)
            out["loc_accuracy"] = float(s[3].sum()) / max(n, 1.0)
        per: dict[str, dict[str, float]] = {}
        for c, name in enumerate(classes):
            k = float(s[0, c])
            row: dict[str, float] = {"n": int(k), "accuracy": float(s[1, c]) / k if k else float("nan")}
            if self.has_boxes:
                row["iou"] = float(s[2, c]) / k if k else float("nan")
                row["loc_accuracy"] = float(s[3, c]) / k if k else float("nan")
            per[name] = row
        out["per_class"] = per
        return out


def predict_batches(
    model: nn.Module,
    images: Tensor,
    task: str,
    *,
    batch_size: int = 256,
    amp: bool = False,
) -> tuple[Tensor | None, Tensor, Tensor]:
    """Run ``model`` on float images (N, C, H, W) in [0, 1].

    Returns:
        boxes (N, 4) normalized xyxy (None for ``classify``), labels (N,), scores (N,).
    """
    boxes, labels, scores = [], [], []
    for start in range(0, len(images), batch_size):
        d = decode(_forward(model, images[start : start + batch_size], amp), task)
        if d.boxes is not None:
            boxes.append(d.boxes)
        labels.append(d.labels)
        scores.append(d.scores)
    return (torch.cat(boxes) if boxes else None), torch.cat(labels), torch.cat(scores)


def _forward(model: nn.Module, x: Tensor, amp: bool) -> Tensor:
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if amp and x.is_cuda else contextlib.nullcontext()
    with ctx:
        return model(x).float()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: Any,
    task: str | None = None,
    *,
    batch_size: int = 256,
    device: torch.device | str | None = None,
    channels: int | None = None,
    size: tuple[int, int] | None = None,
    amp: bool = False,
    classes: Sequence[str] | None = None,
    classes_named: bool = True,
) -> dict[str, Any]:
    """Evaluate ``model`` on every item of ``dataset`` (an :class:`idfy.data.ImageSet`).

    Args:
        model: maps (B, C, H, W) in [0, 1] to (B, 4 + C) (``localize``) or (B, C) (``classify``).
        dataset: the held-out set; its images are converted to ``channels`` / resized to ``size`` if given.
        task: ``"localize"`` or ``"classify"``; default: the dataset's task.
        device: where to run (default: the model's device).
        amp: bf16 autocast (CUDA only).
        classes: the model's class names in output order; the dataset's labels are then matched to them by
            name (:func:`idfy.data.classes.align_classes`) and ``per_class`` is keyed by these names.
        classes_named: False when ``classes`` are placeholders (a checkpoint that stored no names).

    Returns:
        ``{"n", "accuracy", "mean_iou", "loc_accuracy", "per_class": {name: {"n", "accuracy", "iou",
        "loc_accuracy"}}}``; the box metrics are present only when the model localizes and the set has boxes.

    Raises:
        ClassMismatchError: ``classes`` and the dataset's classes cannot be matched (a ValueError naming
            both lists).
    """
    if classes is not None:
        dataset = align_classes(dataset, classes, model_named=classes_named)
    task = task or dataset.task
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    acc = Accumulator(dataset.num_classes, dev)
    try:
        for images, labels, boxes in iterate_batches(
            dataset, batch_size, shuffle=False, channels=channels, size=size, device=dev
        ):
            d = decode(_forward(model, images, amp), task)
            iou = None
            if d.boxes is not None and boxes is not None:
                iou = box_iou(d.boxes, boxes.float()).diagonal()
            acc.add(labels, d.labels, iou)
    finally:
        model.train(was_training)
    return acc.result(list(dataset.classes))
