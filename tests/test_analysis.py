"""idfy.analysis: parameter and MAC counts against hand computation from the seed shapes (S10, S12), counter
agreement (flop_counter fast path == FlopCounterMode; fvcore within 5 %), receptive fields, memory, errors.

MAC convention checked here (and reported by ``analyze``): one multiply-accumulate of a convolution, a linear
layer or a matrix product = 1 MAC; biases, BatchNorm, ReLU, pooling and residual additions are 0 MACs —
``torch.utils.flop_counter`` has no formula for them. fvcore additionally counts BatchNorm (2 per element
with affine, in eval), which :func:`test_fvcore_counts_batchnorm_elements` pins down.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from trace_checks import assert_same_module_counts

import idfy
from idfy import ConfigError, build_model, load_preset
from idfy.analysis import PATHS, analyze, clear_cache, count, path_of
from idfy.analysis.receptive_field import receptive_fields
from idfy.config import ConvSpec, GaussianConfig, ModelConfig, StageConfig

PRESETS = idfy.list_presets()


# --------------------------------------------------------------------------- hand counts
def conv(cin: int, cout: int, k: int, groups: int = 1) -> int:
    """Parameters of a bias-free conv: cin/groups × cout × k × k."""
    return cin // groups * cout * k * k


def bn(c: int) -> int:
    return 2 * c  # weight + bias (running stats are buffers)


def linear(fin: int, fout: int) -> int:
    return fin * fout + fout


def test_seed_model1_params_and_macs_by_hand() -> None:
    """S10: 32×32×3 input, two stride-1 residual blocks of width 8 (original order), flatten 8·32·32 = 8192,
    FC 512 > 128 > 32 > 5."""
    r = analyze(load_preset("seed_model1"), device="cpu")
    hw = 32 * 32
    # block 0: 3 -> 8 (the width changes, so the shortcut is a 1×1 conv + BN); block 1: 8 -> 8, identity.
    block0 = conv(3, 8, 3) + bn(8) + conv(8, 8, 3) + bn(8) + conv(3, 8, 1) + bn(8)
    block1 = conv(8, 8, 3) + bn(8) + conv(8, 8, 3) + bn(8)
    head = linear(8192, 512) + linear(512, 128) + linear(128, 32) + linear(32, 5)
    assert r.params_by_stage == {"stages.0": block0 + block1, "head": head}
    assert r.params_total == block0 + block1 + head == 4_266_821
    assert r.params_trainable == r.params_total

    conv_macs = (conv(3, 8, 3) + conv(8, 8, 3) + conv(3, 8, 1) + 2 * conv(8, 8, 3)) * hw  # output H×W = 32×32
    fc_macs = 8192 * 512 + 512 * 128 + 128 * 32 + 32 * 5  # weights only: biases are not MACs
    assert r.macs_by_stage == {"stages.0": conv_macs, "head": fc_macs}
    assert r.macs == conv_macs + fc_macs == 6_279_328
    assert r.flops == 2 * r.macs
    assert [s.out_shape for s in r.stages] == [(8, 32, 32), (5,)]


def test_seed_model2_params_and_macs_by_hand() -> None:
    """S12: (B,224,224,3) -> (B,112,112,8) -> (B,56,56,16) -> (B,28,28,24), every block's first 3×3 conv and
    its 1×1 shortcut at stride 2; flatten 28·28·24 = 18,816 -> FC 256 > 64 > 16 > 5."""
    r = analyze(load_preset("seed_model2"), device="cpu")
    widths = [(3, 8, 112), (8, 16, 56), (16, 24, 28)]  # (in, out, output side)
    params, macs = {}, {}
    for i, (cin, cout, side) in enumerate(widths):
        weights = conv(cin, cout, 3) + conv(cout, cout, 3) + conv(cin, cout, 1)
        params[f"stages.{i}"] = weights + 3 * bn(cout)
        macs[f"stages.{i}"] = weights * side * side
    params["head"] = linear(18_816, 256) + linear(256, 64) + linear(64, 16) + linear(16, 5)
    macs["head"] = 18_816 * 256 + 256 * 64 + 64 * 16 + 16 * 5
    assert r.params_by_stage == params
    assert r.params_total == sum(params.values()) == 4_848_437
    assert r.macs_by_stage == macs
    assert r.macs == sum(macs.values()) == 33_384_528
    assert [s.in_shape for s in r.stages[:3]] == [(3, 224, 224), (8, 112, 112), (16, 56, 56)]
    assert [s.out_shape for s in r.stages] == [(8, 112, 112), (16, 56, 56), (24, 28, 28), (5,)]
    assert all(s.inject_shape is None for s in r.stages)


def test_fvcore_counts_batchnorm_elements() -> None:
    """fvcore's extra count on seed_model2 is exactly its BatchNorm elements × 2 (affine, eval mode)."""
    r = analyze(load_preset("seed_model2"), device="cpu", cross_check=True)
    cc = r.cross_check
    bn_elements = 3 * (8 * 112 * 112 + 16 * 56 * 56 + 24 * 28 * 28)  # 3 BNs per block (2 branch + shortcut)
    assert cc["fvcore_by_operator"]["batch_norm"] == 2 * bn_elements
    assert cc["fvcore_macs"] == r.macs + 2 * bn_elements
    assert cc["fvcore_macs_same_ops"] == cc["flop_counter_macs"] == r.macs
    assert "aten::add" in cc["fvcore_skipped_ops"]
    assert "aten.batch_norm" in cc["flop_counter_skipped_ops"]


