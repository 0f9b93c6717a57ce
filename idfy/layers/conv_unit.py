"""The convolution behind a ``conv`` step (S7, S4): :func:`make_conv` builds the registered kind, and this file
registers the plain ``nn.Conv2d`` kinds — regular, dilated, group and sparse (group + dilated, S1a)."""

from __future__ import annotations

from typing import Any

from torch import nn

from idfy.config import ConvSpec
from idfy.conv_kinds import ConvKind, conv_kind, register_conv_kind

__all__ = ["conv2d_same", "make_conv"]


def make_conv(
    spec: ConvSpec, *, in_chs: int, out_chs: int, kernel_size: int = 3, stride: int = 1
) -> nn.Module:
    """Build the conv described by ``spec``: (B, in_chs, H, W) -> (B, out_chs, ceil(H/stride), ceil(W/stride)).

    Padding keeps the size for stride 1 ("same" for odd kernels, dilation included). No bias: a norm
    usually follows or precedes it. The kind comes from :mod:`idfy.conv_kinds`.

    Raises:
        KeyError: ``spec.kind`` is not a registered kind (a validated config never has one).
    """
    return conv_kind(spec.kind).build(
        spec,
        in_chs=in_chs,
        out_chs=out_chs,
        kernel_size=kernel_size,
        stride=stride,
        dilation=spec.eff_dilation if kernel_size > 1 else 1,
        groups=spec.eff_groups,
    )


def conv2d_same(
    in_chs: int,
    out_chs: int,
    kernel_size: int,
    *,
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    bias: bool = False,
) -> nn.Conv2d:
    """``nn.Conv2d`` padded by ``dilation * (kernel_size - 1) // 2``: (B, in_chs, H, W) -> (B, out_chs, H, W) at
    stride 1 for odd kernels, (B, out_chs, ceil(H/stride), ceil(W/stride)) otherwise."""
    return nn.Conv2d(
        in_chs,
        out_chs,
        kernel_size,
        stride=stride,
        padding=dilation * (kernel_size - 1) // 2,
        dilation=dilation,
        groups=groups,
        bias=bias,
    )


def _conv2d(
    spec: Any, *, in_chs: int, out_chs: int, kernel_size: int, stride: int, dilation: int, groups: int
) -> nn.Module:
    del spec
    return conv2d_same(in_chs, out_chs, kernel_size, stride=stride, dilation=dilation, groups=groups)


for _kind in (
    ConvKind("regular", _conv2d, "plain 3×3 convolution", "#c9def5", "regular conv block", position=10),
    ConvKind(
        "dilated",
        _conv2d,
        "3×3 with gaps between taps: a wider view for the same weights (Yu & Koltun 2016)",
        "#dcd0f0",
        "dilated conv block",
        uses=("dilation",),
        min_dilation=2,
        position=20,
    ),
    ConvKind(
        "group",
        _conv2d,
        "channels split into groups convolved separately: fewer weights (S1a, S7)",
        "#c8e6e0",
        "group conv block",
        uses=("groups",),
        min_groups=2,
        position=30,
    ),
    ConvKind(
        "sparse",
        _conv2d,
        "group and dilated at once: the seed's sparse early connectivity (S1a)",
        "#f3cfe0",
        "sparse (group+dilated) block",
        uses=("groups", "dilation"),
        min_groups=2,
        min_dilation=2,
        position=40,
    ),
):
    register_conv_kind(_kind)
