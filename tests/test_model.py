"""build_model: every preset builds and trains a step at 224×224 and at a non-square size; the seed's shapes
are exact; the model's own side of the timm contract holds (timm's factory: tests/test_timm_contract.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import idfy
from idfy import ConfigError, build_model, load_preset
from idfy.model import IdfyNet

PRESETS = idfy.list_presets()
#: Every bundled preset's state-dict keys with their shapes, and its parameter count, as checkpoints (and
#: timm's ``pretrained_cfg``) know them. A preset whose design changes on purpose gets its entry rewritten.
STATE_DICTS = json.loads((Path(__file__).parent / "data" / "preset_state_dicts.json").read_text())


def _sizes(name: str) -> list[tuple[int, int]]:
    cfg = load_preset(name)
    if (
        cfg.head.kind == "flatten"
    ):  # flatten heads are tied to their input size; test a non-square variant too
        h, w = cfg.input.size
        return [(h, w), (h, w + w // 4)]
    return [(224, 224), (160, 192)]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_forward_backward(name: str) -> None:
    torch.manual_seed(0)
    for size in _sizes(name):
        cfg = load_preset(name).set("input.size", list(size))
        model = build_model(cfg)
        x = torch.rand(2, cfg.input.channels, *size)
        out = model(x)
        assert out.shape == (2, cfg.num_outputs)
        assert torch.isfinite(out).all()
        out.square().mean().backward()
        no_grad = [n for n, p in model.named_parameters() if p.grad is None]
        assert not no_grad, f"{name} {size}: no gradient for {no_grad}"


def _stage_outputs(model: nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [s.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape))) for s in model.stages]
    model(x)
    for h in hooks:
        h.remove()
    return shapes


def test_seed_model2_shapes_are_exact() -> None:
    """S12: (B,224,224,3) -> (B,112,112,8) -> (B,56,56,16) -> (B,28,28,24) -> flatten 18,816 -> FC -> 5."""
    cfg = load_preset("seed_model2")
    model = build_model(cfg)
    assert cfg.input.size == (224, 224) and cfg.stem is None
    assert _stage_outputs(model, torch.rand(3, 3, 224, 224)) == [
        (3, 8, 112, 112),
        (3, 16, 56, 56),
        (3, 24, 28, 28),
    ]
    linears = [m for m in model.head.modules() if isinstance(m, nn.Linear)]
    assert linears[0].in_features == 28 * 28 * 24 == 18_816
    assert linears[-1].out_features == 5
    for stage in model.stages:  # stride 2 lives in the residual block's 3×3 conv (no pooling)
        assert isinstance(stage.down, nn.Identity)
        conv = stage.blocks[0].branch[0]
        assert conv.kernel_size == (3, 3) and conv.stride == (2, 2)


def test_seed_model1_shapes_are_exact() -> None:
    """S10: two stride-1 residual blocks, then four FC layers shrinking gradually to 5 outputs."""
    cfg = load_preset("seed_model1")
    model = build_model(cfg)
    blocks = [b for s in model.stages for b in s.blocks]
    assert len(blocks) == 2
    for b in blocks:
        convs = [m for m in b.branch if isinstance(m, nn.Conv2d)]
        assert [c.kernel_size for c in convs] == [(3, 3), (3, 3)] and all(c.stride == (1, 1) for c in convs)
    linears = [m for m in model.head.modules() if isinstance(m, nn.Linear)]
    widths = [linears[0].in_features] + [m.out_features for m in linears]
    assert len(linears) == 4 and widths[-1] == 5
    assert all(a > b for a, b in zip(widths, widths[1:]))  # shrink gradually
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 5)


def test_full_preset_has_every_direction() -> None:
    cfg = load_preset("full")
    model = build_model(cfg)
    assert [s[1:] for s in cfg.stage_shapes()] == [(112, 112), (56, 56), (28, 28)]
    names = dict(model.named_modules())
    assert "stem.inject" in names and "head_inject" in names
    assert all(f"stages.{i}.inject" in names for i in range(3))
    assert any(k.endswith("streams.gaussian") for k in names) and any(
        k.endswith("streams.dense") for k in names
    )
    kinds = {s.conv.kind for s in cfg.stages} | {cfg.stem.conv.kind}
    assert {"sparse", "group", "ghost"} <= kinds
    assert cfg.block.order == "preact" and cfg.head.kind == "conv1x1" and cfg.input.scale == 10.0
    assert all(s.down == "avgpool" for s in cfg.stages)


def test_input_scale_is_applied_inside() -> None:
    cfg = load_preset("tiny")
    seen: list[torch.Tensor] = []
    model = build_model(cfg).eval()
    model.stem.conv.register_forward_pre_hook(lambda m, i: seen.append(i[0]))
    x = torch.rand(1, 3, 64, 64)
    model(x)
    torch.testing.assert_close(seen[0], x * 10.0)


def test_build_model_rejects_non_config() -> None:
    with pytest.raises(TypeError, match="ModelConfig"):
        build_model({"name": "x"})  # type: ignore[arg-type]


def test_configerror_before_any_module() -> None:
    with pytest.raises(ConfigError):
        load_preset("seed_model2").set("stages.0.width", 0)


@pytest.mark.parametrize("name", PRESETS)
def test_model_contract_through_build_model(name: str) -> None:
    """build_model keeps the preset's task (localize: 4 box values + classes); the timm-facing attributes are
    there without timm's factory (the factory itself: tests/test_timm_contract.py)."""
    cfg = load_preset(name)
    model = build_model(cfg)
    x = torch.rand(1, cfg.input.channels, *cfg.input.size)
    feats = model.forward_features(x)
    assert feats.ndim == 4 and feats.shape[1] == model.num_features
    assert model.forward_head(feats).shape == (1, cfg.num_outputs) == (1, 4 + cfg.num_classes)
    assert model.forward_head(feats, pre_logits=True).shape == (1, model.head_hidden_size)
    assert model.pretrained_cfg["input_size"] == (cfg.input.channels, *cfg.input.size)
    assert model.pretrained_cfg["fixed_input_size"] is (cfg.head.kind == "flatten")
    assert model.in_chans == cfg.input.channels and model.num_classes == cfg.num_classes
    assert model.get_classifier() is model.head.fc
    assert [f["module"] for f in model.feature_info] == [f"stages.{i}" for i in range(len(cfg.stages))]