# --------------------------------------------------------------------------- counter agreement
@pytest.mark.parametrize("name", PRESETS)
def test_fast_path_equals_flop_counter_mode(name: str) -> None:
    """The meta-device fast path gives FlopCounterMode's exact total (real model, real tensors, CPU).
    At 64×64 to stay quick (flatten heads keep their size); the slow test below repeats it at full size."""
    cfg = load_preset(name)
    if cfg.head.kind != "flatten":
        cfg = cfg.set("input.size", [64, 64])
    model = build_model(cfg).eval()
    x = torch.rand(1, cfg.input.channels, *cfg.input.size)
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        model(x)
    assert analyze(cfg, device="cpu").flops == fc.get_total_flops()


@pytest.mark.parametrize("name", PRESETS)
def test_fvcore_agrees_within_5_percent(name: str) -> None:
    r = analyze(load_preset(name), device="cpu", cross_check=True)
    cc = r.cross_check
    assert cc["flop_counter_macs"] == r.macs
    assert cc["rel_diff"] < 0.05, cc
    assert cc["rel_diff_same_ops"] < 1e-6, cc  # conv / linear / matmul: identical formulas
    assert isinstance(cc["fvcore_skipped_ops"], list) and isinstance(cc["flop_counter_skipped_ops"], list)


def test_meta_and_cpu_traces_agree() -> None:
    """Shapes, per-module MACs and activation bytes are the same on meta tensors and on real CPU tensors."""
    cfg = load_preset("full").set("input.size", [64, 64])
    assert_same_module_counts(count(cfg, device="meta"), count(cfg, device="cpu"))


# --------------------------------------------------------------------------- report structure
def test_full_report_breakdowns_add_up() -> None:
    r = analyze(load_preset("full"), device="cpu")
    assert sum(r.params_by_stage.values()) == r.params_total
    assert sum(r.params_by_path.values()) == r.params_total
    assert sum(r.macs_by_stage.values()) == r.macs
    assert sum(r.macs_by_path.values()) == r.macs
    assert set(r.params_by_path) == set(PATHS)
    assert all(r.params_by_path[p] > 0 for p in PATHS)  # full has every path
    assert [s.name for s in r.stages] == ["stem", "stages.0", "stages.1", "stages.2", "head_inject", "head"]
    # S1d: the image is resized to each injection point's map
    assert [s.inject_shape for s in r.stages] == [
        (3, 224, 224),
        (3, 112, 112),
        (3, 56, 56),
        (3, 28, 28),
        (3, 28, 28),
        None,
    ]
    assert r.output_shape == (4 + 10,)
    m = r.memory
    assert m["grads"] == 4 * r.params_trainable and m["optimizer"] == 2 * m["grads"]
    assert m["activations"] == r.batch_size * sum(s.act_bytes for s in r.stages)
    assert m["total"] == m["weights"] + m["grads"] + m["optimizer"] + m["activations"]
    assert m["weights"] > 4 * r.params_total  # BatchNorm running statistics are buffers
    json.dumps(r.to_dict())
    assert "MACs" in r.conventions["macs"] and "2 ×" in r.conventions["flops"]


