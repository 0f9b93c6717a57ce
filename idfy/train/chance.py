"""Chance level of a held-out set, and the verdict of whether a model beat it.

A model that ignores its input can still score: it can always answer the most frequent class, and always draw
the same box. The chance level of a set is the best such constant answer, measured with the metrics of
:mod:`idfy.train.metrics` on the set itself:

* class accuracy: the share of the most frequent class;
* mean IoU: the best constant box's mean IoU with the true boxes;
* localization accuracy (label right and IoU ≥ :data:`idfy.train.metrics.IOU_THRESHOLD`): the best constant
  (label, box) pair's hit rate.

The constant boxes tried are the mean and the median box of the whole set and of each class, and up to
:data:`MAX_CANDIDATES` of the set's own boxes (evenly spaced). That is a lower bound on the true optimum, close
enough for a chance line: on the ``shapes`` and ``fashion-canvas`` test sets it is within 0.2 pt of the best box
of a 21-step grid over (x1, y1, x2, y2).

Whether a model beat chance is a one-sided binomial test (scipy) of its held-out hits against the chance rate,
so a few lucky images on a small held-out set do not count as learning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torchvision.ops import box_iou

from idfy.train.metrics import IOU_THRESHOLD

__all__ = [
    "FEW_STEPS",
    "MAX_CANDIDATES",
    "Chance",
    "Verdict",
    "chance_level",
    "chance_of",
    "few_steps_hint",
    "verdict",
]

#: Boxes of the set itself tried as constant answers (besides the mean and median boxes).
MAX_CANDIDATES = 256
#: A model "beat chance" when a one-sided binomial test rejects "no better than chance" at this level.
SIGNIFICANCE = 0.01


@dataclass(frozen=True)
class Chance:
    """The best constant answer's scores on a held-out set (fractions in [0, 1]).

    ``mean_iou`` / ``loc_accuracy`` are None for a set without boxes. ``n``: images in the set.
    """

    n: int
    num_classes: int
    accuracy: float
    mean_iou: float | None = None
    loc_accuracy: float | None = None

    @property
    def key(self) -> str:
        """The headline metric: ``"loc_accuracy"`` with boxes, else ``"accuracy"``."""
        return "loc_accuracy" if self.loc_accuracy is not None else "accuracy"

    @property
    def headline(self) -> float:
        """The chance level of :attr:`key`."""
        return float(self.loc_accuracy if self.loc_accuracy is not None else self.accuracy)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "num_classes": self.num_classes,
            "accuracy": self.accuracy,
            "mean_iou": self.mean_iou,
            "loc_accuracy": self.loc_accuracy,
        }


def chance_of(labels: Tensor, boxes: Tensor | None, num_classes: int) -> Chance:
    """Chance level of a held-out set given as tensors.

    Args:
        labels: int64 (N,) class indices in ``[0, num_classes)``.
        boxes: float (N, 4) normalized xyxy, or None (classification).
        num_classes: number of classes (≥ 1).

    Raises:
        ValueError: an empty set, or labels outside ``[0, num_classes)``.
    """
    labels = labels.detach().long().cpu().flatten()
    n = int(labels.numel())
    if n == 0:
        raise ValueError("chance level of an empty set: the held-out set has no images")
    if num_classes < 1 or int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}); the set's classes do not match")
    counts = torch.bincount(labels, minlength=num_classes).double()
    accuracy = float(counts.max()) / n
    if boxes is None:
        return Chance(n=n, num_classes=num_classes, accuracy=accuracy)
    boxes = boxes.detach().float().cpu().reshape(n, 4)
    candidates = _candidate_boxes(labels, boxes, num_classes)
    iou = box_iou(candidates, boxes)  # (M, N)
    mean_iou = float(iou.mean(dim=1).max())
    hits = (iou >= IOU_THRESHOLD).double()  # (M, N)
    one_hot = torch.nn.functional.one_hot(labels, num_classes).double()  # (N, K)
    loc = float((hits @ one_hot).max()) / n  # best (box, label) pair
    return Chance(n=n, num_classes=num_classes, accuracy=accuracy, mean_iou=mean_iou, loc_accuracy=loc)


def _candidate_boxes(labels: Tensor, boxes: Tensor, num_classes: int) -> Tensor:
    """(M, 4) constant answers: mean and median boxes (overall and per class) and evenly spaced true boxes."""
    groups = [boxes] + [boxes[labels == c] for c in range(num_classes)]
    stats = [g.mean(dim=0) for g in groups if len(g)] + [g.median(dim=0).values for g in groups if len(g)]
    step = max(1, math.ceil(len(boxes) / MAX_CANDIDATES))
    return torch.cat([torch.stack(stats), boxes[::step]])


def chance_level(dataset: Any) -> Chance:
    """Chance level of an :class:`idfy.data.ImageSet` (its labels, boxes and classes)."""
    return chance_of(dataset.labels, dataset.boxes, dataset.num_classes)


@dataclass(frozen=True)
class Verdict:
    """Whether a score beat chance: ``margin`` is score − chance (fractions); ``p_value`` of the one-sided
    binomial test; ``text`` says it in one sentence."""

    beat: bool
    metric: str
    score: float
    chance: float
    margin: float
    p_value: float
    text: str


_NAMES = {"loc_accuracy": "localization accuracy", "accuracy": "class accuracy"}


def verdict(metrics: dict[str, Any], chance: Chance) -> Verdict | None:
    """Did a model with these held-out ``metrics`` (:func:`idfy.train.metrics.evaluate`) beat ``chance``?

    Returns None when ``metrics`` lack the headline metric. The sentence reads e.g. "beat chance by 78.4 pt:
    localization accuracy 86.3 % against 7.9 % for a constant answer".
    """
    key = chance.key if chance.key in metrics else "accuracy"
    if key not in metrics:
        return None
    score = float(metrics[key])
    base = chance.headline if key == chance.key else chance.accuracy
    n = int(metrics.get("n") or chance.n)
    hits = round(score * n)
    from scipy.stats import binomtest  # heavy (all of scipy.stats): imported when a verdict is asked for

    p = (
        1.0
        if base >= 1
        else float(binomtest(hits, n, min(max(base, 1e-9), 1.0), alternative="greater").pvalue)
    )
    beat = p < SIGNIFICANCE and score > base
    margin = score - base
    what = f"{_NAMES[key]} {100 * score:.1f} % against {100 * base:.1f} % for a constant answer"
    if beat:
        text = f"beat chance by {100 * margin:.1f} pt: {what}"
    elif score > base:
        text = f"not clearly above chance (+{100 * margin:.1f} pt on {n} images, p = {p:.2f}): {what}"
    else:
        text = f"did not beat chance: {what}"
    return Verdict(beat=beat, metric=key, score=score, chance=base, margin=margin, p_value=p, text=text)


#: Below this many optimizer steps a run that did not beat chance is said to have been too short to learn.
FEW_STEPS = 200


def few_steps_hint(steps: int, images_per_s: float | None) -> str:
    """Why a run may have stayed at chance: too few steps (a busy or slow CPU runs fewer in the same seconds);
    ``""`` when it ran enough steps for that not to be the reason."""
    if steps >= FEW_STEPS:
        return ""
    speed = f" at {images_per_s:,.0f} images/s" if images_per_s else ""
    return (
        f" — only {steps} training steps ran{speed}, too few to learn (the one-minute demo runs about a thousand); "
        "a busy CPU runs fewer steps in the same seconds: free it, or give a longer budget"
    )