def test_injection_resamples_only_after_a_downsampling() -> None:
    """S1d: the stem's injection in ``full`` (stride-1 stem) concatenates the image as it is; every later
    injection point sits after a stride-2 step and resamples."""
    model = build_model(load_preset("full"))
    assert model.stem.inject.resize is False
    assert all(s.inject.resize for s in model.stages) and model.head_inject.resize


def test_reset_classifier_keeps_the_task_and_the_config_in_step() -> None:
    model = build_model(load_preset("seed_model2"))
    model.reset_classifier(3)
    assert model(torch.rand(1, 3, 224, 224)).shape == (1, 7)
    assert model.num_classes == 3 and model.cfg.num_classes == 3 and model.cfg.num_outputs == 7


def test_device_and_dtype_at_construction() -> None:
    model = idfy.IdfyNet(load_preset("tiny"), device="meta", dtype=torch.float16)
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert {p.dtype for p in model.parameters()} == {torch.float16}


def test_prune_for_features_drops_later_stages_and_the_head() -> None:
    model = build_model(load_preset("small"))
    assert model.prune_intermediate_layers([0, -2]) == [0, 1]
    assert len(model.stages) == 2 and model.head is None and model.head_inject is None
    out = model(torch.rand(1, 3, 64, 64))
    assert out.shape == (1, model.feature_info[1]["num_chs"], 8, 8)
    with pytest.raises(ValueError, match="pruned"):
        model.reset_classifier(3)


@pytest.mark.parametrize("name", sorted(STATE_DICTS))
def test_state_dict_keys_and_shapes_stay_as_checkpoints_know_them(name: str) -> None:
    model = IdfyNet(load_preset(name), device="meta")
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    want = STATE_DICTS[name]
    assert list(got) == list(want["state_dict"]), f"{name}: state-dict keys changed (old checkpoints break)"
    assert got == want["state_dict"], f"{name}: a tensor changed shape"
    assert sum(p.numel() for p in model.parameters()) == want["params"]


def test_init_is_explicit() -> None:
    model = build_model(load_preset("seed_model1"))
    fc = model.head.fc
    assert fc.weight.std() < 0.02 and torch.all(fc.bias == 0)
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(torch.all(m.bias == 0) for m in bn)
    # the original unit ends its branch with BN: zero-initialised so each block starts as the identity path
    assert all(torch.all(b.last_branch_norm().weight == 0) for s in model.stages for b in s.blocks)