def test_activation_bytes_by_hand() -> None:
    """seed_model2 stage 0 at batch 1: leaf outputs conv, bn, relu, conv, bn (8×112×112), shortcut conv, bn
    (8×112×112), post relu (8×112×112): 8 maps of 8·112·112 fp32 values."""
    r = analyze(load_preset("seed_model2"), device="cpu")
    assert r.stage("stages.0").act_bytes == 8 * (8 * 112 * 112) * 4


def test_paths() -> None:
    assert path_of("stages.1.inject.proj.0.weight") == "injection"
    assert path_of("head_inject.proj.0.weight") == "injection"
    assert path_of("stem.inject.proj.0") == "injection"
    assert path_of("stages.1.fusion.streams.gaussian.proj.weight") == "gaussian"
    assert path_of("stages.2.fusion.streams.dense.fc1.weight") == "dense"
    assert path_of("stages.2.fusion.proj.0.weight") == "main"
    assert path_of("head.fc.weight") == "head"
    assert path_of("stem.conv.weight") == "main"


def test_cache_and_names() -> None:
    clear_cache()
    cfg = load_preset("tiny")
    a = analyze(cfg, device="cpu")
    assert analyze(cfg, device="cpu") is a
    b = analyze(cfg.replace(name="renamed"), device="cpu")
    assert b.name == "renamed" and b.macs == a.macs
    c = analyze(cfg, 96, device="cpu")
    assert c.input_shape == (3, 96, 96) and c.macs < a.macs
    assert analyze(cfg, (96, 96), device="cpu") is c


def test_layers_table() -> None:
    r = analyze(load_preset("seed_model1"), device="cpu", layer_depth=2)
    names = [row["name"] for row in r.layers]
    assert "stages.0" in names and "head" in names
    assert any(row["name"] == "head.fc" and row["params"] == 32 * 5 + 5 for row in r.layers)


def test_latency_is_bounded() -> None:
    cfg = load_preset("tiny").set("input.size", [64, 64])
    r = analyze(cfg, device="cpu", latency=True, batch_size=4)
    lat = r.latency
    assert lat["batch1"]["median_ms"] > 0 and lat["batch1"]["p90_ms"] >= lat["batch1"]["median_ms"]
    assert lat["batchN"]["batch"] == 4
    if not lat["batch1"].get("cold"):  # a machine busy enough to spend the budget on the warm-up skips these
        assert set(lat["per_stage_ms"]) == {"stem", "stages.0", "stages.1", "stages.2", "head"}
    assert lat["elapsed_s"] < 4.0  # 1.3 s budget; slack for a busy machine
    assert r.device == "cpu"


def test_latency_over_budget_reports_the_warmup_call() -> None:
    from idfy.analysis.latency import measure_latency

    model = build_model(load_preset("tiny").set("input.size", [32, 32]))
    lat = measure_latency(model, (3, 32, 32), torch.device("cpu"), budget_s=0.0)
    assert lat["batch1"]["runs"] == 1 and lat["batch1"]["cold"]
    assert "skipped" in lat["batchN"] and lat["per_stage_ms"] == {}


