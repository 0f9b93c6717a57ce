"""Muon + AdamW (idfy.train.muon) and the optimizer choice of a run (idfy.train.optim.build_optimizer)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from idfy import build_model, load_preset
from idfy.train.muon import MuonAdamW, orthogonalize
from idfy.train.optim import OPTIMIZERS, build_optimizer


@pytest.mark.parametrize("shape", [(24, 216), (216, 24), (48, 48), (14, 128)])
def test_orthogonalize_brings_every_singular_value_near_one(shape: tuple[int, int]) -> None:
    g = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    g[:, 0] *= 50  # one dominant direction: Muon's point is to take it down to the others' size
    s = torch.linalg.svdvals(orthogonalize(g))
    assert orthogonalize(g).shape == shape
    # Jordan et al.'s quintic: roughly [0.7, 1.2], not exactly 1; a square Gaussian matrix's few tiny singular
    # values stay below (five iterations lift only those above ~1e-3 of the largest)
    assert s.max() < 1.3 and (s > 0.6).float().mean() > 0.9, s
    assert (
        torch.linalg.svdvals(g)[0] / torch.linalg.svdvals(g)[1] > 3
    )  # the dominant direction was 3x+ the next


def test_orthogonalize_is_scale_free_and_refuses_other_ranks() -> None:
    g = torch.randn(12, 27, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(orthogonalize(g), orthogonalize(1000 * g), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="takes a matrix"):
        orthogonalize(torch.ones(5))


def test_a_muon_group_refuses_vectors() -> None:
    with pytest.raises(ValueError, match="only weights of 2 or more dims"):
        MuonAdamW([{"params": [nn.Parameter(torch.ones(3))], "muon": True}], lr=0.1)
    with pytest.raises(ValueError, match="lr > 0"):
        MuonAdamW([{"params": [nn.Parameter(torch.ones(3, 3))], "muon": True}], lr=0.0)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_muon_step_on_a_conv_weight(memory_format: torch.memory_format) -> None:
    """One step from zero momentum moves the weight by lr · 0.2·sqrt(max(out, in·k·k)) · orth(grad as out × in·k·k),
    whatever the weight's memory layout (the demo trains channels_last)."""
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(8, 4, 3, 3).contiguous(memory_format=memory_format))
    w.grad = torch.randn(8, 4, 3, 3).contiguous(memory_format=memory_format)
    before = w.detach().clone()
    expected = before - 0.01 * 0.2 * math.sqrt(36) * orthogonalize(w.grad.reshape(8, -1)).view(8, 4, 3, 3)
    MuonAdamW([{"params": [w], "muon": True}], lr=0.01).step()
    torch.testing.assert_close(w.detach(), expected)


def test_the_adamw_groups_take_pytorchs_adamw_step() -> None:
    torch.manual_seed(0)
    a = [nn.Parameter(torch.randn(5)), nn.Parameter(torch.randn(3, 4))]
    b = [nn.Parameter(p.detach().clone()) for p in a]
    ours = MuonAdamW([{"params": a, "weight_decay": 0.05}], lr=3e-3)
    ref = torch.optim.AdamW([{"params": b, "weight_decay": 0.05}], lr=3e-3, betas=(0.9, 0.99))
    for _ in range(4):
        grads = [torch.randn_like(p) for p in a]
        for p, q, g in zip(a, b, grads, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        ours.step()
        ref.step()
    for p, q in zip(a, b, strict=True):
        torch.testing.assert_close(p, q)


def _demo_model() -> nn.Module:
    return build_model(load_preset("demo").set("input.size", [64, 64]))


def test_build_optimizer_muon_splits_the_demo_model() -> None:
    """Muon for every conv / linear weight but the output layer; AdamW (decayed) for that layer, AdamW without
    decay for norms and biases; every trainable parameter in exactly one group."""
    model = _demo_model()
    opt = build_optimizer(model, "muon", lr=1e-2, weight_decay=0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    groups = [([names[id(p)] for p in g["params"]], g["muon"], g["weight_decay"]) for g in opt.param_groups]
    muon, out_layer, rest = groups
    assert muon[1] and muon[2] == 0.05 and "stem.conv.weight" in muon[0] and len(muon[0]) == 11
    assert out_layer == (["head.fc.weight"], False, 0.05)
    vectors = sorted(n for n, p in model.named_parameters() if p.ndim < 2)
    assert not rest[1] and rest[2] == 0.0 and sorted(rest[0]) == vectors
    assert sorted(n for g in groups for n in g[0]) == sorted(names.values())


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_each_optimizer_fits_a_small_problem(kind: str) -> None:
    """Twenty steps on one fixed batch bring the demo model's loss well down (a regression to random targets)."""
    torch.manual_seed(0)
    model = _demo_model()
    x, y = torch.randn(16, 3, 64, 64), torch.randn(16, 14)
    lr = {"muon": 1e-2, "adamw": 5e-3, "sgd": 0.05}[kind]
    opt = build_optimizer(model, kind, lr=lr, weight_decay=0.0)
    losses = []
    for _ in range(20):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_muon_state_round_trips_through_state_dict() -> None:
    """Resuming from a saved state continues exactly as the run that never stopped."""
    torch.manual_seed(0)
    model = _demo_model()
    x, y = torch.randn(8, 3, 64, 64), torch.randn(8, 14)

    def steps(m: nn.Module, opt: torch.optim.Optimizer, n: int) -> None:
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            nn.functional.mse_loss(m(x), y).backward()
            opt.step()

    opt = build_optimizer(model, "muon", lr=1e-2, weight_decay=0.05)
    steps(model, opt, 3)
    saved_model, saved_opt = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    steps(model, opt, 2)
    resumed = _demo_model()
    resumed.load_state_dict(saved_model)
    opt2 = build_optimizer(resumed, "muon", lr=1e-2, weight_decay=0.05)
    opt2.load_state_dict(saved_opt)
    steps(resumed, opt2, 2)
    for (n, p), q in zip(model.named_parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(p, q, msg=n)


def test_an_unknown_optimizer_names_the_choices() -> None:
    with pytest.raises(ValueError, match="use one of muon, adamw, sgd"):
        build_optimizer(_demo_model(), "adam", lr=1e-3, weight_decay=0.0)
