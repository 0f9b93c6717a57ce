"""The non-local block (Wang et al. 2018) and its dense sub-stream kind ``nonlocal``: the formula, the global
reach, and the kind showing up in the config, model, analysis, receptive field, diagram, controls, ablations
and memory guard with no code of its own outside idfy/layers/nonlocal_block.py."""

from __future__ import annotations

import re
import warnings

import pytest
import torch

from idfy import ConfigError, ModelConfig, build_model
from idfy.analysis import analyze
from idfy.analysis.memory import estimate_memory
from idfy.analysis.receptive_field import receptive_fields
from idfy.layers.nonlocal_block import MAX_ATTENTION_BYTES, NonLocalBlock, attention_bytes
from idfy.substreams import dense_kind
from idfy.train.ablate import variants_for
from idfy.ui.controls import SPECS, config_to_values, values_to_config
from idfy.viz.diagram import diagram

_AT_56 = ModelConfig().set("stages.1.dense.kind", "nonlocal")  # 224 input: stage 2 works on 56×56


def test_block_computes_the_embedded_gaussian_formula() -> None:
    torch.manual_seed(0)
    block = NonLocalBlock(in_chs=6, out_chs=4, reduction=2)
    x = torch.randn(2, 6, 3, 5)
    out = block(x)
    assert out.shape == (2, 4, 3, 5)
    out.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in block.parameters())
    with torch.no_grad():
        theta, phi, g = (m(x).flatten(2) for m in (block.theta, block.phi, block.g))  # (B, 3, 15)
        want = torch.empty_like(g)
        for i in range(15):  # y_i = Σ_j softmax_j(θ_iᵀ φ_j) g_j, position by position
            w = torch.softmax(torch.einsum("bc,bcj->bj", theta[:, :, i], phi), dim=-1)
            want[:, :, i] = torch.einsum("bj,bcj->bc", w, g)
        expected = block.out(want.reshape(2, 3, 3, 5))
    torch.testing.assert_close(block(x).detach(), expected)


def test_every_output_position_sees_the_whole_map() -> None:
    torch.manual_seed(0)
    block = NonLocalBlock(in_chs=4, out_chs=2).eval()
    x = torch.randn(1, 4, 9, 9)
    y = x.clone()
    y[0, :, 8, 8] += 5.0  # far corner
    assert (block(x) - block(y))[0, :, 0, 0].abs().max() > 1e-6  # the opposite corner changes


def test_config_refuses_a_map_whose_attention_matrix_passes_the_limit() -> None:
    with pytest.raises(ConfigError) as err:
        ModelConfig().set("stages.0.dense.kind", "nonlocal")  # 112×112: 12,544² floats = 600 MiB
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert msg.startswith("stage 1: a non-local block") and "12,544×12,544 attention matrix" in msg
    assert "600 MiB" in msg and "later stage" in msg and "dense.kind: gc" in msg
    assert attention_bytes(112, 112) > MAX_ATTENTION_BYTES >= attention_bytes(56, 56)
    assert _AT_56.stages[1].dense.kind == "nonlocal"
    assert ModelConfig.from_yaml(_AT_56.to_yaml()) == _AT_56


def test_kind_runs_scripts_and_is_counted_under_the_dense_path() -> None:
    model = build_model(_AT_56)
    stream = model.stages[1].fusion.streams["dense"]
    assert isinstance(stream, NonLocalBlock)
    x = torch.rand(1, 3, 64, 64)
    assert model(x).shape == (1, 5)
    torch.fx.symbolic_trace(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
        scripted = torch.jit.script(model.eval())
    torch.testing.assert_close(scripted(x), model.eval()(x))
    r = analyze(_AT_56, device="cpu")
    n, hidden = 56 * 56, 32 // 4  # stage width 32 → θ/φ/g of 8 channels (reduction 4)
    assert r.params_by_path["dense"] == sum(p.numel() for p in stream.parameters())
    assert r.macs_by_path["dense"] >= 2 * n * n * hidden  # the two (H·W)² matrix products
    assert r.modules["stages.1.fusion.streams.dense.softmax"].act_bytes == attention_bytes(56, 56)
    gc = analyze(_AT_56.set("stages.1.dense.kind", "gc"), device="cpu")
    assert r.macs_by_path["dense"] > 100 * gc.macs_by_path["dense"]  # quadratic vs linear in H·W
    assert receptive_fields(_AT_56)["stages.1"].global_ and not receptive_fields(_AT_56)["stages.0"].global_


def test_kind_appears_in_diagram_controls_ablations_and_memory_guard() -> None:
    kind = dense_kind("nonlocal")
    src = diagram(_AT_56).source
    node = re.search(r'"stages/1/dense" \[[^\]]*\]', src)
    assert node and kind.title in node[0] and kind.colour in node[0]
    assert kind.legend in src
    spec = next(s for s in SPECS if s.key == "stages.1.dense.kind")
    assert "nonlocal" in spec.choices
    values = config_to_values(_AT_56)
    assert values["stages.1.dense.kind"] == "nonlocal"
    assert values_to_config(values, _AT_56) == _AT_56
    variants = variants_for(ModelConfig(), ["stages.2.dense.kind=gc,nonlocal"])
    assert [v.config.stages[2].dense.kind for v in variants] == ["none", "gc", "nonlocal"]
    with_gc = estimate_memory(_AT_56.set("stages.1.dense.kind", "gc")).activation_bytes_per_image
    extra = estimate_memory(_AT_56).activation_bytes_per_image - with_gc
    assert extra == 4 * 2 * (56 * 56) ** 2  # the attention matrix and its gradient
