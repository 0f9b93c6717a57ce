"""Decode the head's output into the seed's prediction (S13): a box (x1, y1, x2, y2) and a label."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Decoded", "decode", "split_output"]


def split_output(out: Tensor, task: str) -> tuple[Tensor | None, Tensor]:
    """(B, 4 + C) -> (raw box values (B, 4), class logits (B, C)) for ``localize``; (B, C) -> (None, logits)."""
    if task == "localize":
        return out[:, :4], out[:, 4:]
    return None, out


@dataclass
class Decoded:
    """Decoded predictions for a batch.

    Attributes:
        boxes: (B, 4) normalized x1, y1, x2, y2 in [0, 1] with x1 ≤ x2, y1 ≤ y2; ``None`` for classification.
        labels: (B,) class index (always 0 with one class).
        scores: (B,) probability of that class (sigmoid of the single logit when C = 1).
        probs: (B, C) class probabilities.
    """

    boxes: Tensor | None
    labels: Tensor
    scores: Tensor
    probs: Tensor

    def tuples(self) -> list[tuple[float, float, float, float, int]]:
        """The seed's 5-tuples (x1, y1, x2, y2, label), one per image."""
        if self.boxes is None:
            raise ValueError("a classification model predicts no box; use .labels")
        return [(*(round(float(v), 4) for v in b), int(lab)) for b, lab in zip(self.boxes, self.labels)]


def decode(out: Tensor, task: str) -> Decoded:
    """Raw model output -> :class:`Decoded`. Box values go through a sigmoid, then are sorted per axis."""
    raw_box, logits = split_output(out.detach().float(), task)
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits)
        probs, labels, scores = p, torch.zeros(len(p), dtype=torch.long, device=p.device), p[:, 0]
    else:
        probs = logits.softmax(dim=1)
        scores, labels = probs.max(dim=1)
    boxes = None
    if raw_box is not None:
        b = torch.sigmoid(raw_box)
        x = torch.sort(b[:, 0::2], dim=1).values
        y = torch.sort(b[:, 1::2], dim=1).values
        boxes = torch.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], dim=1)
    return Decoded(boxes=boxes, labels=labels, scores=scores, probs=probs)
