"""The stage plan (idfy/plan.py) equals what the built model really does, for every preset and random designs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idfy import ConfigError, ModelConfig, load_preset
from idfy.analysis import count
from idfy.config import BLOCK_ORDERS
from idfy.plan import model_plan
from idfy.presets import list_presets


def _check_against_trace(cfg: ModelConfig) -> None:
    """Every shape the plan names equals the traced module's output shape; the strides match too."""
    plan = model_plan(cfg)
    mods = count(cfg).modules
    if cfg.stem is not None:
        assert plan.stem_shape == mods["stem"].out_shape
    for sp in plan.stages:
        assert sp.out_shape == mods[sp.name].out_shape, sp.name
        assert sp.in_shape == mods[sp.name].in_shape, sp.name
        assert sp.block_in_shape == mods[f"{sp.name}.blocks"].in_shape, sp.name
        for bp in sp.blocks:
            assert bp.out_shape == mods[bp.name].out_shape, bp.name
            assert (bp.in_chs, bp.out_chs) == (mods[bp.name].in_shape[0], mods[bp.name].out_shape[0])
    for step in plan.layers():
        stat = mods[step.name]
        assert step.out_shape == stat.out_shape, step.name
        if step.op == "conv":  # ghost: kernel / stride / dilation are its primary conv's
            k, s, _, d = mods[step.name + step.input_conv].conv
            assert (step.kernel, step.stride, step.dilation) == (k, s, d), step.name
            if step.then_kernel:
                assert mods[f"{step.name}.cheap"].conv[0] == step.then_kernel
        else:
            assert stat.kind in ("AvgPool2d", "MaxPool2d"), step.name
    assert plan.head_in_shape == cfg.head_in_shape()
    head_in = mods["head"].in_shape
    if cfg.head.kind == "conv1x1":
        assert plan.head_in_shape == head_in
    else:
        c, h, w = plan.head_in_shape
        assert head_in in ((c, h, w), (c * h * w,))


@pytest.mark.parametrize("name", list_presets())
def test_plan_equals_traced_shapes_of_every_preset(name: str) -> None:
    _check_against_trace(load_preset(name))


def test_plan_says_where_each_stage_downsamples() -> None:
    cfg = load_preset("seed_model2")  # S12: every block's 3×3 conv takes stride 2 (down: conv)
    plan = model_plan(cfg)
    assert [(s.pool, s.strided_conv) for s in plan.stages] == [(False, True)] * 3
    assert [b.stride for b in plan.stages[0].blocks] == [2]
    assert [s.out_shape for s in plan.stages] == [(8, 112, 112), (16, 56, 56), (24, 28, 28)]
    pooled = cfg.set("stages.*.down", "avgpool")
    assert [(s.pool, s.strided_conv) for s in model_plan(pooled).stages] == [(True, False)] * 3
    assert model_plan(pooled).stages[0].layers[0].name == "stages.0.down"
    assert model_plan(cfg) is model_plan(cfg)  # computed once per config


@st.composite
def _configs(draw: st.DrawFn) -> dict:
    def conv() -> dict:
        kind = draw(st.sampled_from(["regular", "dilated", "group", "sparse", "ghost"]))
        return {
            "kind": kind,
            "groups": 2 if kind in ("group", "sparse") else 1,  # even widths: valid unless 3 channels come in
            "dilation": draw(st.sampled_from([2, 3])),
            "ghost_ratio": draw(st.sampled_from([2, 3])),
        }

    stages = [
        {
            "width": draw(st.sampled_from([4, 8, 12])),
            "depth": draw(st.integers(1, 2)),
            "stride": draw(st.sampled_from([1, 2])),
            "down": draw(st.sampled_from(["avgpool", "maxpool", "conv"])),
            "conv": conv(),
            "inject": draw(st.booleans()),
            "gaussian": {"enabled": draw(st.booleans())},
            "dense": {"kind": draw(st.sampled_from(["none", "gc", "fc"]))},
            "fuse_project": draw(st.booleans()),
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    stem = (
        {
            "width": draw(st.sampled_from([4, 8])),
            "kernel": draw(st.sampled_from([1, 3, 5])),
            "stride": draw(st.sampled_from([1, 2])),
            "conv": conv(),
        }
        if draw(st.booleans())
        else None
    )
    return {
        "input": {
            "channels": draw(st.sampled_from([1, 3])),
            "size": [draw(st.sampled_from([9, 16, 23]))] * 2,
        },
        "stem": stem,
        "stages": stages,
        "block": {
            "order": draw(st.sampled_from(list(BLOCK_ORDERS))),
            "kernel": draw(st.sampled_from([1, 3, 5])),
        },
        "inject": {"stem": draw(st.booleans()), "head": draw(st.booleans()), "project": draw(st.booleans())},
        "head": {"kind": draw(st.sampled_from(["flatten", "conv1x1"])), "widths": [8]},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configs())
def test_plan_equals_traced_shapes_of_random_designs(data: dict) -> None:
    try:
        cfg = ModelConfig.from_dict(data)
    except ConfigError:
        return
    _check_against_trace(cfg)


def test_random_design_strategy_yields_valid_designs() -> None:
    """Guard: the strategy above must mostly produce designs the config accepts (else the test proves nothing)."""
    valid = 0

    @settings(max_examples=40, deadline=None, database=None, derandomize=True)
    @given(_configs())
    def tally(data: dict) -> None:
        nonlocal valid
        try:
            ModelConfig.from_dict(data)
            valid += 1
        except ConfigError:
            pass

    tally()
    assert valid >= 15
