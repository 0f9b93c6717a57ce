"""Every block: output shapes, gradients reaching every parameter, and the ordering really run."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import pytest
import torch
from torch import nn

from idfy.config import BLOCK_ORDERS, ConfigError, ConvSpec, parse_order
from idfy.layers import (
    Conv1x1Head,
    ConvNormAct,
    FCContext,
    FlattenHead,
    GaussianFilterBank,
    GaussianStream,
    GhostModule,
    GlobalContext,
    ImageInjection,
    ResidualBlock,
    SubstreamFusion,
    conv_norm_act,
    gaussian_kernel1d,
    get_act_layer,
    get_norm_layer,
    make_conv,
    resize_image,
)


def _grads_reach_every_parameter(module: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    out = module(*inputs)
    (out.float() ** 2).mean().backward()
    missing = [n for n, p in module.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"no gradient for {missing}"
    return out


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec(),
        ConvSpec(kind="dilated", dilation=3),
        ConvSpec(kind="group", groups=4),
        ConvSpec(kind="sparse", groups=2, dilation=2),
        ConvSpec(kind="ghost", ghost_ratio=2),
        ConvSpec(kind="ghost", ghost_ratio=3, groups=2, dilation=2),
    ],
)
@pytest.mark.parametrize("stride", [1, 2])
def test_make_conv_shapes(spec: ConvSpec, stride: int) -> None:
    conv = make_conv(spec, in_chs=8, out_chs=12, kernel_size=3, stride=stride)
    out = _grads_reach_every_parameter(conv, torch.randn(2, 8, 15, 16))
    assert out.shape == (2, 12, 8 if stride == 2 else 15, 8 if stride == 2 else 16)


def test_conv_kinds_are_what_they_say() -> None:
    c = make_conv(ConvSpec(kind="sparse", groups=4, dilation=2), in_chs=8, out_chs=8)
    assert isinstance(c, nn.Conv2d) and c.groups == 4 and c.dilation == (2, 2)
    assert make_conv(ConvSpec(kind="regular", groups=4, dilation=2), in_chs=8, out_chs=8).groups == 1
    g = make_conv(ConvSpec(kind="ghost", ghost_ratio=2), in_chs=8, out_chs=10)
    assert isinstance(g, GhostModule) and g.primary.out_channels == 5 and g.cheap.groups == 5


def test_ghost_module_cheap_features_come_from_primary() -> None:
    g = GhostModule(in_chs=4, out_chs=6, ratio=3)
    x = torch.randn(1, 4, 9, 9)
    out = g(x)
    prim = g.primary(x)
    assert out.shape == (1, 6, 9, 9)
    torch.testing.assert_close(out[:, :2], prim)


@pytest.mark.parametrize(
    "order", [*BLOCK_ORDERS, "conv-relu-bn-conv-relu-bn-add", "bn-conv-relu-conv-add-relu"]
)
@pytest.mark.parametrize(("cin", "cout", "stride"), [(8, 8, 1), (8, 16, 2), (3, 8, 1)])
def test_residual_block_shapes_and_grads(order: str, cin: int, cout: int, stride: int) -> None:
    block = ResidualBlock(in_chs=cin, out_chs=cout, stride=stride, order=order)
    out = _grads_reach_every_parameter(block, torch.randn(2, cin, 12, 12))
    assert out.shape == (2, cout, 12 // stride, 12 // stride)


@pytest.mark.parametrize("order", [*BLOCK_ORDERS, "relu-bn-conv-conv-bn-add-relu-bn"])
def test_residual_block_runs_its_ops_in_that_order(order: str) -> None:
    block = ResidualBlock(in_chs=4, out_chs=4, order=order)
    calls: list[str] = []
    kinds = {nn.Conv2d: "conv", nn.BatchNorm2d: "bn", nn.ReLU: "relu"}
    for m in block.modules():
        if type(m) in kinds:
            kind = kinds[type(m)]
            m.register_forward_hook(lambda mod, i, o, k=kind: calls.append(k))
    add_at: list[int] = []
    block.post.register_forward_pre_hook(lambda mod, i: add_at.append(len(calls)))
    block(torch.randn(1, 4, 6, 6))
    tokens = list(parse_order(order))
    got = calls[: add_at[0]] + ["add"] + calls[add_at[0] :]
    assert got == tokens


def test_residual_block_starts_as_identity_when_branch_ends_in_norm() -> None:
    block = ResidualBlock(in_chs=4, out_chs=4, order="preact")
    assert block.last_branch_norm() is None  # pre-activation ends in a conv
    block = ResidualBlock(in_chs=4, out_chs=4, order="relu_before_add")
    assert block.last_branch_norm() is None
    block = ResidualBlock(in_chs=4, out_chs=4, order="relu_preact")
    assert isinstance(block.last_branch_norm(), nn.BatchNorm2d)


def test_shortcut_projection_uses_1x1_stride_2() -> None:
    block = ResidualBlock(in_chs=3, out_chs=8, stride=2, order="original")
    conv = block.shortcut[0]
    assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (1, 1) and conv.stride == (2, 2)
    assert isinstance(ResidualBlock(in_chs=8, out_chs=8).shortcut, nn.Identity)


def test_gaussian_kernel_is_normalised_and_differentiable() -> None:
    sigma = torch.tensor(1.5, requires_grad=True)
    k = gaussian_kernel1d(sigma, 5)
    assert k.shape == (11,)
    torch.testing.assert_close(k.sum(), torch.tensor(1.0))
    assert torch.argmax(k) == 5
    k[0].backward()
    assert sigma.grad is not None and sigma.grad > 0


def test_gaussian_bank_blurs_and_dog_is_band_pass() -> None:
    bank = GaussianFilterBank(channels=2, sigmas=(1.0, 2.0), dog=False)
    x = torch.zeros(1, 2, 21, 21)
    x[0, :, 10, 10] = 1.0
    out = bank(x)
    assert out.shape == (1, 4, 21, 21)
    torch.testing.assert_close(out[0, 0].sum(), torch.tensor(1.0))
    assert out[0, 2, 10, 10] < out[0, 0, 10, 10]  # wider sigma spreads more
    dog = GaussianFilterBank(channels=2, sigmas=(1.0, 2.0), dog=True)
    d = dog(torch.ones(1, 2, 21, 21))
    assert d.shape == (1, 2, 21, 21)
    assert d[..., 8:13, 8:13].abs().max() < 1e-5  # a constant image has no band-pass response


def test_gaussian_stream_learnable_sigma_gets_gradient() -> None:
    stream = GaussianStream(in_chs=4, out_chs=3, sigmas=(1.0, 2.0), learnable=True)
    out = _grads_reach_every_parameter(stream, torch.randn(2, 4, 10, 10))
    assert out.shape == (2, 3, 10, 10)
    assert isinstance(stream.bank.log_sigma, nn.Parameter)
    fixed = GaussianStream(in_chs=4, out_chs=3, sigmas=(1.0,))
    assert "bank.log_sigma" not in dict(fixed.named_parameters())


def test_global_context_attention_pooling() -> None:
    gc = GlobalContext(in_chs=8, out_chs=5, reduction=4)
    x = torch.randn(2, 8, 6, 7)
    out = _grads_reach_every_parameter(gc, x)
    assert out.shape == (2, 5, 6, 7)
    assert torch.allclose(out[..., 0, 0], out[..., 5, 6])  # broadcast over H×W
    # with a constant score the attention is a plain average
    nn.init.zeros_(gc.score.weight)
    nn.init.zeros_(gc.score.bias)
    ref = gc.transform(x.mean(dim=(2, 3), keepdim=True))
    torch.testing.assert_close(gc(x)[..., :1, :1], ref)


def test_fc_context() -> None:
    fc = FCContext(in_chs=8, out_chs=6, reduction=2)
    out = _grads_reach_every_parameter(fc, torch.randn(3, 8, 5, 5))
    assert out.shape == (3, 6, 5, 5)


@pytest.mark.parametrize("project", [True, False])
def test_substream_fusion_cat(project: bool) -> None:
    fusion = SubstreamFusion(
        in_chs=8,
        streams={
            "gaussian": GaussianStream(in_chs=8, out_chs=4, sigmas=(1.0,)),
            "dense": FCContext(in_chs=8, out_chs=2),
        },
        widths=[4, 2],
        project=project,
    )
    out = _grads_reach_every_parameter(fusion, torch.randn(2, 8, 6, 6))
    assert out.shape == (2, 8 if project else 14, 6, 6)


@pytest.mark.parametrize("mode", ["bicubic", "bilinear", "area"])
@pytest.mark.parametrize("project", [True, False])
def test_image_injection(mode: str, project: bool) -> None:
    inj = ImageInjection(in_chs=6, img_chs=3, mode=mode, project=project)
    x, img = torch.randn(2, 6, 14, 14), torch.rand(2, 3, 56, 56)
    out = inj(x, img) if not project else _grads_reach_every_parameter(inj, x, img)
    assert out.shape == (2, 6 if project else 9, 14, 14)
    if not project:
        torch.testing.assert_close(out[:, 6:], resize_image(img, (14, 14), mode=mode))


def test_resize_modes_differ_and_bicubic_is_default() -> None:
    img = torch.rand(1, 3, 64, 64)
    a = resize_image(img, (16, 16))
    b = resize_image(img, (16, 16), mode="bilinear")
    c = resize_image(img, (16, 16), mode="area")
    assert a.shape == b.shape == c.shape == (1, 3, 16, 16)
    assert not torch.allclose(a, b) and not torch.allclose(b, c)


def test_injection_without_resize_concatenates_the_image_as_is() -> None:
    """Where nothing downsampled yet the model builds the injection with resize=False: no resampling."""
    inj = ImageInjection(in_chs=4, img_chs=3, project=False, resize=False)
    img = torch.rand(2, 3, 10, 12)
    assert inj.resized(torch.randn(2, 4, 10, 12), img) is img
    torch.testing.assert_close(inj(torch.randn(2, 4, 10, 12), img)[:, 4:], img)


@pytest.mark.parametrize(
    "module",
    [
        GlobalContext(in_chs=8, out_chs=5),
        FCContext(in_chs=8, out_chs=6),
        GaussianFilterBank(channels=8, sigmas=(1.0, 2.0), dog=True, learnable=True),
        ImageInjection(in_chs=8, img_chs=3, project=False),
        ImageInjection(in_chs=8, img_chs=3, mode="area"),
        SubstreamFusion(in_chs=8, streams={"dense": FCContext(in_chs=8, out_chs=2)}, widths=[2]),
    ],
    ids=["gc", "fc", "gaussian", "inject", "inject-area", "fusion"],
)
def test_blocks_trace_with_fx_at_any_size(module: nn.Module) -> None:
    """No Python control flow on tensor shapes (unpacking ``x.shape`` made torch.fx fail with 'Proxy object
    cannot be iterated'): the traced graph works at sizes other than the traced one."""
    module.eval()
    graph = torch.fx.symbolic_trace(module)
    for hw in ((6, 6), (9, 7)):
        args = (torch.randn(2, 8, *hw),)
        if isinstance(module, ImageInjection):
            args = (*args, torch.rand(2, 3, 20, 20))
        torch.testing.assert_close(graph(*args), module(*args))


def test_heads() -> None:
    fh = FlattenHead(in_features=8 * 4 * 4, widths=[16, 8], num_outputs=5)
    out = _grads_reach_every_parameter(fh, torch.randn(2, 8, 4, 4))
    assert out.shape == (2, 5) and fh.pre_logits(torch.randn(2, 8, 4, 4)).shape == (2, 8)
    assert sum(isinstance(m, nn.Linear) for m in fh.modules()) == 3
    ch = Conv1x1Head(in_chs=8, widths=[16, 12], num_outputs=14)
    out = _grads_reach_every_parameter(ch, torch.randn(2, 8, 5, 5))
    assert out.shape == (2, 14) and ch.num_features == 12


def test_factories() -> None:
    assert isinstance(get_norm_layer("batch")(8), nn.BatchNorm2d)
    gn = get_norm_layer("group")(12)
    assert isinstance(gn, nn.GroupNorm) and gn.num_groups == 6
    assert isinstance(get_norm_layer("none")(8), nn.Identity)
    assert isinstance(get_act_layer("gelu")(), nn.GELU)
    with pytest.raises(ValueError, match="unknown norm"):
        get_norm_layer("layer")


def test_factories_take_a_name_a_class_or_a_partial() -> None:
    assert isinstance(get_norm_layer(nn.BatchNorm2d)(8), nn.BatchNorm2d)
    gn = get_norm_layer(functools.partial(nn.GroupNorm, 2))(12)
    assert isinstance(gn, nn.GroupNorm) and gn.num_groups == 2 and gn.num_channels == 12
    assert get_norm_layer(nn.GroupNorm)(12).num_groups == 6  # the class alone: idfy's group rule
    assert isinstance(get_act_layer(nn.SiLU)(), nn.SiLU)
    leaky = get_act_layer(functools.partial(nn.LeakyReLU, 0.2))()
    assert isinstance(leaky, nn.LeakyReLU) and leaky.negative_slope == 0.2
    assert get_act_layer("leaky_relu")().negative_slope == 0.1


@pytest.mark.parametrize(
    ("factory", "spec", "words"),
    [
        (get_norm_layer, nn.BatchNorm2d(4), "give its class or a functools.partial"),
        (get_norm_layer, int, "int is not an nn.Module class"),
        (get_norm_layer, 3, "give a name (batch, group, none)"),
        (get_act_layer, "swish", "unknown activation 'swish'; choose from relu, gelu, silu, leaky_relu"),
        (get_act_layer, None, "an nn.Module class or a functools.partial of no arguments"),
    ],
)
def test_factories_refuse_anything_else_in_one_line(
    factory: Callable[[object], object], spec: object, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        factory(spec)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_conv_norm_act_is_conv_then_norm_then_act() -> None:
    block = ConvNormAct(6, 10, 3, stride=2, norm_layer="group", act_layer=nn.GELU)
    conv, norm, act = block
    assert [n for n, _ in block.named_children()] == ["0", "1", "2"]  # torchvision's Conv2dNormActivation
    assert conv.bias is None and conv.padding == (1, 1) and isinstance(norm, nn.GroupNorm)
    x = torch.randn(2, 6, 9, 8)
    out = _grads_reach_every_parameter(block, x)
    assert out.shape == (2, 10, 5, 4)
    assert torch.allclose(out, act(norm(conv(x))))
    ghost, _, _ = conv_norm_act(8, 12, 3, conv=ConvSpec(kind="ghost", ghost_ratio=2), norm_layer="none")
    assert isinstance(ghost, GhostModule)
    biased, _, _ = conv_norm_act(4, 4, bias=True)
    assert biased.bias is not None
    with pytest.raises(ValueError, match="bias=True is for the plain conv"):
        conv_norm_act(4, 4, conv=ConvSpec(), bias=True)


def test_blocks_reject_unknown_keywords() -> None:
    with pytest.raises(TypeError):
        ResidualBlock(in_chs=4, out_chs=4, strid=2)  # type: ignore[call-arg]


def test_every_registered_dense_kind_builds_a_stream_of_its_width() -> None:
    from idfy.substreams import dense_kind, dense_kind_names, dense_kinds, register_dense_kind

    assert dense_kind_names()[:3] == ("none", "gc", "fc")  # the order the dropdown shows
    for kind in dense_kinds():
        stream = kind.build(in_chs=8, out_chs=3, reduction=2, act_layer=nn.ReLU)
        assert _grads_reach_every_parameter(stream, torch.randn(2, 8, 5, 6)).shape == (2, 3, 5, 6), kind.name
    assert dense_kind("gc").build is GlobalContext and dense_kind("fc").build is FCContext
    with pytest.raises(KeyError):
        dense_kind("none")
    with pytest.raises(ValueError, match="already registered"):
        register_dense_kind(dataclasses.replace(dense_kind("gc"), build=FCContext))


def test_every_registered_conv_kind_builds_a_same_padded_conv() -> None:
    from idfy.conv_kinds import conv_kind, conv_kind_names, register_conv_kind

    assert conv_kind_names() == ("regular", "dilated", "group", "sparse", "ghost")  # the dropdown's order
    for name in conv_kind_names():
        kind = conv_kind(name)
        spec = ConvSpec(kind=name, groups=max(2, kind.min_groups), dilation=max(2, kind.min_dilation))
        for stride, side in ((1, 9), (2, 5)):  # 9 px: same size at stride 1, ceil(9 / 2) at stride 2
            conv = make_conv(spec, in_chs=8, out_chs=8, stride=stride)
            assert conv(torch.randn(1, 8, 9, 9)).shape == (1, 8, side, side), name
        first = conv.get_submodule(kind.input_conv[1:]) if kind.input_conv else conv
        assert isinstance(first, nn.Conv2d) and first.stride == (2, 2)
        assert first.groups == spec.eff_groups and first.dilation == (spec.eff_dilation,) * 2
    assert conv_kind("ghost").then_kernel == 3 and conv_kind("regular").then_kernel == 0
    with pytest.raises(ValueError, match="already registered"):
        register_conv_kind(dataclasses.replace(conv_kind("ghost"), build=make_conv))
    with pytest.raises(ValueError, match="uses must name"):
        register_conv_kind(dataclasses.replace(conv_kind("ghost"), name="odd", uses=("stride",)))
