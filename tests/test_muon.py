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


def _split(model: nn.Module) -> list[tuple[list[str], bool, float]]:
    """build_optimizer(model, "muon")'s groups as (parameter names, Muon?, weight decay)."""
    opt = build_optimizer(model, "muon", lr=1e-2, weight_decay=0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    return [([names[id(p)] for p in g["params"]], g["muon"], g["weight_decay"]) for g in opt.param_groups]


def _check_partition(model: nn.Module, groups: list[tuple[list[str], bool, float]]) -> None:
    """Every trainable parameter in exactly one group, no frozen one in any."""
    grouped = [n for g in groups for n in g[0]]
    assert sorted(grouped) == sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert len(grouped) == len(set(grouped))


class _Tokens(nn.Module):
    """Embedding, a layer-scale matrix and a position embedding (2-D parameters of no convolution or linear
    module), a Conv1d, a Linear subclass, and the classifier registered *before* another Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.pos = nn.Parameter(torch.zeros(1, 8, 16))
        self.mix = nn.Conv1d(16, 16, 3, padding=1)
        self.classifier = nn.Linear(16, 5)
        self.scale = nn.Parameter(torch.ones(1, 16))  # layer scale, 2-D
        self.proj = nn.modules.linear.NonDynamicallyQuantizableLinear(16, 16)  # a subclass of nn.Linear

    def get_classifier(self) -> nn.Module:
        return self.classifier

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos
        x = self.mix(x.transpose(1, 2)).transpose(1, 2) * self.scale
        return self.classifier(self.proj(x).mean(1))


class _NoClassifier(nn.Module):
    """No get_classifier: a conv, a linear, then a LayerNorm with 3-D parameters and an embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)
        self.tail = nn.Sequential(nn.LayerNorm((4, 1, 1)), nn.Embedding(3, 4))


def test_muon_takes_only_conv_and_linear_weights() -> None:
    """Embedding, position embedding and layer scale (2-D) go to the decayed AdamW group, not to Muon; the
    classifier, registered before another Linear, is the output layer (get_classifier), not that Linear."""
    model = _Tokens()
    groups = _split(model)
    muon, adamw, vectors = groups
    assert muon == (["mix.weight", "proj.weight"], True, 0.05)
    assert adamw == (["pos", "scale", "embed.weight", "classifier.weight"], False, 0.05)
    assert vectors == (["mix.bias", "classifier.bias", "proj.bias"], False, 0.0)
    _check_partition(model, groups)
    model(torch.randint(0, 50, (2, 8))).sum().backward()
    build_optimizer(model, "muon", lr=1e-2, weight_decay=0.05).step()  # every group takes a step


def test_without_get_classifier_the_last_conv_or_linear_weight_is_the_output_layer() -> None:
    """No get_classifier, or one without parameters: the last convolution or linear weight registered is the
    output layer, not the last 2-D parameter."""
    model = _NoClassifier()
    assert _split(model) == [
        (["conv.weight"], True, 0.05),
        (["fc.weight", "tail.0.weight", "tail.0.bias", "tail.1.weight"], False, 0.05),
        (["conv.bias", "fc.bias"], False, 0.0),
    ]

    pruned = _Tokens()  # get_classifier gives a module without parameters (a head pruned to nn.Identity)
    pruned.get_classifier = nn.Identity  # type: ignore[method-assign]
    muon, adamw, _ = _split(pruned)
    assert muon[0] == ["mix.weight", "classifier.weight"]
    assert adamw[0] == ["pos", "scale", "embed.weight", "proj.weight"]


def test_a_classifier_of_two_modules_and_frozen_or_tied_weights() -> None:
    """get_classifier may return a tuple (timm's distilled models): both layers go to AdamW. Frozen parameters
    are in no group; a linear weight tied to an embedding is the embedding's too and goes to AdamW."""
    model = _Tokens()
    model.get_classifier = lambda: (model.classifier, model.proj)  # type: ignore[method-assign]
    model.mix.weight.requires_grad_(False)
    model.classifier.bias.requires_grad_(False)
    model.tied = nn.Linear(16, 50, bias=False)
    model.tied.weight = model.embed.weight
    model.extra = nn.Linear(16, 16, bias=False)
    groups = _split(model)
    assert groups == [
        (["extra.weight"], True, 0.05),
        (["pos", "scale", "embed.weight", "classifier.weight", "proj.weight"], False, 0.05),
        (["mix.bias", "proj.bias"], False, 0.0),
    ]
    _check_partition(model, groups)


def test_a_timm_baseline_splits_by_its_classifier() -> None:
    """timm's resnet18 as the time-to-accuracy benchmark builds it: Muon for every convolution, AdamW for
    fc (its get_classifier), as the former last-weight rule gave."""
    import timm

    model = timm.create_model("resnet18", pretrained=False, in_chans=1, num_classes=14)
    muon, out_layer, vectors = _split(model)
    convs = [n + ".weight" for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert muon == (convs, True, 0.05) and out_layer == (["fc.weight"], False, 0.05)
    assert vectors[0] == [n for n, p in model.named_parameters() if p.ndim < 2]


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
