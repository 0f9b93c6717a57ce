"""Optimizer and learning-rate schedule of a training run.

The schedule is a pure function of the run's *progress* in [0, 1] (the larger of steps done / total steps
and seconds spent / time budget) and of the step (for the linear warm-up), so a time-budgeted run
still anneals to its end. Runs bounded only by steps or epochs are exactly reproducible.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from idfy.train.muon import MuonAdamW, muon_param_groups

__all__ = ["OPTIMIZERS", "SCHEDULES", "SUGGESTED_LR", "build_optimizer", "lr_factor", "progress"]

OPTIMIZERS = ("muon", "adamw", "sgd")
#: The peak learning rate each optimizer starts from, as measured for it (batch 64, cosine, warm-up 50):
#: Muon + AdamW 1e-2 and AdamW 5e-3 in the demo's minute (time_to_accuracy_attempts.md rows 39 and 6),
#: SGD 0.1 (Nesterov 0.9) in ``benchmarks/fashion_long.py``'s long runs.
SUGGESTED_LR = {"muon": 1e-2, "adamw": 5e-3, "sgd": 0.1}

SCHEDULES = ("cosine", "onecycle", "constant")
_FINAL = 0.02  # cosine ends at 2% of the peak learning rate
_ONECYCLE_PCT = 0.25  # onecycle rises over the first quarter of the run
_ONECYCLE_START = 1 / 25
_ONECYCLE_END = 1e-3


def build_optimizer(
    model: nn.Module, kind: str, lr: float, weight_decay: float, momentum: float = 0.9
) -> torch.optim.Optimizer:
    """The run's optimizer over ``model``'s trainable parameters (frozen ones are left out); weight decay
    only on parameters of 2+ dims (not norms or biases).

    ``muon``: :class:`MuonAdamW` with one learning rate: Muon for the ``weight`` of every convolution and
    linear module (``nn.Conv1d/2d/3d``, ``nn.Linear`` and their subclasses) but the output layer; AdamW for
    the rest: the output layer (``model.get_classifier()`` when the model has it and it holds parameters,
    else the last convolution or linear weight the model registers), embeddings and other parameters of 2+
    dims (decayed), norms and biases (not decayed): :func:`idfy.train.muon.muon_param_groups`.
    ``adamw``: AdamW (betas 0.9, 0.99). ``sgd``: SGD with Nesterov ``momentum``.
    ``momentum`` is SGD's only: Muon keeps its own 0.95 and AdamW its betas.

    Raises:
        ValueError: an unknown ``kind``.
    """
    if kind == "muon":
        return MuonAdamW(muon_param_groups(model, weight_decay), lr=lr)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    raise ValueError(f"optimizer {kind!r}: use one of {', '.join(OPTIMIZERS)}")


def progress(step: int, total_steps: int | None, elapsed: float, budget_s: float | None) -> float:
    """Fraction of the run done, in [0, 1]: by steps, by time, whichever is further along."""
    p = 0.0
    if total_steps:
        p = max(p, step / total_steps)
    if budget_s:
        p = max(p, elapsed / budget_s)
    return min(p, 1.0)


def lr_factor(kind: str, step: int, frac: float, warmup: int) -> float:
    """Multiplier of the peak learning rate at ``step`` with ``frac`` of the run done.

    ``cosine``: linear warm-up over ``warmup`` steps, then cosine from 1 to 0.02.
    ``onecycle``: cosine rise from 1/25 to 1 over the first 25 % of the run, cosine fall to 1e-3 (no warm-up).
    ``constant``: linear warm-up, then 1.
    """
    if kind == "onecycle":
        if frac < _ONECYCLE_PCT:
            t = frac / _ONECYCLE_PCT
            return _ONECYCLE_START + (1 - _ONECYCLE_START) * 0.5 * (1 - math.cos(math.pi * t))
        t = (frac - _ONECYCLE_PCT) / (1 - _ONECYCLE_PCT)
        return _ONECYCLE_END + (1 - _ONECYCLE_END) * 0.5 * (1 + math.cos(math.pi * t))
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    if kind == "constant":
        return warm
    if kind == "cosine":
        return warm * (_FINAL + (1 - _FINAL) * 0.5 * (1 + math.cos(math.pi * frac)))
    raise ValueError(f"schedule {kind!r}: use one of {', '.join(SCHEDULES)}")
