"""Training losses for the seed's output (S13): a box (L1 + GIoU) and a label (cross-entropy).

The head gives 4 raw box values; :func:`box_from_raw` maps them to a normalized ``x1, y1, x2, y2`` box the
same way :func:`idfy.boxes.decode` does at inference (sigmoid, then order each axis), but with ``min`` /
``max`` so the gradient flows to whichever raw value ends up as each corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import generalized_box_iou_loss

from idfy.boxes import split_output

__all__ = ["LossParts", "LossWeights", "box_from_raw", "class_loss", "compute_loss"]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms: ``box_l1`` (mean absolute corner error), ``giou``, ``cls``."""

    box_l1: float = 5.0
    giou: float = 2.0
    cls: float = 1.0


@dataclass
class LossParts:
    """The weighted total and its unweighted parts, all 0-dim tensors on the model's device.

    ``box_l1`` and ``giou`` are zero tensors for classification.
    """

    total: Tensor
    box_l1: Tensor
    giou: Tensor
    cls: Tensor

    def stacked(self) -> Tensor:
        """(4,) tensor ``[total, box_l1, giou, cls]`` (detached), for accumulation without a sync."""
        return torch.stack([self.total.detach(), self.box_l1.detach(), self.giou.detach(), self.cls.detach()])


def box_from_raw(raw: Tensor) -> Tensor:
    """(B, 4) raw head values -> (B, 4) normalized ``x1, y1, x2, y2`` in [0, 1] with x1 ≤ x2, y1 ≤ y2."""
    b = torch.sigmoid(raw.float())
    x1 = torch.minimum(b[:, 0], b[:, 2])
    x2 = torch.maximum(b[:, 0], b[:, 2])
    y1 = torch.minimum(b[:, 1], b[:, 3])
    y2 = torch.maximum(b[:, 1], b[:, 3])
    return torch.stack([x1, y1, x2, y2], dim=1)


def class_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy for (B, C>1) logits; with one class, BCE of the single logit against "object present"."""
    logits = logits.float()
    if logits.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(logits[:, 0], (labels == 0).float())
    return F.cross_entropy(logits, labels)


def compute_loss(
    out: Tensor, labels: Tensor, boxes: Tensor | None, task: str, weights: LossWeights
) -> LossParts:
    """Loss of a batch.

    Args:
        out: (B, 4 + C) for ``localize`` or (B, C) for ``classify``, raw head output.
        labels: (B,) int64 class indices.
        boxes: (B, 4) normalized xyxy targets (``localize``), or None.
        task: ``"localize"`` or ``"classify"``.
        weights: term weights.
    """
    raw_box, logits = split_output(out, task)
    cls = class_loss(logits, labels)
    if raw_box is None or boxes is None:
        zero = cls.new_zeros(())
        return LossParts(total=weights.cls * cls, box_l1=zero, giou=zero, cls=cls)
    pred = box_from_raw(raw_box)
    target = boxes.float()
    l1 = (pred - target).abs().mean()
    giou = generalized_box_iou_loss(pred, target, reduction="mean")
    total = weights.box_l1 * l1 + weights.giou * giou + weights.cls * cls
    return LossParts(total=total, box_l1=l1, giou=giou, cls=cls)
