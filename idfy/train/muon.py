"""Muon for the convolution and linear weights of a network, AdamW for the rest, in one optimizer.

Muon (Jordan et al., 2024, "Muon: an optimizer for hidden layers in neural networks"; Bernstein & Newhouse,
2024, "Old optimizer, new norm") replaces each weight matrix's momentum by the nearest semi-orthogonal matrix,
computed with a few Newton–Schulz iterations, so that every direction of the update moves the layer by the
same amount. A convolution's weight (out × in/groups × kh × kw) is treated as the out × (in/groups·kh·kw)
matrix it applies to each patch; a grouped or depthwise convolution's groups are orthogonalized together as one
such matrix, not block by block. Transposed convolutions (in × out/groups × kh × kw) are not in the list and go
to AdamW. The first and last layers of a network are usually left to AdamW (Jordan et al.); here the
output layer is; the stem is not (in the demo it gains from Muon: row 41 of
``benchmarks/results/time_to_accuracy_attempts.md``, 79.8 against 78.5 % loc. accuracy in a minute).

Why not ``torch.optim.Muon``: in torch 2.14 it accepts 2-D parameters only and runs the iteration in
bfloat16, which a CPU without bfloat16 units emulates: 94 ms per step for the demo's eleven matrices on an
AVX2 CPU (more than the whole forward and backward pass) against 6.7 ms in float32 here. The iteration's
quintic coefficients and the ``0.2·sqrt(max(A, B))`` learning-rate scale (which lets Muon share AdamW's
learning rate: Liu et al., 2025, "Muon is scalable for LLM training") are the published ones; the AdamW
update is PyTorch's own (:func:`torch.optim.adamw.adamw`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim.adamw import adamw

__all__ = ["MUON_MODULES", "MuonAdamW", "muon_param_groups", "orthogonalize"]

_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # Jordan et al.'s quintic: steepest slope at zero
#: The modules whose ``weight`` Muon trains (subclasses included, e.g. timm's ``Conv2dSame``).
MUON_MODULES: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def orthogonalize(g: Tensor, steps: int = 5, eps: float = 1e-7) -> Tensor:
    """The approximately semi-orthogonal matrix nearest ``g`` (rows × cols), by ``steps`` quintic
    Newton–Schulz iterations in float32: about ``U V^T`` of ``g``'s SVD, its singular values brought into
    roughly [0.7, 1.2] rather than exactly 1 (Jordan et al., 2024). Returns a float32 tensor of ``g``'s shape.

    Raises:
        ValueError: ``g`` is not 2-D.
    """
    if g.ndim != 2:
        raise ValueError(f"orthogonalize takes a matrix, got a tensor of shape {tuple(g.shape)}")
    a, b, c = _NS_COEFFICIENTS
    x = g.float()
    tall = x.size(0) > x.size(1)
    if tall:  # iterate on the smaller Gram matrix
        x = x.T
    x = x / x.norm().clamp(min=eps)  # spectral norm <= Frobenius norm <= 1
    for _ in range(steps):
        gram = x @ x.T
        poly = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        x = torch.addmm(x, poly, x, beta=a)
    return x.T if tall else x


def _output_layer(model: nn.Module) -> set[int]:
    """The ids of the output layer's trainable parameters: those of ``model.get_classifier()`` (a module, or
    a tuple of modules as timm's distilled models return) when it holds any, else the last convolution or
    linear ``weight`` the model registers; empty when the model has neither."""
    get_classifier = getattr(model, "get_classifier", None)
    if callable(get_classifier):
        head = get_classifier()
        heads = head if isinstance(head, (tuple, list)) else (head,)
        ids = {id(p) for h in heads if isinstance(h, nn.Module) for p in h.parameters() if p.requires_grad}
        if ids:
            return ids
    last = [id(w) for w in _module_weights(model) if w.requires_grad]
    return set(last[-1:])


def _module_weights(model: nn.Module) -> list[nn.Parameter]:
    """The ``weight`` parameter of every :data:`MUON_MODULES` module, in registration order (a weight under a
    parametrization is no longer the module's own parameter and is left out)."""
    found = (
        dict(m.named_parameters(recurse=False)).get("weight")
        for m in model.modules()
        if isinstance(m, MUON_MODULES)
    )
    return [w for w in found if w is not None]


def muon_param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """``model``'s trainable parameters as :class:`MuonAdamW`'s groups, each parameter in exactly one.

    1. Muon (``"muon": True``, decayed): the ``weight`` of every convolution and linear module
       (:data:`MUON_MODULES`, subclasses included) with 2+ dims, except the output layer's and any that
       another kind of module also holds (a linear weight tied to an embedding).
    2. AdamW with ``weight_decay``: every other parameter of 2+ dims: the output layer's weights,
       embeddings, position embeddings, layer scales, any parameter of 2+ dims of another kind of module.
    3. AdamW without weight decay: every parameter of fewer than 2 dims (norms, biases, the output layer's
       bias).

    The output layer is ``model.get_classifier()`` (timm's contract, which :class:`idfy.IdfyNet` follows) when
    it holds trainable parameters, else the last convolution or linear weight the model registers (so a model
    whose output layer was removed, ``reset_classifier(0)``, gives its last hidden layer to AdamW). Frozen
    parameters (``requires_grad=False``) are in no group; empty groups are dropped. Within a group, parameters
    keep ``model.parameters()``'s order.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    others = {
        id(p) for m in model.modules() if not isinstance(m, MUON_MODULES) for p in m.parameters(recurse=False)
    }
    excluded = _output_layer(model) | others
    muon = {id(w) for w in _module_weights(model) if w.ndim >= 2 and id(w) not in excluded}
    groups = [
        {"params": [p for p in params if id(p) in muon], "muon": True, "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim >= 2 and id(p) not in muon], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


class MuonAdamW(torch.optim.Optimizer):
    """One optimizer, two update rules: Muon for the parameter groups with ``"muon": True`` (convolution and
    linear weights), AdamW for the others (``"muon": False``: norms, biases, the output layer, embeddings).
    :func:`muon_param_groups` splits a model's parameters this way.

    Every group shares ``lr`` (set per step by the engine's schedule) and ``weight_decay`` (decoupled, as AdamW;
    give 0 in the groups that should not decay). Muon's step on a weight of shape (A, B, ...) is scaled by
    ``0.2·sqrt(max(A, B·...))`` so that its RMS matches AdamW's at the same ``lr``.

    Args:
        params: parameter groups (dicts with ``params`` and ``muon``; other keys override the defaults).
        lr: learning rate of both rules.
        weight_decay: decoupled weight decay.
        momentum: Muon's momentum (Nesterov), 0.95 as published.
        betas, eps: the AdamW rule's, (0.9, 0.99) and 1e-8 by default (the engine's AdamW uses the same betas;
            PyTorch's own default is (0.9, 0.999)).
        ns_steps: Newton–Schulz iterations per Muon step.

    Muon's momentum buffer has its weight's dtype (a bfloat16 weight keeps a bfloat16 buffer); the iteration
    itself always runs in float32.

    Raises:
        ValueError: a Muon group holds a parameter with fewer than 2 dims, or a hyper-parameter is out of range.
    """

    def __init__(
        self,
        params: Iterable[dict[str, Any]],
        lr: float,
        weight_decay: float = 0.0,
        momentum: float = 0.95,
        betas: tuple[float, float] = (0.9, 0.99),
        eps: float = 1e-8,
        ns_steps: int = 5,
    ) -> None:
        if not lr > 0 or weight_decay < 0 or not 0 <= momentum < 1 or ns_steps < 1:
            raise ValueError("MuonAdamW: lr > 0, weight_decay >= 0, momentum in [0, 1), ns_steps >= 1")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, betas=betas, eps=eps,
                        ns_steps=ns_steps, muon=False)  # fmt: skip
        super().__init__(list(params), defaults)
        for group in self.param_groups:
            if group["muon"] and any(p.ndim < 2 for p in group["params"]):
                raise ValueError("MuonAdamW: a Muon group may hold only weights of 2 or more dims")

    @torch.no_grad()
    def step(self, closure: Any = None) -> Tensor | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group["muon"]:
                self._muon_step(group)
            else:
                self._adamw_step(group)
        return loss

    def _muon_step(self, group: dict[str, Any]) -> None:
        lr, wd, mom = group["lr"], group["weight_decay"], group["momentum"]
        for p in group["params"]:
            if p.grad is None:
                continue
            rows = p.shape[0]
            state = self.state[p]
            if not state:
                state["momentum_buffer"] = torch.zeros(p.shape, dtype=p.dtype, device=p.device)
            buf = state["momentum_buffer"].view(rows, -1)
            g = p.grad.reshape(rows, -1)
            buf.lerp_(g, 1 - mom)
            update = orthogonalize(g.lerp(buf, mom), group["ns_steps"])  # Nesterov
            scale = 0.2 * math.sqrt(max(update.shape))
            p.mul_(1 - lr * wd)
            p.add_(update.view(p.shape).to(p.dtype), alpha=-lr * scale)

    def _adamw_step(self, group: dict[str, Any]) -> None:
        params, grads, avgs, sqs, steps = [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = torch.tensor(0.0)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            avgs.append(state["exp_avg"])
            sqs.append(state["exp_avg_sq"])
            steps.append(state["step"])
        if params:
            beta1, beta2 = group["betas"]
            adamw(params, grads, avgs, sqs, [], steps, amsgrad=False, beta1=beta1, beta2=beta2,
                  lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)  # fmt: skip
