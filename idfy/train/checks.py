"""Settings that cannot train, found before the first step: one dry forward pass records what each
normalization layer would see.

BatchNorm (Ioffe & Szegedy, 2015) normalizes every channel over the batch and the map, so in training it
needs more than one value per channel: a batch of 1 per process on a 1×1 map (e.g. the last stage of a
stride-2 design at 28 px) has one, and PyTorch stops at the first step. Instance normalization needs more
than one value per channel of each image. A map that shrinks below 1×1 makes a convolution or pooling
layer fail outright.
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

__all__ = ["trainability_problem"]

log = logging.getLogger(__name__)


def trainability_problem(
    model: nn.Module, per_process_batch: int, channels: int, size: tuple[int, int], device: torch.device
) -> str | None:
    """What stops ``model`` from training at this batch and input size, in one line; None when nothing does.

    Args:
        model: the network (its mode and state are left as they were; no random numbers are drawn).
        per_process_batch: the smallest batch one process trains on (global batch // processes).
        channels, size: the input the model is fed, (C, H, W) = (channels, *size), pixels.
        device: where the model lives.
    """
    h, w = size
    seen, entered, failure = _dry_run(model, channels, size, device)
    problem = _norm_problem(seen, per_process_batch, h)
    if problem is not None:
        return problem
    if failure is not None:
        where = f" at {entered[-1]}" if entered else ""
        if isinstance(failure, RuntimeError):
            return (
                f"the design cannot run on {h}×{w} inputs: a feature map shrinks below 1×1{where}; "
                "use a larger --size or fewer stride-2 stages"
            )
        return f"the design cannot run on {h}×{w} inputs (a shape check fails{where}); use a larger --size"
    return None


_Seen = list[tuple[str, nn.Module, tuple[int, ...]]]


def _dry_run(
    model: nn.Module, channels: int, size: tuple[int, int], device: torch.device
) -> tuple[_Seen, list[str], Exception | None]:
    """One eval-mode forward pass of a zero image (1, C, H, W). Returns the norm layers with their input
    shapes, the names of the leaf modules entered (in order) and the shape error it raised, if any."""
    h, w = size
    seen: _Seen = []
    entered: list[str] = []

    def pre(name: str, module: nn.Module, args: tuple[object, ...]) -> None:
        entered.append(name)
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and isinstance(module, _BatchNorm | _InstanceNorm):
            seen.append((name, module, tuple(x.shape)))

    hooks = [
        m.register_forward_pre_hook(lambda m, a, n=name: pre(n, m, a))
        for name, m in model.named_modules()
        if not list(m.children())
    ]
    was_training = model.training
    model.eval()
    failure: Exception | None = None
    try:
        with torch.no_grad():
            model(torch.zeros(1, channels, h, w, device=device))
    except (RuntimeError, ValueError) as e:  # PyTorch's shape checks
        log.debug("dry forward pass at %dx%d failed", h, w, exc_info=True)
        failure = e
    finally:
        model.train(was_training)
        for hk in hooks:
            hk.remove()
    return seen, entered, failure


def _norm_problem(seen: _Seen, per_process_batch: int, h: int) -> str | None:
    """A norm layer that would see one value per channel in training (BatchNorm over the batch and the map,
    InstanceNorm over the map), worded; None when every one sees more."""
    for name, module, shape in seen:
        per_image = math.prod(shape[2:])
        if isinstance(module, _InstanceNorm):
            if per_image <= 1:
                return (
                    f"instance normalization at {name} sees a {_map(shape)} map, one value per channel, which "
                    "cannot be normalized in training; use a larger --size or another norm"
                )
        elif per_process_batch * per_image <= 1:
            return (
                f"a batch of {per_process_batch} per process cannot train BatchNorm on the {_map(shape)} map of "
                f"{name} at {h} px (it needs more than one value per channel); use a batch of at least 2 per "
                "process (--batch-size), a larger --size, or --set block.norm=group"
            )
    return None


def _map(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape[2:]) if len(shape) > 2 else "1×1 (flattened)"