# --------------------------------------------------------------------------- receptive field
def test_receptive_field_dilated_by_hand() -> None:
    """rf += (k-1)·d·jump, jump *= s. Stage 0: avgpool 2/2, two blocks of two dilated (d=2) 3×3 convs;
    stage 1: strided first conv (down: conv), one block; stage 2: Gaussian σ=2 (radius 6) sub-stream."""
    cfg = ModelConfig(
        stem=None,
        stages=(
            StageConfig(
                width=8, depth=2, stride=2, down="avgpool", conv=ConvSpec(kind="dilated", dilation=2)
            ),
            StageConfig(width=8, depth=1, stride=2, down="conv"),
            StageConfig(width=8, depth=1, stride=1, gaussian=GaussianConfig(enabled=True, sigmas=(2.0,))),
        ),
    )
    f = receptive_fields(cfg)
    # pool: 1 + 1·1 = 2, jump 2; four dilated convs: + 4 · (2·2·2) = 34
    assert (f["stages.0"].rf, f["stages.0"].jump) == (34, 2)
    # strided conv: 34 + 2·1·2 = 38, jump 4; second conv: 38 + 2·4 = 46
    assert (f["stages.1"].rf, f["stages.1"].jump) == (46, 4)
    # two 3×3 convs: 46 + 8 + 8 = 62; Gaussian branch: 62 + 2·6·4 = 110 (the larger branch wins)
    assert (f["stages.2"].rf, f["stages.2"].jump) == (110, 4)
    assert not f["stages.2"].global_ and f["head"].global_
    r = analyze(cfg, device="cpu")
    assert [(s.rf, s.jump) for s in r.stages[:3]] == [(34, 2), (46, 4), (110, 4)]


def test_receptive_field_matches_gradient_extent() -> None:
    """Empirical check of the formula: the input-gradient of one interior output pixel of stage 1 spans
    exactly ``rf`` pixels (GELU keeps every path's gradient non-zero; BN weights set to 1)."""
    cfg = ModelConfig(
        stem=None,
        input=idfy.InputConfig(size=(96, 96)),
        block=idfy.BlockConfig(order="original", act="gelu"),
        stages=(
            StageConfig(
                width=4, depth=1, stride=2, down="avgpool", conv=ConvSpec(kind="dilated", dilation=3)
            ),
            StageConfig(width=4, depth=1, stride=2, down="conv"),
        ),
        head=idfy.HeadConfig(kind="conv1x1", widths=()),
    )
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.ones_(m.weight)
    x = torch.rand(1, 3, 96, 96, requires_grad=True)
    feats = model.forward_intermediates(x, intermediates_only=True)[-1]  # (1, 4, 24, 24)
    feats[0, :, 12, 12].sum().backward()
    rows = x.grad[0].abs().sum(dim=(0, 2)).nonzero().flatten()
    extent = int(rows.max() - rows.min() + 1)
    assert extent == receptive_fields(cfg)["stages.1"].rf


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("size", [100_000, 0, -3, (224,), "big", (224, 0)])
def test_absurd_input_size_is_a_config_error(size: object) -> None:
    with pytest.raises(ConfigError):
        analyze(load_preset("tiny"), size, device="cpu")  # type: ignore[arg-type]


def test_flatten_head_too_large_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="first FC layer"):
        analyze(load_preset("seed_model2"), 2048, device="cpu")


@pytest.mark.parametrize("key", ["input.channels", "stages.0.width", "stem.width"])
def test_zero_channels_is_a_config_error(key: str) -> None:
    with pytest.raises(ConfigError):
        analyze(load_preset("tiny").set(key, 0), device="cpu")


def test_bad_device_and_batch() -> None:
    with pytest.raises(ValueError):
        analyze(load_preset("tiny"), device="tpu")
    with pytest.raises(ValueError):
        analyze(load_preset("tiny"), device="cpu", batch_size=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            analyze(load_preset("tiny"), device="cuda")


def test_large_config_is_counted_on_meta_quickly() -> None:
    """A design too big to build on this machine (~2.4 G parameters) is still counted: it never allocates."""
    wide = StageConfig(width=4096, depth=16, stride=1)
    cfg = ModelConfig(stem=None, input=idfy.InputConfig(size=(16, 16)), stages=(wide,))
    r = analyze(cfg, device="cpu")
    per_block = 2 * conv(4096, 4096, 3) + 2 * bn(4096)
    assert r.params_total > 15 * per_block
    assert r.macs > 15 * 2 * conv(4096, 4096, 3) * 16 * 16
    with pytest.raises(ValueError, match="too large"):
        analyze(cfg, device="cpu", latency=True)
