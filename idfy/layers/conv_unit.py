"""The convolution behind a ``conv`` step: regular, dilated, group, sparse (group + dilated) or ghost (S7, S4)."""

from __future__ import annotations

from torch import nn

from idfy.config import ConvSpec
from idfy.layers.ghost import GhostModule

__all__ = ["make_conv"]


def make_conv(
    spec: ConvSpec, *, in_chs: int, out_chs: int, kernel_size: int = 3, stride: int = 1
) -> nn.Module:
    """Build the conv described by ``spec``: (B, in_chs, H, W) -> (B, out_chs, ceil(H/stride), ceil(W/stride)).

    Padding keeps the size for stride 1 ("same" for odd kernels, dilation included). No bias: a norm
    usually follows or precedes it.
    """
    d = spec.eff_dilation if kernel_size > 1 else 1
    if spec.kind == "ghost":
        return GhostModule(
            in_chs=in_chs,
            out_chs=out_chs,
            kernel_size=kernel_size,
            stride=stride,
            dilation=d,
            groups=spec.eff_groups,
            ratio=spec.ghost_ratio,
        )
    return nn.Conv2d(
        in_chs,
        out_chs,
        kernel_size,
        stride=stride,
        padding=d * (kernel_size - 1) // 2,
        dilation=d,
        groups=spec.eff_groups,
        bias=False,
    )
